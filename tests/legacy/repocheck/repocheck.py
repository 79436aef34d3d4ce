# -*- coding: utf-8 -*-
import gzip
import logging
import os
import xml.etree.ElementTree as ET

from libtaskotron import check
from libtaskotron.exceptions import TaskotronValueError

log = logging.getLogger('repocheck')

REPO = '{http://linux.duke.edu/metadata/repo}'
COMMON = '{http://linux.duke.edu/metadata/common}'


def primary_packages(repodir):
    repomd = ET.parse(os.path.join(repodir, 'repodata', 'repomd.xml'))
    for data in repomd.getroot().findall(REPO + 'data'):
        if data.get('type') == 'primary':
            href = data.find(REPO + 'location').get('href')
            path = os.path.join(repodir, href)
            if not path.endswith('.gz'):
                raise TaskotronValueError('cannot read %s (not gzip)' % href)
            with gzip.open(path) as f:
                root = ET.parse(f).getroot()
            return sorted(p.find(COMMON + 'name').text for p in root.findall(COMMON + 'package'))
    raise TaskotronValueError('no primary metadata in %s' % repodir)


def run(koji_tag, repodir, repos):
    rpms = [f for f in os.listdir(repodir) if f.endswith('.rpm')]
    names = primary_packages(repodir)
    log.info('%s: %d RPMs, %d in the metadata', koji_tag, len(rpms), len(names))
    detail = check.CheckDetail(koji_tag, check.ReportType.KOJI_TAG)
    detail.outcome = 'PASSED' if len(names) == len(rpms) else 'FAILED'
    detail.note = '%d packages in the repository; repositories: %s' % (
        len(names), ', '.join(sorted(repos)))
    detail.keyvals['packages'] = names
    detail.keyvals['urls'] = sorted(url for arches in repos.values() for url in arches.values())
    return check.export_YAML(detail)
