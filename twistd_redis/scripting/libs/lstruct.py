"""``struct``: Roberto Ierusalimschy's struct library (deps/lua/src/lua_struct.c) as Redis 7.0 loads it.

Formats: ``>`` big / ``<`` little endian (default little, the host's), ``![n]`` max alignment
(default 8), ``x`` a zero byte, ``b/B`` char, ``h/H`` short, ``l/L`` long (8), ``T`` size_t (8),
``i/I[n]`` int of n bytes (default 4, at most 32), ``f`` float, ``d`` double, ``c[n]`` n chars
(pack ``c0``: the whole string; unpack ``c0``: the previous number is the length), ``s`` a
zero-terminated string, ``' '`` ignored.  Integers go through C's 64-bit ``long``: a wider field
keeps 8 significant bytes (the rest zeros), a double out of range converts like gcc does on x86-64.

Quirks kept from the C code: a missing pack argument reads as nil (the C code pushed a nil mark
after the arguments), "string too short" names the argument after the string, unpack's 'c0'
length may be a previous numeric *string*, and the offset check only refuses 0 (a negative one
wraps around to a huge size_t and fails as "data string too short").
"""

from __future__ import annotations

import struct
from typing import Any

from twistd_redis.scripting.libs import (
    MAXCSTACK,
    Env,
    LibError,
    argtype,
    c_long,
    c_uint64,
    lua_number,
    typeerror,
)

MAXINTSIZE = 32
MAXALIGN = 8
INT_MAX = 2147483647
M64 = (1 << 64) - 1
BIG, LITTLE = 0, 1

_SIZES = {
    ord("B"): 1, ord("b"): 1, ord("H"): 2, ord("h"): 2, ord("L"): 8, ord("l"): 8,
    ord("T"): 8, ord("f"): 4, ord("d"): 8, ord("x"): 1,
}  # fmt: skip
_INTS = frozenset(b"bBhHlLTiI")
_SIGNED = frozenset(b"bhli")
_DIGITS = frozenset(b"0123456789")
_ALNUM = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_F = {BIG: struct.Struct(">f"), LITTLE: struct.Struct("<f")}
_D = {BIG: struct.Struct(">d"), LITTLE: struct.Struct("<d")}


def _getnum(fmt: bytes, i: int, df: int) -> tuple[int, int]:
    if i >= len(fmt) or fmt[i] not in _DIGITS:
        return df, i
    a = 0
    while i < len(fmt) and fmt[i] in _DIGITS:
        d = fmt[i] - 48
        if a > INT_MAX // 10 or a * 10 > INT_MAX - d:
            raise LibError(b"integral size overflow")
        a = a * 10 + d
        i += 1
    return a, i


def _optsize(opt: int, fmt: bytes, i: int) -> tuple[int, int]:
    size = _SIZES.get(opt)
    if size is not None:
        return size, i
    if opt == 99:  # 'c'
        return _getnum(fmt, i, 1)
    if opt == 105 or opt == 73:  # 'i' 'I'
        sz, i = _getnum(fmt, i, 4)
        if sz > MAXINTSIZE:
            raise LibError(b"integral size %d is larger than limit of %d" % (sz, MAXINTSIZE))
        return sz, i
    return 0, i


def _toalign(length: int, align: int, opt: int, size: int) -> int:
    if size == 0 or opt == 99:
        return 0
    if size > align:
        size = align
    return (size - (length & (size - 1))) & (size - 1)


def _control(opt: int, fmt: bytes, i: int, h: list) -> int:
    """Options that set endianness/alignment; h = [endian, align]. Returns the new fmt index."""
    if opt == 32:  # ' '
        return i
    if opt == 62:  # '>'
        h[0] = BIG
        return i
    if opt == 60:  # '<'
        h[0] = LITTLE
        return i
    if opt == 33:  # '!'
        a, i = _getnum(fmt, i, MAXALIGN)
        if not (a > 0 and (a & (a - 1)) == 0):
            raise LibError(b"alignment %d is not a power of 2" % a)
        h[1] = a
        return i
    raise LibError(b"invalid format option '%c'" % opt, 1)


def _fmt_arg(args: tuple, env: Env) -> bytes:
    """luaL_checkstring(L, 1), as a C string (stops at the first NUL)."""
    fmt = env.tolstring(args[0]) if args else None
    if fmt is None:
        raise typeerror(args, 1, b"string")
    nul = fmt.find(b"\0")
    return fmt if nul < 0 else fmt[:nul]


def _getinteger(data: bytes, pos: int, endian: int, signed: bool, size: int) -> Any:
    chunk = data[pos : pos + size]
    if endian == BIG:
        v = int.from_bytes(chunk, "big") & M64
    else:
        v = int.from_bytes(chunk, "little") & M64
    if not signed:
        return lua_number(v)
    mask = (M64 << ((size * 8 - 1) & 63)) & M64  # the C shift count wraps modulo 64
    if v & mask:
        v |= mask
    if v >= 1 << 63:
        v -= 1 << 64
    return lua_number(v)


def make_module(env: Env) -> Any:
    tonumber = env.tonumber
    tolstring = env.tolstring

    def pack(*args):
        fmt = _fmt_arg(args, env)
        nargs = len(args)
        h = [LITTLE, 1]
        arg = 2
        out = bytearray()
        total = 0
        i = 0
        n = len(fmt)
        while i < n:
            opt = fmt[i]
            i += 1
            size, i = _optsize(opt, fmt, i)
            pad = _toalign(total, h[1], opt, size)
            if pad:
                total += pad
                out += bytes(pad)
            if opt in _INTS:
                v = tonumber(args[arg - 1]) if arg <= nargs else None
                if v is None:
                    raise _missing(args, arg, b"number")
                arg += 1
                value = c_uint64(v)
                if h[0] == LITTLE:
                    if size <= 8:
                        out += (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
                    else:
                        out += value.to_bytes(8, "little") + bytes(size - 8)
                else:
                    if size <= 8:
                        out += (value & ((1 << (8 * size)) - 1)).to_bytes(size, "big")
                    else:
                        out += bytes(size - 8) + value.to_bytes(8, "big")
            elif opt == 120:  # 'x'
                out.append(0)
            elif opt == 102 or opt == 100:  # 'f' 'd'
                v = tonumber(args[arg - 1]) if arg <= nargs else None
                if v is None:
                    raise _missing(args, arg, b"number")
                arg += 1
                if opt == 100:
                    out += _D[h[0]].pack(float(v))
                else:
                    try:
                        out += _F[h[0]].pack(float(v))
                    except OverflowError:  # C's (float) conversion gives an infinity
                        out += _F[h[0]].pack(float("inf") if v > 0 else float("-inf"))
            elif opt == 99 or opt == 115:  # 'c' 's'
                s = tolstring(args[arg - 1]) if arg <= nargs else None
                if s is None:
                    raise _missing(args, arg, b"string")
                arg += 1
                if size == 0:
                    size = len(s)
                if len(s) < size:
                    raise LibError(b"string too short", arg)
                out += s[:size] if size != len(s) else s
                if opt == 115:
                    out.append(0)
                    size += 1
            else:
                i = _control(opt, fmt, i, h)
            total += size
        return (True, bytes(out))

    def unpack(*args):
        fmt = _fmt_arg(args, env)
        data = tolstring(args[1]) if len(args) >= 2 else None
        if data is None:
            raise typeerror(args, 2, b"string")
        ld = len(data)
        if len(args) >= 3 and args[2] is not None:
            p = tonumber(args[2])
            if p is None:
                raise typeerror(args, 3, b"number")
            pos = c_long(p) & M64
        else:
            pos = 1
        if pos == 0:
            raise LibError(b"offset must be 1 or greater", 3)
        pos = (pos - 1) & M64
        base = len(args)  # stack slots of the C frame before any result
        h = [LITTLE, 1]
        res: list = []
        i = 0
        n = len(fmt)
        while i < n:
            opt = fmt[i]
            i += 1
            size, i = _optsize(opt, fmt, i)
            pos = (pos + _toalign(pos, h[1], opt, size)) & M64
            if not (size <= ld and pos <= ld - size):
                raise LibError(b"data string too short", 2)
            if base + len(res) + 2 > MAXCSTACK:
                raise LibError(b"stack overflow (too many results)")
            if opt in _INTS:
                res.append(_getinteger(data, pos, h[0], opt in _SIGNED, size))
            elif opt == 120:  # 'x'
                pass
            elif opt == 102:  # 'f'
                res.append(_F[h[0]].unpack_from(data, pos)[0])
            elif opt == 100:  # 'd'
                res.append(_D[h[0]].unpack_from(data, pos)[0])
            elif opt == 99:  # 'c'
                if size == 0:
                    prev = tonumber(res[-1]) if res else None
                    if prev is None:
                        raise LibError(b"format 'c0' needs a previous size")
                    size = c_uint64(prev)
                    res.pop()
                    if not (size <= ld and pos <= ld - size):
                        raise LibError(b"data string too short", 2)
                res.append(data[pos : pos + size])
            elif opt == 115:  # 's'
                e = data.find(b"\0", pos)
                if e < 0:
                    raise LibError(b"unfinished string in data")
                size = e - pos + 1
                res.append(data[pos:e])
            else:
                i = _control(opt, fmt, i, h)
            pos = (pos + size) & M64
        nxt = (pos + 1) & M64
        res.append(nxt - (1 << 64) if nxt >= 1 << 63 else nxt)
        return (True, *res)

    def size(*args):
        fmt = _fmt_arg(args, env)
        h = [LITTLE, 1]
        pos = 0
        i = 0
        n = len(fmt)
        while i < n:
            opt = fmt[i]
            i += 1
            sz, i = _optsize(opt, fmt, i)
            pos += _toalign(pos, h[1], opt, sz)
            if opt == 115:
                raise LibError(b"option 's' has no fixed size", 1)
            if opt == 99 and sz == 0:
                raise LibError(b"option 'c0' has no fixed size", 1)
            if opt not in _ALNUM:
                i = _control(opt, fmt, i, h)
            pos += sz
        return (True, pos)

    return env.module(
        {b"pack": env.one(pack, "pack"), b"unpack": env.many(unpack, "unpack"), b"size": env.one(size, "size")}
    )


def _missing(args: tuple, arg: int, expected: bytes) -> LibError:
    """luaL_check* failing on pack argument ``arg``: past the arguments sits the nil mark."""
    if arg > len(args):
        return LibError(b"%s expected, got nil" % expected, arg)
    return LibError(b"%s expected, got %s" % (expected, argtype(args, arg)), arg)
