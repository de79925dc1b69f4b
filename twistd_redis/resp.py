"""RESP2/RESP3: the request parser and the reply encoder. Pure: no transport, no state.

Requests
    ``RequestParser`` is the exact parser: a port of Redis's processMultibulkBuffer and
    processInlineBuffer (networking.c), resumable at any byte, with Redis's limits and error
    texts. ``parse_fast`` is the accelerator used by the protocol for a read that starts on a
    request boundary: hiredis parses the whole read, a cheap cross-check confirms every item was a
    bulk string (hiredis also accepts ``+``/``:`` items and nested arrays that Redis rejects), and
    anything doubtful (inline commands, malformed input, a partial request at the end) is handed
    to ``RequestParser``, which gives Redis's exact behaviour.

Replies
    Commands return plain values; ``encoder(resp)`` turns them into bytes for a client's protocol
    version. ``bytes`` is a bulk string, ``int`` an integer, ``None`` a null, ``list``/``tuple`` an
    array, ``dict`` a map (flattened in RESP2), ``set``/``RespSet`` a set, ``float`` a double
    (a bulk string in RESP2, formatted like Redis 7.0's ``%.17g``), ``bool`` a RESP3 boolean,
    ``SimpleString`` a status, ``Verbatim`` a verbatim string, ``Push`` a push frame,
    ``RedisError`` an error, ``NULL_ARRAY`` RESP2's ``*-1``, ``Raw`` pre-encoded bytes.
"""

from __future__ import annotations

import re
from itertools import chain
from typing import Any, Callable

from .errors import ProtocolError, RedisError

try:  # pragma: no cover - exercised by whichever is installed
    import hiredis
except ImportError:  # pragma: no cover
    hiredis = None

HAVE_HIREDIS = hiredis is not None

PROTO_INLINE_MAX_SIZE = 64 * 1024
INT_MAX = 2**31 - 1
LLONG_MAX = 2**63 - 1


# ---------------------------------------------------------------- reply value types


class SimpleString(bytes):
    """A status reply: ``+OK``."""

    __slots__ = ()


class Verbatim(bytes):
    """A verbatim string (RESP3 ``=``, format ``txt``); a bulk string in RESP2."""

    __slots__ = ()


class Push(list):
    """An out-of-band push frame (RESP3 ``>``); an array in RESP2."""

    __slots__ = ()


class RespSet(list):
    """An ordered set reply (RESP3 ``~``); an array in RESP2."""

    __slots__ = ()


class MapPairs(list):
    """A map reply given as ``(key, value)`` pairs: a RESP3 ``%`` map that may repeat a key
    (XREAD STREAMS s s 0 0 answers one entry per requested stream), flattened in RESP2."""

    __slots__ = ()


class BulkList(list):
    """An array whose every element is a plain ``bytes`` (LRANGE, SMEMBERS, HKEYS...): encoded
    in one join with no per-element dispatch, the same bytes as a ``list`` would give."""

    __slots__ = ()


def _bulk_array(v: list, encode: Any) -> bytes:
    """``*N`` and each element as a bulk string in one join. A header cache miss (an element
    of 4096 bytes or more) or an element that is not bytes-like falls back to ``encode``."""
    h = _BULK_HDR
    try:
        return b"*%d\r\n" % len(v) + b"\r\n".join([h[len(x)] + x for x in v]) + (b"\r\n" if v else b"")
    except (IndexError, TypeError):
        return b"*%d\r\n" % len(v) + b"".join([encode(x) for x in v])


class EntryList(list):
    """Stream entries ``[[id, [field, value, ...]], ...]`` (XRANGE, XREAD...): the same bytes
    as those nested lists give (arrays in RESP2 and RESP3 alike), encoded in one join. An entry
    whose fields are not a list of bytes (a deleted entry's null) or an element of 4 KB or more
    falls back to the generic encoder."""

    __slots__ = ()


def _entry_list(v: list, encode: Any) -> bytes:
    h = _BULK_HDR
    try:
        parts = [b"*%d\r\n" % len(v)]
        append = parts.append
        for sid, fv in v:
            append(b"*2\r\n%s%s\r\n*%d\r\n" % (h[len(sid)], sid, len(fv)))
            append(b"".join([h[len(x)] + x + b"\r\n" for x in fv]))
        return b"".join(parts)
    except (IndexError, TypeError):
        return b"*%d\r\n" % len(v) + b"".join([encode(list(e)) for e in v])


class Raw(bytes):
    """Bytes already in RESP form, written as they are."""

    __slots__ = ()


class _NullArray:
    """RESP2's null array ``*-1`` (``_`` in RESP3), e.g. EXEC aborted by WATCH."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NULL_ARRAY"


NULL_ARRAY = _NullArray()
OK = SimpleString(b"OK")
PONG = SimpleString(b"PONG")
QUEUED = SimpleString(b"QUEUED")


def format_double(d: float) -> bytes:
    """A double as Redis 7.0 replies it (``%.17g``; ``inf``/``-inf``)."""
    if d != d:
        return b"nan"
    if d == float("inf"):
        return b"inf"
    if d == float("-inf"):
        return b"-inf"
    return b"%.17g" % d


# Encoding caches: bulk headers for short strings, integers 0..1023 and the status replies
# (``bytes % tuple`` re-parses its format on every call; a list index does not).
_BULK_HDR = [b"$%d\r\n" % i for i in range(4096)]
_INT_REPLY = [b":%d\r\n" % i for i in range(1024)]
_STATUS: dict[bytes, bytes] = {}


def _status(v: bytes) -> bytes:
    enc = _STATUS.get(v)
    if enc is None:
        enc = b"+%s\r\n" % v
        if len(_STATUS) < 256:
            _STATUS[v] = enc
    return enc


def _encode_error(e: RedisError) -> bytes:
    msg = e.message.replace("\r", " ").replace("\n", " ")
    # bytes that came from the wire or a script decoded with surrogateescape go back as they were
    return b"-" + msg.encode("utf-8", "surrogateescape") + b"\r\n"


def encode2(v: Any) -> bytes:
    """Encode one reply value as RESP2."""
    t = type(v)
    if t is bytes:
        n = len(v)
        return (_BULK_HDR[n] if n < 4096 else b"$%d\r\n" % n) + v + b"\r\n"
    if t is SimpleString:
        return _STATUS.get(v) or _status(v)
    if t is int:
        return _INT_REPLY[v] if 0 <= v < 1024 else b":%d\r\n" % v
    if v is None:
        return b"$-1\r\n"
    if t is BulkList:
        return _bulk_array(v, encode2)
    if t is EntryList:
        return _entry_list(v, encode2)
    if t is list or t is tuple or t is Push or t is RespSet:
        return b"*%d\r\n" % len(v) + b"".join([encode2(x) for x in v])
    if t is bytearray or t is memoryview or t is Verbatim:
        return b"$%d\r\n%s\r\n" % (len(v), bytes(v))
    if t is Raw:
        return v
    if t is bool:
        return b":1\r\n" if v else b":0\r\n"
    if t is float:
        s = format_double(v)
        return b"$%d\r\n%s\r\n" % (len(s), s)
    if t is dict:
        parts = [b"*%d\r\n" % (2 * len(v))]
        for k, x in v.items():
            parts.append(encode2(k))
            parts.append(encode2(x))
        return b"".join(parts)
    if t is set or t is frozenset:
        return b"*%d\r\n" % len(v) + b"".join([encode2(x) for x in v])
    if t is MapPairs:
        return b"*%d\r\n" % (2 * len(v)) + b"".join([encode2(k) + encode2(x) for k, x in v])
    if isinstance(v, RedisError):
        return _encode_error(v)
    if v is NULL_ARRAY:
        return b"*-1\r\n"
    if t is str:
        b = v.encode()
        return b"$%d\r\n%s\r\n" % (len(b), b)
    if isinstance(v, int):
        return b":%d\r\n" % v
    raise TypeError(f"cannot encode reply of type {t.__name__}")


def encode3(v: Any) -> bytes:
    """Encode one reply value as RESP3."""
    t = type(v)
    if t is bytes:
        n = len(v)
        return (_BULK_HDR[n] if n < 4096 else b"$%d\r\n" % n) + v + b"\r\n"
    if t is SimpleString:
        return _STATUS.get(v) or _status(v)
    if t is int:
        return _INT_REPLY[v] if 0 <= v < 1024 else b":%d\r\n" % v
    if v is None or v is NULL_ARRAY:
        return b"_\r\n"
    if t is BulkList:
        return _bulk_array(v, encode3)
    if t is EntryList:
        return _entry_list(v, encode3)
    if t is list or t is tuple:
        return b"*%d\r\n" % len(v) + b"".join([encode3(x) for x in v])
    if t is dict:
        parts = [b"%%%d\r\n" % len(v)]
        for k, x in v.items():
            parts.append(encode3(k))
            parts.append(encode3(x))
        return b"".join(parts)
    if t is float:
        return b",%s\r\n" % format_double(v)
    if t is bool:
        return b"#t\r\n" if v else b"#f\r\n"
    if t is RespSet or t is set or t is frozenset:
        return b"~%d\r\n" % len(v) + b"".join([encode3(x) for x in v])
    if t is Push:
        return b">%d\r\n" % len(v) + b"".join([encode3(x) for x in v])
    if t is MapPairs:
        return b"%%%d\r\n" % len(v) + b"".join([encode3(k) + encode3(x) for k, x in v])
    if t is Verbatim:
        return b"=%d\r\ntxt:%s\r\n" % (len(v) + 4, v)
    if t is bytearray or t is memoryview:
        return b"$%d\r\n%s\r\n" % (len(v), bytes(v))
    if t is Raw:
        return v
    if isinstance(v, RedisError):
        return _encode_error(v)
    if t is str:
        b = v.encode()
        return b"$%d\r\n%s\r\n" % (len(b), b)
    if isinstance(v, int):
        return b":%d\r\n" % v
    raise TypeError(f"cannot encode reply of type {t.__name__}")


def encoder(resp: int) -> Callable[[Any], bytes]:
    return encode3 if resp == 3 else encode2


# ---------------------------------------------------------------- inline argument splitting

_SPACE = frozenset(b" \n\r\t\v\f")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}


def split_args(line: bytes) -> list[bytes] | None:
    """Redis's sdssplitargs: split an inline request like redis-cli does; None if quotes are
    unbalanced. Double quotes take ``\\xHH``, ``\\n`` and friends; single quotes only ``\\'``.
    A NUL byte ends the line, as it does for C's string functions."""
    nul = line.find(b"\0")
    if nul >= 0:
        line = line[:nul]
    n = len(line)
    p = 0
    out: list[bytes] = []
    while True:
        while p < n and line[p] in _SPACE:
            p += 1
        if p >= n:
            return out
        cur = bytearray()
        inq = insq = False
        while True:
            c = line[p] if p < n else 0
            nxt = line[p + 1] if p + 1 < n else 0
            if inq:
                if c == 92 and nxt == 120 and p + 3 < n and line[p + 2] in _HEX and line[p + 3] in _HEX:
                    cur.append(int(line[p + 2 : p + 4], 16))
                    p += 3
                elif c == 92 and nxt:
                    p += 1
                    cur.append(_ESCAPES.get(nxt, nxt))
                elif c == 34:
                    if nxt and nxt not in _SPACE:
                        return None
                    p += 1
                    break
                elif not c:
                    return None
                else:
                    cur.append(c)
            elif insq:
                if c == 92 and nxt == 39:
                    p += 1
                    cur.append(39)
                elif c == 39:
                    if nxt and nxt not in _SPACE:
                        return None
                    p += 1
                    break
                elif not c:
                    return None
                else:
                    cur.append(c)
            else:
                if c in _SPACE or not c:
                    break
                if c == 34:
                    inq = True
                elif c == 39:
                    insq = True
                else:
                    cur.append(c)
            p += 1
        out.append(bytes(cur))


# ---------------------------------------------------------------- the exact request parser


def _parse_ll(b: bytes) -> int | None:
    """Redis's string2ll: strict decimal, optional '-', no '+', no spaces, no leading zeros."""
    n = len(b)
    if n == 0 or n > 20:
        return None
    if b == b"0":
        return 0
    i = 1 if b[0] == 45 else 0
    if i == n or b[i] == 48 or not b[i:].isdigit():
        return None
    v = int(b)
    if v > LLONG_MAX or v < -LLONG_MAX - 1:
        return None
    return v


class RequestParser:
    """Turns a byte stream into argv lists exactly as Redis does, at any split point.

    ``feed(data)`` buffers; ``next_request()`` returns the next argv, ``None`` when more bytes are
    needed, or raises ``ProtocolError``. An empty inline line or ``*0``/``*-1`` yields ``[]``,
    which the caller skips. Limits are read from the two attributes, which the owner may set from
    the config (``proto-max-bulk-len``) or per client (the unauthenticated limits).
    """

    __slots__ = ("buf", "pos", "multibulklen", "bulklen", "argv", "max_bulk_len", "unauth")

    def __init__(self, max_bulk_len: int = 512 * 1024 * 1024) -> None:
        self.buf = bytearray()
        self.pos = 0
        self.multibulklen = 0
        self.bulklen = -1
        self.argv: list[bytes] = []
        self.max_bulk_len = max_bulk_len
        self.unauth = False

    def feed(self, data: bytes) -> None:
        if self.pos and self.pos == len(self.buf):
            self.buf.clear()
            self.pos = 0
        self.buf += data

    def pending(self) -> int:
        """Bytes buffered and not yet consumed (the query buffer)."""
        return len(self.buf) - self.pos

    def idle(self) -> bool:
        """True when the parser holds nothing: the next byte starts a new request."""
        return self.pos >= len(self.buf) and self.multibulklen == 0

    def _compact(self) -> None:
        if self.pos > 65536 and self.pos * 2 > len(self.buf):
            del self.buf[: self.pos]
            self.pos = 0

    def next_request(self) -> list[bytes] | None:
        buf = self.buf
        if self.multibulklen == 0:
            if self.pos >= len(buf):
                return None
            if buf[self.pos] != 42:  # '*'
                return self._inline()
        return self._multibulk()

    def _inline(self) -> list[bytes] | None:
        buf = self.buf
        start = self.pos
        nl = buf.find(b"\n", start)
        if nl < 0:
            if len(buf) - start > PROTO_INLINE_MAX_SIZE:
                raise ProtocolError("too big inline request")
            return None
        end = nl
        if end != start and buf[end - 1] == 13:
            end -= 1
        line = bytes(buf[start:end])
        argv = split_args(line)
        if argv is None:
            raise ProtocolError("unbalanced quotes in request")
        self.pos = nl + 1
        self._compact()
        return argv

    def _multibulk(self) -> list[bytes] | None:
        buf = self.buf
        if self.multibulklen == 0:
            start = self.pos
            nl = buf.find(b"\r", start)
            if nl < 0:
                if len(buf) - start > PROTO_INLINE_MAX_SIZE:
                    raise ProtocolError("too big mbulk count string")
                return None
            if nl + 1 >= len(buf):  # need the \n too
                return None
            ll = _parse_ll(bytes(buf[start + 1 : nl]))
            if ll is None or ll > INT_MAX:
                raise ProtocolError("invalid multibulk length")
            if ll > 10 and self.unauth:
                raise ProtocolError("unauthenticated multibulk length")
            self.pos = nl + 2
            if ll <= 0:
                self._compact()
                return []
            self.multibulklen = ll
            self.argv = []
            self.bulklen = -1
        argv = self.argv
        while self.multibulklen:
            if self.bulklen == -1:
                start = self.pos
                nl = buf.find(b"\r", start)
                if nl < 0:
                    if len(buf) - start > PROTO_INLINE_MAX_SIZE:
                        raise ProtocolError("too big bulk count string")
                    return None
                if nl + 1 >= len(buf):
                    return None
                if buf[start] != 36:  # '$'
                    raise ProtocolError("expected '$', got '%s'" % chr(buf[start]))
                ll = _parse_ll(bytes(buf[start + 1 : nl]))
                if ll is None or ll < 0 or ll > self.max_bulk_len:
                    raise ProtocolError("invalid bulk length")
                if ll > 16384 and self.unauth:
                    raise ProtocolError("unauthenticated bulk length")
                self.pos = nl + 2
                self.bulklen = ll
            ll = self.bulklen
            if len(buf) - self.pos < ll + 2:
                return None
            argv.append(bytes(buf[self.pos : self.pos + ll]))
            self.pos += ll + 2  # Redis skips the two bytes after the data without checking them
            self.bulklen = -1
            self.multibulklen -= 1
        self.argv = []
        self._compact()
        return argv


# ---------------------------------------------------------------- the hiredis fast path

_NOT_ENOUGH = object()
# hiredis allocates an array's list when it reads the header, before any item arrives: a 14-byte
# "*2000000000" would make it allocate gigabytes. A read holding any count of 6+ digits goes to
# the exact parser, which allocates as items arrive (as Redis does).
_BIG_COUNT = re.compile(rb"\*[0-9]{6}").search
_chain = chain.from_iterable
_join = b"".join


def _request_size(argv: list[bytes]) -> int:
    """Bytes a well-formed multibulk request of these arguments takes on the wire."""
    n = 3 + len(str(len(argv)))
    for a in argv:
        la = len(a)
        n += la + 5 + len(str(la))
    return n


class FastParser:
    """hiredis over whole reads that start on a request boundary (one per connection).

    ``parse(data)`` returns ``(requests, consumed)``: the complete requests and the bytes they
    took (the caller hands ``data[consumed:]``, a partial request, to ``RequestParser``); or
    ``None`` when the read is not plain multibulk or a check fails, and the caller parses the
    whole read with ``RequestParser``, which answers exactly as Redis does.

    hiredis also accepts what Redis rejects (``+``/``:`` items, nested arrays, maps), so: joining
    all items as bytes fails on any item that is not a string (C speed, no Python loop); the
    number of ``*`` equals the number of requests unless a value holds one (then each request's
    type is checked); the number of ``$`` equals the number of items unless a value holds one, so
    a status item (``+PING``, which hiredis turns into the same bytes) is caught unless a ``$`` in
    a value hides it, and then it is harmless: it parses to the very bytes a bulk item would.
    """

    __slots__ = ("reader",)

    def __init__(self) -> None:
        self.reader = hiredis.Reader(notEnoughData=_NOT_ENOUGH) if hiredis is not None else None

    def parse(self, data: bytes) -> tuple[list[list[bytes]], int] | None:
        reader = self.reader
        if reader is None or not data or data[0] != 42 or _BIG_COUNT(data):
            return None
        reader.feed(data)
        reqs = []
        gets = reader.gets
        try:
            while True:
                r = gets()
                if r is _NOT_ENOUGH:
                    break
                reqs.append(r)
            _join(_chain(reqs))
        except Exception:
            self.reader = hiredis.Reader(notEnoughData=_NOT_ENOUGH)
            return None
        # Did the read end on a request boundary? hiredis's has_data() cannot tell: once it has
        # consumed a partial request's headers into its parse state, its buffer looks empty. So
        # probe: an empty request parses to [] only on a boundary; mid-request it becomes part
        # of the pending request (or an error). Either way the reader is then discarded.
        consumed = len(data)
        reader.feed(b"*0\r\n")
        try:
            probe = gets()
        except Exception:
            probe = None
        if probe != [] or reader.has_data():
            self.reader = hiredis.Reader(notEnoughData=_NOT_ENOUGH)
            if data.count(b"*") != len(reqs) and any(type(r) is not list for r in reqs):
                return None
            consumed = 0
            for r in reqs:
                consumed += _request_size(r)
        elif data.count(b"*") != len(reqs) and any(type(r) is not list for r in reqs):
            return None
        if data.count(b"$", 0, consumed) != sum(map(len, reqs)):
            return None
        return reqs, consumed
