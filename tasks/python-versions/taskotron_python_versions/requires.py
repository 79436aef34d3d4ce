"""requires_naming_scheme: a package requires python-foo (no version) while a
package with a versioned name provides it in the distribution's repositories.

The original asked dnf for Fedora's `fedora` and `updates` repositories; this
port reads the primary metadata of the repositories the formula's
`yumrepoinfo` action found (file://, http:// or https://). As in the original,
no repository means no failure: a false PASSED is better than a false FAILED.
"""

import gzip
import io
import xml.etree.ElementTree as ET

try:
    from urllib.request import urlopen
except ImportError:  # Python 2
    from urllib2 import urlopen

from .common import log, result, write_to_artifact
from .naming_scheme import is_unversioned

INFO_URL = 'https://pagure.io/packaging-committee/issue/686'
MESSAGE = """These RPMs use `python-` prefix without Python version in *Requires:
{}
This is strongly discouraged and should be avoided. Please check
the required packages, and use names with either `python2-` or
`python3-` prefix.
"""
REPO = '{http://linux.duke.edu/metadata/repo}'
COMMON = '{http://linux.duke.edu/metadata/common}'
RPM = '{http://linux.duke.edu/metadata/rpm}'


def _read(url):
    handle = urlopen(url, timeout=60)
    try:
        return handle.read()
    finally:
        handle.close()


def load_provides(urls):
    """Provide name -> names of the packages providing it, over every repository."""
    provides = {}
    for url in urls:
        base = url.rstrip('/')
        try:
            repomd = ET.fromstring(_read(base + '/repodata/repomd.xml'))
        except Exception as err:  # an unreachable repository is no failure
            log.warning('cannot read the repository %s: %s', base, err)
            continue
        for data in repomd.findall(REPO + 'data'):
            if data.get('type') != 'primary':
                continue
            raw = _read(base + '/' + data.find(REPO + 'location').get('href'))
            root = ET.parse(gzip.GzipFile(fileobj=io.BytesIO(raw))).getroot()
            for package in root.findall(COMMON + 'package'):
                name = package.find(COMMON + 'name').text
                for entry in package.iter(RPM + 'entry'):
                    provides.setdefault(entry.get('name'), set()).add(name)
    return provides


def task_requires_naming_scheme(packages, koji_build, artifact, repos=None):
    urls = sorted(url for arches in (repos or {}).values() for url in arches.values())
    provides = load_provides(urls) if urls else None
    if provides is None:
        log.warning('No repository to look dependencies up in; requires_naming_scheme passes')
    outcome = 'PASSED'
    misnamed = {}
    for package in packages:
        for name in package.require_names:
            if not is_unversioned(name) or provides is None:
                continue
            versioned = sorted(p for p in provides.get(name, ()) if not is_unversioned(p))
            if versioned:
                log.error('%s requires %s, while %s is available',
                          package.filename, name, versioned[0])
                misnamed.setdefault(package.nvr, set()).add(
                    '%s (%s is available)' % (name, versioned[0]))
                outcome = 'FAILED'
    if misnamed:
        write_to_artifact(artifact, MESSAGE.format(''.join(
            '%s\n * Requires: %s\n' % (nvr, ', '.join(sorted(reqs)))
            for nvr, reqs in sorted(misnamed.items()))), INFO_URL)
    return result('requires_naming_scheme', koji_build, outcome, artifact)
