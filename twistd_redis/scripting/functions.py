"""Redis 7.0 functions: the library registry, FUNCTION LOAD's parsing and load run, and the
DUMP / RESTORE payloads and RDB records (functions.c + function_lua.c).

A library is the code given to FUNCTION LOAD, whose first line is ``#!lua name=<lib>``. Loading
runs the code once, in Redis's load-time environment: the library's globals show nothing but a
``redis`` table holding ``register_function``, ``log``, the ``LOG_*`` levels and the version
fields (anything else is ``Script attempted to access nonexistent global variable``), under a
500 ms timeout (none for the AOF and the master link). Each ``redis.register_function`` adds a
function (name, Lua callback, flags, description) to the library being loaded; afterwards the
same globals table looks through to the sandbox an FCALL sees (function_lua.c switches the
``__index`` of one globals table the same way), so the callbacks find ``redis.call`` & co.

Functions live in their own Lua runtime (a ``LuaEngine`` of their own, as Redis has one Lua
state per engine): FUNCTION FLUSH replaces it, SCRIPT FLUSH does not touch it. Its globals are
the EVAL sandbox's minus what eval.c alone adds (``__redis__err__handler``,
``redis.breakpoint`` / ``redis.debug`` / ``redis.replicate_commands``).

Names: library names are case-sensitive; function names are looked up case-insensitively
across libraries (Redis's dictSdsCaseHash), and both must be ``[A-Za-z0-9_]+``.

Payloads: FUNCTION DUMP is one ``RDB_OPCODE_FUNCTION2`` (245) record per library (the code as an
RDB string, LZF-compressed under ``rdbcompression``), the RDB version (10) as 2 bytes LE and the
CRC-64 of all that, 8 bytes LE. RESTORE reads records until 10 bytes remain (a record may read
into the footer, as Redis's rio buffer lets it) and also takes the pre-GA ``RDB_OPCODE_FUNCTION``
(246) record of 7.0-rc1/rc2. An RDB file holds the same records after its AUX fields.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from ..client import CLIENT_MASTER
from ..errors import RedisError
from ..serverlog import ServerLog
from .engine import (
    SCRIPT_FLAG_ALLOW_CROSS_SLOT,
    SCRIPT_FLAG_ALLOW_OOM,
    SCRIPT_FLAG_ALLOW_STALE,
    SCRIPT_FLAG_NO_CLUSTER,
    SCRIPT_FLAG_NO_WRITES,
    LuaEngine,
    LuaRaise,
    lua_type,
)

if TYPE_CHECKING:
    from ..state import ServerState

log = ServerLog("twistd_redis.scripting")

LOAD_TIMEOUT_MS = 500
ENGINE_NAME = b"LUA"
CLIENT_ID_AOF = (1 << 64) - 1

RDB_OPCODE_FUNCTION2 = 245
RDB_OPCODE_FUNCTION_PRE_GA = 246
RDB_VERSION = 10

# scripts_flags_def, in its order (FUNCTION LIST shows the flags in this order)
FLAGS_DEF = [
    (b"no-writes", SCRIPT_FLAG_NO_WRITES),
    (b"allow-oom", SCRIPT_FLAG_ALLOW_OOM),
    (b"allow-stale", SCRIPT_FLAG_ALLOW_STALE),
    (b"no-cluster", SCRIPT_FLAG_NO_CLUSTER),
    (b"allow-cross-slot-keys", SCRIPT_FLAG_ALLOW_CROSS_SLOT),
]
_FLAG_BY_NAME = dict(FLAGS_DEF)

BAD_NAME = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"

_NAME_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class FunctionError(Exception):
    """A library that cannot be created or restored: the message Redis gives (no ``ERR``)."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _cstr(b: bytes) -> bytes:
    """What C's string functions see of ``b``: up to the first NUL."""
    nul = b.find(b"\0")
    return b if nul < 0 else b[:nul]


def verify_name(name: bytes) -> bool:
    """functionsVerifyName: ``[A-Za-z0-9_]+``."""
    return bool(name) and all(ch in _NAME_CHARS for ch in name)


def extract_metadata(code: bytes) -> tuple[bytes, bytes, bytes]:
    """functionExtractLibMetaData: (engine, library name, the code after the shebang line -
    from its newline on, so line numbers stay the library's)."""
    from ..resp import split_args

    if not code.startswith(b"#!"):
        raise FunctionError("Missing library metadata")
    head = _cstr(code)
    nl = head.find(b"\n")
    if nl < 0:
        raise FunctionError("Invalid library metadata")
    parts = split_args(code[:nl])
    if not parts:
        raise FunctionError("Invalid library metadata")
    engine = parts[0][2:]
    name = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                raise FunctionError("Invalid metadata value, name argument was given multiple times")
            name = part[5:]
            continue
        raise FunctionError(f"Invalid metadata value given: {_text(_cstr(part))}")
    if name is None:
        raise FunctionError("Library name was not given")
    return engine, name, code[nl:]


class FunctionInfo:
    """functionInfo: one registered function."""

    __slots__ = ("desc", "flags", "fn", "library", "name")

    def __init__(self, name: bytes, fn: Any, library: LibraryInfo, desc: bytes | None, flags: int) -> None:
        self.name = name
        self.fn = fn
        self.library = library
        self.desc = desc
        self.flags = flags

    def flag_names(self) -> list[bytes]:
        return [n for n, bit in FLAGS_DEF if self.flags & bit]


class LibraryInfo:
    """functionLibInfo: a library, its code and its functions (by exact name)."""

    __slots__ = ("code", "engine", "functions", "name")

    def __init__(self, name: bytes, code: bytes, engine: FunctionEngine) -> None:
        self.name = name
        self.code = code
        self.functions: dict[bytes, FunctionInfo] = {}
        self.engine = engine


class LibCtx:
    """functionsLibCtx: libraries by name, functions by case-folded name, the engine stats."""

    __slots__ = ("functions", "libraries", "n_functions", "n_lib")

    def __init__(self) -> None:
        self.libraries: dict[bytes, LibraryInfo] = {}
        self.functions: dict[bytes, FunctionInfo] = {}
        self.n_lib = 0
        self.n_functions = 0

    def link(self, li: LibraryInfo) -> None:
        for fi in li.functions.values():
            self.functions.setdefault(fi.name.lower(), fi)
        self.libraries[li.name] = li
        self.n_lib += 1
        self.n_functions += len(li.functions)

    def unlink(self, li: LibraryInfo) -> None:
        for fi in li.functions.values():
            key = fi.name.lower()
            if self.functions.get(key) is fi:
                del self.functions[key]
        del self.libraries[li.name]
        self.n_lib -= 1
        self.n_functions -= len(li.functions)

    def get_function(self, name: bytes) -> FunctionInfo | None:
        return self.functions.get(name.lower())


# ---------------------------------------------------------------------------------------------
# The Lua side: the load-time environment and the library globals (function_lua.c)

_FUNCTION_API = r"""
local api, py = ...
local env, protect = api.env, api.protect
local genv = rawget(env, '_G')
local dbg = debug
local setmetatable, rawset, error, tostring, type = setmetatable, rawset, error, tostring, type
local loadstring, setfenv, pcall = loadstring, setfenv, pcall

-- what an FCALL sees: the EVAL sandbox without what eval.c alone adds
rawset(env, '__redis__err__handler', nil)
local redis = dbg.getmetatable(env.redis).__index
redis.replicate_commands, redis.breakpoint, redis.debug = nil, nil, nil

local function nonexistent(t, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
local function readonly_error() error('Attempt to modify a readonly table', 2) end

-- the load-time globals: only redis.register_function, redis.log and the constants
local lredis = setmetatable({
  register_function = py.register_function,
  log = redis.log,
  LOG_DEBUG = redis.LOG_DEBUG, LOG_VERBOSE = redis.LOG_VERBOSE,
  LOG_NOTICE = redis.LOG_NOTICE, LOG_WARNING = redis.LOG_WARNING,
  REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
}, {__index = nonexistent})
local lenv = protect(setmetatable({redis = protect(lredis)}, {__index = nonexistent}))

-- the libraries' globals: one table whose __index is switched, as function_lua.c does
local fmeta = {__index = genv, __newindex = readonly_error, __metatable = false}
local fenv = setmetatable({}, fmeta)

local unraise, timed_out = py.unraise, py.timed_out
local function load_hook()
  -- the line hook that keeps failing must not fire in this chunk's own code (after the pcall)
  local i = dbg.getinfo(2, 'S')
  if i and i.source == '=twistd-redis' then return end
  if timed_out() then
    dbg.sethook(load_hook, 'l')
    error({err = 'ERR FUNCTION LOAD timeout'}, 0)
  end
end

local fapi = {}
-- luaEngineCreate: compile, then run the chunk once with the load-time globals.
-- Returns true, or false and the error message (compile errors: nil and the message).
function fapi.load(code)
  local f, err = loadstring(code, '@user_function')
  if not f then return nil, err end
  setfenv(f, fenv)
  fmeta.__index = lenv
  dbg.sethook(load_hook, '', 100000)
  local ok, e = pcall(f)
  dbg.sethook()
  fmeta.__index = genv
  if ok then return true end
  if type(e) == 'userdata' then e = unraise(e) end
  if type(e) == 'table' then
    local m = e.err
    if type(m) == 'string' or type(m) == 'number' then return false, tostring(m) end
    return false, '(null)'
  end
  return false, 'ERR ' .. tostring(e)
end
function fapi.memory() return collectgarbage('count') * 1024 end
return fapi
"""


class FunctionEngine:
    """The Lua engine of functions: a LuaEngine with the library environment on top, and the
    Python side of ``redis.register_function``."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.engine = LuaEngine(state)
        self.loading: LibraryInfo | None = None  # the library FUNCTION LOAD is running
        self.load_start = 0.0
        self.load_timeout = 0
        lua = self.engine.lua
        py = lua.table_from(
            {
                b"register_function": self._register_function,
                b"unraise": self.engine._unraise,
                b"timed_out": self._timed_out,
            }
        )
        self.api = lua.execute(_FUNCTION_API, self.engine.api, py, name="=twistd-redis")
        self._load = self.api[b"load"]
        self._memory = self.api[b"memory"]

    def memory(self) -> int:
        return int(self._memory())

    def _timed_out(self) -> bool:
        if self.load_timeout <= 0:
            return False
        return (self.state.clock.seconds() - self.load_start) * 1000 > self.load_timeout

    def create(self, li: LibraryInfo, body: bytes, timeout: int) -> None:
        """luaEngineCreate: run ``body`` so that it registers ``li``'s functions."""
        self.loading = li
        self.load_start = self.state.clock.seconds()
        self.load_timeout = timeout
        try:
            r = self._load(body)
        finally:
            self.loading = None
        if isinstance(r, tuple):
            ok, msg = r[0], r[1]
        else:
            ok, msg = r, None
        if ok:
            return
        msg = msg if isinstance(msg, bytes) else str(msg).encode()
        if ok is None:
            raise FunctionError(f"Error compiling function: {_text(msg)}")
        raise FunctionError(f"Error registering functions: {_text(msg)}")

    # ------------------------------------------------------------------ redis.register_function

    def _fail(self, msg: str) -> LuaRaise:
        return LuaRaise(self.engine.error_table(("ERR " + msg).encode()))

    @staticmethod
    def _is_function(v: Any) -> bool:
        t = lua_type(v)
        if t == "function":
            return True
        return t is None and callable(v) and not isinstance(v, (bytes, int, float, bool))

    @staticmethod
    def _string(v: Any) -> bytes | None:
        """luaGetStringSds: a string, or a number as Lua shows it; else None."""
        if type(v) is bytes:
            return v
        if type(v) is int or type(v) is float:
            from .engine import lua_tostring

            return lua_tostring(v)
        return None

    def _read_flags(self, t: Any) -> int | None:
        flags = 0
        i = 1
        while True:
            v = t[i]
            if v is None:
                return flags
            s = self._string(v)
            if s is None:
                return None
            bit = _FLAG_BY_NAME.get(s.lower())
            if bit is None:
                return None
            flags |= bit
            i += 1

    def _register_function(self, *args: Any) -> None:
        li = self.loading
        if li is None:
            raise self._fail("redis.register_function can only be called on FUNCTION LOAD command")
        if len(args) < 1 or len(args) > 2:
            raise self._fail("wrong number of arguments to redis.register_function")
        desc = None
        flags = 0
        if len(args) == 1:
            t = args[0]
            if lua_type(t) != "table":
                raise self._fail(
                    "calling redis.register_function with a single argument is only applicable to Lua table "
                    "(representing named arguments)."
                )
            name = None
            fn = None
            for k, v in t.items():
                key = self._string(k)
                if key is None:
                    raise self._fail("named argument key given to redis.register_function is not a string")
                key = key.lower()
                if key == b"function_name":
                    name = self._string(v)
                    if name is None:
                        raise self._fail("function_name argument given to redis.register_function must be a string")
                elif key == b"description":
                    desc = self._string(v)
                    if desc is None:
                        raise self._fail("description argument given to redis.register_function must be a string")
                elif key == b"callback":
                    if not self._is_function(v):
                        raise self._fail("callback argument given to redis.register_function must be a function")
                    fn = v
                elif key == b"flags":
                    if lua_type(v) != "table":
                        raise self._fail(
                            "flags argument to redis.register_function must be a table representing function flags"
                        )
                    f = self._read_flags(v)
                    if f is None:
                        raise self._fail("unknown flag given")
                    flags = f
                else:
                    raise self._fail("unknown argument given to redis.register_function")
            if name is None:
                raise self._fail("redis.register_function must get a function name argument")
            if fn is None:
                raise self._fail("redis.register_function must get a callback argument")
        else:
            name = self._string(args[0])
            if name is None:
                raise self._fail("first argument to redis.register_function must be a string")
            fn = args[1]
            if not self._is_function(fn):
                raise self._fail("second argument to redis.register_function must be a function")
        # functionLibCreateFunction
        if not verify_name(_cstr(name)) or b"\0" in name:
            raise self._fail(BAD_NAME)
        if name in li.functions:
            raise self._fail("Function already exists in the library")
        li.functions[name] = FunctionInfo(name, fn, li, desc, flags)


# ---------------------------------------------------------------------------------------------


class Functions:
    """``state.functions``: the current libraries and the engine that runs them."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.ctx = LibCtx()
        self._engine: FunctionEngine | None = None
        self.running_argv: list[bytes] | None = None  # the FCALL in progress (FUNCTION STATS)

    @property
    def engine(self) -> FunctionEngine:
        e = self._engine
        if e is None:
            e = self._engine = FunctionEngine(self.state)
        return e

    # ------------------------------------------------------------------ create / delete

    def create(self, code: bytes, replace: bool, ctx: LibCtx | None = None, timeout: int = 0) -> bytes:
        """functionsCreateWithLibraryCtx: load ``code`` into ``ctx`` (the current libraries by
        default) and give the library's name; FunctionError with Redis's message otherwise."""
        if ctx is None:
            ctx = self.ctx
        engine_name, name, body = extract_metadata(code)
        if not verify_name(name):
            raise FunctionError(BAD_NAME)
        if engine_name.upper() != ENGINE_NAME:
            raise FunctionError(f"Engine '{_text(engine_name)}' not found")
        old = ctx.libraries.get(name)
        if old is not None and not replace:
            raise FunctionError(f"Library '{_text(name)}' already exists")
        if old is not None:
            ctx.unlink(old)
        try:
            fe = self.engine
            li = LibraryInfo(name, code, fe)
            fe.create(li, body, timeout)
            if not li.functions:
                raise FunctionError("No functions registered")
            for fname in li.functions:
                if fname.lower() in ctx.functions:
                    raise FunctionError(f"Function {_text(fname)} already exists")
        except FunctionError:
            if old is not None:
                ctx.link(old)
            raise
        ctx.link(li)
        return name

    def load_command(self, code: bytes, replace: bool, caller: Any) -> bytes:
        """FUNCTION LOAD: the timeout is waived for the master link and the AOF (mustObeyClient)."""
        timeout = LOAD_TIMEOUT_MS
        if caller.flags & CLIENT_MASTER or caller.id == CLIENT_ID_AOF:
            timeout = 0
        return self.create(code, replace, timeout=timeout)

    def delete(self, name: bytes) -> bool:
        li = self.ctx.libraries.get(name)
        if li is None:
            return False
        self.ctx.unlink(li)
        return True

    def flush(self) -> None:
        """functionsLibCtxClearCurrent: no libraries, and a new Lua state."""
        self.ctx = LibCtx()
        self._engine = None

    # ------------------------------------------------------------------ DUMP / RESTORE

    def codes(self) -> list[bytes]:
        return [li.code for li in self.ctx.libraries.values()]

    def dump(self, compress: bool = True) -> bytes:
        """FUNCTION DUMP's payload."""
        from ..persistence import rdb
        from ..persistence.crc64 import crc64

        out = _Sink()
        w = rdb.RdbWriter(out, compress)
        for code in self.codes():
            w.write_byte(RDB_OPCODE_FUNCTION2)
            w.write_string(code)
        w.buf += struct.pack("<H", RDB_VERSION)
        body = bytes(w.buf)
        return body + struct.pack("<Q", crc64(body))

    def restore(self, payload: bytes, policy: str, checksum: bool = True) -> None:
        """FUNCTION RESTORE: FunctionError with Redis's message when the payload does not load
        or its libraries collide with the current ones (nothing changes then)."""
        from ..persistence import rdb

        if not rdb.verify_payload(payload, checksum=checksum):
            raise FunctionError("DUMP payload version or checksum are wrong")
        ctx = LibCtx()
        r = rdb.RdbReader(payload)
        n = len(payload)
        while n - r.pos > 10:
            t = r.read_byte()
            if t != RDB_OPCODE_FUNCTION2 and t != RDB_OPCODE_FUNCTION_PRE_GA:
                raise FunctionError("given type is not a function")
            code = read_function_record(r, t)
            self.create(code, False, ctx)
        if policy == "flush":
            self.ctx = ctx
            return
        self.join(ctx, policy == "replace")

    def join(self, src: LibCtx, replace: bool) -> None:
        """libraryJoin: add ``src``'s libraries to the current ones; on a collision nothing
        changes (replaced libraries come back)."""
        dst = self.ctx
        old_libs: list[LibraryInfo] = []
        try:
            for li in src.libraries.values():
                old = dst.libraries.get(li.name)
                if old is not None:
                    if not replace:
                        raise FunctionError(f"Library {_text(li.name)} already exists")
                    dst.unlink(old)
                    old_libs.append(old)
            for key, fi in src.functions.items():
                if key in dst.functions:
                    raise FunctionError(f"Function {_text(fi.name)} already exists")
        except FunctionError:
            for old in old_libs:
                dst.link(old)
            raise
        for li in list(src.libraries.values()):
            dst.link(li)

    # ------------------------------------------------------------------ INFO

    def memory_overhead(self) -> int:
        """used_memory_functions: an estimate of the registry's own structures."""
        total = 200
        for li in self.ctx.libraries.values():
            total += 64 + len(li.name) + len(li.code)
            for fi in li.functions.values():
                total += 88 + len(fi.name) + (len(fi.desc) if fi.desc else 0)
        return total

    def vm_memory(self) -> int:
        e = self._engine
        return e.memory() if e is not None else 0


def read_function_record(r: Any, t: int) -> bytes:
    """rdbFunctionLoad's reading part: the library code of a FUNCTION2 record, or of a pre-GA
    FUNCTION record translated to the shebang form."""
    from ..persistence.rdb import RdbError

    if t == RDB_OPCODE_FUNCTION2:
        try:
            return r.read_string()
        except RdbError:
            raise FunctionError("Failed loading library payload") from None
    steps = ("library name", "engine name", "library description indicator", "library description", "library blob")
    step = 0
    try:
        name = r.read_string()
        step = 1
        engine = r.read_string()
        step = 2
        has_desc = r.read_len()
        step = 3
        if has_desc:
            r.read_string()
        step = 4
        blob = r.read_string()
    except RdbError:
        raise FunctionError(f"Failed loading {steps[step]}") from None
    return b"#!%s name=%s\n%s" % (_cstr(engine), _cstr(name), blob)


class _Sink:
    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, b: bytes) -> None:
        self.parts.append(b)


# ---------------------------------------------------------------------------------------------
# The server's side


def get_functions(state: ServerState) -> Functions:
    f = state.functions
    if f is None:
        f = state.functions = Functions(state)
    return f


def function_codes(state: ServerState) -> list[bytes]:
    """The libraries' codes, for an RDB file (rdbSaveFunctions)."""
    f = state.functions
    return f.codes() if f is not None else []


def rdb_load_function(state: ServerState, code: bytes, replace: bool) -> None:
    """rdbFunctionLoad from an RDB file: a library that does not load fails the whole load
    (RdbError), as Redis's "Failed loading library"."""
    from ..persistence.rdb import RdbError

    try:
        get_functions(state).create(code, replace)
    except FunctionError as e:
        log.warning("Failed loading library, %s", e.msg)
        raise RdbError(f"Failed loading library, {e.msg}") from None


def clear_functions(state: ServerState) -> None:
    """emptyData without EMPTYDB_NOFUNCTIONS (a full sync, DEBUG RELOAD): drop every library."""
    f = state.functions
    if f is not None and (f.ctx.libraries or f._engine is not None):
        f.flush()


def aof_rewrite_functions(state: ServerState, write: Any) -> None:
    """rewriteFunctions: one FUNCTION LOAD per library, before the databases."""
    for code in function_codes(state):
        write(b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n$%d\r\n%s\r\n" % (len(code), code))


def info_memory_fields(state: ServerState) -> dict[str, int]:
    f = state.functions
    if f is None:
        return {
            "number_of_functions": 0,
            "number_of_libraries": 0,
            "used_memory_vm_functions": 0,
            "used_memory_functions": 200,
        }
    return {
        "number_of_functions": len(f.ctx.functions),
        "number_of_libraries": len(f.ctx.libraries),
        "used_memory_vm_functions": f.vm_memory(),
        "used_memory_functions": f.memory_overhead(),
    }


def raise_function_error(e: FunctionError) -> RedisError:
    return RedisError("ERR " + e.msg)
