# -*- coding: utf-8 -*-
"""The task's entry point: reads every RPM and build log the koji action
downloaded, runs the seven checks, and returns their results and an overall
one as ResultYAML."""

import logging
import os
import sys

from libtaskotron import check

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from taskotron_python_versions import (  # noqa: E402
    task_two_three,
    task_naming_scheme,
    task_requires_naming_scheme,
    task_executables,
    task_unversioned_shebangs,
    task_py3_support,
    task_python_usage,
)
from taskotron_python_versions.common import log, Package, PackageException  # noqa: E402

CHECKNAME = 'python-versions'


def run(koji_build, workdir='.', artifactsdir='artifacts', repos=None):
    """The main method to run from Taskotron."""
    workdir = os.path.abspath(workdir)
    if not os.path.isdir(artifactsdir):
        os.makedirs(artifactsdir)
    artifact = os.path.join(artifactsdir, 'output.log')

    packages, srpm_packages, logs = [], [], []
    for name in sorted(os.listdir(workdir)):
        path = os.path.join(workdir, name)
        if name.endswith('.rpm'):
            try:
                package = Package(path)
            except PackageException as err:
                log.error('%s: %s', name, err)
                continue
            (srpm_packages if package.is_srpm else packages).append(package)
        elif name.startswith('build.log'):
            logs.append(path)
        else:
            log.debug('Ignoring non-rpm, non-build.log file: %s', path)
    if not packages:
        log.warning('No binary rpm files found')

    details = [
        task_two_three(packages, koji_build, artifact),
        task_naming_scheme(packages, koji_build, artifact),
        task_requires_naming_scheme(srpm_packages + packages, koji_build, artifact, repos),
        task_executables(packages, koji_build, artifact),
        task_unversioned_shebangs(packages, koji_build, artifact),
        task_py3_support(srpm_packages + packages, koji_build, artifact),
        task_python_usage(srpm_packages + packages, koji_build, artifact),
    ]
    # As the original: every result says which arches were checked.
    arches = sorted(set(p.arch for p in srpm_packages + packages))
    for detail in details:
        detail.keyvals['arch'] = arches
    outcome = 'FAILED' if any(d.outcome == 'FAILED' for d in details) else 'PASSED'
    overall = check.CheckDetail(koji_build, check.ReportType.KOJI_BUILD, outcome,
                                keyvals={'arch': arches})
    overall.note = check.create_multi_item_summary(details)
    if outcome == 'FAILED':
        overall.artifact = artifact
    details.append(overall)
    log.info('python-versions %s for %s.', outcome, koji_build)
    return check.export_YAML(details)


def main(argv):
    """The playbook generation's entry point (tests.yml, 2018-2020):
    ``python_versions_check.py NVR WORKDIR ARTIFACTSDIR TESTCASE`` writes the
    results where a Taskotron playbook's runner reads them."""
    from libtaskotron.directives import yumrepoinfo_directive
    koji_build, workdir, artifactsdir = argv[1], argv[2], argv[3]
    repos = yumrepoinfo_directive.YumrepoinfoDirective().process(
        {'koji_tag': 'rawhide', 'arch': 'x86_64'}, {})
    output = run(koji_build, workdir=workdir, artifactsdir=artifactsdir, repos=repos)
    results = os.path.join(artifactsdir, 'taskotron')
    if not os.path.isdir(results):
        os.makedirs(results)
    with open(os.path.join(results, 'results.yml'), 'w') as f:
        f.write(output)


if __name__ == '__main__':
    main(sys.argv)
