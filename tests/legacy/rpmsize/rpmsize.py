# -*- coding: utf-8 -*-
import logging
import os
import subprocess

from libtaskotron import check
from libtaskotron.exceptions import TaskotronValueError

log = logging.getLogger('rpmsize')
log.setLevel(logging.DEBUG)
log.addHandler(logging.NullHandler())


def rpm_size(path):
    out = subprocess.check_output(['rpm', '-qp', '--nosignature', '--qf', '%{SIZE}', path])
    return int(out.decode('ascii'))


def run(koji_build, workdir='.', artifactsdir='artifacts', limit=1024 * 1024):
    rpms = sorted(f for f in os.listdir(workdir)
                  if f.endswith('.rpm') and not f.endswith('.src.rpm'))
    for name in sorted(os.listdir(workdir)):
        if not name.endswith('.rpm'):
            log.debug('Ignoring non-rpm file: %s', name)
    if not rpms:
        raise TaskotronValueError('no binary RPMs of %s in %s' % (koji_build, workdir))

    detail = check.CheckDetail(koji_build, check.ReportType.KOJI_BUILD,
                               checkname='rpmsize')
    too_big = 0
    for name in rpms:
        size = rpm_size(os.path.join(workdir, name))
        if size > limit:
            too_big += 1
            detail.update_outcome('FAILED')
            detail.store('%s: %d bytes, over the limit of %d' % (name, size, limit))
            log.warning('%s is too big', name)
        else:
            detail.update_outcome('PASSED')
            detail.store('%s: %d bytes' % (name, size), printout=False)
            log.info('%s is fine', name)

    detail.note = '%d of %d RPMs over %d bytes' % (too_big, len(rpms), limit)
    detail.keyvals['rpms'] = len(rpms)
    detail.keyvals['limit'] = limit

    if not os.path.isdir(artifactsdir):
        os.makedirs(artifactsdir)
    artifact = os.path.join(artifactsdir, 'rpmsize.log')
    with open(artifact, 'w') as f:
        f.write('\n'.join(detail.output) + '\n')
    detail.artifact = artifact

    log.info('rpmsize %s for %s (%s)', detail.outcome, koji_build, detail.note)
    return check.export_YAML(detail)
