"""``bit``: Lua BitOp 1.0.2 (deps/lua/src/lua_bit.c) as Redis 7.0 loads it.

Every operation works on 32-bit words and returns a signed 32-bit number.  An argument becomes a
word the way BitOp's ``barg`` does it: the Lua number plus 2^52+2^51, keep the low 32 bits of the
double's bit pattern - integers wrap modulo 2^32, fractions round to nearest-even (2.5 -> 2),
numeric strings are converted like Lua does (' 0x10 ' -> 16), anything else is a
``number expected, got <type>`` argument error.
"""

from __future__ import annotations

import struct
from typing import Any

from twistd_redis.scripting.libs import Env, typeerror

_pack_d = struct.Struct("<d").pack
_unpack_q = struct.Struct("<Q").unpack
_MASK = 0xFFFFFFFF
_LIMIT = 1 << 51
_HEX = b"0123456789abcdef"
_HEXU = b"0123456789ABCDEF"


def make_module(env: Env) -> Any:
    tonumber = env.tonumber

    def barg(args: tuple, i: int) -> int:
        """The 32-bit word (unsigned) of argument i (1-based)."""
        try:
            v = args[i - 1]
        except IndexError:
            raise typeerror(args, i, b"number") from None
        t = type(v)
        if t is int and -_LIMIT <= v < _LIMIT:
            return v & _MASK
        if t is not int and t is not float:
            v = tonumber(v) if t is bytes else None
            if v is None:
                raise typeerror(args, i, b"number")
            if type(v) is int and -_LIMIT <= v < _LIMIT:
                return v & _MASK
        return _unpack_q(_pack_d(float(v) + 6755399441055744.0))[0] & _MASK

    def ret(b: int) -> tuple:
        return (True, b - 0x100000000 if b & 0x80000000 else b)

    def tobit(*args):
        return ret(barg(args, 1))

    def bnot(*args):
        return ret(~barg(args, 1) & _MASK)

    def band(*args):
        b = barg(args, 1)
        for i in range(len(args), 1, -1):
            b &= barg(args, i)
        return ret(b)

    def bor(*args):
        b = barg(args, 1)
        for i in range(len(args), 1, -1):
            b |= barg(args, i)
        return ret(b)

    def bxor(*args):
        b = barg(args, 1)
        for i in range(len(args), 1, -1):
            b ^= barg(args, i)
        return ret(b)

    def lshift(*args):
        b = barg(args, 1)
        return ret((b << (barg(args, 2) & 31)) & _MASK)

    def rshift(*args):
        b = barg(args, 1)
        return ret(b >> (barg(args, 2) & 31))

    def arshift(*args):
        b = barg(args, 1)
        n = barg(args, 2) & 31
        s = b - 0x100000000 if b & 0x80000000 else b
        return ret((s >> n) & _MASK)

    def rol(*args):
        b = barg(args, 1)
        n = barg(args, 2) & 31
        return ret(((b << n) | (b >> (32 - n))) & _MASK)

    def ror(*args):
        b = barg(args, 1)
        n = barg(args, 2) & 31
        return ret(((b << (32 - n)) | (b >> n)) & _MASK)

    def bswap(*args):
        b = barg(args, 1)
        return ret(((b >> 24) | ((b >> 8) & 0xFF00) | ((b & 0xFF00) << 8) | (b << 24)) & _MASK)

    def tohex(*args):
        b = barg(args, 1)
        if len(args) < 2:
            n = 8
        else:
            n = barg(args, 2)
            n = n - 0x100000000 if n & 0x80000000 else n
        digits = _HEX
        if n < 0:
            n = -n
            digits = _HEXU
        if n > 8:  # also -INT_MIN, which Redis's build treats as large: 8 uppercase digits
            n = 8
        out = bytearray(n)
        for i in range(n - 1, -1, -1):
            out[i] = digits[b & 15]
            b >>= 4
        return (True, bytes(out))

    fns = {
        "tobit": tobit,
        "bnot": bnot,
        "band": band,
        "bor": bor,
        "bxor": bxor,
        "lshift": lshift,
        "rshift": rshift,
        "arshift": arshift,
        "rol": rol,
        "ror": ror,
        "bswap": bswap,
        "tohex": tohex,
    }
    return env.module({name.encode(): env.one(fn, name) for name, fn in fns.items()})
