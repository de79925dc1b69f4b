"""Redis's RDB format (version 10, as Redis 7.0 writes it; versions 1..11 read): bytes <-> values.

The format layer only: no server, no config lookups (callers pass limits). Layout of a file::

    "REDIS0010"  AUX* ( SELECTDB RESIZEDB? ( [EXPIRETIME_MS|EXPIRETIME] [IDLE|FREQ] TYPE key value )* )*
    FUNCTION2*  MODULE_AUX*  EOF  crc64(8 bytes LE, 0 = not checked)

Primitives (RdbReader / RdbWriter) follow rdb.c: lengths are 6/14/32/64-bit; strings are raw,
int-encoded (INT8/16/32) or LZF; times are little-endian; binary doubles are 8 bytes LE.
Every corruption is an ``RdbError`` whose message names the byte offset.
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


# ---------------------------------------------------------------- values and files (in progress)


def read_value(r: RdbReader, rdbtype: int, limits: dict | None = None) -> Any:
    raise r.error("Unknown RDB encoding type %d" % rdbtype)


def write_value(w: RdbWriter, value: Any) -> None:
    raise NotImplementedError


def save(out: Any, dbs: Any, aux: Any = None, *, compress: bool = True, checksum: bool = True) -> None:
    raise NotImplementedError


def load(data: bytes, *, checksum: bool = True) -> Any:
    raise NotImplementedError


def dump_payload(value: Any) -> bytes:
    raise NotImplementedError


def restore_payload(payload: bytes) -> Any:
    raise NotImplementedError
