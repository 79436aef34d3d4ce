"""executables: Python 2 packages ship executables and the Python 3 ones,
as many or more, ship none."""

from .common import log, packages_by_version, result, write_to_artifact

INFO_URL = 'https://fedoraproject.org/wiki/Packaging:Python#Executables_in_.2Fusr.2Fbin'
MESSAGE = """
The following executables are available only in Python 2 subpackages:
{}

If the functionality of those executables is the same regardless of the
used Python version, you should switch to Python 3.
In case the Python version matter, also create an additional
executables for Python 3.
"""
WHITELIST = ('dreampie-',)


def is_binary(path):
    return path.startswith(('/usr/bin', '/usr/sbin'))


def have_binaries(packages):
    return any(is_binary(f) for p in packages for f in p.files)


def task_executables(packages, koji_build, artifact):
    outcome = 'PASSED'
    by_version = packages_by_version(packages)
    py2, py3 = by_version[2], by_version[3]
    if koji_build.startswith(WHITELIST):
        log.warning('This package is excluded from executables check')
    elif not py2 or not py3:
        log.info('Not built for both Python 2 and Python 3; skipping executables check')
    elif len(py2) > len(py3):
        log.info('Not fully ported to Python 3; skipping executables check')
    elif have_binaries(py2) and not have_binaries(py3):
        outcome = 'FAILED'
        lines = []
        for package in py2:
            bins = sorted(f for f in package.files if is_binary(f))
            if bins:
                log.error('%s contains executables missing in the Python 3 version', package.nvr)
                lines.append('\n%s:\n * %s' % (package.nvr, '\n * '.join(bins)))
        write_to_artifact(artifact, MESSAGE.format(''.join(lines)), INFO_URL)
    return result('executables', koji_build, outcome, artifact)
