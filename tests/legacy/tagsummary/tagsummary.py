# -*- coding: utf-8 -*-
import logging
import os
import re

from libtaskotron import check, exceptions

log = logging.getLogger('tagsummary')

NVRA = re.compile(r'^(?P<nvr>.+-[^-]+-[^-]+)\.(?P<arch>[^.]+)\.rpm$')


def judge(nvr, arches):
    """A build must ship at least one noarch or x86_64 RPM; one named
    'broken-*' stands for a build the check cannot judge."""
    if nvr.startswith('broken-'):
        raise exceptions.TaskotronDirectiveError('cannot judge %s' % nvr)
    return 'PASSED' if arches else 'FAILED'


def run(koji_tag, workdir='.'):
    builds = {}
    for name in sorted(os.listdir(workdir)):
        match = NVRA.match(name)
        if match:
            builds.setdefault(match.group('nvr'), []).append(match.group('arch'))
    details = []
    for nvr in sorted(builds):
        detail = check.CheckDetail(nvr, check.ReportType.KOJI_BUILD,
                                   checkname='tagsummary.' + nvr.rsplit('-', 2)[0],
                                   keyvals={'koji_tag': koji_tag})
        try:
            detail.outcome = judge(nvr, builds[nvr])
        except exceptions.TaskotronError as e:
            log.error('%s', e)
            detail.outcome = 'ABORTED'
        detail.note = ', '.join(sorted(builds[nvr]))
        details.append(detail)
    summary = check.CheckDetail(koji_tag, check.ReportType.KOJI_TAG)
    for detail in details:
        summary.update_outcome(detail.outcome)
    if not details:
        summary.outcome = 'NEEDS_INSPECTION'
    summary.note = check.create_multi_item_summary(details)
    log.info('%s: %s', koji_tag, summary.note)
    return check.export_YAML(details + [summary])
