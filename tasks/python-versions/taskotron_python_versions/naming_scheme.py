"""naming_scheme: a Python 2 package named without its version (python-foo),
or foo next to python3-foo with no python2-foo."""

import collections
import os

from .common import log, result, write_to_artifact

INFO_URL = 'https://python-rpm-porting.readthedocs.io/en/latest/naming-scheme.html'
MESSAGE = 'These RPMs\' names violate the new Python package naming guidelines:\n{}'


def has_pythonX_package(name, names_by_version, version):
    """Whether python<version>-<name> or <name>-python<version> exists."""
    return ('python%d-%s' % (version, name) in names_by_version[version] or
            '%s-python%d' % (name, version) in names_by_version[version])


def is_unversioned(name):
    """Whether `name` uses python without a version (python-foo, foo-python)."""
    if (os.path.isabs(name) or os.path.splitext(name)[1] or
            name.startswith(('python2-', 'python3-'))):
        return False
    return (name.startswith('python-') or '-python-' in name or
            name.endswith('-python') or name == 'python')


def misnamed(package, names_by_version):
    missing_prefix = ('python' not in package.name and
                      has_pythonX_package(package.name, names_by_version, 3) and
                      not has_pythonX_package(package.name, names_by_version, 2))
    return is_unversioned(package.name) or missing_prefix


def task_naming_scheme(packages, koji_build, artifact):
    outcome = 'PASSED'
    names_by_version = collections.defaultdict(set)
    for package in packages:
        for version in package.py_versions:
            names_by_version[version].add(package.name)
    incorrect = []
    for package in packages:
        if 2 not in package.py_versions:
            log.info('%s does not require Python 2, skipping name check', package.filename)
        elif misnamed(package, names_by_version):
            log.error('%s violates the Python package naming guidelines', package.filename)
            outcome = 'FAILED'
            incorrect.append(package.nvr)
    if incorrect:
        write_to_artifact(artifact, MESSAGE.format(', '.join(sorted(incorrect))), INFO_URL)
    return result('naming_scheme', koji_build, outcome, artifact)
