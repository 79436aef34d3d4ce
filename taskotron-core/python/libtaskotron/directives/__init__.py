# -*- coding: utf-8 -*-
"""libtaskotron's directives, called from Python as Taskotron's playbook tasks
(2018-2020) called them::

    from libtaskotron.directives import koji_directive
    koji_directive.KojiDirective().process(params, arg_data)

Each ``<name>_directive`` module is a thin client: ``process`` hands the
parameters to taskotron, which runs the one implementation the formulas use and
answers in JSON (the protocol is described in taskotron's docs, "Directives
from Python"): inside a run, to the runner itself over the socket
TASKOTRON_CALL_SOCKET names (the directive runs there, as a formula's does,
outside the task's sandbox); elsewhere, to ``taskotron call <name>``. Nothing
of a directive is written here twice.
"""

from __future__ import absolute_import

import json
import os
import socket
import subprocess
import sys

from libtaskotron import exceptions

#: The protocol version this client speaks.
PROTOCOL = 1


def _executable():
    """The taskotron binary: the one that runs the task (TASKOTRON_EXECUTABLE),
    else ``taskotron`` on PATH."""
    return os.environ.get('TASKOTRON_EXECUTABLE') or 'taskotron'


def _over_socket(path, name, request):
    """The runner's answer to ``request`` on its socket."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        conn.sendall(json.dumps(dict(request, directive=name)).encode('utf-8'))
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        conn.close()
    return b''.join(chunks), 'the runner'


def _over_subprocess(name, request):
    """The answer of ``taskotron call NAME`` to ``request``."""
    try:
        proc = subprocess.Popen([_executable(), 'call', name], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE)
    except OSError as e:
        raise exceptions.TaskotronDirectiveError(
            'cannot run the taskotron binary (%s): %s' % (_executable(), e))
    out, _ = proc.communicate(json.dumps(request).encode('utf-8'))
    return out, '`taskotron call %s` (exit code %s)' % (name, proc.returncode)


def call(name, params, arg_data):
    """Runs directive ``name`` with ``params`` and ``arg_data`` in taskotron and
    returns what it returned; raises what the original raised."""
    request = {'protocol': PROTOCOL, 'params': params, 'arg_data': arg_data or {}}
    path = os.environ.get('TASKOTRON_CALL_SOCKET')
    try:
        if path and os.path.exists(path):
            out, who = _over_socket(path, name, request)
        else:
            out, who = _over_subprocess(name, request)
    except (OSError, socket.error) as e:
        raise exceptions.TaskotronDirectiveError('cannot reach taskotron: %s' % e)
    try:
        answer = json.loads(out.decode('utf-8'))
    except ValueError:
        raise exceptions.TaskotronDirectiveError('%s gave no answer' % who)
    if answer.get('output'):
        sys.stderr.write(answer['output'].rstrip('\n') + '\n')
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
