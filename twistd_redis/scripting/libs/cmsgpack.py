"""``cmsgpack``: lua-cmsgpack 0.4.0 (deps/lua/src/lua_cmsgpack.c) as Redis 7.0 loads it.

``pack(v1, v2, ...)`` concatenates the encoding of each argument.  A number that is a 64-bit
integer uses the smallest int/uint format; other numbers are a float32 when that is exact, else a
float64.  Strings use fixstr/str8/str16/str32.  A table whose keys are exactly 1..n is an array,
anything else a map (pairs in ``next`` order); tables nested 16 deep, nil, functions, userdata
(cjson.null included) and threads become nil.

``unpack(s)`` returns every value in ``s``; ``unpack_one(s[, offset])`` and
``unpack_limit(s, limit[, offset])`` return the offset to continue from (-1 at the end) first.
Unpacking pushes each result on the C function's stack, so (as in Redis) too many results at once
or a too deep nesting is a "stack overflow (...)" error; a uint64 above 2^63 comes back negative
(pushed as a signed lua_Integer).
"""

from __future__ import annotations

import struct
from typing import Any

from lupa import lua51

from twistd_redis.scripting.libs import (
    MAXCSTACK,
    Env,
    LibError,
    c_long,
    lua_number,
    typeerror,
    wrap_int32,
)

MAX_NESTING = 16
INT_MAX = 2147483647

_pack_f = struct.Struct(">f").pack
_unpack_f = struct.Struct(">f").unpack
_pack_d = struct.Struct(">d").pack
_unpack_from_f = struct.Struct(">f").unpack_from
_unpack_from_d = struct.Struct(">d").unpack_from
_u16 = struct.Struct(">H").unpack_from
_u32 = struct.Struct(">I").unpack_from
_u64 = struct.Struct(">Q").unpack_from
_i16 = struct.Struct(">h").unpack_from
_i32 = struct.Struct(">i").unpack_from
_i64 = struct.Struct(">q").unpack_from
_u8 = struct.Struct(">B").unpack_from
_i8 = struct.Struct(">b").unpack_from


def _u64_as_integer(u: int) -> Any:
    return lua_number(u - (1 << 64) if u >= 1 << 63 else u)  # lua_pushinteger((lua_Integer)u)


# type byte -> (payload size, unpack_from, conversion): uint 8/16/32/64, int 8/16/32/64, float, double
_FIXED = {
    0xCC: (1, _u8, None),
    0xCD: (2, _u16, None),
    0xCE: (4, _u32, None),
    0xCF: (8, _u64, _u64_as_integer),
    0xD0: (1, _i8, None),
    0xD1: (2, _i16, None),
    0xD2: (4, _i32, None),
    0xD3: (8, _i64, lua_number),
    0xCA: (4, _unpack_from_f, None),
    0xCB: (8, _unpack_from_d, None),
}

_TOO_MANY = b"stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"


class _Eof(Exception):
    pass


class _BadFmt(Exception):
    pass


def _encode_int(n: int) -> bytes:
    if n >= 0:
        if n <= 127:
            return bytes((n,))
        if n <= 0xFF:
            return b"\xcc" + bytes((n,))
        if n <= 0xFFFF:
            return b"\xcd" + n.to_bytes(2, "big")
        if n <= 0xFFFFFFFF:
            return b"\xce" + n.to_bytes(4, "big")
        return b"\xcf" + n.to_bytes(8, "big")
    if n >= -32:
        return bytes((n & 0xFF,))
    if n >= -128:
        return b"\xd0" + bytes((n & 0xFF,))
    if n >= -32768:
        return b"\xd1" + (n & 0xFFFF).to_bytes(2, "big")
    if n >= -2147483648:
        return b"\xd2" + (n & 0xFFFFFFFF).to_bytes(4, "big")
    return b"\xd3" + (n & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")


def _encode_double(d: float) -> bytes:
    try:
        f = _pack_f(d)
    except OverflowError:  # (float)d is an infinity: not exact
        return b"\xcb" + _pack_d(d)
    if _unpack_f(f)[0] == d:
        return b"\xca" + f
    return b"\xcb" + _pack_d(d)


def _encode_bytes(s: bytes) -> bytes:
    n = len(s)
    if n < 32:
        return bytes((0xA0 | n,)) + s
    if n <= 0xFF:
        return b"\xd9" + bytes((n,)) + s
    if n <= 0xFFFF:
        return b"\xda" + n.to_bytes(2, "big") + s
    return b"\xdb" + (n & 0xFFFFFFFF).to_bytes(4, "big") + s


def _header(n: int, fix: int, b16: bytes, b32: bytes) -> bytes:
    """An array or map header: fix (up to 15 entries), 16-bit or 32-bit count."""
    if n <= 15:
        return bytes((fix | n,))
    if n <= 0xFFFF:
        return b16 + n.to_bytes(2, "big")
    return b32 + (n & 0xFFFFFFFF).to_bytes(4, "big")


def _overflow(where: bytes) -> LibError:
    return LibError(b"stack overflow (in function " + where + b")")


_FIXSTR = [bytes((0xA0 | n,)) for n in range(32)]
_FIXINT = [bytes((n,)) for n in range(128)]


def _encode(v: Any, level: int, top: int, out: list, env: Any) -> None:
    """mp_encode_lua_type: append the encoding of ``v``; ``top`` = C stack slots in use (v included)."""
    t = type(v)
    if t is bytes:
        out.append(_FIXSTR[len(v)] + v if len(v) < 32 else _encode_bytes(v))
    elif t is int:
        out.append(_FIXINT[v] if 0 <= v < 128 else _encode_int(v))
    elif t is float:
        # lupa hands over an int whenever (int64_t)x == x, so a float is never int-equivalent
        out.append(_encode_double(v))
    elif t is bool:
        out.append(b"\xc3" if v else b"\xc2")
    elif v is not None and level != MAX_NESTING and _is_table(v):
        _encode_table(v, level, top, out, env)
    else:
        out.append(b"\xc0")


def _encode_table(v: Any, level: int, top: int, out: list, env: Any) -> None:
    if top + 2 > MAXCSTACK:
        raise _overflow(b"table_is_an_array")
    items = env.items(v)
    count = 0
    mx = 0
    array = True
    for k, _ in items:
        if type(k) is not int or k <= 0 or k > INT_MAX:
            array = False
            break
        if k > mx:
            mx = k
        count += 1
    append = out.append
    level += 1
    if array and mx == count:
        n = count
        append(_header(n, 0x90, b"\xdc", b"\xdd"))
        if top + 1 > MAXCSTACK:
            raise _overflow(b"mp_encode_lua_table_as_array")
        if n:
            values = dict(items)
            top += 1
            for j in range(1, n + 1):
                x = values[j]
                t = type(x)
                if t is bytes and len(x) < 32:
                    append(_FIXSTR[len(x)] + x)
                elif t is int and 0 <= x < 128:
                    append(_FIXINT[x])
                else:
                    _encode(x, level, top, out, env)
        return
    append(_header(len(items), 0x80, b"\xde", b"\xdf"))
    if top + 3 > MAXCSTACK:
        raise _overflow(b"mp_encode_lua_table_as_map")
    for k, x in items:
        if type(k) is bytes and len(k) < 32:
            append(_FIXSTR[len(k)] + k)
        else:
            _encode(k, level, top + 3, out, env)
        t = type(x)
        if t is bytes and len(x) < 32:
            append(_FIXSTR[len(x)] + x)
        elif t is int and 0 <= x < 128:
            append(_FIXINT[x])
        else:
            _encode(x, level, top + 2, out, env)


def _is_table(v: Any) -> bool:
    return lua51.lua_type(v) == "table"


def make_module(env: Env) -> Any:
    table_from = env.table_from
    new_table = env.table
    tolstring = env.tolstring
    tonumber = env.tonumber

    def pack(*args):
        nargs = len(args)
        if nargs == 0:
            raise LibError(b"MessagePack pack needs input.", 0)
        if nargs + nargs > MAXCSTACK:
            raise LibError(b"Too many arguments for MessagePack pack.", 0)
        out: list = []
        for i, v in enumerate(args):
            if nargs + i + 1 > MAXCSTACK:
                raise _overflow(b"mp_check")
            _encode(v, 0, nargs + i + 1, out, env)
        return (True, b"".join(out))

    def make_map(pairs: list) -> Any:
        for k, _ in pairs:
            if type(k) is bool:  # a dict would merge true with 1
                t = new_table()
                for kk, vv in pairs:
                    t[kk] = vv
                return t
        return table_from(dict(pairs))

    def decode_one(data: bytes, pos: int, slots: int) -> tuple[Any, int]:
        """mp_decode_to_lua_type for the value at ``pos`` with ``slots`` C stack slots in use."""
        n = len(data)
        frames: list = []  # [is_map, remaining, items, table_slots, pending_key, have_key]
        while True:
            if pos >= n:
                raise _Eof
            if slots + 1 > MAXCSTACK:
                raise LibError(_TOO_MANY)
            b = data[pos]
            container = -1  # -1 scalar, 0 array, 1 map
            if b <= 0x7F:
                value = b
                pos += 1
            elif b >= 0xE0:
                value = b - 256
                pos += 1
            elif 0xA0 <= b <= 0xBF:
                ln = b & 0x1F
                if n - pos < 1 + ln:
                    raise _Eof
                value = data[pos + 1 : pos + 1 + ln]
                pos += 1 + ln
            elif 0x90 <= b <= 0x9F:
                container, count = 0, b & 0xF
                pos += 1
            elif 0x80 <= b <= 0x8F:
                container, count = 1, b & 0xF
                pos += 1
            elif b == 0xC0:
                value = None
                pos += 1
            elif b == 0xC2:
                value = False
                pos += 1
            elif b == 0xC3:
                value = True
                pos += 1
            elif b in _FIXED:  # the fixed-width ints and floats
                size, unpack, convert = _FIXED[b]
                if n - pos < 1 + size:
                    raise _Eof
                value = unpack(data, pos + 1)[0]
                if convert is not None:
                    value = convert(value)
                pos += 1 + size
            elif b == 0xD9:
                if n - pos < 2:
                    raise _Eof
                ln = data[pos + 1]
                if n - pos < 2 + ln:
                    raise _Eof
                value = data[pos + 2 : pos + 2 + ln]
                pos += 2 + ln
            elif b == 0xDA:
                if n - pos < 3:
                    raise _Eof
                ln = _u16(data, pos + 1)[0]
                if n - pos < 3 + ln:
                    raise _Eof
                value = data[pos + 3 : pos + 3 + ln]
                pos += 3 + ln
            elif b == 0xDB:
                if n - pos < 5:
                    raise _Eof
                ln = _u32(data, pos + 1)[0]
                pos += 5
                if n - pos < ln:
                    raise _Eof
                value = data[pos : pos + ln]
                pos += ln
            elif b == 0xDC or b == 0xDE:
                if n - pos < 3:
                    raise _Eof
                container, count = (0 if b == 0xDC else 1), _u16(data, pos + 1)[0]
                pos += 3
            elif b == 0xDD or b == 0xDF:
                if n - pos < 5:
                    raise _Eof
                container, count = (0 if b == 0xDD else 1), _u32(data, pos + 1)[0]
                pos += 5
            else:
                raise _BadFmt
            if container >= 0:
                tslots = slots + 1  # the new table
                if container == 0 and tslots + 1 > MAXCSTACK:
                    raise _overflow(b"mp_decode_to_lua_array")
                if count:
                    frames.append([container, count, [], tslots, None, False])
                    slots = tslots + 1 if container == 0 else tslots
                    continue
                value = new_table()
            # a complete value: hand it to the enclosing containers
            while frames:
                f = frames[-1]
                if f[0] == 0:
                    f[2].append(value)
                    f[1] -= 1
                elif not f[5]:
                    f[4] = value
                    f[5] = True
                    slots = f[3] + 1
                    break
                else:
                    f[2].append((f[4], value))
                    f[5] = False
                    f[1] -= 1
                    key = f[4]
                    if key is None:
                        raise LibError(b"table index is nil", False)
                    if type(key) is float and key != key:
                        raise LibError(b"table index is NaN", False)
                if f[1]:
                    slots = f[3] + 1 if f[0] == 0 else f[3]
                    break
                frames.pop()
                value = table_from(f[2]) if f[0] == 0 else make_map(f[2])
            else:
                return value, pos

    def unpack_full(data: bytes, limit: int, offset: int, base: int) -> tuple:
        ln = len(data)
        if offset < 0 or limit < 0:
            raise LibError(
                b"Invalid request to unpack with offset of %d and limit of %d." % (wrap_int32(offset), wrap_int32(ln))
            )
        if offset > ln:
            raise LibError(b"Start offset %d greater than input length %d." % (wrap_int32(offset), wrap_int32(ln)))
        decode_all = not limit and not offset
        if decode_all:
            limit = INT_MAX
        pos = offset
        res: list = []
        try:
            while pos < ln and len(res) < limit:
                value, pos = decode_one(data, pos, base + len(res))
                res.append(value)
        except _Eof:
            raise LibError(b"Missing bytes in input.") from None
        except _BadFmt:
            raise LibError(b"Bad data format in input.") from None
        if not decode_all:
            if base + len(res) + 1 > MAXCSTACK:
                raise _overflow(b"mp_unpack_full")
            res.insert(0, -1 if pos == ln else pos)
        return (True, *res)

    def check_data(args: tuple, fname: bytes) -> bytes:
        s = tolstring(args[0]) if args else None
        if s is None:
            raise typeerror(args, 1, b"string")
        return s

    def optinteger(args: tuple, i: int, default: int) -> int:
        if len(args) < i or args[i - 1] is None:
            return default
        return checkinteger(args, i)

    def checkinteger(args: tuple, i: int) -> int:
        v = tonumber(args[i - 1]) if len(args) >= i else None
        if v is None:
            raise typeerror(args, i, b"number")
        return c_long(v)

    def unpack(*args):
        return unpack_full(check_data(args, b"unpack"), 0, 0, len(args))

    def unpack_one(*args):
        offset = optinteger(args, 2, 0)
        return unpack_full(check_data(args[:1], b"unpack_one"), 1, offset, 1)

    def unpack_limit(*args):
        limit = checkinteger(args, 2)
        offset = optinteger(args, 3, 0)
        return unpack_full(check_data(args[:1], b"unpack_limit"), limit, offset, 1)

    return env.module(
        {
            b"pack": env.one(pack, "pack"),
            b"unpack": env.many(unpack, "unpack"),
            b"unpack_one": env.many(unpack_one, "unpack_one"),
            b"unpack_limit": env.many(unpack_limit, "unpack_limit"),
            b"_NAME": b"cmsgpack",
            b"_VERSION": b"lua-cmsgpack 0.4.0",
            b"_COPYRIGHT": b"Copyright (C) 2012, Salvatore Sanfilippo",
            b"_DESCRIPTION": b"MessagePack C implementation for Lua",
        }
    )

