"""python_usage: a package (or the build, through the source RPM's
BuildRequires) requires /usr/bin/python or python-unversioned-command."""

from .common import log, result, write_to_artifact

INFO_URL = 'https://fedoraproject.org/wiki/Changes/Move_usr_bin_python_into_separate_package'
MESSAGE = """The following packages (Build)Require `/usr/bin/python`
(or `python-unversioned-command`):

  * {}

Use /usr/bin/python3 or /usr/bin/python2 explicitly.
/usr/bin/python will be removed or switched to Python 3 in the future.
"""
PYTHON_COMMAND = ('/usr/bin/python', 'python-unversioned-command')


def task_python_usage(packages, koji_build, artifact):
    outcome = 'PASSED'
    problems = set()
    for package in packages:
        for name in package.require_names:
            if name in PYTHON_COMMAND:
                log.error('%s requires %s', package.filename, name)
                problems.add(package.filename)
                outcome = 'FAILED'
    if problems:
        write_to_artifact(artifact, MESSAGE.format('\n  * '.join(sorted(problems))), INFO_URL)
    return result('python_usage', koji_build, outcome, artifact)
