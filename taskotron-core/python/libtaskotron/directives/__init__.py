# -*- coding: utf-8 -*-
"""libtaskotron's directives, called from Python as Taskotron's playbook tasks
(2018-2020) called them::

    from libtaskotron.directives import koji_directive
    koji_directive.KojiDirective().process(params, arg_data)

Each ``<name>_directive`` module is a thin client: ``process`` hands the
parameters to the taskotron binary (``taskotron call <name>``), which runs the
one implementation the formulas use and answers in JSON (the protocol is
described in taskotron's docs, "Directives from Python"). Nothing of a
directive is written here twice.
"""

from __future__ import absolute_import

import json
import os
import subprocess

from libtaskotron import exceptions

#: The protocol version this client speaks.
PROTOCOL = 1


def _executable():
    """The taskotron binary: the one that runs the task (TASKOTRON_EXECUTABLE),
    else ``taskotron`` on PATH."""
    return os.environ.get('TASKOTRON_EXECUTABLE') or 'taskotron'


def call(name, params, arg_data):
    """Runs directive ``name`` with ``params`` and ``arg_data`` in the taskotron
    binary and returns what it returned; raises what the original raised."""
    request = json.dumps({'protocol': PROTOCOL, 'params': params,
                          'arg_data': arg_data or {}})
    try:
        proc = subprocess.Popen([_executable(), 'call', name], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE)
    except OSError as e:
        raise exceptions.TaskotronDirectiveError(
            'cannot run the taskotron binary (%s): %s' % (_executable(), e))
    out, _ = proc.communicate(request.encode('utf-8'))
    try:
        answer = json.loads(out.decode('utf-8'))
    except ValueError:
        raise exceptions.TaskotronDirectiveError(
            '`taskotron call %s` ended %s without an answer' % (name, proc.returncode))
    error = answer.get('error')
    if error is None:
        return answer.get('value')
    kind = error.get('type', 'TaskotronDirectiveError')
    cls = getattr(exceptions, kind, exceptions.TaskotronDirectiveError)
    if not (isinstance(cls, type) and issubclass(cls, exceptions.TaskotronError)):
        cls = exceptions.TaskotronDirectiveError
    raised = cls(error.get('message', ''))
    raised.failure = error.get('failure')
    raise raised


class BaseDirective(object):
    """What every directive class is: ``process(params, arg_data)``."""

    #: The directive's name in formulas (and in ``taskotron call``).
    name = None

    def process(self, params, arg_data):
        """Runs the directive; returns what a formula's ``export`` would hold."""
        return call(self.name, params, arg_data)
