"""two_three: a binary RPM that requires both Python 2 and Python 3."""

from .common import log, result, write_to_artifact

NEVRS_STARTS = {2: ('python(abi) = 2.',), 3: ('python(abi) = 3.',)}
NAME_STARTS = {
    2: ('python-', 'python2', '/usr/bin/python2', 'libpython2', 'pygtk2',
        'pygobject2', 'pycairo', 'py-'),
    3: ('python3', '/usr/bin/python3', 'libpython3', 'system-python'),
}
NAME_EXACTS = {2: ('/usr/bin/python', 'python')}
# Packages named python-* that are no Python 2 dependency.
NAME_NOTS = (
    'python-rpm-macros', 'python-srpm-macros', 'python-sphinx-locale',
    'python-multilib-conf', 'python-ldb-devel-common', 'python-qt5-rpm-macros',
    'python-btchip-common', 'python-matplotlib-data',
    'python-matplotlib-data-fonts', 'python-cartopy-common',
    'python-django-bash-completion',
)
# Binary packages allowed to need both, each for a known reason.
WHITELIST = ('eric', 'pungi', 'python2-devel', 'postgresql-upgrade')

INFO_URL = ('https://python-rpm-porting.readthedocs.io/en/latest/applications.html'
            '#are-shebangs-dragging-you-down-to-python-2')
MESSAGE = 'These RPMs require both Python 2 and Python 3:\n{}'


def check_two_three(package):
    """The Python versions `package` requires, each with the dependency that
    drags it in; sets `package.py_versions`."""
    found = {}
    for nevr in package.require_nevrs:
        for version, starts in NEVRS_STARTS.items():
            if nevr.startswith(starts):
                found[version] = nevr
    for name in package.require_names:
        for version, starts in NAME_STARTS.items():
            if version not in found and name.startswith(starts) and name not in NAME_NOTS:
                found[version] = name
        for version, exacts in NAME_EXACTS.items():
            if version not in found and name in exacts:
                found[version] = name
    package.py_versions = set(found)
    return found


def task_two_three(packages, koji_build, artifact):
    outcome = 'PASSED'
    bads = {}
    for package in packages:
        found = check_two_three(package)
        if package.name in WHITELIST:
            log.warning('%s is excluded from this check', package.name)
        elif len(found) == 2:
            log.error('%s requires both Python 2 and 3 (Python 2 dragged by %s, '
                      'Python 3 by %s)', package.filename, found[2], found[3])
            outcome = 'FAILED'
            bads[package.filename] = found
        else:
            log.info('%s requires %s, that\'s OK', package.filename,
                     'Python %d only' % next(iter(found)) if found else 'no Python')
    if bads:
        write_to_artifact(artifact, MESSAGE.format(''.join(
            '%s\n * Python 2 dependency: %s\n * Python 3 dependency: %s\n'
            % (name, found[2], found[3]) for name, found in sorted(bads.items()))), INFO_URL)
    return result('two_three', koji_build, outcome, artifact)
