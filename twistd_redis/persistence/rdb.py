"""Redis's RDB format (version 10, as Redis 7.0 writes it; versions 1..11 read): bytes <-> values.

The format layer only: no server, no config lookups (callers pass limits). Layout of a file::

    "REDIS0010"  AUX* ( SELECTDB RESIZEDB? ( [EXPIRETIME_MS|EXPIRETIME] [IDLE|FREQ] TYPE key value )* )*
    FUNCTION2*  MODULE_AUX*  EOF  crc64(8 bytes LE, 0 = not checked)

Primitives (RdbReader / RdbWriter) follow rdb.c: lengths are 6/14/32/64-bit; strings are raw,
int-encoded (INT8/16/32) or LZF; times are little-endian; binary doubles are 8 bytes LE.
Every corruption is an ``RdbError`` whose message names the byte offset.

``load()`` yields events: ("aux", k, v), ("db", dbid, size|None, expires|None), ("key", dbid,
key, value, expire_ms|None, lru_idle|None, lfu_freq|None), ("function", code), and last
("end", offset past the checksum) - where an AOF preamble's commands start. ``read_value``
answers ``EMPTY_KEY`` for an empty collection (load() drops it as Redis 7.0 does; RESTORE
answers "Bad data format"). Values come back with the ``ht`` flags Redis 7.0 gives a loaded
value under the given ``limits`` (DEFAULT_LIMITS: Redis's defaults).
"""

from __future__ import annotations

import struct
from typing import Any

from . import lzf
from .crc64 import crc64

__all__ = [
    "RDB_VERSION",
    "RdbError",
    "RdbReader",
    "RdbWriter",
    "dump_payload",
    "load",
    "read_value",
    "restore_payload",
    "save",
    "write_value",
]

RDB_VERSION = 10
RDB_MAX_READ_VERSION = 11

# Length encodings.
RDB_6BITLEN = 0
RDB_14BITLEN = 1
RDB_32BITLEN = 0x80
RDB_64BITLEN = 0x81
RDB_ENCVAL = 3
RDB_ENC_INT8 = 0
RDB_ENC_INT16 = 1
RDB_ENC_INT32 = 2
RDB_ENC_LZF = 3

# Value types.
RDB_TYPE_STRING = 0
RDB_TYPE_LIST = 1
RDB_TYPE_SET = 2
RDB_TYPE_ZSET = 3
RDB_TYPE_HASH = 4
RDB_TYPE_ZSET_2 = 5
RDB_TYPE_MODULE = 6
RDB_TYPE_MODULE_2 = 7
RDB_TYPE_HASH_ZIPMAP = 9
RDB_TYPE_LIST_ZIPLIST = 10
RDB_TYPE_SET_INTSET = 11
RDB_TYPE_ZSET_ZIPLIST = 12
RDB_TYPE_HASH_ZIPLIST = 13
RDB_TYPE_LIST_QUICKLIST = 14
RDB_TYPE_STREAM_LISTPACKS = 15
RDB_TYPE_HASH_LISTPACK = 16
RDB_TYPE_ZSET_LISTPACK = 17
RDB_TYPE_LIST_QUICKLIST_2 = 18
RDB_TYPE_STREAM_LISTPACKS_2 = 19
RDB_TYPE_SET_LISTPACK = 20  # Redis 7.2 (RDB 11)
RDB_TYPE_STREAM_LISTPACKS_3 = 21  # Redis 7.2 (RDB 11)

# Opcodes.
RDB_OPCODE_FUNCTION2 = 245
RDB_OPCODE_FUNCTION = 246
RDB_OPCODE_MODULE_AUX = 247
RDB_OPCODE_IDLE = 248
RDB_OPCODE_FREQ = 249
RDB_OPCODE_AUX = 250
RDB_OPCODE_RESIZEDB = 251
RDB_OPCODE_EXPIRETIME_MS = 252
RDB_OPCODE_EXPIRETIME = 253
RDB_OPCODE_SELECTDB = 254
RDB_OPCODE_EOF = 255

# Old-format (RDB_TYPE_ZSET) string doubles.
_NAN_LEN = 253
_POSINF_LEN = 254
_NEGINF_LEN = 255

_u16be = struct.Struct(">H")
_u32be = struct.Struct(">I")
_u64be = struct.Struct(">Q")
_i8 = struct.Struct("<b")
_i16 = struct.Struct("<h")
_i32 = struct.Struct("<i")
_i64 = struct.Struct("<q")
_u64 = struct.Struct("<Q")
_dbl = struct.Struct("<d")

FLUSH_AT = 1 << 20  # RdbWriter hands its buffer to ``out`` in chunks of about 1 MB


class RdbError(Exception):
    """A corrupt or unsupported RDB; the message ends with "at offset N"."""


class RdbReader:
    """A cursor over an RDB image (or a DUMP payload). ``pos`` is the next byte to read."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes | bytearray | memoryview, pos: int = 0) -> None:
        if type(data) is not bytes:
            data = bytes(data)
        self.data: bytes = data
        self.pos = pos
        self.end = len(data)

    def error(self, msg: str, pos: int | None = None) -> RdbError:
        return RdbError("%s at offset %d" % (msg, self.pos if pos is None else pos))

    def eof(self) -> RdbError:
        return RdbError("Unexpected EOF reading RDB file at offset %d" % self.pos)

    def read_byte(self) -> int:
        p = self.pos
        if p >= self.end:
            raise self.eof()
        self.pos = p + 1
        return self.data[p]

    def read_exact(self, n: int) -> bytes:
        p = self.pos
        q = p + n
        if q > self.end or n < 0:
            raise self.eof()
        self.pos = q
        return self.data[p:q]

    def read_len_enc(self) -> tuple[int, bool]:
        """rdbLoadLenByRef: (length, is_encoded). An encoded "length" is the special string
        encoding in its low 6 bits (INT8/16/32/LZF)."""
        p = self.pos
        if p >= self.end:
            raise self.eof()
        b = self.data[p]
        t = b >> 6
        if t == RDB_6BITLEN:
            self.pos = p + 1
            return b, False
        if t == RDB_14BITLEN:
            if p + 2 > self.end:
                raise self.eof()
            self.pos = p + 2
            return ((b & 0x3F) << 8) | self.data[p + 1], False
        if t == RDB_ENCVAL:
            self.pos = p + 1
            return b & 0x3F, True
        if b == RDB_32BITLEN:
            if p + 5 > self.end:
                raise self.eof()
            self.pos = p + 5
            return _u32be.unpack_from(self.data, p + 1)[0], False
        if b == RDB_64BITLEN:
            if p + 9 > self.end:
                raise self.eof()
            self.pos = p + 9
            return _u64be.unpack_from(self.data, p + 1)[0], False
        raise self.error("Unknown length encoding %d in rdbLoadLen()" % b)

    def read_len(self) -> int:
        return self.read_len_enc()[0]

    def read_string(self) -> bytes:
        """rdbGenericLoadStringObject: raw, INT8/16/32 (as decimal text) or LZF."""
        data = self.data
        p = self.pos
        if p >= self.end:
            raise self.eof()
        b = data[p]
        if b < 0x40:  # the common case: a short raw string
            q = p + 1 + b
            if q > self.end:
                raise self.eof()
            self.pos = q
            return data[p + 1 : q]
        n, enc = self.read_len_enc()
        if not enc:
            p = self.pos
            q = p + n
            if q > self.end:
                raise self.eof()
            self.pos = q
            return data[p:q]
        if n == RDB_ENC_INT8:
            return b"%d" % _i8.unpack(self.read_exact(1))[0]
        if n == RDB_ENC_INT16:
            return b"%d" % _i16.unpack(self.read_exact(2))[0]
        if n == RDB_ENC_INT32:
            return b"%d" % _i32.unpack(self.read_exact(4))[0]
        if n == RDB_ENC_LZF:
            at = p
            clen = self.read_len()
            ulen = self.read_len()
            comp = self.read_exact(clen)
            try:
                return lzf.decompress(comp, ulen)
            except ValueError:
                raise self.error("Invalid LZF compressed string", at) from None
        raise self.error("Unknown RDB string encoding type %d" % n, p)

    def read_millisecond_time(self) -> int:
        return _i64.unpack(self.read_exact(8))[0]

    def read_uint64_le(self) -> int:
        return _u64.unpack(self.read_exact(8))[0]

    def read_time_seconds(self) -> int:
        return _i32.unpack(self.read_exact(4))[0]

    def read_double_binary(self) -> float:
        return _dbl.unpack(self.read_exact(8))[0]

    def read_double_string(self) -> float:
        """rdbLoadDoubleValue (RDB_TYPE_ZSET, pre-2.8 scores): a length byte, then text."""
        at = self.pos
        n = self.read_byte()
        if n == _NAN_LEN:
            return float("nan")
        if n == _POSINF_LEN:
            return float("inf")
        if n == _NEGINF_LEN:
            return float("-inf")
        text = self.read_exact(n)
        try:
            return float(text)
        except ValueError:
            raise self.error("Invalid double value", at) from None


class RdbWriter:
    """Serialises RDB primitives into an internal bytearray and hands it to ``out.write`` in
    ~1 MB chunks (``flush()`` writes the rest). ``crc`` is the CRC-64 of everything flushed."""

    __slots__ = ("out", "compress", "buf", "crc", "checksum", "written")

    def __init__(self, out: Any, compress: bool = True, checksum: bool = False) -> None:
        self.out = out
        self.compress = compress
        self.buf = bytearray()
        self.checksum = checksum
        self.crc = 0
        self.written = 0

    def flush(self) -> None:
        buf = self.buf
        if buf:
            data = bytes(buf)
            if self.checksum:
                self.crc = crc64(data, self.crc)
            self.written += len(data)
            self.out.write(data)
            buf.clear()

    def maybe_flush(self) -> None:
        if len(self.buf) >= FLUSH_AT:
            self.flush()

    def write_byte(self, b: int) -> None:
        self.buf.append(b)

    def write_raw(self, data: bytes | bytearray | memoryview) -> None:
        self.buf += data

    def write_len(self, n: int) -> None:
        buf = self.buf
        if n < 0x40:
            buf.append(n)
        elif n < 0x4000:
            buf.append(0x40 | (n >> 8))
            buf.append(n & 0xFF)
        elif n <= 0xFFFFFFFF:
            buf.append(RDB_32BITLEN)
            buf += _u32be.pack(n)
        else:
            buf.append(RDB_64BITLEN)
            buf += _u64be.pack(n)

    def write_string(self, s: bytes | bytearray | memoryview) -> None:
        """rdbSaveRawString: an integer of at most 11 chars in canonical form is int-encoded
        (when it fits 32 bits); a string over 20 bytes is LZF-compressed when compression is
        on and it saves at least 4 bytes; else the raw bytes."""
        n = len(s)
        buf = self.buf
        if n <= 11:
            if n and (48 <= s[0] <= 57 or s[0] == 45):
                enc = _int_encoding(bytes(s))
                if enc is not None:
                    buf += enc
                    return
            buf.append(n)  # n <= 11 < 64: a 6-bit length
            buf += s
            return
        if n > 20 and self.compress:
            c = lzf.compress(bytes(s))
            if c is not None:
                buf.append(0xC0 | RDB_ENC_LZF)
                self.write_len(len(c))
                self.write_len(n)
                buf += c
                return
        self.write_len(n)
        buf += s

    def write_int_string(self, v: int) -> None:
        """An integer value written as a string (int-encoded when it fits 32 bits)."""
        self.write_string(b"%d" % v)

    def write_millisecond_time(self, t: int) -> None:
        self.buf += _i64.pack(t)

    def write_uint64_le(self, v: int) -> None:
        self.buf += _u64.pack(v)

    def write_double_binary(self, d: float) -> None:
        self.buf += _dbl.pack(d)


def _int_encoding(s: bytes) -> bytes | None:
    """rdbTryIntegerEncoding + rdbEncodeInteger: the INT8/16/32 form of ``s`` or None."""
    try:
        v = int(s)
    except ValueError:
        return None
    if b"%d" % v != s:
        return None
    if -128 <= v <= 127:
        return bytes((0xC0, v & 0xFF))
    if -32768 <= v <= 32767:
        return b"\xc1" + _i16.pack(v)
    if -2147483648 <= v <= 2147483647:
        return b"\xc2" + _i32.pack(v)
    return None


# ---------------------------------------------------------------- values

# What read_value answers for a collection with no elements: Redis 7.0 skips such keys on load
# (rdbLoadObject's "emptykey": bug #8453 left some in old files) and RESTORE refuses them.
EMPTY_KEY: Any = type("EmptyKey", (), {"__repr__": lambda self: "EMPTY_KEY", "__slots__": ()})()

DEFAULT_LIMITS = {
    "hash-max-listpack-entries": 128,
    "hash-max-listpack-value": 64,
    "zset-max-listpack-entries": 128,
    "zset-max-listpack-value": 64,
    "set-max-intset-entries": 512,
}

_OBJECT_TYPES = frozenset(range(0, 8)) | frozenset(range(9, 22)) - {8}

_MODULE_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def module_type_name(moduleid: int) -> str:
    """moduleTypeNameByID: the 9-character type name in the top 54 bits of a module id (the low
    10 bits are the encoding version)."""
    moduleid >>= 10
    out = []
    for _ in range(9):
        out.append(_MODULE_CHARSET[moduleid & 63])
        moduleid >>= 6
    return "".join(reversed(out))


def _limits(limits: dict | None) -> tuple[int, int, int, int, int]:
    lim = DEFAULT_LIMITS if limits is None else {**DEFAULT_LIMITS, **limits}
    return (
        int(lim["hash-max-listpack-entries"]),
        int(lim["hash-max-listpack-value"]),
        int(lim["zset-max-listpack-entries"]),
        int(lim["zset-max-listpack-value"]),
        int(lim["set-max-intset-entries"]),
    )


def _is_ll(s: bytes) -> bool:
    """string2ll accepts ``s`` (canonical decimal in the int64 range)."""
    n = len(s)
    if n == 0 or n > 20:
        return False
    try:
        v = int(s)
    except ValueError:
        return False
    return b"%d" % v == s and -(2**63) <= v < 2**63


def _as_bytes(item: bytes | int) -> bytes:
    return b"%d" % item if type(item) is int else item  # type: ignore[return-value]


def _score(item: bytes | int, r: RdbReader, at: int, what: str) -> float:
    if type(item) is int:
        return float(item)
    try:
        d = float(item)  # zzlStrtod
    except ValueError:
        raise r.error("%s integrity check failed." % what, at) from None
    return d


def _ziplist(r: RdbReader, blob: bytes, at: int, what: str) -> list:
    from .encodings import ziplist_decode

    try:
        return ziplist_decode(blob)
    except ValueError as e:
        raise r.error("%s integrity check failed. (%s)" % (what, e), at) from None


def _listpack(r: RdbReader, blob: bytes, at: int, what: str) -> list:
    from .listpack import listpack_decode

    try:
        return listpack_decode(blob)
    except ValueError as e:
        raise r.error("%s integrity check failed. (%s)" % (what, e), at) from None


def _pairs(r: RdbReader, items: list, at: int, what: str) -> list[tuple[bytes, bytes | int]]:
    """Field/value pairs of a pairs ziplist/listpack: an even count, no duplicate fields
    (ziplistPairsConvertAndValidateIntegrity / lpPairsValidateIntegrityAndDups)."""
    if len(items) & 1:
        raise r.error("%s integrity check failed. (odd number of entries)" % what, at)
    fields = [_as_bytes(f) for f in items[0::2]]
    if len(set(fields)) != len(fields):
        raise r.error("%s integrity check failed. (duplicate field)" % what, at)
    return list(zip(fields, items[1::2]))


def _make_hash(pairs: list[tuple[bytes, bytes]], ht: bool) -> Any:
    from ..datatypes import RedisHash

    h = RedisHash(pairs)
    h.ht = ht
    return h


def _make_zset(pairs: Any, ht: bool) -> Any:
    from ..datatypes import RedisZSet

    z = RedisZSet()
    z.ht = ht
    add = z.add
    for m, sc in pairs:
        add(m, sc)
    return z


def _make_set(members: list[bytes], ht: bool) -> Any:
    from ..datatypes import RedisSet

    s = RedisSet(members)
    s.ht = ht
    return s


def _make_list(items: list[bytes]) -> Any:
    from ..datatypes import RedisList

    return RedisList(items)


def read_value(r: RdbReader, rdbtype: int, limits: dict | None = None) -> Any:
    """rdbLoadObject: the value of type ``rdbtype`` at the reader's position, as our datatypes
    with the encoding (``ht``) Redis 7.0 would give the loaded value. Answers ``EMPTY_KEY``
    for an empty collection (a key Redis skips)."""
    if rdbtype == RDB_TYPE_STRING:
        return r.read_string()
    at = r.pos
    if rdbtype == RDB_TYPE_LIST:
        n = r.read_len()
        if n == 0:
            return EMPTY_KEY
        rs = r.read_string
        return _make_list([rs() for _ in range(n)])
    if rdbtype == RDB_TYPE_SET:
        n = r.read_len()
        if n == 0:
            return EMPTY_KEY
        rs = r.read_string
        members = [rs() for _ in range(n)]
        s = set(members)
        if len(s) != n:
            raise r.error("Duplicate set members detected", at)
        max_intset = _limits(limits)[4]
        ht = n > min(max_intset, 1 << 30) or not all(map(_is_ll, members))
        return _make_set(members, ht)
    if rdbtype == RDB_TYPE_ZSET_2 or rdbtype == RDB_TYPE_ZSET:
        n = r.read_len()
        if n == 0:
            return EMPTY_KEY
        rs = r.read_string
        rd = r.read_double_binary if rdbtype == RDB_TYPE_ZSET_2 else r.read_double_string
        pairs = []
        maxlen = 0
        for _ in range(n):
            m = rs()
            sc = rd()
            if sc != sc:
                raise r.error("Zset with NAN score detected")
            if len(m) > maxlen:
                maxlen = len(m)
            pairs.append((m, sc))
        if len({m for m, _ in pairs}) != n:
            raise r.error("Duplicate zset fields detected", at)
        _, _, zent, zval, _ = _limits(limits)
        return _make_zset(pairs, not (n <= zent and maxlen <= zval))
    if rdbtype == RDB_TYPE_HASH:
        n = r.read_len()
        if n == 0:
            return EMPTY_KEY
        rs = r.read_string
        hent, hval, _, _, _ = _limits(limits)
        ht = n > hent
        pairs = []
        for _ in range(n):
            f = rs()
            v = rs()
            if not ht and (len(f) > hval or len(v) > hval):
                ht = True
            pairs.append((f, v))
        h = _make_hash(pairs, ht)
        if len(h) != n:
            raise r.error("Duplicate hash fields detected", at)
        return h
    if rdbtype == RDB_TYPE_LIST_QUICKLIST or rdbtype == RDB_TYPE_LIST_QUICKLIST_2:
        n = r.read_len()
        if n == 0:
            return EMPTY_KEY
        items: list[bytes] = []
        for _ in range(n):
            container = 2
            at = r.pos
            if rdbtype == RDB_TYPE_LIST_QUICKLIST_2:
                container = r.read_len()
                if container != 1 and container != 2:
                    raise r.error("Quicklist integrity check failed.", at)
            blob = r.read_string()
            if not blob:
                raise r.error("Quicklist node is empty", at)
            if container == 1:  # PLAIN: one big element
                items.append(blob)
                continue
            if rdbtype == RDB_TYPE_LIST_QUICKLIST_2:
                entries = _listpack(r, blob, at, "Listpack")
            else:
                entries = _ziplist(r, blob, at, "Ziplist")
            items.extend([b"%d" % e if type(e) is int else e for e in entries])
        if not items:
            return EMPTY_KEY
        return _make_list(items)
    if rdbtype in _BLOB_TYPES:
        blob = r.read_string()
        return _read_blob_value(r, rdbtype, blob, at, limits)
    if rdbtype in (RDB_TYPE_STREAM_LISTPACKS, RDB_TYPE_STREAM_LISTPACKS_2, RDB_TYPE_STREAM_LISTPACKS_3):
        from .rdb_stream import read_stream

        return read_stream(r, rdbtype)
    if rdbtype == RDB_TYPE_MODULE or rdbtype == RDB_TYPE_MODULE_2:
        moduleid = r.read_len()
        raise r.error(
            "The RDB file contains module data I can't load: no matching module type '%s'"
            % module_type_name(moduleid),
            at,
        )
    raise r.error("Unknown RDB encoding type %d" % rdbtype, at - 1)


_BLOB_TYPES = frozenset(
    (
        RDB_TYPE_HASH_ZIPMAP,
        RDB_TYPE_LIST_ZIPLIST,
        RDB_TYPE_SET_INTSET,
        RDB_TYPE_ZSET_ZIPLIST,
        RDB_TYPE_ZSET_LISTPACK,
        RDB_TYPE_HASH_ZIPLIST,
        RDB_TYPE_HASH_LISTPACK,
        RDB_TYPE_SET_LISTPACK,
    )
)


def _read_blob_value(r: RdbReader, rdbtype: int, blob: bytes, at: int, limits: dict | None) -> Any:
    hent, hval, zent, _, max_intset = _limits(limits)
    if rdbtype == RDB_TYPE_HASH_LISTPACK or rdbtype == RDB_TYPE_HASH_ZIPLIST:
        what = "Hash listpack" if rdbtype == RDB_TYPE_HASH_LISTPACK else "Hash ziplist"
        dec = _listpack if rdbtype == RDB_TYPE_HASH_LISTPACK else _ziplist
        pairs = _pairs(r, dec(r, blob, at, what), at, what)
        if not pairs:
            return EMPTY_KEY
        # Redis checks only the count here (not the lengths: an O(N) scan).
        return _make_hash([(f, _as_bytes(v)) for f, v in pairs], len(pairs) > hent)
    if rdbtype == RDB_TYPE_ZSET_LISTPACK or rdbtype == RDB_TYPE_ZSET_ZIPLIST:
        what = "Zset listpack" if rdbtype == RDB_TYPE_ZSET_LISTPACK else "Zset ziplist"
        dec = _listpack if rdbtype == RDB_TYPE_ZSET_LISTPACK else _ziplist
        pairs = _pairs(r, dec(r, blob, at, what), at, what)
        if not pairs:
            return EMPTY_KEY
        return _make_zset([(m, _score(s, r, at, what)) for m, s in pairs], len(pairs) > zent)
    if rdbtype == RDB_TYPE_SET_INTSET:
        from .encodings import intset_decode

        try:
            vals = intset_decode(blob)
        except ValueError as e:
            raise r.error("Intset integrity check failed. (%s)" % e, at) from None
        return _make_set([b"%d" % v for v in vals], len(vals) > max_intset)
    if rdbtype == RDB_TYPE_SET_LISTPACK:  # Redis 7.2: intset or hashtable in 7.0 terms
        members = [_as_bytes(e) for e in _listpack(r, blob, at, "Set listpack")]
        if not members:
            return EMPTY_KEY
        if len(set(members)) != len(members):
            raise r.error("Set listpack integrity check failed. (duplicate member)", at)
        ht = len(members) > max_intset or not all(map(_is_ll, members))
        return _make_set(members, ht)
    if rdbtype == RDB_TYPE_LIST_ZIPLIST:
        items = [_as_bytes(e) for e in _ziplist(r, blob, at, "List ziplist")]
        if not items:
            return EMPTY_KEY
        return _make_list(items)
    # RDB_TYPE_HASH_ZIPMAP
    from .encodings import zipmap_decode

    try:
        zpairs = zipmap_decode(blob)
    except ValueError as e:
        raise r.error("Zipmap integrity check failed. (%s)" % e, at) from None
    fields = [f for f, _ in zpairs]
    if len(set(fields)) != len(fields):
        raise r.error("Hash zipmap with dup elements, or big length (%u)" % len(fields[-1]), at)
    if not zpairs:
        return EMPTY_KEY
    maxlen = max(max(len(f), len(v)) for f, v in zpairs)
    return _make_hash(zpairs, len(zpairs) > hent or maxlen > hval)


# ---------------------------------------------------------------- writing values

_lp_hdr = struct.Struct("<IH")
LIST_MAX_LISTPACK_SIZE = -2  # Redis 7.0's default list-max-listpack-size (8 KB nodes)
_OPTIMIZATION_LEVEL = (4096, 8192, 16384, 32768, 65536)
SIZE_SAFETY_LIMIT = 8192


def d2string(d: float) -> bytes:
    """util.c d2string (Redis 7.0.15): integral doubles in (-(2^52-1), 2^52) as integers (so -0
    is "0"), inf/-inf/nan as words, else %.17g. A zset listpack stores scores so."""
    if d != d:
        return b"nan"
    if d == INF:
        return b"inf"
    if d == -INF:
        return b"-inf"
    if -4503599627370495.0 < d < 4503599627370496.0 and d == int(d):
        return b"%d" % int(d)
    return b"%.17g" % d


INF = float("inf")


def _listpack_blob(entries: list[bytes], count: int) -> bytes:
    body = b"".join(entries)
    return _lp_hdr.pack(6 + len(body) + 1, count if count < 65535 else 65535) + body + b"\xff"


def _quicklist_nodes(items: Any, fill: int = LIST_MAX_LISTPACK_SIZE) -> list[bytes]:
    """The listpacks a quicklist built by pushing ``items`` at the tail holds
    (_quicklistNodeAllowInsert with list-max-listpack-size ``fill``)."""
    from .listpack import encode_entry

    nodes: list[bytes] = []
    cur: list[bytes] = []
    cur_sz = 7  # an empty listpack: header + terminator
    if fill < 0:  # quicklistNodeLimit: a size limit
        limit = _OPTIMIZATION_LEVEL[min(-fill - 1, len(_OPTIMIZATION_LEVEL) - 1)]
        count_limit = 1 << 32
    else:  # a count limit, and the 8 KB safety limit
        limit = SIZE_SAFETY_LIMIT
        count_limit = fill or 1
    for it in items:
        if cur:
            # _quicklistNodeAllowInsert (7.0.15): node size + element length + SIZE_ESTIMATE_OVERHEAD
            if cur_sz + len(it) + 8 > limit or len(cur) + 1 > count_limit:
                nodes.append(_listpack_blob(cur, len(cur)))
                cur = []
                cur_sz = 7
        e = encode_entry(it)
        cur.append(e)
        cur_sz += len(e)
    if cur:
        nodes.append(_listpack_blob(cur, len(cur)))
    return nodes


def _intset_blob(members: Any) -> bytes:
    vals = sorted(int(m) for m in members)
    lo, hi = vals[0], vals[-1]
    if -32768 <= lo and hi <= 32767:
        enc, fmt = 2, "h"
    elif -2147483648 <= lo and hi <= 2147483647:
        enc, fmt = 4, "i"
    else:
        enc, fmt = 8, "q"
    return struct.pack("<II%d%s" % (len(vals), fmt), enc, len(vals), *vals)


def write_value(w: RdbWriter, value: Any) -> None:
    """rdbSaveObjectType + rdbSaveObject in Redis 7.0's encodings."""
    write_object(w, value, None)


def _head(w: RdbWriter, rdbtype: int, key: bytes | None) -> None:
    """A value's type byte, then its key when it is a keyspace record (not a DUMP payload)."""
    w.buf.append(rdbtype)
    if key is not None:
        w.write_string(key)


def write_object(w: RdbWriter, value: Any, key: bytes | None) -> None:
    """The type byte, then ``key`` (when not None: a keyspace record), then the value's body."""
    t = type(value)
    if t is bytes or t is bytearray or isinstance(value, bytes):
        w.buf.append(RDB_TYPE_STRING)
        if key is not None:
            w.write_string(key)
        w.write_string(value)
        return
    from ..datatypes import RedisHash, RedisList, RedisSet, RedisZSet, type_name
    from .listpack import encode_entry

    if isinstance(value, RedisList):
        _head(w, RDB_TYPE_LIST_QUICKLIST_2, key)
        nodes = _quicklist_nodes(value)
        w.write_len(len(nodes))
        for node in nodes:
            w.buf.append(2)  # QUICKLIST_NODE_CONTAINER_PACKED
            w.write_string(node)
        return
    if isinstance(value, RedisHash):
        if value.ht:
            _head(w, RDB_TYPE_HASH, key)
            w.write_len(len(value))
            ws = w.write_string
            for f, v in value.items():
                ws(f)
                ws(v)
        else:
            _head(w, RDB_TYPE_HASH_LISTPACK, key)
            entries = []
            for f, v in value.items():
                entries.append(encode_entry(f))
                entries.append(encode_entry(v))
            w.write_string(_listpack_blob(entries, len(entries)))
        return
    if isinstance(value, RedisZSet):
        if value.ht:
            _head(w, RDB_TYPE_ZSET_2, key)
            w.write_len(len(value))
            ws = w.write_string
            wd = w.write_double_binary
            for sc, m in reversed(value.sl):  # from the tail, as zsetSave walks the skiplist
                ws(m)
                wd(sc)
        else:
            _head(w, RDB_TYPE_ZSET_LISTPACK, key)
            entries = []
            for sc, m in value.sl:
                entries.append(encode_entry(m))
                entries.append(encode_entry(d2string(sc)))
            w.write_string(_listpack_blob(entries, len(entries)))
        return
    if isinstance(value, RedisSet):
        if value.ht or not value:
            _head(w, RDB_TYPE_SET, key)
            w.write_len(len(value))
            ws = w.write_string
            for m in value:
                ws(m)
        else:
            _head(w, RDB_TYPE_SET_INTSET, key)
            w.write_string(_intset_blob(value))
        return
    if type_name(value) == b"stream":
        from .rdb_stream import write_stream

        _head(w, RDB_TYPE_STREAM_LISTPACKS_2, key)
        write_stream(w, value)
        return
    raise TypeError("cannot save a value of type %r" % t.__name__)


# ---------------------------------------------------------------- whole files


def _aux_items(aux: Any) -> list[tuple[bytes, bytes]]:
    if aux is None:
        return []
    items = aux.items() if hasattr(aux, "items") else aux
    out = []
    for k, v in items:
        k = k.encode() if isinstance(k, str) else bytes(k)
        if isinstance(v, int):
            v = b"%d" % v
        elif isinstance(v, str):
            v = v.encode()
        out.append((k, bytes(v)))
    return out


def save(
    out: Any,
    dbs: Any,
    aux: Any = None,
    *,
    compress: bool = True,
    checksum: bool = True,
    functions: Any = (),
) -> None:
    """rdbSaveRio: write a whole RDB v10 to ``out`` (anything with ``.write(bytes)``).

    ``dbs``: iterable of (dbid, data: dict[key, value], expires: dict[key, ms]); empty
    databases are skipped as Redis does. ``aux``: (name, value) pairs (or a dict) written as
    AUX fields in order. ``functions``: library codes written as FUNCTION2 records."""
    w = RdbWriter(out, compress, checksum)
    buf = w.buf
    buf += b"REDIS%04d" % RDB_VERSION
    ws = w.write_string
    for k, v in _aux_items(aux):
        buf.append(RDB_OPCODE_AUX)
        ws(k)
        ws(v)
    for code in functions:
        buf.append(RDB_OPCODE_FUNCTION2)
        ws(code)
    wo = write_object
    for dbid, data, expires in dbs:
        if not data:
            continue
        buf.append(RDB_OPCODE_SELECTDB)
        w.write_len(dbid)
        buf.append(RDB_OPCODE_RESIZEDB)
        w.write_len(len(data))
        w.write_len(len(expires))
        get_exp = expires.get if expires else None
        for key, val in data.items():
            if get_exp is not None:
                when = get_exp(key)
                if when is not None:
                    buf.append(RDB_OPCODE_EXPIRETIME_MS)
                    buf += _i64.pack(when)
            if type(val) is bytes:
                kl = len(key)
                vl = len(val)
                # the fast path: short strings that are neither integers nor LZF candidates
                if (
                    0 < kl <= 20
                    and 0 < vl <= 20
                    and (kl > 11 or key[0] not in _NUM_START)
                    and (vl > 11 or val[0] not in _NUM_START)
                ):
                    buf += _STR_HDR[kl]
                    buf += key
                    buf.append(vl)
                    buf += val
                else:
                    buf.append(0)
                    ws(key)
                    ws(val)
            else:
                wo(w, val, key)
            if len(buf) >= FLUSH_AT:
                w.flush()
    buf.append(RDB_OPCODE_EOF)
    w.flush()
    out.write(_u64.pack(w.crc) if checksum else b"\x00" * 8)


_NUM_START = frozenset(b"-0123456789")
_STR_HDR = [bytes((RDB_TYPE_STRING, n)) for n in range(64)]


def _read_header(r: RdbReader) -> int:
    """The 9-byte "REDISnnnn" header at ``r.pos``: the RDB version."""
    p = r.pos
    head = r.data[p : p + 9]
    if head[:5] != b"REDIS"[: len(head)] or (len(head) >= 5 and head[:5] != b"REDIS"):
        raise r.error("Wrong signature trying to load DB from file")
    if len(head) < 9:
        r.pos = r.end
        raise r.eof()
    digits = head[5:]
    ver = int(digits) if digits.isdigit() else 0
    if ver < 1 or ver > RDB_MAX_READ_VERSION:
        raise r.error("Can't handle RDB format version %d" % ver)
    r.pos = p + 9
    return ver


def load(data: bytes, *, checksum: bool = True, limits: dict | None = None, pos: int = 0) -> Any:
    """rdbLoadRio as a stream of events (see the module map), starting at ``pos``. Empty
    collections are dropped as Redis drops them; ``limits`` are the listpack/intset thresholds
    (DEFAULT_LIMITS when None). The last event, after the EOF opcode and the checksum, is
    ("end", offset just past the checksum): an AOF preamble's commands start there."""
    r = RdbReader(data, pos)
    start = pos
    ver = _read_header(r)
    dbid = 0
    expire = None
    idle = None
    freq = None
    read_byte = r.read_byte
    read_string = r.read_string
    rv = read_value
    data = r.data
    end = r.end
    while True:
        # The fast path: a string key with a short raw key and value (most keys of most files).
        pos = r.pos
        if pos + 2 < end and data[pos] == 0:
            b = data[pos + 1]
            if b < 64:
                q = pos + 2 + b
                if q < end:
                    b2 = data[q]
                    if b2 < 64:
                        p2 = q + 1 + b2
                        if p2 <= end:
                            r.pos = p2
                            yield ("key", dbid, data[pos + 2 : q], data[q + 1 : p2], expire, idle, freq)
                            if expire is not None or idle is not None or freq is not None:
                                expire = idle = freq = None
                            continue
        t = read_byte()
        if t == RDB_TYPE_STRING:
            key = read_string()
            yield ("key", dbid, key, read_string(), expire, idle, freq)
            expire = idle = freq = None
            continue
        if t < RDB_OPCODE_FUNCTION2:
            if t not in _OBJECT_TYPES:
                raise r.error("Unknown RDB encoding type %d" % t, r.pos - 1)
            key = read_string()
            val = rv(r, t, limits)
            if val is not EMPTY_KEY:
                yield ("key", dbid, key, val, expire, idle, freq)
            expire = idle = freq = None
            continue
        if t == RDB_OPCODE_EXPIRETIME_MS:
            expire = r.read_millisecond_time()
        elif t == RDB_OPCODE_EXPIRETIME:
            expire = r.read_time_seconds() * 1000
        elif t == RDB_OPCODE_SELECTDB:
            dbid = r.read_len()
            size = esize = None
            if r.pos < r.end and r.data[r.pos] == RDB_OPCODE_RESIZEDB:
                r.pos += 1
                size = r.read_len()
                esize = r.read_len()
            yield ("db", dbid, size, esize)
        elif t == RDB_OPCODE_RESIZEDB:
            size = r.read_len()
            esize = r.read_len()
            yield ("db", dbid, size, esize)
        elif t == RDB_OPCODE_AUX:
            k = read_string()
            yield ("aux", k, read_string())
        elif t == RDB_OPCODE_IDLE:
            idle = r.read_len()
        elif t == RDB_OPCODE_FREQ:
            freq = read_byte()
        elif t == RDB_OPCODE_FUNCTION2:
            yield ("function", read_string())
        elif t == RDB_OPCODE_FUNCTION:
            name = read_string()
            engine = read_string()
            if r.read_len():
                read_string()  # the description: dropped, as Redis does
            blob = read_string()
            yield ("function", b"#!%s name=%s\n%s" % (engine, name, blob))
        elif t == RDB_OPCODE_MODULE_AUX:
            at = r.pos - 1
            moduleid = r.read_len()
            raise r.error(
                "The RDB file contains AUX module data I can't load: no matching module '%s'"
                % module_type_name(moduleid),
                at,
            )
        elif t == RDB_OPCODE_EOF:
            break
        else:
            raise r.error("Unknown RDB encoding type %d" % t, r.pos - 1)
    eof_end = r.pos
    if ver >= 5:
        at = r.pos
        stored = r.read_uint64_le()
        if checksum and stored != 0:
            expected = crc64(memoryview(r.data)[start:eof_end])
            if expected != stored:
                raise r.error(
                    "Wrong RDB checksum expected: (%x) but got (%x)" % (expected, stored), at
                )
    yield ("end", r.pos)


# ---------------------------------------------------------------- DUMP / RESTORE


def dump_payload(value: Any, *, compress: bool = True) -> bytes:
    """createDumpPayload: the value (type byte + body), the RDB version as 2 bytes LE, and the
    CRC-64 of all that as 8 bytes LE."""
    out = _Sink()
    w = RdbWriter(out, compress)
    write_value(w, value)
    w.buf += struct.pack("<H", RDB_VERSION)
    body = bytes(w.buf)
    return body + _u64.pack(crc64(body))


def verify_payload(payload: bytes, *, checksum: bool = True) -> bool:
    """verifyDumpPayload: a footer of a known RDB version and a matching CRC-64."""
    n = len(payload)
    if n < 10:
        return False
    ver = payload[n - 10] | (payload[n - 9] << 8)
    if ver > RDB_VERSION:
        return False
    if not checksum:
        return True
    return crc64(payload[: n - 8]) == _u64.unpack_from(payload, n - 8)[0]


def restore_payload(payload: bytes, *, checksum: bool = True, limits: dict | None = None) -> Any:
    """The value a DUMP payload holds. RdbError("DUMP payload version or checksum are wrong")
    when the footer does not check out, RdbError("Bad data format") when the value does not
    parse (or is an empty collection), as RESTORE answers."""
    payload = bytes(payload)
    if not verify_payload(payload, checksum=checksum):
        raise RdbError("DUMP payload version or checksum are wrong")
    r = RdbReader(payload)
    r.end = len(payload) - 10
    try:
        t = r.read_byte()
        if t not in _OBJECT_TYPES:
            raise r.error("Unknown RDB encoding type %d" % t)
        value = read_value(r, t, limits)
    except RdbError as e:
        raise RdbError("Bad data format") from e
    if value is EMPTY_KEY:
        raise RdbError("Bad data format")
    return value


class _Sink:
    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, b: bytes) -> None:
        self.parts.append(b)
