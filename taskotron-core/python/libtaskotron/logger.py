# -*- coding: utf-8 -*-
"""The library's logger. Everything a task logs, through this logger or its own,
lands in the action's log: the ``python`` directive configures the root logger
before it calls the task."""

from __future__ import absolute_import

import logging

#: the logger libtaskotron itself writes to
log = logging.getLogger('libtaskotron')
