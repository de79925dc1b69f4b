"""Argument parsing helpers shared by commands: Redis's strict number parsing and an
option cursor. Numbers parse exactly as Redis's string2ll / strtold do, with its error texts."""

from __future__ import annotations

import math
import re

from ..errors import RedisError, not_float, not_integer, syntax_error

LLONG_MAX = 2**63 - 1
LLONG_MIN = -(2**63)

_FLOAT_RE = re.compile(rb"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity)", re.I)
_HEXFLOAT_RE = re.compile(rb"[+-]?0x(?:[0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p[+-]?\d+)?", re.I)
_NONZERO_DIGIT = re.compile(rb"[1-9]")


def parse_float(b: bytes) -> float | None:
    """Redis's string2d (strtod): no leading blank, no trailing junk; nan, overflow to
    infinity and underflow to zero are all rejected. Hex floats are accepted as strtod does."""
    if b.isdigit() and len(b) < 16:  # plain digits: exact, no range issue (the common case)
        return float(b)
    if len(b) > 5000:
        return None
    if _FLOAT_RE.fullmatch(b):
        v = float(b)
        if math.isinf(v):
            if b"n" not in b and b"N" not in b:  # 1e400: ERANGE overflow
                return None
        elif v == 0.0:
            mant = b.split(b"e")[0].split(b"E")[0]
            if _NONZERO_DIGIT.search(mant):  # 1e-400: ERANGE underflow
                return None
        return v
    if _HEXFLOAT_RE.fullmatch(b):
        s = b.decode()
        neg = s.startswith("-")
        s = s.lstrip("+-")
        if "p" not in s.lower():
            s += "p0"
        try:
            v = float.fromhex(s)
        except (ValueError, OverflowError):
            return None
        return -v if neg else v
    return None


def parse_int(b: bytes) -> int | None:
    """Redis's string2ll: no spaces, no '+', no leading zeros; None if not a 64-bit integer."""
    n = len(b)
    if n == 0 or n > 20:
        return None
    if n == 1:
        c = b[0]
        return c - 48 if 48 <= c <= 57 else None
    i = 1 if b[0] == 45 else 0
    if i == n or b[i] == 48 or not b[i:].isdigit():
        return None
    v = int(b)
    if v > LLONG_MAX or v < LLONG_MIN:
        return None
    return v


def to_int(b: bytes, error: str | None = None) -> int:
    """An integer argument, or ``ERR value is not an integer or out of range``."""
    v = parse_int(b)
    if v is None:
        raise RedisError(error) if error else not_integer()
    return v


def to_int_range(b: bytes, lo: int, hi: int, error: str) -> int:
    """getRangeLongFromObjectOrReply with a message: not an integer, or outside lo..hi, is
    ``error`` (Redis gives the same message for both)."""
    v = parse_int(b)
    if v is None or v < lo or v > hi:
        raise RedisError(error)
    return v


def option_word(a: bytes) -> bytes:
    """An option word as Redis's strcasecmp sees it: lower-cased and cut at the first NUL
    (``alpha\\0junk`` reads as ``alpha``)."""
    a = a.lower()
    n = a.find(b"\0")
    return a if n < 0 else a[:n]


def to_float(b: bytes, error: str | None = None) -> float:
    v = parse_float(b)
    if v is None:
        raise RedisError(error) if error else not_float()
    return v


class Args:
    """A cursor over ``argv[start:]`` for commands with options.

    >>> a = Args(argv, 3)
    >>> while a.more():
    ...     opt = a.option()        # the next argument, upper-cased, as str
    ...     if opt == "EX": ex = a.next_int()
    """

    __slots__ = ("argv", "i")

    def __init__(self, argv: list[bytes], start: int = 1) -> None:
        self.argv = argv
        self.i = start

    def more(self) -> bool:
        return self.i < len(self.argv)

    def remaining(self) -> int:
        return len(self.argv) - self.i

    def peek_option(self) -> str:
        return self.argv[self.i].decode("latin-1").upper()

    def option(self) -> str:
        v = self.argv[self.i].decode("latin-1").upper()
        self.i += 1
        return v

    def next_bytes(self) -> bytes:
        if self.i >= len(self.argv):
            raise syntax_error()
        v = self.argv[self.i]
        self.i += 1
        return v

    def next_int(self, error: str | None = None) -> int:
        return to_int(self.next_bytes(), error)

    def next_float(self, error: str | None = None) -> float:
        return to_float(self.next_bytes(), error)

    def finish(self) -> None:
        if self.i < len(self.argv):
            raise syntax_error()
