# -*- coding: utf-8 -*-
"""The original libtaskotron exception hierarchy, so a task's ``except``
clauses keep catching what they caught before.

A ``TaskotronError`` that escapes the task's callable ends the action as NOT_OK
with the exception's name and message.
"""

from __future__ import absolute_import


class TaskotronError(Exception):
    """Common ancestor of every libtaskotron exception."""


class TaskotronValueError(ValueError, TaskotronError):
    """A value a task gave is not acceptable (an unknown outcome, bad ResultYAML)."""


class TaskotronConfigError(TaskotronError):
    """A configuration file is wrong."""


class TaskotronYamlError(TaskotronError):
    """The task's formula (YAML) is wrong."""


class TaskotronPlaybookError(TaskotronError):
    """The task's playbook is wrong (later Taskotron generations)."""


class TaskotronDirectiveError(TaskotronError):
    """A directive could not do its job."""


class TaskotronRemoteError(TaskotronError):
    """A network or remote-server problem; ``errno`` as the caller gave it."""

    def __init__(self, e=None, errno=None):
        if e:
            TaskotronError.__init__(self, str(e))
        else:
            TaskotronError.__init__(self)
        self.errno = errno


class TaskotronRemoteTimeoutError(TaskotronRemoteError):
    """A remote server sent nothing within the time allowed."""


class TaskotronRemoteProcessError(TaskotronRemoteError):
    """A command run on a remote machine failed."""


class TaskotronNotImplementedError(TaskotronError, NotImplementedError):
    """Not implemented (the original raised it from abstract methods)."""


class TaskotronImportError(TaskotronError):
    """An optional part of the library could not be imported."""

    def __init__(self, e):
        message = str(e)
        if 'libtaskotron' in message:
            message += "\nHint: Make sure that all required sub-packages are installed."
        TaskotronError.__init__(self, message)


class TaskotronImageError(TaskotronError):
    """A disposable-machine image problem."""


class TaskotronImageNotFoundError(TaskotronImageError):
    """The requested image does not exist."""


class TaskotronPermissionError(TaskotronError):
    """Insufficient permissions."""


class TaskotronInterruptError(TaskotronError):
    """The run was interrupted by a signal."""

    def __init__(self, signum, signame):
        TaskotronError.__init__(self, signum, signame)
        self.signum = signum
        self.signame = signame

    def __str__(self):
        return 'Received system signal %d (%s)' % (self.signum, self.signame)


class TaskotronMinionError(TaskotronError):
    """A minion (the machine a task runs on) problem."""
