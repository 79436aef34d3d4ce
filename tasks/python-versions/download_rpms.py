# -*- coding: utf-8 -*-
"""Downloads a Koji build's RPMs and build logs, as the playbook generation of
this task (2018-2020) did: through libtaskotron's koji directive, called from
Python.

    python3 download_rpms.py NVR TARGET_DIR ARCH[,ARCH...]
"""

import sys

from libtaskotron.directives import koji_directive


def download_rpms(koji_build, rpmsdir, arch, src=True, build_log=True):
    print('Downloading rpms for %s into %s' % (koji_build, rpmsdir))
    params = {
        'action': 'download',
        'koji_build': koji_build,
        'arch': arch,
        'src': src,
        'target_dir': rpmsdir,
        'build_log': build_log,
    }
    koji_directive.KojiDirective().process(params, {'workdir': None})
    print('Downloading complete')


if __name__ == '__main__':
    print('Running script: %s' % sys.argv)
    download_rpms(sys.argv[1], sys.argv[2], sys.argv[3].split(','))
