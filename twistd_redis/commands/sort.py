"""SORT and SORT_RO (Redis's sort.c).

``SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE dst]``
sorts a list, set or sorted set, numerically (each element, or the value its BY pattern names,
read as a double by strtod) or with ALPHA as strings, and replies the range LIMIT selects, or
the GET patterns' values for each element, or stores that range as a list.

Quirks of Redis 7.0 matched on purpose:

* Patterns are C strings: ``*`` and ``->`` are searched up to the first NUL byte, and a pattern
  whose second byte is NUL after ``#`` (``"#\\0x"``) is ``#``. A BY pattern without ``*`` means
  "don't sort": lists and sorted sets keep their order (reversed by DESC, LIMIT as a range), a
  set keeps its iteration order - except with STORE (or in a script), where a set is sorted with
  ALPHA so the stored list replicates deterministically.
* Numeric scores: strtod on the text up to its first NUL; leading blanks are allowed, trailing
  ones are not, "" is 0, NaN and ERANGE (overflow, inexact subnormal) are errors. A missing BY
  key leaves the score 0. Equal scores are ordered by the elements' bytes (memcmp).
* ALPHA compares with strcoll (the server runs in the C / C.UTF-8 locale: strcmp, so a value is
  compared up to its first NUL), but with STORE with memcmp on the whole value. With BY and
  ALPHA, a missing BY value sorts first and equal BY values keep no defined order: qsort (glibc's
  merge sort, stable) keeps them in load order, and with a LIMIT short of the whole range Redis
  uses its own partial quicksort (pqsort.c), ported below so ties come out the same way.
* Redis tests ``errno == ERANGE`` after strtod without clearing errno first, so once a SORT met
  an out-of-range number, later numeric SORTs fail on their first non-integer-encoded value
  until something resets errno: accepting a connection (the accept loop ends in EAGAIN) or a
  command that parses a float with string2d. We keep that stale errno per server and forget it
  when a client connects (commands that reset errno themselves are not tracked).
* Integer-encoded values (list elements and small-hash values that are canonical integers,
  int-encoded strings) are converted without strtod, so a stale errno does not hit them.
* SORT of a small (listpack) sorted set converts it to a skiplist, as zsetConvert does.
* STORE writes a list with setKey (TTL dropped, any old type replaced), fires ``sortstore``
  and adds the stored length to dirty; an empty result deletes the destination (``del``).
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Callable
from fractions import Fraction
from functools import cmp_to_key
from itertools import islice
from typing import Any

from .. import client as _client
from ..client import Client
from ..datatypes import RedisHash, RedisList, RedisSet, RedisZSet, _is_canonical_int, string_encoding
from ..errors import RedisError, WrongTypeError, not_integer, syntax_error
from .args import option_word, parse_int
from .table import DENYOOM, MOVABLE_KEYS, READONLY, WRITE, command

# A client running a script (Redis's CLIENT_SCRIPT), once the scripting module defines the flag.
CLIENT_SCRIPT: int = getattr(_client, "CLIENT_SCRIPT", 0)

CONVERSION_ERROR = "ERR One or more scores can't be converted into double"

# ------------------------------------------------------------------ strtod

_SPACES = b" \t\n\v\f\r"
_DEC_RE = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INF_RE = re.compile(rb"[+-]?inf(?:inity)?", re.IGNORECASE)
_NAN_RE = re.compile(rb"[+-]?nan(?:\([0-9A-Za-z_]*\))?", re.IGNORECASE)
_HEX_RE = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?")
DBL_MIN = 2.2250738585072014e-308

# Stale errno per server: the next_client_id when a SORT last left ERANGE in errno.
_ERANGE: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def _round(exact: Fraction, negative: bool) -> tuple[float, bool]:
    """The double nearest ``exact`` (>= 0) and whether strtod reports ERANGE for it: overflow,
    or a subnormal (or zero) result that is not exact."""
    try:
        v = float(exact)
    except OverflowError:
        v = math.inf
    erange = math.isinf(v) or (exact != 0 and v < DBL_MIN and Fraction(v) != exact)
    return (-v if negative else v), erange


def strtod(b: bytes) -> tuple[float, bool, bool]:
    """glibc strtod on the C string ``b``: (value, whole text consumed, ERANGE). ERANGE is
    reported for the number strtod read even when junk follows it."""
    nul = b.find(b"\0")
    if nul >= 0:
        b = b[:nul]
    if not b:
        return 0.0, True, False
    s = b.lstrip(_SPACES)
    m = _HEX_RE.match(s)
    if m and (m.group(2) or m.group(3)):
        sign, ip, fp, ex = m.groups()
        fp = fp or b""
        mant = int(ip + fp, 16)
        exp = int(ex or b"0") - 4 * len(fp)
        if mant == 0:
            v, erange = 0.0, False
        elif exp > 5000 or exp < -5000 - 4 * len(ip + fp):
            v, erange = (math.inf if exp > 0 else 0.0), True
        else:
            v, erange = _round(Fraction(mant) * Fraction(2) ** exp, False)
        return (-v if sign == b"-" else v), m.end() == len(s), erange
    m = _DEC_RE.match(s)
    if m:
        text = m.group()
        v = float(text)
        if math.isinf(v):
            erange = True  # overflow
        elif v == 0.0:
            erange = bool(re.search(rb"[1-9]", re.split(rb"[eE]", text)[0]))  # underflow
        elif abs(v) < DBL_MIN:
            erange = Fraction(text.decode()) != Fraction(v)  # inexact subnormal
        else:
            erange = False
        return v, m.end() == len(s), erange
    m = _INF_RE.match(s)
    if m:
        return (-math.inf if s[:1] == b"-" else math.inf), m.end() == len(s), False
    m = _NAN_RE.match(s)
    if m:
        return math.nan, m.end() == len(s), False
    return 0.0, False, False  # no conversion: strtod stops at the start


# ------------------------------------------------------------------ patterns

def _pattern_is_hash_sign(pattern: bytes) -> bool:
    """spat[0] == '#' && spat[1] == '\\0' on the C string."""
    return pattern[:1] == b"#" and (len(pattern) == 1 or pattern[1] == 0)


def _has_star(pattern: bytes) -> bool:
    """strchr(pattern, '*') on the C string."""
    nul = pattern.find(b"\0")
    return b"*" in (pattern if nul < 0 else pattern[:nul])


class _Pattern:
    """A GET/BY pattern, parsed once as lookupKeyByPattern parses it for every element."""

    __slots__ = ("field", "hash_sign", "postfix", "prefix")

    def __init__(self, pattern: bytes) -> None:
        self.hash_sign = _pattern_is_hash_sign(pattern)
        self.prefix: bytes | None = None
        self.postfix = b""
        self.field: bytes | None = None
        if self.hash_sign:
            return
        nul = pattern.find(b"\0")
        cstr = pattern if nul < 0 else pattern[:nul]
        p = cstr.find(b"*")
        if p < 0:
            return  # GET of a fixed key: always null
        f = cstr.find(b"->", p + 1)
        if f >= 0 and f + 2 < len(cstr):  # *(f+2) != '\0'
            self.field = pattern[f + 2 :]
            self.postfix = pattern[p + 1 : f]
        else:
            self.postfix = pattern[p + 1 :]
        self.prefix = pattern[:p]

    def lookup(self, c: Client, subst: bytes) -> tuple[bytes | None, bool]:
        """(value, integer-encoded) for element ``subst``; (None, False) when there is none."""
        if self.hash_sign:
            return subst, False
        if self.prefix is None:
            return None, False
        key = self.prefix + subst + self.postfix
        v = c.db.lookup_read(key)
        if v is None:
            return None, False
        if self.field is not None:
            if type(v) is not RedisHash:
                return None, False
            val = v.get(self.field)
            if val is None:
                return None, False
            return val, (not v.ht and _is_canonical_int(val))
        if isinstance(v, (bytes, bytearray)):
            return bytes(v), string_encoding(v) == b"int"
        return None, False


# ------------------------------------------------------------------ pqsort.c

def pqsort(a: list[Any], cmp: Callable[[Any, Any], int], lrange: int, rrange: int) -> None:
    """Redis's pqsort (NetBSD qsort, Bentley & McIlroy) sorting ``a`` in place so that at least
    positions lrange..rrange hold their final elements; ported step for step because its order
    of equal elements is what SORT ... BY ... ALPHA LIMIT shows."""
    _pqsort(a, 0, len(a), cmp, lrange, rrange)


def _med3(a: list[Any], i: int, j: int, k: int, cmp: Callable[[Any, Any], int]) -> int:
    if cmp(a[i], a[j]) < 0:
        return j if cmp(a[j], a[k]) < 0 else (k if cmp(a[i], a[k]) < 0 else i)
    return j if cmp(a[j], a[k]) > 0 else (i if cmp(a[i], a[k]) < 0 else k)


def _vecswap(a: list[Any], i: int, j: int, n: int) -> None:
    for t in range(n):
        a[i + t], a[j + t] = a[j + t], a[i + t]


def _insertion(a: list[Any], lo: int, n: int, cmp: Callable[[Any, Any], int]) -> None:
    for pm in range(lo + 1, lo + n):
        pl = pm
        while pl > lo and cmp(a[pl - 1], a[pl]) > 0:
            a[pl], a[pl - 1] = a[pl - 1], a[pl]
            pl -= 1


def _pqsort(a: list[Any], lo: int, n: int, cmp: Callable[[Any, Any], int], lrange: int, rrange: int) -> None:
    while True:
        swap_cnt = 0
        if n < 7:
            _insertion(a, lo, n, cmp)
            return
        pm = lo + n // 2
        if n > 7:
            pl = lo
            pn = lo + n - 1
            if n > 40:
                d = n // 8
                pl = _med3(a, pl, pl + d, pl + 2 * d, cmp)
                pm = _med3(a, pm - d, pm, pm + d, cmp)
                pn = _med3(a, pn - 2 * d, pn - d, pn, cmp)
            pm = _med3(a, pl, pm, pn, cmp)
        a[lo], a[pm] = a[pm], a[lo]
        pa = pb = lo + 1
        pc = pd = lo + n - 1
        while True:
            while pb <= pc:
                r = cmp(a[pb], a[lo])
                if r > 0:
                    break
                if r == 0:
                    swap_cnt = 1
                    a[pa], a[pb] = a[pb], a[pa]
                    pa += 1
                pb += 1
            while pb <= pc:
                r = cmp(a[pc], a[lo])
                if r < 0:
                    break
                if r == 0:
                    swap_cnt = 1
                    a[pc], a[pd] = a[pd], a[pc]
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            a[pb], a[pc] = a[pc], a[pb]
            swap_cnt = 1
            pb += 1
            pc -= 1
        if swap_cnt == 0:  # switch to insertion sort
            _insertion(a, lo, n, cmp)
            return
        pn = lo + n
        r = min(pa - lo, pb - pa)
        _vecswap(a, lo, pb - r, r)
        r = min(pd - pc, pn - pd - 1)
        _vecswap(a, pb, pn - r, r)
        r = pb - pa
        if r > 1 and not ((lrange < lo and rrange < lo) or (lrange >= lo + r and rrange >= lo + r)):
            _pqsort(a, lo, r, cmp, lrange, rrange)
        r = pd - pc
        if r <= 1:
            return
        lo = pn - r  # iterate rather than recurse
        n = r
        if (lrange < lo and rrange < lo) or (lrange >= lo + r and rrange >= lo + r):
            return


# ------------------------------------------------------------------ the command

def _cstr(b: bytes) -> bytes:
    nul = b.find(b"\0")
    return b if nul < 0 else b[:nul]


def _parse_long(b: bytes) -> int:
    v = parse_int(b)
    if v is None:
        raise not_integer()
    return v


def _sort_generic(c: Client, argv: list[bytes], readonly: bool) -> Any:
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    sortby: bytes | None = None
    storekey: bytes | None = None
    gets: list[_Pattern] = []
    argc = len(argv)
    j = 2
    while j < argc:
        leftargs = argc - j - 1
        opt = option_word(argv[j])
        if opt == b"asc":
            desc = False
        elif opt == b"desc":
            desc = True
        elif opt == b"alpha":
            alpha = True
        elif opt == b"limit" and leftargs >= 2:
            limit_start = _parse_long(argv[j + 1])
            limit_count = _parse_long(argv[j + 2])
            j += 2
        elif not readonly and opt == b"store" and leftargs >= 1:
            storekey = argv[j + 1]
            j += 1
        elif opt == b"by" and leftargs >= 1:
            sortby = argv[j + 1]
            # A BY pattern without '*' is constant: nothing to sort, no weights to look up.
            if not _has_star(sortby):
                dontsort = True
            j += 1
        elif opt == b"get" and leftargs >= 1:
            gets.append(_Pattern(argv[j + 1]))
            j += 1
        else:
            raise syntax_error()
        j += 1

    db = c.db
    write = storekey is not None
    sortval = db.lookup_read(argv[1])  # every lookup of 7.0's SORT counts hits/misses
    if sortval is None:
        sortval = RedisList()
    elif not isinstance(sortval, (RedisList, RedisSet, RedisZSet)):
        raise WrongTypeError()

    # A set with nothing to sort by is sorted anyway when stored (or in a script), so the
    # result replicates deterministically.
    is_set = isinstance(sortval, RedisSet)
    if dontsort and is_set and (write or c.flags & CLIENT_SCRIPT):
        dontsort = False
        alpha = True
        sortby = None

    if isinstance(sortval, RedisZSet):
        sortval.ht = True  # zsetConvert(sortval, OBJ_ENCODING_SKIPLIST)

    vectorlen = len(sortval)
    start = min(max(limit_start, 0), vectorlen)
    limit_count = min(max(limit_count, -1), vectorlen)
    end = vectorlen - 1 if limit_count < 0 else start + limit_count - 1
    if start >= vectorlen:
        start = vectorlen - 1
        end = vectorlen - 2
    if end >= vectorlen:
        end = vectorlen - 1

    # Load the elements to sort.
    vector: list[bytes]
    if dontsort and not is_set:
        # Lists and sorted sets keep their own order (DESC reverses it); LIMIT is a range.
        seq: Any = (m for _, m in sortval.sl) if isinstance(sortval, RedisZSet) else sortval
        if isinstance(sortval, RedisZSet) and desc:
            seq = (m for _, m in reversed(sortval.sl))
        elif desc:
            seq = reversed(sortval)
        vector = list(islice(seq, start, end + 1)) if end >= start else []
        end -= start
        start = 0
    elif isinstance(sortval, RedisList):
        vector = list(sortval)
    elif is_set:
        vector = sortval.members()
    else:
        vector = list(sortval.dict)

    if not dontsort:
        conversion_error = False
        by = _Pattern(sortby) if sortby is not None else None
        n = len(vector)
        if alpha:
            if by is not None:
                cmpobjs: list[bytes | None] = [by.lookup(c, e)[0] for e in vector]
                if write:
                    keyed = list(zip(cmpobjs, vector))
                else:
                    keyed = [(None if v is None else _cstr(v), e) for v, e in zip(cmpobjs, vector)]

                def cmp_by(x: tuple[bytes | None, bytes], y: tuple[bytes | None, bytes]) -> int:
                    a, b = x[0], y[0]
                    if a is None or b is None:
                        r = 0 if a is b else (-1 if a is None else 1)
                    else:
                        r = (a > b) - (a < b)
                    return -r if desc else r

                if start != 0 or end != n - 1:
                    pqsort(keyed, cmp_by, start, end)
                else:
                    keyed.sort(key=cmp_to_key(cmp_by))
                vector = [e for _, e in keyed]
            else:
                # Distinct keys compare only equal when identical up to a NUL (strcoll): a
                # stable sort keeps those in load order, as glibc's merge sort does.
                if write:
                    vector.sort(reverse=desc)
                else:
                    vector.sort(key=_cstr, reverse=desc)
        else:
            state = c.state
            stale = _ERANGE.get(state) == state.next_client_id
            scores: list[float] = []
            # A list element that is a canonical integer comes out of its listpack as an
            # integer-encoded object (no strtod); set and zset members are always strings.
            ints_by_nature = by is None and isinstance(sortval, RedisList)
            for e in vector:
                if by is not None:
                    val, is_int = by.lookup(c, e)
                    if val is None:
                        scores.append(0.0)
                        continue
                else:
                    val = e
                    is_int = ints_by_nature and _is_canonical_int(e)
                if is_int:
                    scores.append(float(int(val)))
                    continue
                v, whole, erange = strtod(val)
                if erange:
                    stale = True
                    _ERANGE[state] = state.next_client_id
                if not whole or stale or math.isnan(v):
                    conversion_error = True
                scores.append(v)
            if conversion_error:
                raise RedisError(CONVERSION_ERROR)
            # Score, then the element's bytes (memcmp): only identical elements tie, so any
            # sort (Redis's qsort or pqsort) gives this order.
            pairs = list(zip(scores, vector))
            pairs.sort(reverse=desc)
            vector = [e for _, e in pairs]

    # Output: the elements, or for each one the values of the GET patterns.
    if storekey is None:
        out: list[Any] = []
        for k in range(start, end + 1):
            e = vector[k]
            if not gets:
                out.append(e)
            for g in gets:
                out.append(g.lookup(c, e)[0])
        return out

    stored = RedisList()
    for k in range(start, end + 1):
        e = vector[k]
        if not gets:
            stored.append(e)
        for g in gets:
            val = g.lookup(c, e)[0]
            stored.append(b"" if val is None else val)
    state = c.state
    outputlen = len(stored)
    if outputlen:
        db.set_key(storekey, stored)
        state.notify_keyspace_event("l", b"sortstore", storekey, db.id)
        state.dirty += outputlen
    elif db.delete(storekey):
        state.signal_modified_key(db, storekey)
        state.notify_keyspace_event("g", b"del", storekey, db.id)
        state.dirty += 1
    return outputlen


@command("sort", arity=-2, flags=WRITE | DENYOOM | MOVABLE_KEYS, keys=(1, 1, 1), group="generic")
def sort_command(c: Client, argv: list[bytes]) -> Any:
    """SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC]
    [ALPHA] [STORE destination]"""
    return _sort_generic(c, argv, False)


@command("sort_ro", arity=-2, flags=READONLY | MOVABLE_KEYS, keys=(1, 1, 1), group="generic")
def sort_ro_command(c: Client, argv: list[bytes]) -> Any:
    """SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC]
    [ALPHA]"""
    return _sort_generic(c, argv, True)
