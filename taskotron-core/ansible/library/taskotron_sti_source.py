#!/usr/bin/python
# -*- coding: utf-8 -*-
"""standard-test-source (taskotron's own role, to the STI contract): the
package's upstream source, prepared as its spec's `%prep` prepares it, in
`<tests>/source` (the tests' `dir: source`).

The spec and its sources come from the dist-git checkout the tests live in (the
directory above `tests/`); a source that is not there (the lookaside cache's
tarballs) fails with the command that fetches it. Nothing is downloaded.
"""

import glob
import os
import shutil
import subprocess
import tempfile

from ansible.module_utils.basic import AnsibleModule


def top_of(build):
    """The prepared tree in `build`: down while there is one directory and no
    file (rpm >= 4.20 nests it in `<name>-<version>-build/`)."""
    here = build
    while True:
        entries = [e for e in os.listdir(here) if e != 'SPECPARTS']
        dirs = [e for e in entries if os.path.isdir(os.path.join(here, e))]
        if len(entries) == 1 and len(dirs) == 1:
            here = os.path.join(here, dirs[0])
        else:
            return here


def main():
    module = AnsibleModule(
        argument_spec=dict(
            tests=dict(type='path', required=True),
            distgit=dict(type='path', default=None),
            dest=dict(type='str', default='source'),
        ),
    )
    tests = module.params['tests']
    distgit = module.params['distgit'] or os.path.dirname(tests.rstrip('/'))
    dest = os.path.join(tests, module.params['dest'])
    if os.path.isdir(dest):
        module.exit_json(changed=False, msg='%s is there already' % dest, dest=dest)
    specs = sorted(glob.glob(os.path.join(distgit, '*.spec')))
    if len(specs) != 1:
        module.fail_json(msg='standard-test-source: expected one spec file in %s, found %d'
                         % (distgit, len(specs)))
    top = tempfile.mkdtemp(prefix='sti-source-')
    try:
        argv = ['rpmbuild', '-bp', '--nodeps',
                '--define', '_topdir %s' % top,
                '--define', '_tmppath %s' % top,
                '--define', '_sourcedir %s' % distgit,
                '--define', '_builddir %s' % os.path.join(top, 'BUILD'),
                specs[0]]
        try:
            done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  universal_newlines=True)
        except OSError as e:
            module.fail_json(msg='standard-test-source: cannot run rpmbuild: %s' % e)
        if done.returncode != 0:
            tail = '\n'.join(done.stdout.strip().splitlines()[-8:])
            hint = ''
            if 'No such file' in done.stdout or 'Bad file' in done.stdout:
                hint = ('; a source is not in the dist-git checkout: fetch the '
                        'lookaside tarballs with `fedpkg sources` first')
            module.fail_json(msg='standard-test-source: %%prep of %s failed%s:\n%s'
                             % (os.path.basename(specs[0]), hint, tail))
        shutil.move(top_of(os.path.join(top, 'BUILD')), dest)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    module.exit_json(changed=True, dest=dest)


if __name__ == '__main__':
    main()
