"""unversioned_shebangs: a package that requires /usr/bin/python or
/usr/bin/env ships a script starting `#!/usr/bin/python` or
`#!/usr/bin/env python`. Contents are read with rpm2cpio and cpio."""

import os
import shutil
import subprocess
import tempfile

from .common import log, result, write_to_artifact

INFO_URL = 'https://fedoraproject.org/wiki/Packaging:Python#Multiple_Python_Runtimes'
MESSAGE = """These RPMs contain problematic shebang in some of the scripts:
{}
This is discouraged and should be avoided. Please check the shebangs
and use either `#!/usr/bin/python2` or `#!/usr/bin/python3`.
"""
FORBIDDEN_SHEBANGS = ['#!/usr/bin/python', '#!/usr/bin/env python']


def matches(line, query):
    return line == query or line.startswith(query + b' ')


def shebang_to_require(shebang):
    return shebang.split()[0][2:]


def problematic_files(path, shebang):
    """Files of the RPM whose first line is `shebang` (alone or with arguments)."""
    found = set()
    tmp = tempfile.mkdtemp()
    try:
        with open(path, 'rb') as rpm:
            # rpm2cpio may exit non-zero after writing a whole archive; what
            # counts is that cpio reads it.
            payload = subprocess.Popen(['rpm2cpio'], stdin=rpm, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE).communicate()[0]
        cpio = subprocess.Popen(['cpio', '-idm', '--quiet', '--no-absolute-filenames'],
                                stdin=subprocess.PIPE, cwd=tmp)
        cpio.communicate(payload)
        for root, _, files in os.walk(tmp):
            for name in files:
                full = os.path.join(root, name)
                if os.path.islink(full):
                    continue
                with open(full, 'rb') as f:
                    lines = f.read(4096).splitlines()
                if lines and matches(lines[0], shebang.encode()):
                    found.add('/' + os.path.relpath(full, tmp))
    finally:
        shutil.rmtree(tmp)
    return found


def task_unversioned_shebangs(packages, koji_build, artifact):
    outcome = 'PASSED'
    message = ''
    for package in sorted(packages, key=lambda p: p.nvr):
        for shebang in FORBIDDEN_SHEBANGS:
            if shebang_to_require(shebang) not in package.require_names:
                continue
            scripts = problematic_files(package.path, shebang)
            if scripts:
                outcome = 'FAILED'
                log.error('%s: `%s` shebang in %s', package.filename, shebang,
                          ', '.join(sorted(scripts)))
                message += '%s\n * Scripts containing `%s` shebang:\n   %s\n' % (
                    package.nvr, shebang, '\n   '.join(sorted(scripts)))
    if message:
        write_to_artifact(artifact, MESSAGE.format(message), INFO_URL)
    return result('unversioned_shebangs', koji_build, outcome, artifact)
