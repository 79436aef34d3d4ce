# -*- coding: utf-8 -*-
"""libtaskotron, as taskotron ships it: the API a Taskotron task imports.

This package is embedded in the `taskotron` binary and put on the `python`
directive's import path, so tasks written against the original libtaskotron
(``from libtaskotron import check``) run with no install step. It covers what a
task uses: ``check`` (CheckDetail, ReportType, ResultYAML and TAP export),
``exceptions`` and ``logger``. It runs on Python 2.7 and Python 3.
"""

__version__ = '0.4.99+taskotron'
