#!/usr/bin/python
# -*- coding: utf-8 -*-
"""`dnf` as a playbook run by taskotron sees it: what it installs follows
taskotron's `install_rpms` (module_utils/taskotron_rpms.py)."""

from ansible.module_utils.taskotron_rpms import main

if __name__ == '__main__':
    main()
