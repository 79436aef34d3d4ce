# -*- coding: utf-8 -*-
"""Package installs in a playbook, as taskotron's `install_rpms` says.

Shared by the `dnf` and `package` modules taskotron puts first on a playbook's
module path and by standard-test-basic's `required_packages`: with
`install_rpms: no` (the default) a package that is not installed fails the task
and says so, nothing is installed; with `install_rpms: dnf` it is installed with
`dnf -y`. Written for taskotron; not part of Ansible.
"""

import os
import subprocess


def install_rpms():
    """The run's `install_rpms` (taskotron passes it as TASKOTRON_INSTALL_RPMS)."""
    return os.environ.get('TASKOTRON_INSTALL_RPMS', 'no')


def _names(value):
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(',')
    return [str(n).strip() for n in value if str(n).strip()]


def installed(name):
    """Whether `name` (a package name or a capability) is installed."""
    try:
        found = subprocess.run(['rpm', '-q', '--whatprovides', name],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return False
    return found.returncode == 0


def ensure(module, names, state='present', install_rpms='no'):
    """Makes the packages `names` be in `state` (present or absent), or fails
    the module saying which are not and why nothing was done."""
    names = _names(names)
    absent = state in ('absent', 'removed')
    wrong = [n for n in names if installed(n) == absent]
    if not wrong:
        module.exit_json(changed=False, msg='nothing to do', results=names)
    if install_rpms != 'dnf':
        what = 'installed' if absent else 'not installed'
        module.fail_json(
            msg='%s %s, and taskotron installs nothing with `install_rpms: %s`; '
                'install them, or set `install_rpms: dnf` on a disposable machine'
                % (', '.join(wrong), what, install_rpms),
            packages=wrong)
    if module.check_mode:
        module.exit_json(changed=True, results=wrong)
    argv = ['dnf', '-y', 'remove' if absent else 'install'] + wrong
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True)
    except OSError as e:
        module.fail_json(msg='`install_rpms: dnf` is set, but dnf cannot run: %s' % e)
    if done.returncode != 0:
        module.fail_json(msg='dnf %s failed' % argv[2], rc=done.returncode,
                         stdout=done.stdout)
    module.exit_json(changed=True, results=wrong, stdout=done.stdout)


def main():
    """The `dnf` and `package` modules: `name` and `state` are read, the other
    options of Ansible's own modules are accepted and ignored."""
    from ansible.module_utils.basic import AnsibleModule
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='list', elements='str', aliases=['pkg']),
            state=dict(type='str', default='present'),
        ),
        supports_check_mode=True,
        bypass_checks=True,
    )
    state = module.params['state']
    if state in ('latest', 'installed'):
        state = 'present'
    ensure(module, module.params['name'], state, install_rpms())
