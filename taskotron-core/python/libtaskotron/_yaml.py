# -*- coding: utf-8 -*-
"""ResultYAML text, written byte for byte as taskotron's own writer writes it.

``dump_results`` follows the rules of taskotron's Rust writer (keys sorted, two
spaces of indentation, plain scalars only where every YAML reader agrees on the
value, ``|`` blocks for multi-line text that survives them, double quotes
otherwise), so a task's ``export_YAML`` and ``taskotron``'s export of the same
results are the same bytes. ``load`` uses PyYAML when the interpreter has it and
otherwise reads the block YAML this module (and PyYAML's ``safe_dump``) writes,
so a task runs on an interpreter without PyYAML.
"""

from __future__ import absolute_import

import json
import re
import sys

from . import exceptions as exc

if sys.version_info[0] >= 3:
    text_type = str
    string_types = (str,)
    integer_types = (int,)
else:  # pragma: no cover - Python 2
    text_type = unicode  # noqa: F821
    string_types = (str, unicode)  # noqa: F821
    integer_types = (int, long)  # noqa: F821

_YAML11_WORDS = ('y', 'n', 'yes', 'no', 'on', 'off')
_SPECIAL_FIRST = set('-?:,[]{}#&*!|>\'"%@`~ ')
_I64 = (-(1 << 63), (1 << 63) - 1)


def _text(value):
    """Native text: bytes are read as UTF-8 (Python 2's ``str``)."""
    if isinstance(value, bytes) and text_type is not bytes:
        return value.decode('utf-8', 'replace')
    if isinstance(value, bytes):  # pragma: no cover - Python 2
        return value.decode('utf-8', 'replace')
    return value


def _needs_escape(c):
    n = ord(c)
    return n < 0x20 or 0x7f <= n <= 0x9f or c in u'\u2028\u2029\ufeff'


def _quoted(s):
    out = [u'"']
    for c in s:
        if c == u'"':
            out.append(u'\\"')
        elif c == u'\\':
            out.append(u'\\\\')
        elif c == u'\n':
            out.append(u'\\n')
        elif c == u'\t':
            out.append(u'\\t')
        elif c == u'\r':
            out.append(u'\\r')
        elif _needs_escape(c) and ord(c) < 0x100:
            out.append(u'\\x%02x' % ord(c))
        elif _needs_escape(c):
            out.append(u'\\u%04x' % ord(c))
        else:
            out.append(c)
    out.append(u'"')
    return u''.join(out)


def _plain_is_string(text):
    """What taskotron's YAML reader makes of a plain scalar: True for a string."""
    if text[:1] not in set('nNtTfF~.+-0123456789'):
        return True
    if text in ('', '~', 'null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false',
                'False', 'FALSE', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF',
                '-.inf', '-.Inf', '-.INF', '.nan', '.NaN', '.NAN'):
        return False
    digits = text[1:] if text[:1] in ('-', '+') else text
    if digits and re.match(r'^[0-9]+$', digits) and _I64[0] <= int(text) <= _I64[1]:
        return False
    for prefix, base, pattern in (('0x', 16, r'^[+-]?[0-9a-fA-F]+$'),
                                  ('0o', 8, r'^[+-]?[0-7]+$')):
        rest = text[len(prefix):]
        if text.startswith(prefix) and re.match(pattern, rest):
            if _I64[0] <= int(rest, base) <= _I64[1]:
                return False
    if (re.search(r'[0-9]', digits) and re.match(r'^[0-9.eE+-]+$', digits)
            and digits[:1] in set('0123456789.')):
        try:
            float(text)
            return False
        except ValueError:
            pass
    return True


def _yaml11_special(s):
    """Text YAML 1.1 readers (PyYAML) take for something else: ``12:30``,
    ``1_000``, ``0b101``, dates, ``=``."""
    unsigned = s[1:] if s[:1] in ('-', '+') else s
    numeric_start = unsigned[:1] in set('0123456789.') and unsigned[:1] != ''
    date = bool(re.match(r'^[0-9]{4}-[0-9]', s))
    return s == '=' or date or (numeric_start and (
        ':' in s or '_' in s or unsigned.startswith('0b')))


def _plain_ok(s):
    if not s or s[0] in _SPECIAL_FIRST or s.endswith(' ') or s.endswith(':'):
        return False
    previous = u''
    for c in s:
        if ord(c) < 0x20 or ord(c) == 0x7f or (c == u' ' and previous == u':') \
                or (c == u'#' and previous == u' '):
            return False
        previous = c
    if any(ord(c) > 0x7f and _needs_escape(c) for c in s):
        return False
    if _yaml11_special(s):
        return False
    if s[0] < u'\x80' and s[0].isalpha():
        return s.lower() not in _YAML11_WORDS + ('true', 'false', 'null')
    return _plain_is_string(s) and s.lower() not in _YAML11_WORDS


def _float_text(x):
    """A float as serde_json writes it: the shortest digits that read back as
    the same float, in fixed notation for decimal exponents -5 to 15 and as
    ``1.5e+16``/``1e-7`` otherwise."""
    if x != x:
        return u'.nan'
    if x in (float('inf'), float('-inf')):
        return u'.inf' if x > 0 else u'-.inf'
    r = repr(float(x))
    sign = u''
    if r.startswith('-'):
        sign, r = u'-', r[1:]
    mantissa, _, exp = r.partition('e')
    whole, _, frac = mantissa.partition('.')
    all_digits = whole + frac
    zeros = len(all_digits) - len(all_digits.lstrip('0'))
    digits = all_digits.lstrip('0').rstrip('0')
    if not digits:
        return sign + u'0.0'
    # The exponent of the leading digit, as in 1.234e<dec_exp>.
    dec_exp = len(whole) - zeros + (int(exp) if exp else 0) - 1
    if -5 <= dec_exp <= 15:
        if len(digits) - 1 <= dec_exp:
            return sign + digits + u'0' * (dec_exp + 1 - len(digits)) + u'.0'
        if dec_exp >= 0:
            return sign + digits[:dec_exp + 1] + u'.' + digits[dec_exp + 1:]
        return sign + u'0.' + u'0' * (-dec_exp - 1) + digits
    # Always a point before the exponent: YAML 1.1 readers need one.
    mantissa = digits[0] + u'.' + (digits[1:] or u'0')
    return u'%s%se%s%d' % (sign, mantissa, u'+' if dec_exp >= 0 else u'-', abs(dec_exp))


def _scalar(value):
    if value is None:
        return u'~'
    if value is True:
        return u'true'
    if value is False:
        return u'false'
    if isinstance(value, integer_types):
        return text_type(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, string_types):
        s = _text(value)
        return s if _plain_ok(s) else _quoted(s)
    if isinstance(value, (list, tuple)):
        return u'[]'
    if isinstance(value, dict):
        return u'{}'
    raise exc.TaskotronValueError(
        'cannot write a %s into ResultYAML: %r' % (type(value).__name__, value))


def _key_text(key):
    key = _text(key) if isinstance(key, string_types) else text_type(key)
    simple = bool(re.match(r'^[A-Za-z_][A-Za-z0-9_.-]*$', key))
    return key if simple and _plain_ok(key) else _quoted(key)


def _literal_ok(s):
    if not s.endswith(u'\n') or len(s) <= 1:
        return False
    for line in s[:-1].split(u'\n'):
        if not line or line.startswith(u' ') or line.endswith(u' '):
            return False
        if any(_needs_escape(c) or c == u'\t' for c in line):
            return False
    return True


def _sorted_items(mapping):
    return sorted(((_text(k) if isinstance(k, string_types) else text_type(k), v)
                   for k, v in mapping.items()), key=lambda kv: kv[0])


def _write_entry(out, indent, key, value):
    pad = u' ' * indent
    key = _key_text(key)
    if isinstance(value, dict) and value:
        out.append(u'%s%s:\n' % (pad, key))
        for k, v in _sorted_items(value):
            _write_entry(out, indent + 2, k, v)
    elif isinstance(value, (list, tuple)) and value:
        out.append(u'%s%s:\n' % (pad, key))
        _write_items(out, indent + 2, value)
    elif isinstance(value, string_types) and _literal_ok(_text(value)):
        out.append(u'%s%s: |\n' % (pad, key))
        for line in _text(value)[:-1].split(u'\n'):
            out.append(u'%s  %s\n' % (pad, line))
    else:
        out.append(u'%s%s: %s\n' % (pad, key, _scalar(value)))


def _write_items(out, indent, items):
    pad = u' ' * indent
    for item in items:
        if isinstance(item, dict) and item:
            nested = []
            for k, v in _sorted_items(item):
                _write_entry(nested, indent + 2, k, v)
            out.append(u'%s- %s' % (pad, u''.join(nested)[indent + 2:]))
        elif isinstance(item, (list, tuple)) and item:
            out.append(u'%s-\n' % pad)
            _write_items(out, indent + 2, item)
        elif isinstance(item, string_types) and u'\n' in _text(item):
            out.append(u'%s- %s\n' % (pad, _quoted(_text(item))))
        else:
            out.append(u'%s- %s\n' % (pad, _scalar(item)))


def dump_document(key, items):
    """The document ``key: [items...]`` as text (native ``str``)."""
    out = []
    if not items:
        out.append(u'%s: []\n' % _key_text(key))
    else:
        out.append(u'%s:\n' % _key_text(key))
        _write_items(out, 2, items)
    return _native(u''.join(out))


def dump_mapping(mapping, indent):
    """A mapping's entries at ``indent`` (a TAP YAML block's body)."""
    out = []
    for k, v in _sorted_items(mapping):
        _write_entry(out, indent, k, v)
    return _native(u''.join(out))


def _native(text):
    if text_type is str:
        return text
    return text.encode('utf-8')  # pragma: no cover - Python 2


# ---------------------------------------------------------------- reading

def load(source):
    """Parses YAML text. PyYAML when present; else the block subset."""
    try:
        import yaml
    except ImportError:
        return _Reader(_text(source)).document()
    try:
        return yaml.safe_load(source)
    except yaml.YAMLError as e:
        raise exc.TaskotronValueError('Failed to parse YAML contents: %s' % e)


class _Reader(object):
    """Block mappings and sequences, ``|`` blocks, plain and quoted scalars,
    ``[]``/``{}``, and JSON: what ResultYAML writers produce."""

    def __init__(self, text):
        self.lines = []
        for number, raw in enumerate(text.split(u'\n'), 1):
            self.lines.append((number, raw))
        self.rows = [(n, len(raw) - len(raw.lstrip(u' ')), raw.strip(u' '))
                     for n, raw in self.lines
                     if raw.strip(u' ') and not raw.strip(u' ').startswith(u'#')
                     and raw.strip(u' ') not in (u'---', u'...')]

    def fail(self, number, what):
        raise exc.TaskotronValueError(
            'Failed to parse YAML contents: line %d: %s (install PyYAML for full YAML)'
            % (number, what))

    def document(self):
        stripped = u'\n'.join(raw for _, raw in self.lines).strip()
        if stripped.startswith(u'{') or stripped.startswith(u'['):
            try:
                return json.loads(stripped)
            except ValueError as e:
                raise exc.TaskotronValueError('Failed to parse YAML contents: %s' % e)
        if not self.rows:
            return None
        if len(self.rows) == 1 and not self._is_key(self.rows[0][2]) \
                and not self._is_item(self.rows[0][2]):
            return self.scalar(self.rows[0][2], self.rows[0][0])
        value, i = self.node(0, self.rows[0][1])
        if i < len(self.rows):
            self.fail(self.rows[i][0], 'unexpected indentation')
        return value

    @staticmethod
    def _is_item(content):
        return content == u'-' or content.startswith(u'- ')

    @staticmethod
    def _split_key(content):
        if content.startswith(u'"'):
            end = 1
            while end < len(content):
                if content[end] == u'\\':
                    end += 2
                    continue
                if content[end] == u'"':
                    break
                end += 1
            key, rest = content[:end + 1], content[end + 1:]
        else:
            match = re.match(r'^([^#]*?):( |$)', content)
            if not match:
                return None
            key, rest = match.group(1), content[len(match.group(1)):]
        if rest != u':' and not rest.startswith(u': '):
            return None
        return key, rest[1:].strip(u' ')

    def _is_key(self, content):
        return not self._is_item(content) and self._split_key(content) is not None

    def node(self, i, indent):
        content = self.rows[i][2]
        if self._is_item(content):
            return self.sequence(i, indent)
        if self._is_key(content):
            return self.mapping(i, indent)
        return self.scalar(content, self.rows[i][0]), i + 1

    def mapping(self, i, indent, first=None):
        result = {}
        while i < len(self.rows):
            number, ind, content = self.rows[i]
            if first is not None:
                content, first = first, None
            elif ind != indent:
                break
            if self._is_item(content):
                break
            split = self._split_key(content)
            if split is None:
                self.fail(number, 'expected `key: value`')
            key, rest = split
            key = self.scalar(key, number)
            i += 1
            if rest in (u'|', u'|-', u'|+'):
                result[key], i = self.literal(i, indent, rest, number)
            elif rest == u'':
                if i < len(self.rows) and self.rows[i][1] > indent:
                    result[key], i = self.node(i, self.rows[i][1])
                elif i < len(self.rows) and self.rows[i][1] == indent \
                        and self._is_item(self.rows[i][2]):
                    result[key], i = self.sequence(i, indent)
                else:
                    result[key] = None
            else:
                result[key] = self.scalar(rest, number)
        return result, i

    def sequence(self, i, indent):
        result = []
        while i < len(self.rows):
            number, ind, content = self.rows[i]
            if ind != indent or not self._is_item(content):
                break
            rest = content[1:].lstrip(u' ')
            if rest == u'':
                if i + 1 < len(self.rows) and self.rows[i + 1][1] > indent:
                    value, i = self.node(i + 1, self.rows[i + 1][1])
                else:
                    value, i = None, i + 1
            elif self._is_key(rest) or self._is_item(rest):
                inner = indent + len(content) - len(rest)
                if self._is_item(rest):
                    self.fail(number, 'nested `- -` sequences')
                value, i = self.mapping(i, inner, first=rest)
            else:
                value, i = self.scalar(rest, number), i + 1
            result.append(value)
        return result, i

    def literal(self, i, indent, style, number):
        # The block's lines are the raw lines after the key's, indented deeper.
        start = self.rows[i - 1][0]
        body = []
        block_indent = None
        for n, raw in self.lines[start:]:
            stripped = raw.strip(u' ')
            ind = len(raw) - len(raw.lstrip(u' '))
            if stripped and ind <= indent:
                break
            if stripped and block_indent is None:
                block_indent = ind
            body.append(raw[block_indent:] if stripped else u'')
        while i < len(self.rows) and self.rows[i][0] <= start + len(body):
            i += 1
        while body and body[-1] == u'':
            trailing = body.pop()  # noqa: F841
        text = u'\n'.join(body)
        if style == u'|':
            text += u'\n'
        elif style == u'|+':
            text += u'\n'
        return text, i

    def scalar(self, text, number):
        if text.startswith(u'"'):
            if not text.endswith(u'"') or len(text) < 2:
                self.fail(number, 'unterminated double-quoted text')
            return _unescape(text[1:-1], lambda what: self.fail(number, what))
        if text.startswith(u"'"):
            if not text.endswith(u"'") or len(text) < 2:
                self.fail(number, 'unterminated single-quoted text')
            return text[1:-1].replace(u"''", u"'")
        if text.startswith(u'[') or text.startswith(u'{'):
            try:
                return json.loads(text)
            except ValueError:
                self.fail(number, 'flow collections other than JSON')
        if u' #' in text:
            text = text[:text.index(u' #')].rstrip(u' ')
        return _resolve_plain(text)


_ESCAPES = {u'n': u'\n', u't': u'\t', u'r': u'\r', u'"': u'"', u'\\': u'\\',
            u'/': u'/', u'0': u'\0', u'a': u'\a', u'b': u'\b', u'e': u'\x1b',
            u'f': u'\f', u'v': u'\v', u' ': u' ', u'N': u'\x85', u'_': u'\xa0'}


def _unescape(body, fail):
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != u'\\':
            out.append(c)
            i += 1
            continue
        e = body[i + 1:i + 2]
        width = {u'x': 2, u'u': 4, u'U': 8}.get(e)
        if width:
            digits = body[i + 2:i + 2 + width]
            try:
                out.append(_chr(int(digits, 16)))
            except ValueError:
                fail('bad escape \\%s%s' % (e, digits))
            i += 2 + width
        elif e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
        else:
            fail('unknown escape \\%s' % e)
    return u''.join(out)


def _chr(n):
    try:
        return unichr(n)  # noqa: F821
    except NameError:
        return chr(n)


def _resolve_plain(text):
    if _plain_is_string(text):
        return text
    if text in ('', '~', 'null', 'Null', 'NULL'):
        return None
    if text in ('true', 'True', 'TRUE'):
        return True
    if text in ('false', 'False', 'FALSE'):
        return False
    if text.lstrip('+-').lower() == '.inf':
        return float('-inf') if text.startswith('-') else float('inf')
    if text.lower() == '.nan':
        return float('nan')
    if text.startswith('0x'):
        return int(text[2:], 16)
    if text.startswith('0o'):
        return int(text[2:], 8)
    try:
        return int(text)
    except ValueError:
        return float(text)
