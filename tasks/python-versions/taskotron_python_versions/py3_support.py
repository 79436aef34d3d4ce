"""py3_support: software that supports Python 3 upstream must be packaged for
it. The package counts as ported when it has at least as many Python 3
subpackages as Python 2 ones.

The original then asked Bugzilla for open bugs blocking the Python 3 tracker
(bug 1285816) to learn whether upstream supports Python 3; this port has no
Bugzilla to ask, so an unported package is reported INFO with what it found,
never FAILED.
"""

from .common import log, packages_by_version, result


def ported_to_py3(packages):
    by_version = packages_by_version(packages)
    return len(by_version[2]) <= len(by_version[3])


def task_py3_support(packages, koji_build, artifact):
    binaries = [p for p in packages if not p.is_srpm]
    if ported_to_py3(binaries):
        return result('py3_support', koji_build, 'PASSED')
    log.info('Not packaged for Python 3; Bugzilla is not consulted for upstream support')
    detail = result('py3_support', koji_build, 'INFO')
    detail.note = 'not packaged for Python 3 (upstream support not checked)'
    return detail
