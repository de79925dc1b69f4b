"""Redis listpacks (listpack.c, Redis 7.0): decode, encode byte-identically, validate.

Layout: ``<total-bytes u32 LE> <num-elements u16 LE> <entry>* <0xFF>``; each entry is
``<encoding+data> <back-length>`` where the back-length is the size of encoding+data written
7 bits a byte, read from right to left (the high bit of a byte says "more bytes to the left").

Encodings (first byte):
  0xxxxxxx           7-bit unsigned integer 0..127
  10xxxxxx           string, 6-bit length
  110xxxxx + 1 byte  13-bit signed integer
  1110xxxx + 1 byte  string, 12-bit length
  11110000 + u32 LE  string, 32-bit length
  0xF1 / F2 / F3 / F4  16 / 24 / 32 / 64-bit signed integer, little endian
  0xFF               end of the listpack

Decoding returns integers as Python ``int`` and strings as ``bytes``. Encoding follows
``lpEncodeGetType``: a string that ``lpStringToInt64`` accepts (canonical decimal: no sign
other than a leading ``-``, no leading zeros, no ``-0``, fits an int64, under 21 bytes) is
stored as an integer in the smallest integer encoding; anything else in the smallest string one.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Union

__all__ = [
    "LP_HDR_NUMELE_UNKNOWN",
    "LP_HDR_SIZE",
    "listpack_decode",
    "listpack_encode",
    "listpack_iter",
    "listpack_validate",
    "lp_string_to_int64",
]

LP_HDR_SIZE = 6
LP_HDR_NUMELE_UNKNOWN = 65535
LP_EOF = 0xFF

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

Item = Union[bytes, int]


def lp_string_to_int64(s: bytes) -> int | None:
    """``lpStringToInt64``: the integer a canonical decimal string denotes, else None."""
    n = len(s)
    if n == 0 or n >= 21:
        return None
    if n == 1 and s == b"0":
        return 0
    i = 0
    if s[0] == 0x2D:  # '-'
        i = 1
        if n == 1:
            return None
    if not (0x31 <= s[i] <= 0x39):
        return None
    for b in s[i + 1 :]:
        if not (0x30 <= b <= 0x39):
            return None
    v = int(s)
    if v < INT64_MIN or v > INT64_MAX:
        return None
    return v


def _encode_backlen(l: int) -> bytes:
    if l <= 127:
        return bytes((l,))
    if l < 16383:
        return bytes((l >> 7, (l & 127) | 128))
    if l < 2097151:
        return bytes((l >> 14, ((l >> 7) & 127) | 128, (l & 127) | 128))
    if l < 268435455:
        return bytes((l >> 21, ((l >> 14) & 127) | 128, ((l >> 7) & 127) | 128, (l & 127) | 128))
    return bytes((l >> 28, ((l >> 21) & 127) | 128, ((l >> 14) & 127) | 128, ((l >> 7) & 127) | 128, (l & 127) | 128))


def _encode_int(v: int) -> bytes:
    if 0 <= v <= 127:
        return bytes((v,))
    if -4096 <= v <= 4095:
        if v < 0:
            v += 1 << 13
        return bytes(((v >> 8) | 0xC0, v & 0xFF))
    if -32768 <= v <= 32767:
        return b"\xf1" + (v & 0xFFFF).to_bytes(2, "little")
    if -8388608 <= v <= 8388607:
        return b"\xf2" + (v & 0xFFFFFF).to_bytes(3, "little")
    if -2147483648 <= v <= 2147483647:
        return b"\xf3" + (v & 0xFFFFFFFF).to_bytes(4, "little")
    if INT64_MIN <= v <= INT64_MAX:
        return b"\xf4" + (v & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
    raise OverflowError("listpack integer out of int64 range: %d" % v)


def _encode_str(s: bytes) -> bytes:
    n = len(s)
    if n < 64:
        return bytes((0x80 | n,)) + s
    if n < 4096:
        return bytes(((n >> 8) | 0xE0, n & 0xFF)) + s
    return b"\xf0" + n.to_bytes(4, "little") + s


def encode_entry(item: Item) -> bytes:
    """One entry (encoding + data + back-length) as lpAppend writes it."""
    if isinstance(item, int) and not isinstance(item, bool):
        enc = _encode_int(item)
    else:
        s = bytes(item)
        v = lp_string_to_int64(s)
        enc = _encode_int(v) if v is not None else _encode_str(s)
    return enc + _encode_backlen(len(enc))


def listpack_encode(items: Iterable[Item]) -> bytes:
    """A listpack holding ``items`` in order, byte-identical to Redis's lpAppend output."""
    parts = [encode_entry(it) for it in items]
    count = len(parts)
    body = b"".join(parts)
    total = LP_HDR_SIZE + len(body) + 1
    if total > 0xFFFFFFFF:
        raise OverflowError("listpack too large")
    numele = min(LP_HDR_NUMELE_UNKNOWN, count)
    return struct.pack("<IH", total, numele) + body + b"\xff"


def _entry_at(buf, p: int, end: int) -> tuple[Item, int]:
    """Decode the entry at ``p`` (``end`` = offset of the EOF byte); return (item, next offset).

    Raises ValueError when the entry, its length or its back-length runs past ``end`` or
    disagrees with itself (lpValidateNext)."""
    b = buf[p]
    if b < 0x80:
        item: Item = b
        enclen = 1
    elif b < 0xC0:  # 6-bit string
        n = b & 0x3F
        enclen = 1 + n
        if p + enclen > end:
            raise ValueError("listpack string entry overflows")
        item = bytes(buf[p + 1 : p + enclen])
    elif b < 0xE0:  # 13-bit int
        enclen = 2
        if p + 2 > end:
            raise ValueError("listpack entry overflows")
        uv = ((b & 0x1F) << 8) | buf[p + 1]
        item = uv - (1 << 13) if uv >= (1 << 12) else uv
    elif b < 0xF0:  # 12-bit string
        if p + 2 > end:
            raise ValueError("listpack entry overflows")
        n = ((b & 0x0F) << 8) | buf[p + 1]
        enclen = 2 + n
        if p + enclen > end:
            raise ValueError("listpack string entry overflows")
        item = bytes(buf[p + 2 : p + enclen])
    elif b == 0xF0:  # 32-bit string
        if p + 5 > end:
            raise ValueError("listpack entry overflows")
        n = int.from_bytes(buf[p + 1 : p + 5], "little")
        enclen = 5 + n
        if p + enclen > end:
            raise ValueError("listpack string entry overflows")
        item = bytes(buf[p + 5 : p + enclen])
    elif 0xF1 <= b <= 0xF4:
        width = (2, 3, 4, 8)[b - 0xF1]
        enclen = 1 + width
        if p + enclen > end:
            raise ValueError("listpack entry overflows")
        uv = int.from_bytes(buf[p + 1 : p + enclen], "little")
        bits = width * 8
        item = uv - (1 << bits) if uv >= (1 << (bits - 1)) else uv
    else:
        raise ValueError("invalid listpack encoding byte 0x{:02x}".format(b))
    # back-length: the minimal encoding of enclen follows the entry
    bl = 1 if enclen <= 127 else 2 if enclen < 16383 else 3 if enclen < 2097151 else 4 if enclen < 268435455 else 5
    q = p + enclen
    if q + bl > end:
        raise ValueError("listpack back-length overflows")
    # decode it right to left as lpDecodeBacklen does
    val = 0
    shift = 0
    i = q + bl - 1
    while True:
        c = buf[i]
        val |= (c & 127) << shift
        if not (c & 128):
            break
        shift += 7
        i -= 1
        if i < q or shift > 28:
            raise ValueError("listpack back-length is corrupt")
    if val != enclen or i != q:
        raise ValueError("listpack back-length mismatch")
    return item, q + bl


def _check_header(buf) -> tuple[int, int]:
    n = len(buf)
    if n < LP_HDR_SIZE + 1:
        raise ValueError("listpack shorter than its header")
    total, numele = struct.unpack_from("<IH", buf, 0)
    if total != n:
        raise ValueError("listpack header total bytes %d != size %d" % (total, n))
    if buf[n - 1] != LP_EOF:
        raise ValueError("listpack lacks its terminator")
    return numele, n - 1


def listpack_iter(buf) -> Iterator[Item]:
    """Iterate the entries of a listpack, checking each one as it goes."""
    numele, end = _check_header(buf)
    p = LP_HDR_SIZE
    count = 0
    while p < end:
        item, p = _entry_at(buf, p, end)
        count += 1
        yield item
    if numele != LP_HDR_NUMELE_UNKNOWN and numele != count:
        raise ValueError("listpack header count %d != %d entries" % (numele, count))


def listpack_decode(buf) -> list[Item]:
    """Every entry of a listpack: ints for integer encodings, bytes for strings.

    Raises ValueError on a corrupt listpack (the same checks as listpack_validate)."""
    return list(listpack_iter(buf))


def listpack_validate(buf) -> int:
    """lpValidateIntegrity(deep=1): raise ValueError unless ``buf`` is a sound listpack.

    Returns the number of entries."""
    n = 0
    for _ in listpack_iter(buf):
        n += 1
    return n
