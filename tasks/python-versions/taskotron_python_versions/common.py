"""What every check shares: the logger, RPM headers (read with `rpm -qp`, so
no Python RPM bindings are needed), the artifact writer and the result."""

import collections
import logging
import os
import subprocess

from libtaskotron import check

log = logging.getLogger('python-versions')
log.setLevel(logging.DEBUG)
log.addHandler(logging.NullHandler())

BUG_URL = 'https://github.com/fedora-python/taskotron-python-versions/issues'

TEMPLATE = """
{message}

Read the following document to find more information and a possible cause:
{info_url}

If you think the result is false or intentional, file a bug against:
{bug_url}

-----------
"""

# One query: name, whether it is a source RPM, requires (names and
# name-op-version), files; fields separated by a unit separator.
_SEP = '\x1f'
_QUERY = _SEP.join([
    '%{NAME}', '%{VERSION}-%{RELEASE}', '%{SOURCEPACKAGE}', '%{ARCH}',
    '[%{REQUIRENAME}\x1e]', '[%{REQUIRENEVRS}\x1e]', '[%{FILENAMES}\x1e]',
])


def write_to_artifact(artifact, message, info_url):
    """Appends a failed check's explanation to the artifact."""
    with open(artifact, 'a') as f:
        f.write(TEMPLATE.format(message=message, info_url=info_url, bug_url=BUG_URL))


def result(name, koji_build, outcome, artifact=None):
    """A check's result, named `python-versions.<name>`."""
    detail = check.CheckDetail(koji_build, check.ReportType.KOJI_BUILD, outcome,
                               checkname='python-versions.' + name)
    if artifact and outcome == 'FAILED':
        detail.artifact = artifact
    return detail


class PackageException(Exception):
    """An RPM that cannot be read."""


class Package(object):
    """An RPM's header: name, requires, files."""

    def __init__(self, path):
        self.path = path
        self.filename = os.path.basename(path)
        self.py_versions = set()
        try:
            out = subprocess.check_output(
                ['rpm', '-qp', '--nosignature', '--nodigest', '--queryformat', _QUERY, path],
                stderr=subprocess.STDOUT)
        except subprocess.CalledProcessError as err:
            raise PackageException(err.output.decode('utf-8', 'replace').strip())
        fields = out.decode('utf-8', 'replace').split(_SEP)
        self.name = fields[0]
        self.nvr = '%s-%s' % (fields[0], fields[1])
        self.is_srpm = fields[2] == '1'
        self.arch = 'src' if self.is_srpm else fields[3]
        self.require_names = [r for r in fields[4].split('\x1e') if r]
        self.require_nevrs = [r for r in fields[5].split('\x1e') if r]
        self.files = [f for f in fields[6].split('\x1e') if f]


def packages_by_version(packages):
    """Packages by the Python major versions they require (after two_three)."""
    by_version = collections.defaultdict(list)
    for package in packages:
        for version in package.py_versions:
            by_version[version].append(package)
    return by_version
