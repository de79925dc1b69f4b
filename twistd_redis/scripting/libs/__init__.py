"""The four C libraries Redis 7.0.15 gives scripts - cjson, cmsgpack, struct, bit - for lupa's Lua 5.1.

PUC Lua 5.1 as lupa ships it has none of them, so they are rebuilt here in Python (``cjson.py``,
``cmsgpack.py``, ``lstruct.py``, ``bit.py``) with Redis's results, number formats and error texts
(deps/lua/src/lua_cjson.c, lua_cmsgpack.c, lua_struct.c, lua_bit.c of Redis 7.0).

``install(lua, G, wrap)`` is called once per Lua runtime by the engine's bootstrap, before the
sandbox is locked, and sets ``G.cjson``, ``G.cmsgpack``, ``G.struct`` and ``G.bit``.

How a library function reaches Python.  Each implementation is a Python function returning
``(True, *results)`` or raising ``LibError``, which stands for the C library's ``luaL_error``
(positioned at the Lua code that called the function: ``user_script:1: Expected value but
found ...``), ``luaL_argerror`` (``bad argument #1 to 'e' (...)``, the function named as its caller
spelled it, ``'?'`` through pcall, ``calling 'band' on bad self`` for a method call) or a Lua
runtime error inside the C function (no position: ``table index is nil``).

* Under the engine, ``wrap`` (a Python function) turns it into the Python callable the script
  calls: a C function to Lua, which keeps its caller's frame even in ``return cjson.decode(x)``;
  the wrap positions messages, ``fname`` (below) names the function for argument errors.
* On a bare runtime (unit tests: a Lua ``wrap`` or none) each function is a Lua closure of the
  glue chunk below, raising with ``error(msg, 3)``.  A closure cannot keep a tail caller's frame:
  there ``return cjson.decode(x)`` errors lose their position.

Known differences from Redis, all below this package: lupa hands a Lua ``-0`` to Python as the
integer 0 (``cjson.encode(-0.0)`` gives ``0``, Redis ``-0``; ``struct.pack('d', -0.0)`` packs +0);
``cjson.null`` is a ``newproxy()`` userdata, so ``tostring(cjson.null)`` shows an address where
Redis shows ``userdata: (nil)``; and Redis's Lua hashes every byte of a string (redis#9449) where
stock Lua 5.1 samples strings of 32 bytes and more, so ``next`` order - the key order of encoded
objects and maps - differs for such keys.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from lupa import lua51

#: Chunk name of the glue closures (frames an error handler should look through, like C frames).
LIBS_CHUNKNAME = "=[twistd_redis.scripting.libs]"

_GLUE = r"""
local getinfo, error, unpack, tostring, BIG = ...

-- Raise like luaL_error (narg == nil) or luaL_argerror (narg set) from the library function one
-- frame up (level 2), for the code that called it (level 3).
local function raise(msg, narg, fname)
  if narg == false then error(msg, 0) end
  if narg then
    local name, namewhat = fname, nil
    if getinfo then
      local ar = getinfo(2, 'n')
      name, namewhat = ar and ar.name, ar and ar.namewhat
      if name == nil then
        local up = getinfo(3, 'S')
        if up and up.what == 'tail' then name = fname end
      end
    end
    if namewhat == 'method' then
      narg = narg - 1
      if narg == 0 then
        error("calling '" .. tostring(name) .. "' on bad self (" .. msg .. ")", 3)
      end
    end
    msg = 'bad argument #' .. narg .. " to '" .. (name or '?') .. "' (" .. msg .. ')'
  end
  error(msg, 3)
end

-- A library function with one result.
local function one(fn, fname)
  return function(...)
    local ok, r, narg = fn(...)
    if ok then return r end
    raise(r, narg, fname)
  end
end

-- A library function with any number of results: fn returns (true, n, r1..rn); for more results
-- than one C call frame may hold it returns BIG and fetch() hands them over.
local function many(fn, fname, fetch)
  return function(...)
    local r = {fn(...)}
    local ok = r[1]
    if ok == true then return unpack(r, 3, r[2] + 2) end
    if ok == BIG then return fetch() end
    raise(r[2], r[3], fname)
  end
end

-- luaL_argerror's view from Python: the name and namewhat of the C function (the Python
-- callable) that called Python, as its caller named it.
local function fname()
  local ar = getinfo and getinfo(2, 'n')
  if ar then return ar.name, ar.namewhat end
end

return one, many, fname
"""

# LUAI_MAXCSTACK: lua_checkstack() refuses to grow a C function's frame past this many slots.
MAXCSTACK = 8000

_INT32 = 1 << 32


class Env:
    """What every library needs from the runtime, captured at install time, and the binding of
    the Python implementations as the functions a script calls."""

    def __init__(self, lua: Any, G: Any, wrap: Any = None) -> None:
        self.lua = lua
        self.table_from = lua.table_from
        self.table = lua.table
        self.big = lua.table()  # marker: "results too many for one frame, fetch them"
        self.lua_table_type = type(self.big)
        # cjson.null: Redis pushes a NULL lightuserdata, which Lua code cannot make; a bare
        # userdata from newproxy() behaves the same (type 'userdata', no metatable, equal only
        # to itself) except that tostring() shows its address instead of 'userdata: (nil)'.
        self.null = G[b"newproxy"](False)
        self._tonumber = G[b"tonumber"]
        self.rawequal = G[b"rawequal"]
        debug = G[b"debug"]
        getinfo = debug[b"getinfo"] if debug is not None else None
        one, many, fname = lua.execute(
            _GLUE, getinfo, G[b"error"], G[b"unpack"], G[b"tostring"], self.big, name=LIBS_CHUNKNAME
        )
        self._one = one
        self._many = many
        self._fname = fname
        # The engine's wrap is a Python function (library functions are then Python callables,
        # C functions to Lua); a Lua wrap (or none) means a bare runtime: our Lua glue instead.
        self._wrap = wrap if wrap is not None and lua51.lua_type(wrap) is None else None
        self.backing: Any = None  # the sandbox's read-only proxy -> real table map, when given

    def items(self, tbl: Any) -> list:
        """A table's (key, value) pairs in ``next`` order, as a C library iterates it.  Redis's
        read-only tables are the tables themselves; the engine's are empty proxies: when one
        is handed over (an empty table with a backing table), its real table's pairs."""
        items = list(tbl.items())
        if not items and self.backing is not None:
            real = self.backing[tbl]
            if real is not None:
                return list(real.items())
        return items

    def tonumber(self, v: Any) -> Any:
        """lua_tonumber: a number, a string Lua converts (' 0x10 ', '1e3'), else None."""
        t = type(v)
        if t is int or t is float:
            return v
        if t is bytes:
            return self._tonumber(v)
        return None

    def tolstring(self, v: Any) -> Any:
        """lua_tolstring: a string, a number as Lua prints it, else None."""
        t = type(v)
        if t is bytes:
            return v
        if t is int or t is float:
            return fmt_number(v)
        return None

    def one(self, fn: Callable, name: str) -> Any:
        """The library function ``name`` from ``fn(*args) -> (True, result)`` (or LibError)."""
        if self._wrap is not None:
            return self._bind(fn)
        return self._one(_guard(fn), name.encode())

    def many(self, fn: Callable, name: str) -> Any:
        """The library function ``name`` from ``fn(*args) -> (True, *results)`` (or LibError)."""
        if self._wrap is not None:
            return self._bind(fn)
        pending: list = []

        def call(*args):
            res = fn(*args)
            n = len(res) - 1
            if n > MAXCSTACK - 10:
                pending.append(res[1:])
                return (self.big,)
            return (True, n, *res[1:])

        def fetch():
            return pending.pop()

        return self._many(_guard(call), name.encode(), fetch)

    def _bind(self, fn: Callable) -> Any:
        """Through the engine's wrap: a luaL_error message is positioned by wrap itself; a
        luaL_argerror message gets the function's name as its caller spelled it."""
        fname = self._fname

        def pyfn(*args):
            try:
                return fn(*args)
            except LibError as e:
                narg = e.narg
                if narg is None:
                    return (False, e.msg)
                if narg is False:
                    return (False, _raw_error(e.msg))
                name, namewhat = fname()
                if name is None:
                    name = b"?"
                if namewhat == b"method":
                    narg -= 1
                    if narg == 0:
                        return (False, b"calling '%s' on bad self (%s)" % (name, e.msg))
                return (False, b"bad argument #%d to '%s' (%s)" % (narg, name, e.msg))
            except RecursionError:
                return (False, b"stack overflow")
            except Exception as e:  # pragma: no cover - a bug, reported as a script error
                return (False, f"internal error in library: {type(e).__name__}: {e}".encode())

        wrap = self._wrap
        wrapped = None

        def lib_function(*args):
            # wrap() on first use: the engine's wrap needs its runtime fully bootstrapped
            nonlocal wrapped
            if wrapped is None:
                wrapped = wrap(pyfn)
            return wrapped(*args)

        return lib_function

    def module(self, fields: dict) -> Any:
        """A Lua table holding ``fields`` (bytes keys) in this insertion order."""
        t = self.lua.table()
        for k, v in fields.items():
            t[k] = v
        return t


class LibError(Exception):
    """An error a library raises in Lua: luaL_error(msg) or, with ``narg``, luaL_argerror(narg, msg);
    ``narg=False``: a Lua runtime error raised inside the C function (no position, e.g. 'table
    index is nil' from lua_settable)."""

    def __init__(self, msg: bytes, narg: int | bool | None = None) -> None:
        super().__init__(msg, narg)
        self.msg = msg
        self.narg = narg


def typeerror(args: tuple, narg: int, expected: bytes) -> LibError:
    """luaL_typerror: 'bad argument #narg to ... (number expected, got nil)'."""
    return LibError(b"%s expected, got %s" % (expected, argtype(args, narg)), narg)


def _guard(fn: Callable) -> Callable:
    """A Python callback never raises into Lua: errors come back as (False, msg, narg)."""

    def guarded(*args):
        try:
            return fn(*args)
        except LibError as e:
            return (False, e.msg, e.narg)
        except RecursionError:
            return (False, b"stack overflow")
        except Exception as e:  # pragma: no cover - a bug, reported as a script error
            return (False, f"internal error in library: {type(e).__name__}: {e}".encode())

    return guarded


# ---------------------------------------------------------------------------- Lua value helpers


def _raw_error(msg: bytes) -> Any:
    """A Lua runtime error raised inside a C function: no position (the engine's LuaRaise)."""
    try:
        from twistd_redis.scripting.engine import LuaRaise
    except ImportError:  # pragma: no cover
        return msg
    raise LuaRaise(msg)


def typename(v: Any) -> bytes:
    """lua_typename(lua_type(v)) for a value as lupa hands it to Python."""
    t = type(v)
    if v is None:
        return b"nil"
    if t is bool:
        return b"boolean"
    if t is int or t is float:
        return b"number"
    if t is bytes:
        return b"string"
    lt = lua51.lua_type(v)
    if lt is None:  # a Python object: a C function (redis.call, a library function) or a userdata
        return b"function" if callable(v) else b"userdata"
    if t.__name__ == "_LuaCoroutineFunction":  # lupa hands over a new coroutine as its function
        return b"thread"
    return lt.encode()


def argtype(args: tuple, i: int) -> bytes:
    """luaL_typename of argument i (1-based): 'no value' past the last argument."""
    if i > len(args):
        return b"no value"
    return typename(args[i - 1])


def fmt_number(x: Any) -> bytes:
    """A Lua number as tostring / lua_tolstring prints it (LUA_NUMBER_FMT "%.14g")."""
    if type(x) is int and -100000000000000 < x < 100000000000000:
        return b"%d" % x
    x = float(x)
    if x != x:
        return b"-nan" if math.copysign(1.0, x) < 0 else b"nan"
    return b"%.14g" % x


def c_long(x: Any) -> int:
    """(long)x for a Lua number (lua_tointeger on x86-64: truncation, INT64_MIN when out of range)."""
    if type(x) is int:
        if -(1 << 63) <= x < (1 << 63):
            return x
        return -(1 << 63)
    if x != x or x in (math.inf, -math.inf) or not (-9.223372036854775808e18 <= x < 9.223372036854775808e18):
        return -(1 << 63)
    return int(x)


def c_int(x: Any) -> int:
    """(int)x for a double (x86-64 cvttsd2si: INT_MIN when out of range)."""
    if type(x) is int:
        return x if -(1 << 31) <= x < (1 << 31) else -(1 << 31)
    if x != x or not (-2147483648.0 <= x < 2147483648.0):
        return -(1 << 31)
    return int(x)


_M64 = (1 << 64) - 1
_TWO63 = 9.223372036854775808e18


def c_uint64(x: Any) -> int:
    """(uint64_t)x / (size_t)x for a Lua number, as gcc computes it on x86-64 (out of range:
    cvttsd2si's 0x8000000000000000 below 2^63, 0 from 2^64 and for +inf)."""
    if type(x) is int:
        return x & _M64
    if x != x:
        return 1 << 63
    if x < _TWO63:
        return int(x) & _M64 if x >= -_TWO63 else 1 << 63
    y = x - _TWO63
    return int(y) ^ (1 << 63) if y < _TWO63 else 0


def lua_number(v: int) -> Any:
    """An integer computed in C and pushed with lua_pushnumber: exact, or rounded to a double."""
    return v if -(1 << 53) <= v <= (1 << 53) else float(v)


def wrap_int32(x: int) -> int:
    """A 64-bit integer stored into a C int (keeps the low 32 bits, two's complement)."""
    x &= _INT32 - 1
    return x - _INT32 if x >= (1 << 31) else x


def install(lua: Any, G: Any, wrap: Any = None, backing: Any = None) -> None:
    """Set G.cjson, G.cmsgpack, G.struct and G.bit in the runtime ``lua`` (globals table ``G``).

    ``wrap`` is the engine's: ``wrap(pyfn)`` makes the Python callable a script calls (a C
    function to Lua).  Without it (a Lua wrap, or None: a bare runtime) the functions are Lua
    closures of our own glue (module docstring).  ``backing``, the sandbox's weak table from
    read-only proxy to real table, lets cjson.encode / cmsgpack.pack see through the proxies."""
    from twistd_redis.scripting.libs import bit, cjson, cmsgpack, lstruct

    env = Env(lua, G, wrap)
    env.backing = backing
    G[b"cjson"] = cjson.make_module(env)
    G[b"cmsgpack"] = cmsgpack.make_module(env)
    G[b"struct"] = lstruct.make_module(env)
    G[b"bit"] = bit.make_module(env)
