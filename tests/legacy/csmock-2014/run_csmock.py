# -*- coding: utf-8 -*-
import logging
import os

from libtaskotron import check

log = logging.getLogger('csmock')


def analyse(path):
    """Stands in for csmock: a source RPM whose name says 'defect' has findings."""
    if 'defect' in os.path.basename(path):
        return ['Error: RESOURCE_LEAK: leaked file handle', 'Error: NULL_RETURNS']
    return []


def run(koji_build, workdir='.'):
    srpms = [f for f in os.listdir(workdir) if f.endswith('.src.rpm')]
    detail = check.CheckDetail(koji_build, check.ReportType.KOJI_BUILD)
    if not srpms:
        detail.outcome = 'ABORTED'
        detail.summary = 'no source RPM'
        return check.export_TAP(detail)
    findings = analyse(os.path.join(workdir, srpms[0]))
    for line in findings:
        detail.store(line)
    detail.outcome = 'FAILED' if findings else 'PASSED'
    detail.summary = '%d defects found' % len(findings)
    log.info('csmock: %s', detail.summary)
    return check.export_TAP(detail)
