# -*- coding: utf-8 -*-
"""Check results: :class:`CheckDetail`, :class:`ReportType`, and their ResultYAML
and TAP texts, with the original libtaskotron's behaviour.

``export_YAML`` writes the same bytes as ``taskotron``'s own ResultYAML export of
the same results; ``import_YAML`` reads any ResultYAML back; ``export_TAP`` writes
the 2014 TAP13 layout that ``taskotron`` reads back into the same results.
"""

from __future__ import absolute_import, print_function

import pprint

from . import _yaml
from . import exceptions as exc
from .logger import log

try:  # Python 3.3+
    from collections.abc import Mapping, MutableSequence
except ImportError:  # pragma: no cover - Python 2
    from collections import Mapping, MutableSequence

#: keys a result writes itself; keyvals may not override them
RESERVED_KEYS = ('item', 'type', 'outcome', 'note', 'results', 'checkname',
                 'artifact', '_internal')


class CheckDetail(object):
    """Everything about the outcome of a check for one item.

    ``outcome`` is one of :attr:`outcome_priority` (unset reads as
    ``NEEDS_INSPECTION``; anything else raises ``TaskotronValueError``), ``note``
    a short summary (``summary`` is its 2014 name), ``output`` a list of lines
    (:meth:`store` appends to it), ``keyvals`` extra data for ResultsDB,
    ``checkname`` a name other than the task's, ``artifact`` a file in the
    artifacts directory about this item.
    """

    #: outcomes from the least to the most important
    outcome_priority = ('PASSED', 'INFO', 'FAILED', 'NEEDS_INSPECTION',
                        'ABORTED', 'CRASHED')

    def __init__(self, item, report_type=None, outcome=None, note='',
                 output=None, keyvals=None, checkname=None, artifact=None):
        if output is not None and not (
                isinstance(output, MutableSequence)
                and all(isinstance(o, _yaml.string_types) for o in output)):
            raise exc.TaskotronValueError(
                "'output' parameter must be a mutable sequence of strings. "
                "Yours was: %s" % type(output))
        if keyvals is not None and not isinstance(keyvals, Mapping):
            raise exc.TaskotronValueError(
                "'keyvals' parameter must be a mapping. Yours was: %s" % type(keyvals))
        self.item = item
        self.report_type = report_type
        self._outcome = None
        if outcome:
            self.outcome = outcome
        self.checkname = checkname
        self.note = note
        self.output = output if output is not None else []
        self.keyvals = keyvals if keyvals is not None else {}
        self.artifact = artifact
        #: data passed between directives, such as ``resultsdb_result_id``
        self._internal = {}

    @property
    def outcome(self):
        return self._outcome or 'NEEDS_INSPECTION'

    @outcome.setter
    def outcome(self, value):
        if value not in self.outcome_priority:
            raise exc.TaskotronValueError('Unknown outcome keyword: %s' % value)
        self._outcome = value

    @property
    def summary(self):
        """The 2014 name of :attr:`note`."""
        return self.note

    @summary.setter
    def summary(self, value):
        self.note = value

    def update_outcome(self, outcome):
        """Sets ``outcome`` only when it is more important than the current one
        (``None`` is ignored), so the worst of several sub-checks stays."""
        if self.cmp_outcome(outcome, self._outcome) > 0:
            self.outcome = outcome

    def broken(self):
        """True when the outcome is ABORTED or CRASHED."""
        return self.outcome in ('ABORTED', 'CRASHED')

    def store(self, message, printout=True):
        """Appends ``message`` to :attr:`output`, printing it unless told not to."""
        self.output.append(message)
        if printout:
            print(message)

    @classmethod
    def cmp_outcome(cls, outcome1, outcome2):
        """-1, 0 or 1 as ``outcome1`` is less, as or more important than
        ``outcome2``; ``None`` ranks below everything."""
        for outcome in (outcome1, outcome2):
            if outcome is not None and outcome not in cls.outcome_priority:
                raise exc.TaskotronValueError('Unknown outcome keyword: %s' % outcome)
        rank1 = -1 if outcome1 is None else cls.outcome_priority.index(outcome1)
        rank2 = -1 if outcome2 is None else cls.outcome_priority.index(outcome2)
        return (rank1 > rank2) - (rank1 < rank2)

    @classmethod
    def create_multi_item_summary(cls, outcomes):
        """``'3 PASSED, 1 INFO, 2 FAILED'`` for CheckDetails or outcome strings,
        in priority order, zero counts left out."""
        if isinstance(outcomes, CheckDetail):
            outcomes = (outcomes,)
        outcomes = list(outcomes)
        if not outcomes:
            return ''
        if all(isinstance(o, CheckDetail) for o in outcomes):
            names = [o.outcome for o in outcomes]
        elif all(isinstance(o, _yaml.string_types) for o in outcomes):
            names = outcomes
        else:
            raise exc.TaskotronValueError(
                "'outcomes' parameter type is incorrect: %s" % type(outcomes))
        return ', '.join('%d %s' % (names.count(o), o)
                         for o in cls.outcome_priority if names.count(o))

    def __str__(self):
        attrs = dict(vars(self))
        attrs['output'] = '<stripped out>'
        return '<%s: %s>' % (self.__class__.__name__, pprint.pformat(attrs))

    __repr__ = __str__


def create_multi_item_summary(outcomes):
    """Module-level spelling of :meth:`CheckDetail.create_multi_item_summary`."""
    return CheckDetail.create_multi_item_summary(outcomes)


class ReportType(object):
    """The item types a result can be about (``type`` in ResultYAML)."""
    BODHI_UPDATE = 'bodhi_update'
    COMPOSE = 'compose'
    DIST_GIT_COMMIT = 'dist_git_commit'
    DOCKER_IMAGE = 'docker_image'
    GIT_COMMIT = 'git_commit'
    KOJI_BUILD = 'koji_build'
    KOJI_TAG = 'koji_tag'
    MODULE_BUILD = 'module_build'
    PULL_REQUEST = 'pull_request'
    #: historic (2014) type of a repository check
    YUM_REPOSITORY = 'yum_repository'

    @classmethod
    def list(cls):
        return [cls.BODHI_UPDATE, cls.COMPOSE, cls.DIST_GIT_COMMIT, cls.DOCKER_IMAGE,
                cls.GIT_COMMIT, cls.KOJI_BUILD, cls.KOJI_TAG, cls.MODULE_BUILD,
                cls.PULL_REQUEST]


def _as_list(check_details):
    if isinstance(check_details, CheckDetail):
        return [check_details]
    details = list(check_details)
    for detail in details:
        if not isinstance(detail, CheckDetail):
            raise exc.TaskotronValueError('not a CheckDetail: %r' % (detail,))
    return details


def _result_map(detail):
    data = {}
    for key, value in detail.keyvals.items():
        if key in RESERVED_KEYS:
            log.warning("Reserved key '%s' found in keyvals. Ignoring for export "
                        "purposes.", key)
            continue
        data[key] = value
    data['item'] = detail.item
    data['outcome'] = detail.outcome
    # Written whenever set, as taskotron writes them (the original left out
    # empty strings too; nothing else differs).
    if detail.artifact is not None:
        data['artifact'] = detail.artifact
    if detail.report_type is not None:
        data['type'] = detail.report_type
    if detail.note:
        data['note'] = detail.note
    if detail.checkname is not None:
        data['checkname'] = detail.checkname
    if detail._internal:
        data['_internal'] = detail._internal
    return data


def export_YAML(check_details):
    """ResultYAML for one CheckDetail or several, in one document.

    :raise TaskotronValueError: when a detail has no ``item``
    """
    details = _as_list(check_details)
    for detail in details:
        if not detail.item:
            raise exc.TaskotronValueError('CheckDetail.item is empty for: %s' % detail)
    return _yaml.dump_document('results', [_result_map(d) for d in details])


def import_YAML(source):
    """CheckDetails from ResultYAML text.

    :raise TaskotronValueError: for empty input, YAML that does not parse, a root
        that is not a mapping, no ``results`` key, or ``results`` not a list
    """
    if not source:
        raise exc.TaskotronValueError('Failed to parse YAML contents: empty input')
    data = _yaml.load(source)
    if not isinstance(data, dict):
        raise exc.TaskotronValueError(
            'Invalid type of the YAML root element, %s instead of dict' % type(data))
    if 'results' not in data:
        raise exc.TaskotronValueError(
            'Invalid format of the YAML data - missing `results` key')
    if data['results'] is None:
        return []
    if not isinstance(data['results'], list):
        raise exc.TaskotronValueError(
            "Invalid type of 'results', %s instead of list" % type(data['results']))
    details = []
    for result in data['results']:
        if not isinstance(result, dict):
            raise exc.TaskotronValueError('a result is not a mapping: %r' % (result,))
        keyvals = dict((k, v) for k, v in result.items() if k not in RESERVED_KEYS)
        detail = CheckDetail(item=result.get('item'),
                             report_type=result.get('type'),
                             outcome=result.get('outcome'),
                             note=result.get('note') or '',
                             keyvals=keyvals,
                             checkname=result.get('checkname'),
                             artifact=result.get('artifact'))
        detail._internal = result.get('_internal') or {}
        details.append(detail)
    return details


def export_TAP(check_details, checkname='$CHECKNAME'):
    """TAP13 in the 2014 layout: one test point per CheckDetail, ``ok`` when the
    outcome is PASSED or INFO, its YAML block holding ``item``, ``outcome``,
    ``summary``, ``type``, ``details.output`` and the keyvals. ``$CHECKNAME``
    stands for the task's name when the detail has no ``checkname``."""
    details = _as_list(check_details)
    lines = ['TAP version 13', '1..%d' % len(details)]
    for detail in details:
        if not detail.item:
            raise exc.TaskotronValueError('CheckDetail.item is empty for: %s' % detail)
        name = detail.checkname or checkname
        ok = 'ok' if detail.outcome in ('PASSED', 'INFO') else 'not ok'
        lines.append(_yaml._native(u'%s - %s for %s' % (
            ok, _yaml._text(name), _yaml._text(detail.item))))
        # The ResultYAML result, with the 2014 names: `summary` for the note and
        # `details.output` for the output (keyvals of those names give way).
        data = _result_map(detail)
        for key in ('_internal', 'summary', 'details'):
            data.pop(key, None)
        note = data.pop('note', None)
        if note:
            data['summary'] = note
        if detail.output:
            data['details'] = {'output': '\n'.join(
                _yaml._text(o) for o in detail.output) + '\n'}
        lines.append('  ---')
        lines.append(_yaml.dump_mapping(data, 2).rstrip('\n'))
        lines.append('  ...')
    return '\n'.join(lines) + '\n'
