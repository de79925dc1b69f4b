"""Exact emulation of the x87 80-bit ``long double`` arithmetic behind INCRBYFLOAT.

Redis computes INCRBYFLOAT in C ``long double`` (on x86-64: 64-bit mantissa, exponent range of
IEEE extended precision), parses both operands with ``strtold`` (string2ld) and formats the sum
with ld2string's human-friendly mode: ``"%.17Lf"`` (17 digits after the point, never an
exponent), trailing zeros and a trailing point removed, ``-0`` shown as ``0``. Python floats give
different text (``10.5 + 0.1`` is ``10.6`` in Redis), so values here are exact ``Fraction``s that
are always rounded to the nearest representable long double (round-half-even), as the FPU does.
Infinity is represented by the floats ``inf`` / ``-inf``.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Union

LongDouble = Union[Fraction, float]  # a Fraction, or float('inf') / float('-inf')

MANT_BITS = 64
MIN_EXP = -16445  # exponent of the least significant bit of the smallest subnormal
MAX_LIMIT = 1 << 16384  # values >= 2**16384 overflow to infinity
MAX_LONG_DOUBLE_CHARS = 5 * 1024  # string2ld rejects inputs this long or longer

INF = float("inf")

_DEC_RE = re.compile(rb"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?")
_HEX_RE = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?")
_INF_RE = re.compile(rb"([+-]?)(?:inf|infinity)", re.I)


def round_ld(q: Fraction, negative: bool = False) -> LongDouble:
    """Round a non-negative exact value to the nearest long double (ties to even); ``negative``
    gives the sign. Overflow gives infinity."""
    if q == 0:
        return Fraction(0)
    n, d = q.numerator, q.denominator
    # floor(log2(q)): start from the bit lengths, correct by one if needed.
    e2 = n.bit_length() - d.bit_length()
    if (n << -e2 if e2 < 0 else n) < (d << e2 if e2 > 0 else d):
        e2 -= 1
    e = max(e2 - (MANT_BITS - 1), MIN_EXP)
    # mantissa = round_half_even(q / 2**e)
    if e >= 0:
        num, den = n, d << e
    else:
        num, den = n << -e, d
    m, r = divmod(num, den)
    r2 = 2 * r
    if r2 > den or (r2 == den and m & 1):
        m += 1
    value = Fraction(m << e) if e >= 0 else Fraction(m, 1 << -e)
    if value >= MAX_LIMIT:
        return -INF if negative else INF
    return -value if negative else value


def parse(b: bytes | bytearray) -> LongDouble | None:
    """Redis's string2ld: strtold over the whole string, no leading blank, no junk; NaN,
    overflow to infinity and underflow to zero are rejected (None). ``inf`` is accepted."""
    n = len(b)
    if n == 0 or n >= MAX_LONG_DOUBLE_CHARS:
        return None
    b = bytes(b)
    m = _DEC_RE.fullmatch(b)
    if m is not None:
        sign, ip, fp, ex = m.groups()
        fp = fp or b""
        if not ip and not fp:
            return None
        digits = (ip + fp).lstrip(b"0")
        if not digits:
            return Fraction(0)
        exp10 = (int(ex) if ex else 0) - len(fp)
        # Out of range by far: decide without building enormous numbers.
        magnitude = len(digits) + exp10  # value < 10**magnitude
        if magnitude > 4940:
            return None  # ERANGE overflow
        if magnitude < -4960:
            return None  # ERANGE underflow to zero
        mant = _digits_to_int(digits)
        q = Fraction(mant * 10**exp10) if exp10 >= 0 else Fraction(mant, 10**-exp10)
        return _checked(round_ld(q, sign == b"-"))
    m = _HEX_RE.fullmatch(b)
    if m is not None:
        sign, ip, fp, ex = m.groups()
        fp = fp or b""
        if not ip and not fp:
            # strtold reads "0x" as the number 0 followed by junk "x": not a whole match.
            return None
        digits = (ip + fp).lstrip(b"0")
        if not digits:
            return Fraction(0)
        exp2 = (int(ex) if ex else 0) - 4 * len(fp)
        magnitude = 4 * len(digits) + exp2
        if magnitude > 16400:
            return None
        if magnitude < -16500:
            return None
        mant = int(digits, 16)
        q = Fraction(mant << exp2) if exp2 >= 0 else Fraction(mant, 1 << -exp2)
        return _checked(round_ld(q, sign == b"-"))
    m = _INF_RE.fullmatch(b)
    if m is not None:
        return -INF if m.group(1) == b"-" else INF
    return None  # nan (rejected by string2ld) or not a number at all


def _digits_to_int(d: bytes) -> int:
    """int(d) for any length (Python limits str->int conversion to 4300 digits; a value
    INCRBYFLOAT / HINCRBYFLOAT stored near the long double maximum has 4933)."""
    if len(d) <= 4000:
        return int(d)
    n = 0
    for i in range(0, len(d), 4000):
        chunk = d[i : i + 4000]
        n = n * 10 ** len(chunk) + int(chunk)
    return n


def _checked(v: LongDouble) -> LongDouble | None:
    """string2ld's ERANGE rule: a result that overflowed to infinity or underflowed to zero
    is rejected (a subnormal result is accepted)."""
    if isinstance(v, float) or v == 0:
        return None
    return v


def add(a: LongDouble, b: LongDouble) -> LongDouble | None:
    """a + b rounded to long double; None for NaN (inf + -inf)."""
    if isinstance(a, float):
        if isinstance(b, float) and a != b:
            return None  # inf + -inf
        return a
    if isinstance(b, float):
        return b
    q = a + b
    return round_ld(abs(q), q < 0)


def is_finite(v: LongDouble | None) -> bool:
    return v is not None and not isinstance(v, float)


def _int_to_str(n: int) -> str:
    """str(n) for any size (Python limits int->str conversion to 4300 digits)."""
    if n < 10**4000:
        return str(n)
    k = 2000
    hi, lo = divmod(n, 10**k)
    return _int_to_str(hi) + str(lo).zfill(k)


def format_human(v: LongDouble) -> bytes:
    """ld2string(LD_STR_HUMAN): ``%.17Lf``, trailing zeros and point stripped, ``-0`` -> ``0``;
    infinities as ``inf`` / ``-inf``."""
    if isinstance(v, float):
        return b"inf" if v > 0 else b"-inf"
    neg = v < 0
    q = -v if neg else v
    scaled = q * 10**17
    n, r = divmod(scaled.numerator, scaled.denominator)
    r2 = 2 * r
    if r2 > scaled.denominator or (r2 == scaled.denominator and n & 1):
        n += 1
    s = _int_to_str(n).rjust(18, "0")
    ip, fp = s[:-17], s[-17:].rstrip("0")
    out = ip + "." + fp if fp else ip
    if neg and out != "0":
        out = "-" + out
    return out.encode()
