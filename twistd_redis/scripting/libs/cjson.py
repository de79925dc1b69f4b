"""``cjson``: Lua CJSON 2.1.0 (deps/lua/src/lua_cjson.c) as Redis 7.0 loads it.

encode: strings are escaped byte by byte (control characters as ``\\uXXXX`` or ``\\b \\t \\n \\f
\\r``, ``"``, ``\\``, ``/`` and DEL; other bytes, UTF-8 or not, pass through), numbers print with
``%.14g`` (``encode_number_precision``), a table whose keys are all positive integers is an array
up to its largest key (holes are ``null``) unless it is "excessively sparse" (largest key above
both ``2 * count`` and 10: an error by default, an object with ``encode_sparse_array(true)``),
every other table an object in ``next`` order (``{}`` when empty), numeric keys quoted;
``cjson.null`` is ``null``.  Nesting deeper than ``encode_max_depth`` (1000) is an error.

decode: strict JSON except what Lua CJSON accepts on top of it (numbers are read by ``strtod``,
so with the default ``decode_invalid_numbers(true)`` also ``+1``, ``0x10``, ``inf``, ``nan``,
leading zeros); the text ends at its first NUL byte; ``null`` is ``cjson.null``; arrays and
objects nest at most ``decode_max_depth`` (1000) deep.  Error texts and character positions are
the C library's.

Each ``cjson.new()`` has its own settings; the settings of ``cjson`` itself outlive a script (the
Lua runtime keeps them until SCRIPT FLUSH), as in Redis.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from lupa import lua51

from twistd_redis.scripting.libs import (
    MAXCSTACK,
    Env,
    LibError,
    c_int,
    c_long,
    typeerror,
    typename,
    wrap_int32,
)

INT_MAX = 2147483647
_INF = math.inf

# ---------------------------------------------------------------------------- encoding

_ESCAPES = {i: b"\\u%04x" % i for i in range(32)}
_ESCAPES.update({8: b"\\b", 9: b"\\t", 10: b"\\n", 12: b"\\f", 13: b"\\r"})
_ESCAPES.update({34: b'\\"', 92: b"\\\\", 47: b"\\/", 127: b"\\u007f"})
_ESC_BYTES = {bytes((k,)): v for k, v in _ESCAPES.items()}
_needs_escape = re.compile(rb'[\x00-\x1f"\\/\x7f]')
_esc_search = _needs_escape.search
_esc_sub = _needs_escape.sub


def _escape_one(m: re.Match) -> bytes:
    return _ESC_BYTES[m.group()]


def quote(s: bytes) -> bytes:
    if _esc_search(s) is None:
        return b'"' + s + b'"'
    return b'"' + _esc_sub(_escape_one, s) + b'"'


# ---------------------------------------------------------------------------- decoding

(T_OBJ_BEGIN, T_OBJ_END, T_ARR_BEGIN, T_ARR_END, T_STRING, T_NUMBER, T_BOOLEAN, T_NULL, T_COLON,
 T_COMMA, T_END, T_WHITESPACE, T_ERROR, T_UNKNOWN) = range(14)  # fmt: skip
_TOKEN_NAMES = [
    b"T_OBJ_BEGIN", b"T_OBJ_END", b"T_ARR_BEGIN", b"T_ARR_END", b"T_STRING", b"T_NUMBER",
    b"T_BOOLEAN", b"T_NULL", b"T_COLON", b"T_COMMA", b"T_END", b"T_WHITESPACE", b"T_ERROR",
    b"T_UNKNOWN",
]  # fmt: skip
_CH2TOKEN = [T_ERROR] * 256
for _c, _t in ((b"{", T_OBJ_BEGIN), (b"}", T_OBJ_END), (b"[", T_ARR_BEGIN), (b"]", T_ARR_END),
               (b",", T_COMMA), (b":", T_COLON)):  # fmt: skip
    _CH2TOKEN[_c[0]] = _t
for _c in b" \t\n\r":
    _CH2TOKEN[_c] = T_WHITESPACE
for _c in b'fiInNt"+-0123456789':
    _CH2TOKEN[_c] = T_UNKNOWN
_SINGLE = frozenset((T_OBJ_BEGIN, T_OBJ_END, T_ARR_BEGIN, T_ARR_END, T_COMMA, T_COLON))
_WS = frozenset(b" \t\n\r")
_ESC2CHAR = {ord('"'): b'"', ord("\\"): b"\\", ord("/"): b"/", ord("b"): b"\b", ord("t"): b"\t",
             ord("n"): b"\n", ord("f"): b"\f", ord("r"): b"\r"}  # fmt: skip
_HEX4 = re.compile(rb"[0-9a-fA-F]{4}")
_STR_PLAIN = re.compile(rb'[^"\\]*')
# strtod(): the longest prefix glibc reads as a number (C locale)
_STRTOD = re.compile(
    rb"""[+-]?(?:
        (?P<inf>[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)
      | (?P<nan>[nN][aA][nN](?:\([0-9A-Za-z_]*\))?)
      | (?P<hex>0[xX](?:[0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)
      | (?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?
    )""",
    re.X,
)


def _strtod(m: re.Match) -> float:
    text = m.group()
    neg = text[:1] == b"-"
    if m.group("inf") is not None:
        return -_INF if neg else _INF
    if m.group("nan") is not None:
        return math.copysign(math.nan, -1.0 if neg else 1.0)
    if m.group("hex") is not None:
        return float.fromhex(text.decode())
    return float(text)


FAST_DEPTH = 100  # nesting handled by the recursive fast paths; deeper goes iterative


class _Pairs(list):
    """A JSON object as the fast decoder returns it: its (key, value) pairs in order."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


_CONSTANTS = {"NaN": math.nan, "Infinity": _INF, "-Infinity": -_INF}
# per decode_invalid_numbers setting (0: NaN/Infinity are errors, left to the exact parser)
_DECODERS = {
    0: json.JSONDecoder(object_pairs_hook=_Pairs, parse_int=float, parse_constant=_refuse_constant),
    1: json.JSONDecoder(object_pairs_hook=_Pairs, parse_int=float, parse_constant=_CONSTANTS.__getitem__),
}
# a \uD800-\uDFFF escape: the exact parser checks the surrogate pairing
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class _Deep(Exception):
    """Nesting beyond FAST_DEPTH: let the iterative code do it."""


class _ParseError(Exception):
    def __init__(self, expected: bytes, found: bytes, index: int) -> None:
        self.message = b"Expected %s but found %s at character %d" % (expected, found, index + 1)


class Config:
    """One cjson instance's settings (json_config_t)."""

    def __init__(self) -> None:
        self.encode_sparse_convert = 0
        self.encode_sparse_ratio = 2
        self.encode_sparse_safe = 10
        self.encode_max_depth = 1000
        self.decode_max_depth = 1000
        self.encode_invalid_numbers = 0  # 1 = "on" (inf/nan printed), 2 = "null"
        self.decode_invalid_numbers = 1
        self.encode_keep_buffer = 1
        self.set_precision(14)

    def set_precision(self, p: int) -> None:
        self.encode_number_precision = p
        self.number_fmt = b"%%.%dg" % p
        self.int_limit = 10**p  # integers below this print as themselves with %.{p}g


def make_module(env: Env) -> Any:
    return _Instance(env).module


class _Instance:
    """A cjson module table and its settings (cjson.new() makes another)."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.cfg = Config()
        self.null = env.null
        one, many = env.one, env.many
        fns = {
            b"encode": one(self.encode, "encode"),
            b"decode": one(self.decode, "decode"),
            b"encode_sparse_array": many(self.encode_sparse_array, "encode_sparse_array"),
            b"encode_max_depth": one(self._int_option("encode_max_depth", 1, INT_MAX), "encode_max_depth"),
            b"decode_max_depth": one(self._int_option("decode_max_depth", 1, INT_MAX), "decode_max_depth"),
            b"encode_number_precision": one(self.encode_number_precision, "encode_number_precision"),
            b"encode_keep_buffer": one(self._enum_option("encode_keep_buffer", None), "encode_keep_buffer"),
            b"encode_invalid_numbers": one(
                self._enum_option("encode_invalid_numbers", (b"off", b"on", b"null")), "encode_invalid_numbers"
            ),
            b"decode_invalid_numbers": one(self._enum_option("decode_invalid_numbers", None), "decode_invalid_numbers"),
            b"new": one(lambda *args: (True, _Instance(env).module), "new"),
            b"null": self.null,
            b"_NAME": b"cjson",
            b"_VERSION": b"2.1.0",
        }
        self.module = env.module(fns)

    # ------------------------------------------------------------------ configuration

    @staticmethod
    def _arg_init(args: tuple, n: int) -> tuple:
        if len(args) > n:
            raise LibError(b"found too many arguments", n + 1)
        return args + (None,) * (n - len(args))

    def _integer_option(self, args: tuple, i: int, attr: str, lo: int, hi: int) -> int:
        v = args[i - 1]
        if v is not None:
            n = self.env.tonumber(v)
            if n is None:
                raise typeerror(args, i, b"number")
            value = wrap_int32(c_long(n))
            if not (lo <= value <= hi):
                raise LibError(b"expected integer between %d and %d" % (lo, hi), 1)
            if attr == "encode_number_precision":
                self.cfg.set_precision(value)
            else:
                setattr(self.cfg, attr, value)
        return getattr(self.cfg, attr)

    def _enum(self, args: tuple, i: int, attr: str, options: tuple | None) -> Any:
        if options is None:
            options = (b"off", b"on")
        v = args[i - 1]
        if v is not None:
            if type(v) is bool:
                setting = int(v)
            else:
                name = self.env.tolstring(v)
                if name is None:
                    raise typeerror(args, i, b"string")
                nul = name.find(b"\0")
                cname = name if nul < 0 else name[:nul]
                if cname not in options:
                    raise LibError(b"invalid option '%s'" % cname, i)
                setting = options.index(cname)
            setattr(self.cfg, attr, setting)
        setting = getattr(self.cfg, attr)
        if setting in (0, 1):
            return bool(setting)
        return options[setting]

    def _int_option(self, attr: str, lo: int, hi: int):
        def option(*args):
            args = self._arg_init(args, 1)
            return (True, self._integer_option(args, 1, attr, lo, hi))

        return option

    def _enum_option(self, attr: str, options: tuple | None):
        def option(*args):
            args = self._arg_init(args, 1)
            return (True, self._enum(args, 1, attr, options))

        return option

    def encode_number_precision(self, *args):
        args = self._arg_init(args, 1)
        return (True, self._integer_option(args, 1, "encode_number_precision", 1, 14))

    def encode_sparse_array(self, *args):
        args = self._arg_init(args, 3)
        convert = self._enum(args, 1, "encode_sparse_convert", None)
        ratio = self._integer_option(args, 2, "encode_sparse_ratio", 0, INT_MAX)
        safe = self._integer_option(args, 3, "encode_sparse_safe", 0, INT_MAX)
        return (True, convert, ratio, safe)

    # ------------------------------------------------------------------ encode

    def _number(self, x: Any, what: bytes = b"number") -> bytes:
        cfg = self.cfg
        if type(x) is int:
            if -cfg.int_limit < x < cfg.int_limit:
                return b"%d" % x
            x = float(x)
        if x != x or x == _INF or x == -_INF:
            mode = cfg.encode_invalid_numbers
            if mode == 0:
                raise LibError(b"Cannot serialise number: must not be NaN or Inf")
            if mode == 2:
                return b"null"
            if x != x:
                return b"nan"
        return cfg.number_fmt % x

    def _array_length(self, items: list) -> int:
        """lua_array_length: the array size (largest key), or -1 for an object."""
        mx = 0
        count = 0
        for k, _ in items:
            tk = type(k)
            if tk is int:
                if k < 1:
                    return -1
            elif tk is float:
                if not (k >= 1 and (k == _INF or math.floor(k) == k)):
                    return -1
            else:
                return -1
            if k > mx:
                mx = c_int(k)
            count += 1
        cfg = self.cfg
        ratio = cfg.encode_sparse_ratio
        if ratio > 0 and mx > wrap_int32(count * ratio) and mx > cfg.encode_sparse_safe:
            if not cfg.encode_sparse_convert:
                raise LibError(b"Cannot serialise table: excessively sparse array")
            return -1
        return mx

    def encode(self, *args):
        if len(args) != 1:
            raise LibError(b"expected 1 argument", 1)
        v = args[0]
        t = type(v)
        if t is bytes:
            return (True, quote(v))
        if t is int or t is float:
            return (True, self._number(v))
        if t is bool:
            return (True, b"true" if v else b"false")
        if v is None:
            return (True, b"null")
        if t is self.env.lua_table_type:
            try:
                return (True, self._encode_fast(v, 1))
            except _Deep:
                return (True, self._encode_table(v))
        return (True, self._other(v))

    def _encode_fast(self, tbl: Any, depth: int) -> bytes:
        """The table encoder for shallow tables (recursive, so _Deep past FAST_DEPTH levels: the
        iterative _encode_table takes over; both produce the same bytes and errors)."""
        cfg = self.cfg
        if depth > cfg.encode_max_depth:
            raise LibError(b"Cannot serialise, excessive nesting (%d)" % depth)
        if depth > FAST_DEPTH:
            raise _Deep
        items = self.env.items(tbl)
        n = self._array_length(items)
        table_type = self.env.lua_table_type
        limit = cfg.int_limit
        fmt = cfg.number_fmt
        parts = []
        append = parts.append
        if n > 0:
            get = dict(items).get
            for i in range(1, n + 1):
                v = get(i)
                t = type(v)
                if t is bytes:
                    append(b'"' + v + b'"' if _esc_search(v) is None else quote(v))
                elif t is int and -limit < v < limit:
                    append(b"%d" % v)
                elif t is float and v - v == 0.0:
                    append(fmt % v)
                elif t is table_type:
                    append(self._encode_fast(v, depth + 1))
                elif v is None:
                    append(b"null")
                elif t is bool:
                    append(b"true" if v else b"false")
                elif t is int or t is float:
                    append(self._number(v))
                else:
                    append(self._other(v))
            return b"[" + b",".join(parts) + b"]"
        for k, v in items:
            tk = type(k)
            if tk is bytes:
                key = (b'"' + k + b'":') if _esc_search(k) is None else quote(k) + b":"
            elif tk is int or tk is float:
                key = b'"' + self._number(k) + b'":'
            else:
                raise LibError(b"Cannot serialise %s: table key must be a number or string" % typename(k))
            t = type(v)
            if t is bytes:
                append(key + (b'"' + v + b'"' if _esc_search(v) is None else quote(v)))
            elif t is int and -limit < v < limit:
                append(key + b"%d" % v)
            elif t is float and v - v == 0.0:
                append(key + fmt % v)
            elif t is table_type:
                append(key + self._encode_fast(v, depth + 1))
            elif t is bool:
                append(key + (b"true" if v else b"false"))
            elif t is int or t is float:
                append(key + self._number(v))
            else:
                append(key + self._other(v))
        return b"{" + b",".join(parts) + b"}"

    def _other(self, v: Any) -> bytes:
        """A value that is not a string, number, boolean, nil or table."""
        name = typename(v)
        if name == b"userdata" and lua51.lua_type(v) == "userdata" and self.env.rawequal(v, self.null):
            return b"null"
        raise LibError(b"Cannot serialise %s: type not supported" % name)

    def _open(self, tbl: Any, depth: int, slots: int, out: list) -> list:
        cfg = self.cfg
        if depth > cfg.encode_max_depth or slots + 3 > MAXCSTACK:
            raise LibError(b"Cannot serialise, excessive nesting (%d)" % depth)
        items = self.env.items(tbl)
        n = self._array_length(items)
        if n > 0:
            out.append(b"[")
            return [True, dict(items), n, 1, slots + 1]
        out.append(b"{")
        return [False, items, len(items), 0, slots + 2]

    def _encode_table(self, root: Any) -> bytes:
        out: list = []
        append = out.append
        table_type = self.env.lua_table_type
        number = self._number
        stack = [self._open(root, 1, 1, out)]
        while stack:
            f = stack[-1]
            child = None
            if f[0]:  # array: f = [True, values, n, next index, child slots]
                values, n, i = f[1], f[2], f[3]
                get = values.get
                while i <= n:
                    if i > 1:
                        append(b",")
                    v = get(i)
                    i += 1
                    t = type(v)
                    if t is bytes:
                        append(quote(v))
                    elif t is int or t is float:
                        append(number(v))
                    elif t is bool:
                        append(b"true" if v else b"false")
                    elif v is None:
                        append(b"null")
                    elif t is table_type:
                        child = v
                        break
                    else:
                        append(self._other(v))
                f[3] = i
                if child is None:
                    append(b"]")
            else:  # object: f = [False, items, n, next index, child slots]
                items, n, i = f[1], f[2], f[3]
                while i < n:
                    if i:
                        append(b",")
                    k, v = items[i]
                    i += 1
                    tk = type(k)
                    if tk is bytes:
                        append(quote(k))
                        append(b":")
                    elif tk is int or tk is float:
                        append(b'"' + number(k) + b'":')
                    else:
                        raise LibError(b"Cannot serialise %s: table key must be a number or string" % typename(k))
                    t = type(v)
                    if t is bytes:
                        append(quote(v))
                    elif t is int or t is float:
                        append(number(v))
                    elif t is bool:
                        append(b"true" if v else b"false")
                    elif t is table_type:
                        child = v
                        break
                    else:
                        append(self._other(v))
                f[3] = i
                if child is None:
                    append(b"}")
            if child is None:
                stack.pop()
            else:
                stack.append(self._open(child, len(stack) + 1, f[4], out))
        return b"".join(out)

    # ------------------------------------------------------------------ decode

    def decode(self, *args):
        if len(args) != 1:
            raise LibError(b"expected 1 argument", 1)
        s = self.env.tolstring(args[0])
        if s is None:
            raise typeerror(args, 1, b"string")
        if len(s) >= 2 and (s[0] == 0 or s[1] == 0):
            raise LibError(b"JSON parser does not support UTF-16 or UTF-32")
        nul = s.find(b"\0")
        if nul >= 0:
            s = s[:nul]
        elif b"\\u" not in s or _SURROGATE_ESCAPE.search(s) is None:
            try:
                return (True, self._decode_fast(s))
            except (ValueError, RecursionError, _Deep):
                pass  # not plain JSON, or too deep: the exact parser decides (and words the error)
        try:
            return (True, self._parse(s))
        except _ParseError as e:
            raise LibError(e.message) from None

    def _decode_fast(self, data: bytes) -> Any:
        """Python's json scanner for the common case.  It accepts a subset of what the exact
        parser does, with the same values: strict JSON numbers (read as doubles), NaN/Infinity
        when decode_invalid_numbers is on, \\u escapes outside the surrogate range (the caller
        checks), any bytes in strings (through surrogateescape).  Anything else raises."""
        cfg = self.cfg
        decoder = _DECODERS[cfg.decode_invalid_numbers]
        obj = decoder.decode(data.decode("utf-8", "surrogateescape"))
        t = type(obj)
        if t is list or t is _Pairs:
            return self._to_lua(obj, 1, cfg.decode_max_depth)
        if t is str:
            return obj.encode("utf-8", "surrogateescape")
        if obj is None:
            return self.null
        return obj

    def _to_lua(self, o: Any, depth: int, max_depth: int) -> Any:
        if depth > max_depth or depth > FAST_DEPTH:
            raise _Deep
        null = self.null
        out = []
        append = out.append
        if type(o) is list:
            for v in o:
                t = type(v)
                if t is str:
                    append(v.encode("utf-8", "surrogateescape"))
                elif t is float or t is bool:
                    append(v)
                elif v is None:
                    append(null)
                else:
                    append(self._to_lua(v, depth + 1, max_depth))
            return self.env.table_from(out)
        d = {}
        for k, v in o:
            t = type(v)
            if t is str:
                v = v.encode("utf-8", "surrogateescape")
            elif t is float or t is bool:
                pass
            elif v is None:
                v = null
            else:
                v = self._to_lua(v, depth + 1, max_depth)
            d[k.encode("utf-8", "surrogateescape")] = v
        return self.env.table_from(d)

    def _token(self, data: bytes, pos: int) -> tuple:
        """json_next_token: (type, value, index, next position)."""
        n = len(data)
        while pos < n and data[pos] in _WS:
            pos += 1
        if pos >= n:
            return (T_END, None, pos, pos)
        c = data[pos]
        t = _CH2TOKEN[c]
        if t == T_ERROR:
            return (T_ERROR, b"invalid token", pos, pos)
        if t != T_UNKNOWN:
            return (t, None, pos, pos + 1)
        if c == 34:  # '"'
            return self._string(data, pos)
        if c == 45 or 48 <= c <= 57:  # '-' or digit
            if not self.cfg.decode_invalid_numbers and self._invalid_number(data, pos):
                return (T_ERROR, b"invalid number", pos, pos)
            return self._number_token(data, pos)
        if data.startswith(b"true", pos):
            return (T_BOOLEAN, True, pos, pos + 4)
        if data.startswith(b"false", pos):
            return (T_BOOLEAN, False, pos, pos + 5)
        if data.startswith(b"null", pos):
            return (T_NULL, self.null, pos, pos + 4)
        if self.cfg.decode_invalid_numbers and self._invalid_number(data, pos):
            return self._number_token(data, pos)
        return (T_ERROR, b"invalid token", pos, pos)

    @staticmethod
    def _invalid_number(data: bytes, p: int) -> bool:
        """json_is_invalid_number: '+', hex, leading zeros, inf, nan."""
        n = len(data)
        c = data[p]
        if c == 43:  # '+'
            return True
        if c == 45:  # '-'
            p += 1
        c = data[p] if p < n else 0
        if c == 48:  # '0'
            c2 = data[p + 1] if p + 1 < n else 0
            return (c2 | 0x20) == 120 or 48 <= c2 <= 57
        if c <= 57:
            return False
        word = data[p : p + 3].lower()
        return word == b"inf" or word == b"nan"

    @staticmethod
    def _number_token(data: bytes, pos: int) -> tuple:
        m = _STRTOD.match(data, pos)
        if m is None:
            return (T_ERROR, b"invalid number", pos, pos)
        return (T_NUMBER, _strtod(m), pos, m.end())

    @staticmethod
    def _string(data: bytes, pos: int) -> tuple:
        start = pos + 1
        end = data.find(b'"', start)
        if end >= 0 and data.find(b"\\", start, end) < 0:
            return (T_STRING, data[start:end], pos, end + 1)
        n = len(data)
        parts = []
        i = start
        while True:
            j = _STR_PLAIN.match(data, i).end()
            if j > i:
                parts.append(data[i:j])
            if j >= n:
                return (T_ERROR, b"unexpected end of string", j, j)
            if data[j] == 34:  # closing quote
                return (T_STRING, b"".join(parts), pos, j + 1)
            e = data[j + 1] if j + 1 < n else 0
            if e == 117:  # 'u'
                cp, length = _unicode_escape(data, j)
                if cp < 0:
                    return (T_ERROR, b"invalid unicode escape code", j, j)
                parts.append(chr(cp).encode("utf-8"))
                i = j + length
                continue
            ch = _ESC2CHAR.get(e)
            if ch is None:
                return (T_ERROR, b"invalid escape code", j, j)
            parts.append(ch)
            i = j + 2

    def _parse(self, data: bytes) -> Any:
        cfg = self.cfg
        token = self._token
        table_from = self.env.table_from
        new_table = self.env.table
        max_depth = cfg.decode_max_depth
        frames: list = []  # [is_object, dict or list, pending key]
        slots = 1  # C stack slots: the argument, then per open array 1 (table), object 2 (table, key)
        tok, val, idx, pos = token(data, 0)
        while True:
            # ---- value context: the token in tok starts a value
            if tok == T_STRING or tok == T_NUMBER or tok == T_BOOLEAN or tok == T_NULL:
                value = val
            elif tok == T_OBJ_BEGIN or tok == T_ARR_BEGIN:
                is_obj = tok == T_OBJ_BEGIN
                depth = len(frames) + 1
                if depth > max_depth or slots + (3 if is_obj else 2) > MAXCSTACK:
                    raise LibError(b"Found too many nested data structures (%d) at character %d" % (depth, pos))
                tok, val, idx, pos = token(data, pos)
                if is_obj:
                    if tok == T_OBJ_END:
                        value = new_table()
                    else:
                        if tok != T_STRING:
                            raise _ParseError(b"object key string", _found(tok, val), idx)
                        key = val
                        tok, val, idx, pos = token(data, pos)
                        if tok != T_COLON:
                            raise _ParseError(b"colon", _found(tok, val), idx)
                        frames.append([True, {}, key])
                        slots += 2
                        tok, val, idx, pos = token(data, pos)
                        continue
                else:
                    if tok == T_ARR_END:
                        value = new_table()
                    else:
                        frames.append([False, [], None])
                        slots += 1
                        continue  # tok already holds the first element
            else:
                raise _ParseError(b"value", _found(tok, val), idx)
            # ---- a complete value: store it, then read what follows
            while True:
                if not frames:
                    tok, val, idx, pos = token(data, pos)
                    if tok != T_END:
                        raise _ParseError(b"the end", _found(tok, val), idx)
                    return value
                f = frames[-1]
                if f[0]:
                    f[1][f[2]] = value
                    tok, val, idx, pos = token(data, pos)
                    if tok == T_OBJ_END:
                        frames.pop()
                        slots -= 2
                        value = table_from(f[1])
                        continue
                    if tok != T_COMMA:
                        raise _ParseError(b"comma or object end", _found(tok, val), idx)
                    tok, val, idx, pos = token(data, pos)
                    if tok != T_STRING:
                        raise _ParseError(b"object key string", _found(tok, val), idx)
                    f[2] = val
                    tok, val, idx, pos = token(data, pos)
                    if tok != T_COLON:
                        raise _ParseError(b"colon", _found(tok, val), idx)
                    tok, val, idx, pos = token(data, pos)
                    break
                f[1].append(value)
                tok, val, idx, pos = token(data, pos)
                if tok == T_ARR_END:
                    frames.pop()
                    slots -= 1
                    value = table_from(f[1])
                    continue
                if tok != T_COMMA:
                    raise _ParseError(b"comma or array end", _found(tok, val), idx)
                tok, val, idx, pos = token(data, pos)
                break


def _found(tok: int, val: Any) -> bytes:
    return val if tok == T_ERROR else _TOKEN_NAMES[tok]


def _unicode_escape(data: bytes, j: int) -> tuple[int, int]:
    """json_append_unicode_escape at the backslash ``j``: (codepoint or -1, escape length)."""
    m = _HEX4.match(data, j + 2)
    if m is None:
        return -1, 0
    cp = int(m.group(), 16)
    if (cp & 0xF800) == 0xD800:
        if cp & 0x400:
            return -1, 0
        if data[j + 6 : j + 8] != b"\\u":
            return -1, 0
        m = _HEX4.match(data, j + 8)
        if m is None:
            return -1, 0
        low = int(m.group(), 16)
        if (low & 0xFC00) != 0xDC00:
            return -1, 0
        return (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000, 12
    return cp, 6
