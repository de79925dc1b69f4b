"""The compact encodings older RDB files carry inside values: ziplist, intset, zipmap.

Pure functions over bytes. Each decoder runs Redis's deep integrity check as it goes
(ziplistValidateIntegrity, intsetValidateIntegrity, zipmapValidateIntegrity) and raises
``ValueError`` (naming the offset inside the blob) on any inconsistency; rdb.py wraps that
into an ``RdbError`` with Redis's own message ("Hash ziplist integrity check failed." ...).

Ziplist layout: ``<zlbytes u32 LE> <zltail u32 LE> <zllen u16 LE> <entry>* <0xFF>``; an entry
is ``<prevlen: 1 byte, or 0xFE + u32 LE> <encoding> <data>``. Encodings: ``00pppppp`` /
``01pppppp qqqqqqqq`` / ``10______ + u32 BE`` strings; ``0xC0`` int16, ``0xD0`` int32,
``0xE0`` int64, ``0xF0`` int24, ``0xFE`` int8, ``0xF1..0xFD`` the immediates 0..12.

Intset: ``<encoding u32 LE: 2|4|8> <length u32 LE> <values, ascending, LE>``.

Zipmap (Redis < 2.6 hashes): ``<zmlen> (<len>field <len><free>value <free bytes>)* <0xFF>``,
a length being 1 byte (< 254) or 254 + u32 LE.
"""

from __future__ import annotations

import struct

__all__ = ["intset_decode", "ziplist_decode", "zipmap_decode"]

_u32 = struct.Struct("<I")
_u32be = struct.Struct(">I")
_zl_header = struct.Struct("<IIH")
ZIPLIST_HEADER_SIZE = 10
ZIP_END = 0xFF
ZIP_BIG_PREVLEN = 0xFE

# Integer encodings: byte -> (struct format, width).
_ZIP_INTS = {
    0xC0: ("<h", 2),
    0xD0: ("<i", 4),
    0xE0: ("<q", 8),
    0xFE: ("<b", 1),
}


def ziplist_decode(zl: bytes) -> list[bytes | int]:
    """Every entry of a ziplist (strings as bytes, integers as int), after checking it as
    ziplistValidateIntegrity(deep=1) does."""
    size = len(zl)
    if size < ZIPLIST_HEADER_SIZE + 1:
        raise ValueError("ziplist shorter than its header (%d bytes)" % size)
    zlbytes, zltail, zllen = _zl_header.unpack_from(zl, 0)
    if zlbytes != size:
        raise ValueError("ziplist header says %d bytes, blob has %d" % (zlbytes, size))
    end = size - 1
    if zl[end] != ZIP_END:
        raise ValueError("ziplist lacks its terminator")
    if zltail > end:
        raise ValueError("ziplist tail offset %d out of range" % zltail)
    out: list[bytes | int] = []
    append = out.append
    p = ZIPLIST_HEADER_SIZE
    prev = -1
    prevlen = 0
    while zl[p] != ZIP_END:
        start = p
        # prevlen
        b = zl[p]
        if b < ZIP_BIG_PREVLEN:
            pl = b
            p += 1
        else:
            if p + 5 > end:
                raise ValueError("ziplist entry at %d overflows" % start)
            pl = _u32.unpack_from(zl, p + 1)[0]
            p += 5
        if pl != prevlen:
            raise ValueError("ziplist entry at %d: prevlen %d != %d" % (start, pl, prevlen))
        if p >= end:
            raise ValueError("ziplist entry at %d overflows" % start)
        enc = zl[p]
        if enc < 0xC0:
            t = enc >> 6
            if t == 0:
                n = enc & 0x3F
                p += 1
            elif t == 1:
                if p + 2 > end:
                    raise ValueError("ziplist entry at %d overflows" % start)
                n = ((enc & 0x3F) << 8) | zl[p + 1]
                p += 2
            else:
                if p + 5 > end:
                    raise ValueError("ziplist entry at %d overflows" % start)
                n = _u32be.unpack_from(zl, p + 1)[0]
                p += 5
            q = p + n
            if q > end:
                raise ValueError("ziplist entry at %d overflows" % start)
            append(zl[p:q])
            p = q
        else:
            p += 1
            spec = _ZIP_INTS.get(enc)
            if spec is not None:
                fmt, w = spec
                if p + w > end:
                    raise ValueError("ziplist entry at %d overflows" % start)
                append(struct.unpack_from(fmt, zl, p)[0])
                p += w
            elif enc == 0xF0:  # int24
                if p + 3 > end:
                    raise ValueError("ziplist entry at %d overflows" % start)
                append(int.from_bytes(zl[p : p + 3], "little", signed=True))
                p += 3
            elif 0xF1 <= enc <= 0xFD:
                append((enc & 0x0F) - 1)
            else:
                raise ValueError("ziplist entry at %d: invalid encoding 0x%02x" % (start, enc))
        if p > end:
            raise ValueError("ziplist entry at %d overflows" % start)
        prevlen = p - start
        prev = start
    if p != end:
        raise ValueError("ziplist entries end at %d, not %d" % (p, end))
    if prev != -1 and prev != zltail:
        raise ValueError("ziplist tail offset %d is not the last entry (%d)" % (zltail, prev))
    if zllen != 0xFFFF and zllen != len(out):
        raise ValueError("ziplist header count %d != %d entries" % (zllen, len(out)))
    return out


def intset_decode(blob: bytes) -> list[int]:
    """The integers of an intset, checked as intsetValidateIntegrity(deep=1): a known width,
    a size that matches the count, not empty, strictly ascending."""
    size = len(blob)
    if size < 8:
        raise ValueError("intset shorter than its header (%d bytes)" % size)
    enc, count = struct.unpack_from("<II", blob, 0)
    fmt = {2: "h", 4: "i", 8: "q"}.get(enc)
    if fmt is None:
        raise ValueError("intset with invalid encoding %d" % enc)
    if 8 + count * enc != size:
        raise ValueError("intset of %d x %d bytes in a %d-byte blob" % (count, enc, size))
    if count == 0:
        raise ValueError("empty intset")
    vals = list(struct.unpack_from("<%d%s" % (count, fmt), blob, 8))
    for i in range(1, count):
        if vals[i] <= vals[i - 1]:
            raise ValueError("intset not strictly ascending at index %d" % i)
    return vals


def zipmap_decode(zm: bytes) -> list[tuple[bytes, bytes]]:
    """The (field, value) pairs of a zipmap, checked as zipmapValidateIntegrity(deep=1)."""
    size = len(zm)
    if size < 2:
        raise ValueError("zipmap shorter than 2 bytes")
    end = size - 1

    def length(p: int) -> tuple[int, int]:
        if p > end:
            raise ValueError("zipmap entry at %d overflows" % p)
        b = zm[p]
        if b < 254:
            return b, p + 1
        if b == 254:
            if p + 5 > end:
                raise ValueError("zipmap entry at %d overflows" % p)
            return _u32.unpack_from(zm, p + 1)[0], p + 5
        raise ValueError("zipmap entry at %d: unexpected end marker" % p)

    out: list[tuple[bytes, bytes]] = []
    p = 1
    while True:
        if p > end:
            raise ValueError("zipmap lacks its terminator")
        if zm[p] == ZIP_END:
            break
        start = p
        n, p = length(p)
        if p + n > end:
            raise ValueError("zipmap entry at %d overflows" % start)
        field = zm[p : p + n]
        p += n
        n, p = length(p)
        if p + 1 > end:
            raise ValueError("zipmap entry at %d overflows" % start)
        free = zm[p]
        p += 1
        if p + n + free > end:
            raise ValueError("zipmap entry at %d overflows" % start)
        out.append((field, zm[p : p + n]))
        p += n + free
    if p != end:
        raise ValueError("zipmap ends at %d, not %d" % (p, end))
    if zm[0] < 254 and zm[0] != len(out):
        raise ValueError("zipmap header count %d != %d pairs" % (zm[0], len(out)))
    return out
