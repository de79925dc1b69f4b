"""The Lua engine: one lupa (PUC Lua 5.1) runtime, sandboxed as Redis 7.0.15 sandboxes its own.

What a script sees is Redis's: the globals of 7.0.15 (no ``print``, ``debug``, ``os``, ``io``,
``setfenv``...), a read-only ``_G`` and read-only libraries (``Attempt to modify a readonly
table``), ``Script attempted to access nonexistent global variable 'x'``, the ``redis`` table,
Redis's ``pcall`` (a ``{err=...}`` error comes back as its message), Redis's deterministic
``math.random`` (rand48, reseeded before every script) and the cjson / cmsgpack / struct / bit
libraries (``scripting/libs``).

Stock Lua 5.1 has no read-only tables (Redis patches its VM), so the protection is built from
proxies: the thread's environment and every library the script can reach are empty tables whose
``__index`` is the real table and whose ``__newindex`` raises; ``rawset``, ``rawget``, ``next``
(so ``pairs``), ``setmetatable`` and ``getmetatable`` see through them.

Python functions are what Redis has as C functions (``redis.call``, the libraries): Lua calls
them directly, so a script's ``return redis.call(...)`` keeps its own stack frame (a Lua wrapper
would be tail-called and the error's ``on @user_script:<line>`` lost). One raises a Lua error by
raising ``LuaRaise(value)``; the script's error handler and Redis's ``pcall`` unwrap it.
``wrap`` adapts a callback returning ``(True, results...)`` / ``(False, error)`` (the libraries'
convention), positioning a message at the caller as ``luaL_error`` does. Lua cannot reach a
Python object's attributes (``attribute_filter``).

``ScriptRun`` is Redis's ``scriptRunCtx``: the caller, the script's own client, read-only /
write-dirty / timed-out / killed flags and the propagation targets of one EVAL or FCALL. While a
script runs ``state.script_run`` points at it; past ``busy-reply-threshold`` the count hook
lets the reactor serve other connections (``ServerState.process_events_while_blocked``): they
get ``-BUSY`` except for the ALLOW_BUSY commands (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE...).
"""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING, Any, Callable

from lupa import lua51

from ..client import CLIENT_DENY_BLOCKING, CLIENT_MASTER, CLIENT_SCRIPT, Client
from ..commands import table as cmdtable
from ..errors import RedisError
from ..resp import NULL_ARRAY, BulkList, MapPairs, Raw, RespSet, SimpleString, Verbatim, encode2, encode3, format_double
from ..serverlog import ServerLog

if TYPE_CHECKING:
    from ..state import ServerState

log = ServerLog("twistd_redis.scripting")

lua_type = lua51.lua_type
LuaError = lua51.LuaError

# run flags (script.h)
RUN_EVAL_MODE = 1 << 0
RUN_READ_ONLY = 1 << 1
RUN_WRITE_DIRTY = 1 << 2
RUN_TIMEDOUT = 1 << 3
RUN_KILLED = 1 << 4
RUN_ALLOW_OOM = 1 << 5
RUN_SHUTDOWN = 1 << 6  # ours: SHUTDOWN NOSAVE stopped it (no reply, as Redis exits)

# script flags (shebang / register_function)
SCRIPT_FLAG_NO_WRITES = 1 << 0
SCRIPT_FLAG_ALLOW_OOM = 1 << 1
SCRIPT_FLAG_ALLOW_STALE = 1 << 2
SCRIPT_FLAG_NO_CLUSTER = 1 << 3
SCRIPT_FLAG_EVAL_COMPAT_MODE = 1 << 4  # an EVAL script without a shebang
SCRIPT_FLAG_ALLOW_CROSS_SLOT = 1 << 5

SCRIPT_FLAG_NAMES = {
    b"no-writes": SCRIPT_FLAG_NO_WRITES,
    b"allow-oom": SCRIPT_FLAG_ALLOW_OOM,
    b"allow-stale": SCRIPT_FLAG_ALLOW_STALE,
    b"no-cluster": SCRIPT_FLAG_NO_CLUSTER,
    b"allow-cross-slot-keys": SCRIPT_FLAG_ALLOW_CROSS_SLOT,
}

PROPAGATE_AOF = 1
PROPAGATE_REPL = 2

CLIENT_ID_AOF = (1 << 64) - 1  # the AOF loading client (persistence/aof.py): scripts may write

BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
KILLED = b"ERR Script killed by user with SCRIPT KILL..."

REDIS_VERSION = "7.0.15"
REDIS_VERSION_NUM = 0x07000F

HOOK_COUNT = 100000  # luaMaskCountHook's instruction count

_LLONG_MIN = -(2**63)
_LLONG_MAX = 2**63 - 1

# commands Redis 7.0 flags may-replicate (its COMMAND INFO does not show the flag, so the
# command table does not carry it) that a script can call: a read-only script may not
_MAY_REPLICATE = frozenset(("publish", "spublish", "pfcount"))

# luaReplyToRedisReply's stack check: lua_checkstack(4) fails past LUAI_MAXCSTACK (8000) slots
_LUA_STACK_SLOTS = 8000 - 4
# returned tables nested deeper than this (in Lua stack slots) are converted without recursion
_NESTED_MAX = 300

# the most values passed to one Lua call (a Lua C function gets at most LUAI_MAXCSTACK = 8000
# stack slots): bigger replies go through a table
_VARARGS_MAX = 4000


def sha1hex(data: bytes) -> bytes:
    return hashlib.sha1(data).hexdigest().encode()


def lua_error_table_msg(err: bytes) -> bytes:
    """luaPushErrorBuff: "-CODE msg" -> "CODE msg", "msg" -> "ERR msg", CR/LF trimmed (a C
    string: up to the first NUL)."""
    err = err.split(b"\0", 1)[0]
    if err[:1] == b"-":
        sp = err.find(b" ")
        if sp < 0:
            code, msg = b"ERR", err[1:]
        else:
            code, msg = err[1:sp], err[sp + 1 :]
    else:
        code, msg = b"ERR", err
    return code + b" " + msg.strip(b"\r\n")


def number_arg(v: float | int) -> bytes:
    """A Lua number passed to redis.call: ``%.17g`` (luaArgsToRedisArgv)."""
    if type(v) is int and -(10**17) < v < 10**17:
        return b"%d" % v
    return b"%.17g" % v


def lua_tostring(v: int | float) -> bytes:
    """A Lua number as Lua 5.1 prints it (LUA_NUMBER_FMT ``%.14g``)."""
    return b"%.14g" % v


def lua_tonumber(v: Any) -> float | int | None:
    """lua_tonumber / lua_isnumber: numbers, and strings Lua reads as numbers; else None."""
    t = type(v)
    if t is int or t is float:
        return v
    if t is bytes:
        s = v.strip()
        try:
            if s[:2].lower() in (b"0x",) or s[:3].lower() in (b"-0x", b"+0x"):
                return int(s, 16)
            if not s or s.lower().lstrip(b"+-") in (b"inf", b"infinity", b"nan"):
                return None
            return float(s)
        except ValueError:
            return None
    return None


def lua_typename(v: Any) -> bytes:
    if v is None:
        return b"nil"
    t = type(v)
    if t is bool:
        return b"boolean"
    if t is int or t is float:
        return b"number"
    if t is bytes:
        return b"string"
    return lua_type(v).encode() if lua_type(v) else b"userdata"


def double_repr(d: float) -> bytes:
    """``%.17g`` as glibc prints it (the sign of a NaN included)."""
    if d != d:
        return b"-nan" if math.copysign(1.0, d) < 0 else b"nan"
    return format_double(d)


def c_int(d: float | int) -> int:
    """(int)lua_Number: truncation; out of the int range or NaN gives INT_MIN (x86)."""
    if d != d or d >= 2147483648 or d <= -2147483649:
        return -(2**31)
    return int(d)


def lua_to_ll(d: float) -> int:
    """(long long)lua_Number: truncation; out of range or NaN gives LLONG_MIN (x86's cvttsd2si)."""
    if d != d or d >= 9.223372036854775807e18 or d < -9.223372036854775808e18:
        return _LLONG_MIN
    return int(d)


class Rand48:
    """Redis's rand.c: lrand48 with a seed set by redisSrand48 (math.random, math.randomseed)."""

    __slots__ = ("x",)

    def __init__(self) -> None:
        self.x = 0x1234ABCD330E  # X2 X1 X0: the state before any redisSrand48

    def seed(self, seedval: int) -> None:
        self.x = ((seedval & 0xFFFFFFFF) << 16) | 0x330E

    def next(self) -> int:
        self.x = (0x5DEECE66D * self.x + 0xB) & 0xFFFFFFFFFFFF
        return self.x >> 17


class LuaRaise(Exception):
    """Raised by a Python function called from Lua: the Lua error it stands for (a message,
    already positioned, or a ``{err=...}`` table). Lua sees the exception object; the script's
    error handler and Redis's ``pcall`` unwrap it (``py.unraise``)."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


class _ArgvError(RedisError):
    """luaArgsToRedisArgv's refusal (no command involved)."""


class _NoRunError(_ArgvError):
    """redis.call / redis.pcall outside a script run: raised by both."""


class ScriptRun:
    """scriptRunCtx: one EVAL / FCALL in progress."""

    __slots__ = ("caller", "client", "funcname", "flags", "repl_flags", "start", "eval_mode")

    def __init__(self, caller: Client, client: Client, funcname: bytes, flags: int, start: float) -> None:
        self.caller = caller
        self.client = client
        self.funcname = funcname
        self.flags = flags
        self.repl_flags = PROPAGATE_AOF | PROPAGATE_REPL
        self.start = start

    @property
    def is_eval(self) -> bool:
        return bool(self.flags & RUN_EVAL_MODE)


# ---------------------------------------------------------------------------------------------
# The bootstrap: runs once per runtime with the full standard library, then locks the sandbox.

_BOOTSTRAP = r"""
local py, install_libs = ...
local G = _G
local dbg = debug
local type, error, select, tostring, tonumber = type, error, select, tostring, tonumber
local rawget, rawset, rawequal, next = rawget, rawset, rawequal, next
local setmetatable, getmetatable = setmetatable, getmetatable
local rawpcall, xpcall, floor = pcall, xpcall, math.floor
local INTERNAL = '=twistd-redis'

local wrap, unraise = py.wrap, py.unraise

local function errtable(msg) return {err = msg} end

-- read-only proxies ------------------------------------------------------------------------
local backing = setmetatable({}, {__mode = 'k'})   -- proxy -> real table
local proxy_of = setmetatable({}, {__mode = 'k'})  -- real table -> proxy
local function readonly_error() error('Attempt to modify a readonly table', 2) end
local function protect(t)
  local p = proxy_of[t]
  if p then return p end
  p = setmetatable({}, {__index = t, __newindex = readonly_error, __metatable = false})
  backing[p] = t
  proxy_of[t] = p
  return p
end

-- the error handler: Redis's __redis__err__handler, skipping our own Lua frames
local function err_handler(err)
  if type(err) == 'userdata' then err = unraise(err) end
  local lvl = 2
  local i = dbg.getinfo(2, 'nSl')
  if i and i.what == 'C' then lvl = 3; i = dbg.getinfo(3, 'nSl') end
  while i and i.source == INTERNAL do
    lvl = lvl + 1
    i = dbg.getinfo(lvl, 'nSl')
  end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

-- redis.* -----------------------------------------------------------------------------------
local redis = {}
local function push_error(e)
  if e:sub(1, 1) == '-' then
    local sp = e:find(' ', 1, true)
    local code, msg
    if sp then code, msg = e:sub(2, sp - 1), e:sub(sp + 1) else code, msg = 'ERR', e:sub(2) end
    msg = msg:gsub('^[\r\n]+', ''):gsub('[\r\n]+$', '')
    return {err = code .. ' ' .. msg}
  end
  local msg = e:gsub('^[\r\n]+', ''):gsub('[\r\n]+$', '')
  return {err = 'ERR ' .. msg}
end
local function error_reply(...)
  local e = ...
  if select('#', ...) ~= 1 or type(e) ~= 'string' then return errtable('ERR wrong number or type of arguments') end
  e = e:match('^[^%z]*')  -- a C string
  if e:sub(1, 1) ~= '-' then e = '-' .. e end
  return push_error(e)
end
local function status_reply(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then return errtable('ERR wrong number or type of arguments') end
  return {ok = s}
end
-- in luaRegisterRedisAPI's order (then scriptingInit's), one field at a time: pairs(redis)
-- walks the table in Redis's order
redis.call = py.call
redis.pcall = py.pcall
redis.log = py.log
redis.LOG_DEBUG = 0
redis.LOG_VERBOSE = 1
redis.LOG_NOTICE = 2
redis.LOG_WARNING = 3
redis.REDIS_VERSION_NUM = py.version_num
redis.REDIS_VERSION = py.version
redis.setresp = py.setresp
redis.sha1hex = py.sha1hex
redis.error_reply = error_reply
redis.status_reply = status_reply
redis.set_repl = py.set_repl
redis.REPL_NONE = 0
redis.REPL_AOF = 1
redis.REPL_SLAVE = 2
redis.REPL_REPLICA = 2
redis.REPL_ALL = 3
redis.acl_check_cmd = py.acl_check_cmd
function redis.breakpoint() return false end
function redis.debug() end
function redis.replicate_commands() return true end

math.random = py.math_random
math.randomseed = py.math_randomseed

-- Redis's pcall: an {err=...} error comes back as its message --------------------------------
local function pcall_result(ok, ...)
  if ok then return true, ... end
  local e = ...
  if type(e) == 'userdata' then e = unraise(e) end
  if type(e) == 'table' then
    local m = e.err
    if type(m) == 'string' or type(m) == 'number' then return false, m end
    return false, e, m  -- luaRedisPcall leaves the non-string err field on the stack
  end
  return false, e
end

-- the sandbox -------------------------------------------------------------------------------
install_libs(G, wrap, backing)

-- luaL_where(L, 1) seen from a Python function called by Lua: its caller's position
function api_where()
  local i = dbg.getinfo(3, 'Sl')
  if i and i.currentline > 0 then return i.short_src .. ':' .. i.currentline .. ': ' end
  return ''
end
local where = api_where
api_where = nil

local keep = {
  'assert', 'collectgarbage', 'coroutine', 'error', 'gcinfo', 'getmetatable', 'ipairs', 'load',
  'loadstring', 'math', 'next', 'pairs', 'pcall', 'rawequal', 'rawget', 'rawset', 'select',
  'setmetatable', 'string', 'table', 'tonumber', 'tostring', 'type', 'unpack', 'xpcall',
  '_VERSION', 'bit', 'cjson', 'cmsgpack', 'struct',
}
local env = {}
for _, k in ipairs(keep) do env[k] = G[k] end
env.redis = redis
env.__redis__err__handler = err_handler
-- Redis's pcall (luaRedisPcall): pcall() calls the boolean it inserts as a placeholder
env.pcall = function(...)
  if select('#', ...) == 0 then return false, 'attempt to call a boolean value' end
  return pcall_result(rawpcall(...))
end
for _, lib in ipairs({'coroutine', 'math', 'string', 'table', 'redis', 'bit', 'cjson', 'cmsgpack', 'struct'}) do
  if type(env[lib]) == 'table' then env[lib] = protect(env[lib]) end
end
local smt = getmetatable('')
smt.__index = env.string
protect(smt)

-- the Python functions (redis.call, the libraries...) are userdata to Lua: type() and
-- tostring() show them as the functions they stand for
-- (pyfuncs[v]: the text tostring() gives a Python function, false for other userdata; asked
-- of Python once per value, so functions made later - cjson.new() - are covered too)
local isfunc, pyid, format, rawtype0 = py.isfunc, py.id, string.format, type
local pyfuncs = setmetatable({}, {__mode = 'k', __index = function(t, v)
  if rawtype0(v) ~= 'userdata' then return nil end
  local f = isfunc(v) and format('function: 0x%08x', pyid(v)) or false
  rawset(t, v, f)
  return f
end})
local rawtype, rawtostring, rawgetmetatable = type, tostring, dbg.getmetatable

-- The wrappers below stand for Lua's C functions: they check their arguments first and raise
-- luaL_argerror's message themselves, naming the function as its caller did ('?' when unknown)
-- and positioned at that caller (a C function's error never points into its own code).
local function typename(n, i, v)
  if i > n then return 'no value' end
  if pyfuncs[v] then return 'function' end
  return rawtype(v)
end
local function argerror(narg, msg, default)
  local i = dbg.getinfo(2, 'n')  -- the wrapper, as its caller named it
  local name = i and i.name or default or '?'
  if i and i.namewhat == 'method' then
    narg = narg - 1
    if narg == 0 then error("calling '" .. name .. "' on bad self (" .. msg .. ')', 3) end
  end
  error('bad argument #' .. narg .. " to '" .. name .. "' (" .. msg .. ')', 3)
end

env.rawset = function(...)
  local n, t, k, v = select('#', ...), ...
  if rawtype(t) ~= 'table' then argerror(1, 'table expected, got ' .. typename(n, 1, t), 'rawset') end
  if n < 2 then argerror(2, 'value expected', 'rawset') end
  if n < 3 then argerror(3, 'value expected', 'rawset') end
  if backing[t] then error('Attempt to modify a readonly table', 0) end
  return rawset(t, k, v)
end
env.rawget = function(...)
  local n, t, k = select('#', ...), ...
  if rawtype(t) ~= 'table' then argerror(1, 'table expected, got ' .. typename(n, 1, t), 'rawget') end
  if n < 2 then argerror(2, 'value expected', 'rawget') end
  local b = backing[t]
  if b then return rawget(b, k) end
  return rawget(t, k)
end
env.next = function(...)
  local t, k = ...
  if rawtype(t) ~= 'table' then argerror(1, 'table expected, got ' .. typename(select('#', ...), 1, t), 'next') end
  local b = backing[t]
  if b then return next(b, k) end
  return next(t, k)
end
local lnext = env.next
env.pairs = function(...)
  local t = ...
  if rawtype(t) ~= 'table' then argerror(1, 'table expected, got ' .. typename(select('#', ...), 1, t), 'pairs') end
  return lnext, t, nil
end
env.setmetatable = function(...)
  local n, t, mt = select('#', ...), ...
  if rawtype(t) ~= 'table' then argerror(1, 'table expected, got ' .. typename(n, 1, t), 'setmetatable') end
  if mt ~= nil and rawtype(mt) ~= 'table' then argerror(2, 'nil or table expected', 'setmetatable') end
  if backing[t] then error('Attempt to modify a readonly table', 0) end
  local old = rawgetmetatable(t)
  if old and rawget(old, '__metatable') ~= nil then error('cannot change a protected metatable', 2) end
  return setmetatable(t, mt)
end
env.type = function(...)
  local v = ...
  if v == nil and select('#', ...) == 0 then argerror(1, 'value expected', 'type') end
  local t = rawtype(v)
  if t == 'userdata' and pyfuncs[v] then return 'function' end
  return t
end
env.tostring = function(...)
  local v = ...
  if v == nil and select('#', ...) == 0 then argerror(1, 'value expected', 'tostring') end
  if rawtype(v) == 'userdata' then
    local f = pyfuncs[v]
    if f then return f end
  end
  return rawtostring(v)
end
-- _G's metatable as Redis has it: {__index = luaProtectedTableError}
local function protected_table_error(...)
  if select('#', ...) ~= 2 then error('Wrong number of arguments to luaProtectedTableError', 2) end
  local _, k = ...
  local tk = rawtype(k)
  if tk ~= 'string' and tk ~= 'number' then
    error('Second argument to luaProtectedTableError must be a string or number', 2)
  end
  error("Script attempted to access nonexistent global variable '" .. rawtostring(k) .. "'", 2)
end
local genv_mt = {__index = protected_table_error}
env.getmetatable = function(...)
  local v = ...
  if v == nil and select('#', ...) == 0 then argerror(1, 'value expected', 'getmetatable') end
  if backing[v] then
    if backing[v] == env then return protect(genv_mt) end
    return nil
  end
  local mt = getmetatable(v)
  if mt and proxy_of[mt] then return proxy_of[mt] end
  return mt
end

setmetatable(env, genv_mt)
local genv = protect(env)
env._G = genv
-- the thread keeps its own globals (lupa needs them); what scripts compile runs in genv
local rawloadstring, rawload, setfenv = loadstring, load, setfenv
env.loadstring = function(...)
  local n, code, name = select('#', ...), ...
  local tc = rawtype(code)
  if tc ~= 'string' and tc ~= 'number' then argerror(1, 'string expected, got ' .. typename(n, 1, code), 'loadstring') end
  local tn = rawtype(name)
  if name ~= nil and tn ~= 'string' and tn ~= 'number' then
    argerror(2, 'string expected, got ' .. typename(n, 2, name), 'loadstring')
  end
  local f, e = rawloadstring(code, name)
  if f then setfenv(f, genv) end
  return f, e
end
env.load = function(...)
  local n, reader, name = select('#', ...), ...
  if rawtype(reader) ~= 'function' and not pyfuncs[reader] then
    argerror(1, 'function expected, got ' .. typename(n, 1, reader), 'load')
  end
  local tn = rawtype(name)
  if name ~= nil and tn ~= 'string' and tn ~= 'number' then
    argerror(2, 'string expected, got ' .. typename(n, 2, name), 'load')
  end
  local f, e = rawload(reader, name)
  if f then setfenv(f, genv) end
  return f, e
end
-- table.insert writes with lua_rawseti, past a proxy's __newindex: a read-only table refuses
-- it (after the argument checks) as Redis's patched lua_rawseti does
local tbl = backing[env.table]
local tinsert = tbl.insert
tbl.insert = function(...)
  local n, t = select('#', ...), ...
  if rawtype(t) ~= 'table' then argerror(1, 'table expected, got ' .. typename(n, 1, t), 'insert') end
  if n == 3 then
    local pos = select(2, ...)
    if tonumber(pos) == nil then argerror(2, 'number expected, got ' .. typename(n, 2, pos), 'insert') end
  elseif n ~= 2 then
    error("wrong number of arguments to 'insert'", 2)
  end
  if backing[t] then error('Attempt to modify a readonly table', 0) end
  return tinsert(...)
end
-- xpcall's handler and coroutine.resume see a redis.call error as the table it stands for
local rawxpcall = xpcall
env.xpcall = function(...)
  local f, h = ...
  if select('#', ...) < 2 then argerror(2, 'value expected', 'xpcall') end
  return rawxpcall(f, function(e)
    if rawtype(e) == 'userdata' then e = unraise(e) end
    return h(e)
  end)
end
local co = backing[env.coroutine]
local resume = co.resume
local function resume_result(ok, ...)
  if ok then return true, ... end
  local e = ...
  if rawtype(e) == 'userdata' then e = unraise(e) end
  return false, e
end
co.resume = function(...)
  local c = ...
  if rawtype(c) ~= 'thread' then argerror(1, 'coroutine expected', 'resume') end
  return resume_result(resume(...))
end

-- running scripts ---------------------------------------------------------------------------
local sethook, getinfo, interrupt = dbg.sethook, dbg.getinfo, py.interrupt
local function hook(event)
  if event == 'count' then
    if not interrupt() then return end
    -- killed: from now on every new line of the script fails (luaMaskCountHook's LUA_MASKLINE),
    -- so a pcall in the script cannot swallow the kill
    sethook(hook, 'l')
  end
  -- never inside our own Lua (the error handler, Redis's pcall, run_eval after the script):
  -- an error there would escape the script's xpcall
  local i = getinfo(2, 'S')
  if i and i.source == INTERNAL then return end
  error(errtable('ERR Script killed by user with SCRIPT KILL...'), 0)
end

local api = {}
function api.compile(code, chunkname)
  local f, err = rawloadstring(code, chunkname)
  if not f then return nil, err end
  setfenv(f, genv)
  return f
end
-- EVAL's "function f_<sha>() <body> end" chunk: run it where the definition may land, and
-- give the function it defined, now living in the sandbox
function api.define(code, chunkname, name)
  local f, err = rawloadstring(code, chunkname)
  if not f then return nil, err end
  local holder = {}
  setfenv(f, holder)
  local ok, e = rawpcall(f)
  if not ok then return nil, e, true end
  local fn = holder[name]
  setfenv(fn, genv)
  return fn
end
-- KEYS and ARGV from the call's values; nkeys -1: the two tables themselves (more values than
-- a Lua call takes)
local function keys_args(nkeys, ...)
  if nkeys < 0 then return ... end
  local all, keys, args = {...}, {}, {}
  for i = 1, nkeys do keys[i] = all[i] end
  for i = nkeys + 1, select('#', ...) do args[i - nkeys] = all[i] end
  return keys, args
end
function api.run_eval(f, use_hook, nkeys, ...)
  local keys, args = keys_args(nkeys, ...)
  rawset(env, 'KEYS', keys)
  rawset(env, 'ARGV', args)
  if use_hook then sethook(hook, '', HOOK_COUNT) end
  local ok, res = xpcall(f, err_handler)
  if use_hook then sethook() end
  return ok, res
end
function api.run_function(f, use_hook, nkeys, ...)
  local keys, args = keys_args(nkeys, ...)
  if use_hook then sethook(hook, '', HOOK_COUNT) end
  local ok, res = xpcall(function() return f(keys, args) end, err_handler)
  if use_hook then sethook() end
  return ok, res
end
-- reply tables, built in Lua (cheaper than lupa's table_from); maps and sets by successive
-- insertions, as Redis's reply parser builds them
function api.map(...)
  local a, t = {...}, {}
  for i = 1, select('#', ...), 2 do t[a[i]] = a[i + 1] end
  return {map = t}
end
function api.set(...)
  local a, t = {...}, {}
  for i = 1, select('#', ...) do t[a[i]] = true end
  return {set = t}
end
function api.array(...) return {...} end
function api.ok(s) return {ok = s} end
function api.err(s) return {err = s} end
function api.double(d) return {double = d} end
function api.verbatim(s) return {verbatim_string = {format = 'txt', string = s}} end
-- a command's error as redis.call/pcall give it (luaPushErrorBuff, then the flag saying the
-- command already counted it in the error stats)
function api.cmd_err(s)
  local t = {}
  t.err = s
  t.ignore_error_stats_update = true
  return t
end
-- the same from a table and a count: replies too big for a Lua call's arguments (the C
-- stack's LUAI_MAXCSTACK), and arrays with holes (RESP3 nulls) built by successive
-- assignments as Redis's reply parser does, so that # and next() see Redis's table
function api.array_from(src, n)
  local t = {}
  for i = 1, n do t[i] = src[i] end
  return t
end
function api.map_from(src, n)
  local t = {}
  for i = 1, n, 2 do t[src[i]] = src[i + 1] end
  return {map = t}
end
function api.set_from(src, n)
  local t = {}
  for i = 1, n do t[src[i]] = true end
  return {set = t}
end
-- the name a Python function called from Lua was called by (luaL_argerror's "n" info)
function api.fname()
  local i = dbg.getinfo(2, 'n')
  if i then return i.name, i.namewhat end
  return nil, nil
end
-- luaReplyToRedisReply's look at a returned table: fields read raw, in Redis's order; a
-- double formatted here (%.17g, the sign of -0 and of a NaN kept); an array given as a
-- table without metatable
local sformat = string.format
function api.kind(t)
  local v = rawget(t, 'err')
  if type(v) == 'string' then return 1, v, t.ignore_error_stats_update == true end
  v = rawget(t, 'ok')
  if type(v) == 'string' then return 2, v end
  v = rawget(t, 'double')
  if type(v) == 'number' then return 3, sformat('%.17g', v) end
  v = rawget(t, 'big_number')
  if type(v) == 'string' then return 4, v end
  v = rawget(t, 'verbatim_string')
  if type(v) == 'table' then
    local f, s = rawget(v, 'format'), rawget(v, 'string')
    if type(f) == 'string' and type(s) == 'string' then return 5, f, s end
  end
  v = rawget(t, 'map')
  if type(v) == 'table' then return 6, v end
  v = rawget(t, 'set')
  if type(v) == 'table' then return 7, v end
  if rawgetmetatable(t) == nil then return 8, t end
  local a, i = {}, 1
  while true do
    local x = rawget(t, i)
    if x == nil then return 8, a end
    a[i] = x
    i = i + 1
  end
end
api.protect = protect
api.env = env
api.where = where
api.err_handler = err_handler
return api
""".replace("HOOK_COUNT", str(HOOK_COUNT))


def _deny_attributes(obj: Any, name: Any, setting: bool) -> Any:
    raise AttributeError("not accessible from Lua")


def _no_libs(G: Any, wrap: Any) -> None:
    return None


def install_libraries(lua: Any, G: Any, wrap: Any, backing: Any = None) -> None:
    """cjson, cmsgpack, struct and bit (scripting/libs), when present."""
    try:
        from . import libs
    except ImportError:  # pragma: no cover - the libraries ship with the package
        return
    libs.install(lua, G, wrap, backing)


class LuaEngine:
    """One sandboxed Lua runtime plus the Python side of the ``redis`` API. EVAL has one
    (reset by SCRIPT FLUSH); the function engine (FUNCTION LOAD) has its own."""

    def __init__(self, state: "ServerState") -> None:
        self.state = state
        self.run: ScriptRun | None = None
        self.reply_failures = 0  # failed_calls the last call()'s reply adds to its command
        self._reply_counted = False
        # one rand48 state for the whole server, never reseeded but by math.randomseed (what
        # 7.0.15 does: the sequence runs on across scripts and SCRIPT FLUSH)
        rand = getattr(state, "lua_rand", None)
        if rand is None:
            rand = state.lua_rand = Rand48()
        self.rand = rand
        lua = lua51.LuaRuntime(
            encoding=None,
            unpack_returned_tuples=True,
            register_eval=False,
            register_builtins=False,
            attribute_filter=_deny_attributes,
        )
        self.lua = lua
        py = lua.table_from(
            {
                b"call": self._call,
                b"pcall": self._pcall,
                b"acl_check_cmd": self._acl_check_cmd,
                b"sha1hex": self._sha1hex,
                b"log": self._log,
                b"setresp": self._setresp,
                b"set_repl": self._set_repl,
                b"interrupt": self._interrupt,
                b"math_random": self._math_random,
                b"math_randomseed": self._math_randomseed,
                b"wrap": self.wrap,
                b"isfunc": lambda o: lua_type(o) is None and callable(o),
                b"id": lambda o: id(o) & 0xFFFFFFFFFFFF,
                b"unraise": self._unraise,
                b"version": REDIS_VERSION.encode(),
                b"version_num": REDIS_VERSION_NUM,
            }
        )
        api = lua.execute(_BOOTSTRAP, py, lambda G, wrap, backing: install_libraries(lua, G, wrap, backing), name="=twistd-redis")
        self.api = api
        self._compile = api[b"compile"]
        self._define = api[b"define"]
        self._run_eval = api[b"run_eval"]
        self._run_function = api[b"run_function"]
        self._map = api[b"map"]
        self._array = api[b"array"]
        self._ok = api[b"ok"]
        self._err = api[b"err"]
        self._double = api[b"double"]
        self._verbatim = api[b"verbatim"]
        self._cmd_err = api[b"cmd_err"]
        self._array_from = api[b"array_from"]
        self._map_from = api[b"map_from"]
        self._set_from = api[b"set_from"]
        self._kind = api[b"kind"]
        self._fname = api[b"fname"]
        self._where = api[b"where"]
        self._set = api[b"set"]
        self.table_from = lua.table_from
        # the client scripts run their commands as (Redis's lua_client / CLIENT_SCRIPT)
        self.client = Client(state, None, 0)
        self.client.flags = CLIENT_SCRIPT | CLIENT_DENY_BLOCKING
        self.client.addr = "lua"

    # ------------------------------------------------------------------ compile / run

    def compile(self, code: bytes, chunkname: bytes) -> tuple[Any, bytes | None]:
        """``(function, None)`` or ``(None, the Lua error message)``."""
        r = self._compile(code, chunkname)
        if isinstance(r, tuple):
            return None, r[1]
        return r, None

    def define(self, code: bytes, chunkname: bytes, name: bytes) -> tuple[Any, bytes | None, bool]:
        """Run a chunk that defines function ``name`` (EVAL's ``function f_<sha>() ...
        end``): ``(function, None, False)``, or ``(None, message, ran)`` (``ran``: the chunk
        compiled but failed when run)."""
        r = self._define(code, chunkname, name)
        if isinstance(r, tuple):
            return None, r[1], len(r) > 2
        return r, None, False

    def prepare(self, caller: Client, funcname: bytes, script_flags: int, ro: bool, eval_mode: bool) -> ScriptRun:
        """scriptPrepareForRun: the checks that refuse a script before it starts (raised as
        RedisError), then the run context."""
        state = self.state
        repl = state.repl
        running_stale = (
            repl.masterhost is not None
            and (repl.link is None or not repl.link.connected())
            and not state.config["replica-serve-stale-data"]
        )
        if not script_flags & SCRIPT_FLAG_EVAL_COMPAT_MODE:
            if running_stale and not script_flags & SCRIPT_FLAG_ALLOW_STALE:
                raise RedisError(
                    "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' "
                    "and 'allow-stale' flag is not set on the script."
                )
            if not script_flags & SCRIPT_FLAG_NO_WRITES:
                if repl.masterhost is not None and state.config["replica-read-only"] and not caller.flags & CLIENT_MASTER and caller.id != CLIENT_ID_AOF:
                    raise RedisError("ERR Can not run script with write flag on readonly replica")
                if state.write_denied is not None and repl.masterhost is None:
                    if state.disk_errors.get("rdb") is not None:
                        raise RedisError(
                            "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
                            "persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts."
                        )
                    raise RedisError(
                        "MISCONF Redis is configured to persist data to AOF, but it's currently unable to "
                        "persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. "
                        "AOF error: %s" % state.write_denied.message.split(": ", 1)[-1]
                    )
                if ro:
                    raise RedisError("ERR Can not execute a script with write flag using *_ro command.")
        elif running_stale:
            raise RedisError("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
        flags = RUN_EVAL_MODE if eval_mode else 0
        if ro or (not script_flags & SCRIPT_FLAG_EVAL_COMPAT_MODE and script_flags & SCRIPT_FLAG_NO_WRITES):
            flags |= RUN_READ_ONLY
        if not script_flags & SCRIPT_FLAG_EVAL_COMPAT_MODE and script_flags & SCRIPT_FLAG_ALLOW_OOM:
            flags |= RUN_ALLOW_OOM
        sc = self.client
        sc.db = caller.db
        if sc.resp != 2:
            sc.set_resp(2)
        return ScriptRun(caller, sc, funcname, flags, state.clock.seconds())

    def call(self, run: ScriptRun, fn: Any, keys: list[bytes], args: list[bytes]) -> Any:
        """luaCallFunction: run ``fn`` (EVAL: with KEYS/ARGV globals; FCALL: as fn(keys, args))
        inside one atomic unit, and give the caller's reply value."""
        state = self.state
        self.run = run
        state.script_run = run
        use_hook = state.config["busy-reply-threshold"] > 0
        state.begin_atomic()
        try:
            run_fn = self._run_eval if run.flags & RUN_EVAL_MODE else self._run_function
            if len(keys) + len(args) <= _VARARGS_MAX:
                ok, res = run_fn(fn, use_hook, len(keys), *keys, *args)
            else:
                ok, res = run_fn(fn, use_hook, -1, self.table_from(keys), self.table_from(args))
        finally:
            self.run = None
            state.script_run = None
            state.propagate_mask = 3
            if run.flags & RUN_TIMEDOUT:
                state.script_timed_out_ends(run)
            state.end_atomic()
        self.reply_failures = 0
        self._reply_counted = False
        if not ok:
            if run.flags & RUN_SHUTDOWN:
                run.caller.close_after_reply()
                return Raw(b"")
            reply = self._error_reply(run, res)
            self._reply_error(reply.message, lua_type(res) == "table" and res[b"ignore_error_stats_update"] is True)
            return reply
        return self.reply_value(res, run.caller.resp, run.client.resp)

    def _reply_error(self, message: str, ignore: bool) -> None:
        """An error the script's reply carries: counted in the error stats unless it is a
        command's error (ignore_error_stats_update: that command counted it already). The
        EVAL / FCALL failed: afterErrorReply bumps its failed_calls once per uncounted error,
        call() once more if any was counted (``reply_failures``, added by the command)."""
        if ignore:
            self.reply_failures += 1
            return
        self.state.stats.count_error(message)
        if not self._reply_counted:
            self._reply_counted = True
            self.reply_failures += 1

    def _error_reply(self, run: ScriptRun, res: Any) -> RedisError:
        if lua_type(res) != "table":
            msg = res if isinstance(res, bytes) else b"execution failure"
            return RedisError("ERR Error running script %s, %.100s" % (run.funcname.decode(), msg.decode("utf-8", "replace")))
        # luaExtractErrorInformation: lua_tostring of each field (numbers as %.14g), C strings
        err = res[b"err"]
        if isinstance(err, (int, float)):
            err = lua_tostring(err)
        if not isinstance(err, bytes):
            err = b"(null)"
        err = err.split(b"\0", 1)[0]
        source = res[b"source"]
        line = res[b"line"]
        text = err
        if source is not None and line is not None:
            if not isinstance(line, bytes):
                line = lua_tostring(line) if isinstance(line, (int, float)) else str(line).encode()
            if not isinstance(source, bytes):
                source = lua_tostring(source) if isinstance(source, (int, float)) else str(source).encode()
            text = b"%s script: %s, on %s:%s." % (err, run.funcname, source.split(b"\0", 1)[0], line.split(b"\0", 1)[0])
        return RedisError(text.decode("utf-8", "surrogateescape"))

    # ------------------------------------------------------------------ Python called from Lua

    def wrap(self, pyfn: Callable[..., tuple]) -> Callable[..., Any]:
        """A function for Lua from ``pyfn`` returning ``(True, results...)`` or ``(False, error)``:
        it returns the results or raises the error (a message positioned at its caller, as
        luaL_error from a C function; a table as it is)."""

        def lua_function(*args: Any) -> Any:
            r = pyfn(*args)
            if r[0]:
                return r[1] if len(r) == 2 else r[1:]
            e = r[1]
            if type(e) is bytes:
                e = self._where() + e
            raise LuaRaise(e)

        return lua_function

    def _unraise(self, exc: Any) -> Any:
        if isinstance(exc, LuaRaise):
            return exc.value
        log.warning("Python error inside a script call: %r", exc)
        return b"internal error in a script library call (see the server log)"

    # ------------------------------------------------------------------ Lua -> reply

    def reply_value(self, v: Any, resp: int, script_resp: int, p: int = 2) -> Any:
        """luaReplyToRedisReply: the script's return value as a reply value for a caller
        speaking ``resp`` (booleans follow the script's own ``redis.setresp``). ``p`` is the
        Lua stack slot Redis's conversion would hold the value in (for its stack limit)."""
        t = type(v)
        if t is bytes:
            return v
        if t is int:
            return v if _LLONG_MIN <= v <= _LLONG_MAX else lua_to_ll(float(v))
        if t is float:
            return lua_to_ll(v)
        if t is bool:
            if script_resp == 2:
                return 1 if v else None
            return v
        if v is None or lua_type(v) != "table":
            return None
        if p > _NESTED_MAX:  # deeper: straight to RESP, without recursion
            return Raw(self._reply_bytes(v, resp, script_resp, p))
        r = self._kind(v)
        kind = r[0]
        if kind == 8:  # an array: up to the first nil
            a = r[1]
            out = []
            i = 1
            while True:
                x = a[i]
                if x is None:
                    return out
                out.append(self.reply_value(x, resp, script_resp, p + 1))
                i += 1
        if kind == 6:
            return MapPairs(
                (self.reply_value(k, resp, script_resp, p + 4), self.reply_value(x, resp, script_resp, p + 3))
                for k, x in r[1].items()
            )
        if kind == 7:
            return RespSet(self.reply_value(k, resp, script_resp, p + 3) for k in r[1].keys())
        return self._reply_leaf(r, resp)

    def _reply_leaf(self, r: tuple, resp: int) -> Any:
        """A returned table that is not a container: error, status, double, big number, verbatim."""
        kind = r[0]
        if kind == 1:  # "-%s" through addReplyErrorFormat: a C string, trailing CR/LF trimmed
            e = RedisError(r[1].split(b"\0", 1)[0].rstrip(b"\r\n").decode("utf-8", "surrogateescape"))
            self._reply_error(e.message, r[2])
            return e
        if kind == 2:
            return SimpleString(r[1].split(b"\0", 1)[0].replace(b"\r", b" ").replace(b"\n", b" "))
        if kind == 3:
            d = r[1]
            return Raw(b",%s\r\n" % d if resp == 3 else b"$%d\r\n%s\r\n" % (len(d), d))
        if kind == 4:
            big = r[1].replace(b"\r", b" ").replace(b"\n", b" ")
            return Raw(b"(%s\r\n" % big if resp == 3 else b"$%d\r\n%s\r\n" % (len(big), big))
        s = r[2]
        if resp == 3:
            fmt = (r[1].split(b"\0", 1)[0] + b"   ")[:3]  # addReplyVerbatim pads with spaces
            return Raw(b"=%d\r\n%s:%s\r\n" % (len(s) + 4, fmt, s))
        return s

    def _reply_bytes(self, v: Any, resp: int, script_resp: int, p: int) -> bytes:
        """reply_value for deeply nested tables, iteratively and straight to RESP bytes; where
        Redis's Lua stack runs out (lua_checkstack past LUAI_MAXCSTACK) the element is the
        error "reached lua stack limit"."""
        enc = encode3 if resp == 3 else encode2
        out: list[bytes] = []
        todo = [(v, p)]
        while todo:
            v, p = todo.pop()
            if p > _LUA_STACK_SLOTS:
                out.append(b"-ERR reached lua stack limit\r\n")
                self._reply_error("ERR reached lua stack limit", False)
                continue
            if v is None or lua_type(v) != "table":
                out.append(enc(self.reply_value(v, resp, script_resp, p)))
                continue
            r = self._kind(v)
            kind = r[0]
            if kind == 8:
                a = r[1]
                items = []
                i = 1
                while True:
                    x = a[i]
                    if x is None:
                        break
                    items.append((x, p + 1))
                    i += 1
                out.append(b"*%d\r\n" % len(items))
                todo.extend(reversed(items))
            elif kind == 6:
                pairs = list(r[1].items())
                out.append(b"%%%d\r\n" % len(pairs) if resp == 3 else b"*%d\r\n" % (2 * len(pairs)))
                for k, x in reversed(pairs):
                    todo.append((x, p + 3))
                    todo.append((k, p + 4))
            elif kind == 7:
                keys = list(r[1].keys())
                out.append(b"~%d\r\n" % len(keys) if resp == 3 else b"*%d\r\n" % len(keys))
                todo.extend((k, p + 3) for k in reversed(keys))
            else:
                out.append(enc(self._reply_leaf(r, resp)))
        return b"".join(out)

    # ------------------------------------------------------------------ reply -> Lua

    def to_lua(self, r: Any, resp: int) -> Any:
        """redisProtocolToLuaType: a command's reply value as the script sees it."""
        t = type(r)
        if t is bytes or t is int:
            return r
        if r is None or r is NULL_ARRAY:
            return False if resp == 2 else None
        if t is SimpleString:
            return self._ok(bytes(r))
        if t is list or t is BulkList:
            if t is BulkList:
                return self._array(*r) if len(r) <= _VARARGS_MAX else self._array_from(self.table_from(r), len(r))
            return self._lua_array([self.to_lua(x, resp) for x in r], resp == 3 and (None in r or NULL_ARRAY in r))
        if t is dict or t is MapPairs:
            flat = []
            for k, x in r.items() if t is dict else r:
                flat.append(self.to_lua(k, resp))
                flat.append(self.to_lua(x, resp))
            if resp == 2:
                return self._lua_array(flat, False)
            return self._map(*flat) if len(flat) <= _VARARGS_MAX else self._map_from(self.table_from(flat), len(flat))
        if t is RespSet or t is set or t is frozenset:
            items = [self.to_lua(x, resp) for x in r]
            if resp == 2:
                return self._lua_array(items, False)
            return self._set(*items) if len(items) <= _VARARGS_MAX else self._set_from(self.table_from(items), len(items))
        if isinstance(r, (list, tuple)):  # EntryList, Push, tuples
            return self._lua_array([self.to_lua(x, resp) for x in r], resp == 3 and (None in r or NULL_ARRAY in r))
        if t is float:
            return format_double(r) if resp == 2 else self._double(r)
        if t is bool:
            return r if resp == 3 else int(r)
        if t is Verbatim:
            return bytes(r) if resp == 2 else self._verbatim(bytes(r))
        if isinstance(r, RedisError):
            return self._cmd_err(lua_error_table_msg(b"-" + r.message.encode("utf-8", "surrogateescape")))
        if t is Raw:
            return self.to_lua(parse_resp(bytes(r)), resp)
        if t is bytearray or t is memoryview:
            return bytes(r)
        if isinstance(r, int):
            return int(r)
        if t is str:
            return r.encode()
        return self.to_lua(parse_resp(self.client.encode(r)), resp)

    def error_table(self, msg: bytes) -> Any:
        return self._err(msg)

    def _lua_array(self, items: list, holes: bool) -> Any:
        """A Lua array of ``items`` (None: a hole, as a RESP3 null leaves in Redis's table)."""
        if holes or len(items) > _VARARGS_MAX:
            return self._array_from(self.table_from(items), len(items))
        return self._array(*items)

    # ------------------------------------------------------------------ redis.call

    def _argv(self, args: tuple) -> list[bytes] | bytes:
        """luaArgsToRedisArgv: the argv, or the error message."""
        if not args:
            return b"Please specify at least one argument for this redis lib call"
        argv = []
        for a in args:
            t = type(a)
            if t is bytes:
                argv.append(a)
            elif t is int or t is float:
                argv.append(number_arg(a))
            else:
                return b"Lua redis lib command arguments must be strings or integers"
        return argv

    def _command(self, args: tuple) -> Any:
        """scriptCall: the command's reply, or a RedisError refusing it."""
        run = self.run
        if run is None:
            return _NoRunError("ERR redis.call/pcall can only be called inside a script invocation")
        argv = self._argv(args)
        if type(argv) is bytes:
            return _ArgvError("ERR " + argv.decode("utf-8", "surrogateescape"))
        state = self.state
        spec = self._lookup(argv)
        reply = self._verify(run, spec, argv)
        if reply is not None:  # rejected: counted as the command's rejection (scriptCall)
            if spec is not None:
                spec.rejected_calls += 1
            state.stats.count_error(reply.message)
            return reply
        return state.execute(run.client, argv, False)

    def _verify(self, run: ScriptRun, spec: Any, argv: list[bytes]) -> RedisError | None:
        """scriptCall's checks, in Redis's order: the error refusing the command, or None."""
        state = self.state
        if spec is None:
            return RedisError("ERR Unknown Redis command called from script")
        if not spec.arity_ok(len(argv)):
            return RedisError("ERR Wrong number of args calling Redis command from script")
        flags = spec.flags
        if flags & cmdtable.NOSCRIPT:
            return RedisError("ERR This Redis command is not allowed from script")
        gates = state.gate_all  # a replica, a disk error or min-replicas: else none applies
        repl = state.repl
        if (
            gates
            and repl.masterhost is not None
            and not state.config["replica-serve-stale-data"]
            and (repl.link is None or not repl.link.connected())
            and not flags & cmdtable.STALE
        ):
            return RedisError("ERR Can not execute the command on a stale replica")
        # scriptVerifyWriteCommandAllow: for a read-only run, may-replicate commands (PUBLISH,
        # PFCOUNT...) count as writes
        if run.flags & RUN_READ_ONLY and (flags & (cmdtable.WRITE | cmdtable.MAY_REPLICATE) or spec.fullname in _MAY_REPLICATE):
            return RedisError("ERR Write commands are not allowed from read-only scripts.")
        if flags & cmdtable.WRITE:
            run.flags |= RUN_WRITE_DIRTY
            if not gates:
                return None
            run.flags &= ~RUN_WRITE_DIRTY
            if (
                repl.masterhost is not None
                and state.config["replica-read-only"]
                and not run.caller.flags & CLIENT_MASTER
                and run.caller.id != CLIENT_ID_AOF
            ):
                return RedisError("READONLY You can't write against a read only replica.")
            if state.write_denied is not None:
                if state.disk_errors.get("rdb") is not None:
                    return state.write_denied
                return RedisError("MISCONF Errors writing to the AOF file: %s" % state.write_denied.message.split(": ", 1)[-1])
            # checkGoodReplicasStatus (reached by scripts without flags: a shebang one is
            # refused before it runs)
            need = state.config["min-replicas-to-write"]
            if repl.masterhost is None and need and state.config["min-replicas-max-lag"] and repl.good_replicas < need:
                return RedisError("NOREPLICAS Not enough good replicas to write.")
            run.flags |= RUN_WRITE_DIRTY
        return None

    def _lookup(self, argv: list[bytes]) -> Any:
        """lookupCommand: a container alone is the container itself (its arity then fails)."""
        commands = self.state.commands
        spec = commands.get(argv[0])
        if spec is None:
            spec = commands.get(argv[0].lower())
        if spec is not None and spec.subcommands is not None and len(argv) > 1:
            spec = spec.subcommands.get(argv[1].lower())
        return spec

    def _command_error(self, reply: RedisError) -> Any:
        """The {err=...} table of a refused or failed command (an argument error has no
        ignore_error_stats_update field: no command was looked at)."""
        msg = lua_error_table_msg(b"-" + reply.message.encode("utf-8", "surrogateescape"))
        if isinstance(reply, _ArgvError):
            return self._err(msg)
        return self._cmd_err(msg)

    def _call(self, *args: Any) -> Any:
        """redis.call: the reply, or the error raised."""
        reply = self._command(args)
        if isinstance(reply, RedisError):
            raise LuaRaise(self._command_error(reply))
        return self.to_lua(reply, self.run.client.resp)

    def _pcall(self, *args: Any) -> Any:
        """redis.pcall: the reply, an error as its {err=...} table."""
        reply = self._command(args)
        if isinstance(reply, RedisError):
            if isinstance(reply, _NoRunError):
                raise LuaRaise(self._command_error(reply))
            return self._command_error(reply)
        return self.to_lua(reply, self.run.client.resp)

    def _acl_check_cmd(self, *args: Any) -> Any:
        if self.run is None:
            raise LuaRaise(self.error_table(b"ERR redis.acl_check_cmd can only be called inside a script invocation"))
        argv = self._argv(args)
        if type(argv) is bytes:
            raise LuaRaise(self.error_table(b"ERR " + argv))
        if self._lookup(argv) is None:
            raise LuaRaise(self.error_table(b"ERR Invalid command passed to redis.acl_check_cmd()"))
        return True  # one user, every command allowed (no ACL rules in this server)

    # ------------------------------------------------------------------ the rest of redis.*

    def _sha1hex(self, *args: Any) -> bytes:
        if len(args) != 1:
            raise LuaRaise(self.error_table(b"ERR wrong number of arguments"))
        a = args[0]
        if type(a) is not bytes:
            a = lua_tostring(a) if type(a) in (int, float) else b""
        return sha1hex(a)

    def _log(self, *args: Any) -> tuple:
        if len(args) < 2:
            raise LuaRaise(self.error_table(b"ERR redis.log() requires two arguments or more."))
        level = lua_tonumber(args[0])
        if level is None:
            raise LuaRaise(self.error_table(b"ERR First argument must be a number (log level)."))
        level = c_int(level)
        if level < 0 or level > 3:
            raise LuaRaise(self.error_table(b"ERR Invalid debug level."))
        levels = ("debug", "verbose", "notice", "warning")
        if level < levels.index(self.state.config["loglevel"]):
            return ()
        # luaLogCommand: the strings (and numbers) glued, a space before each but the first
        # argument's (a skipped one still leaves its space)
        parts = []
        for j, a in enumerate(args[1:]):
            if type(a) is bytes or type(a) is int or type(a) is float:
                parts.append((b" " if j else b"") + (a if type(a) is bytes else lua_tostring(a)))
        msg = b"".join(parts).decode("utf-8", "replace")
        if level >= 3:
            log.warning("%s", msg)
        else:
            log.info("%s", msg)
        return ()  # no value, as the C function

    def _setresp(self, *args: Any) -> tuple:
        if self.run is None:
            raise LuaRaise(self.error_table(b"ERR redis.setresp can only be called inside a script invocation"))
        if len(args) != 1:
            raise LuaRaise(self.error_table(b"ERR redis.setresp() requires one argument."))
        n = c_int(lua_tonumber(args[0]) or 0)
        if n != 2 and n != 3:
            raise LuaRaise(self.error_table(b"ERR RESP version must be 2 or 3."))
        self.run.client.set_resp(n)
        return ()

    def _set_repl(self, *args: Any) -> tuple:
        if self.run is None:
            raise LuaRaise(self.error_table(b"ERR redis.set_repl can only be called inside a script invocation"))
        if len(args) != 1:
            raise LuaRaise(self.error_table(b"ERR redis.set_repl() requires two arguments."))
        n = c_int(lua_tonumber(args[0]) or 0)
        if n & ~(PROPAGATE_AOF | PROPAGATE_REPL):
            raise LuaRaise(
                self.error_table(b"ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
            )
        self.run.repl_flags = n
        self.state.propagate_mask = n
        return ()

    def _argerror(self, narg: int, extramsg: bytes) -> LuaRaise:
        """luaL_argerror from a Python function: named as its caller named it ('?' when the
        caller is not Lua code, e.g. pcall), positioned at that caller."""
        name, namewhat = self._fname()
        if name is None:
            name = b"?"
        if namewhat == b"method":
            narg -= 1
            if narg == 0:
                return LuaRaise(self._where() + b"calling '%s' on bad self (%s)" % (name, extramsg))
        return LuaRaise(self._where() + b"bad argument #%d to '%s' (%s)" % (narg, name, extramsg))

    def _checkint(self, n: int, fname: bytes, args: tuple) -> int:
        """luaL_checkint: a number (or a numeric string), (int)(lua_Integer) of it."""
        v = args[n - 1] if len(args) >= n else None
        x = lua_tonumber(v)
        if x is None:
            got = b"no value" if len(args) < n else lua_typename(v)
            raise self._argerror(n, b"number expected, got %s" % got)
        ll = lua_to_ll(float(x)) if type(x) is float or not _LLONG_MIN <= x <= _LLONG_MAX else x
        return ((ll + 2**31) & 0xFFFFFFFF) - 2**31  # the int of that lua_Integer (32 bits)

    def _math_random(self, *args: Any) -> Any:
        """redis_math_random: Lua's math.random over rand48."""
        if self.run is None:
            raise LuaRaise(self._where() + b"math.random can only be called inside a script invocation")
        r = (self.rand.next() % 2147483647) / 2147483647
        argc = len(args)
        if argc == 0:
            return r
        if argc == 1:
            u = self._checkint(1, b"random", args)
            if not 1 <= u:
                raise self._argerror(1, b"interval is empty")
            return math.floor(r * u) + 1
        if argc == 2:
            lo = self._checkint(1, b"random", args)
            u = self._checkint(2, b"random", args)
            if not lo <= u:
                raise self._argerror(2, b"interval is empty")
            span = ((u - lo + 1 + 2**31) & 0xFFFFFFFF) - 2**31  # int arithmetic: it wraps
            return math.floor(r * span) + lo
        raise LuaRaise(self._where() + b"wrong number of arguments")

    def _math_randomseed(self, *args: Any) -> tuple:
        if self.run is None:
            raise LuaRaise(self._where() + b"math.randomseed can only be called inside a script invocation")
        self.rand.seed(self._checkint(1, b"randomseed", args))
        return ()

    def _interrupt(self) -> bool:
        """scriptInterrupt, from the count hook: past busy-reply-threshold, serve other
        connections; True once SCRIPT KILL / FUNCTION KILL asked for the end."""
        run = self.run
        if run is None:
            return False
        state = self.state
        if run.flags & RUN_TIMEDOUT:
            state.process_events_while_blocked()
            return bool(run.flags & RUN_KILLED)
        elapsed_ms = (state.clock.seconds() - run.start) * 1000
        if elapsed_ms < state.config["busy-reply-threshold"]:
            return False
        log.warning(
            "Slow script detected: still in execution after %d milliseconds. You can try killing the script "
            "using the %s command.",
            elapsed_ms,
            "SCRIPT KILL" if run.flags & RUN_EVAL_MODE else "FUNCTION KILL",
        )
        run.flags |= RUN_TIMEDOUT
        state.script_timed_out_starts(run)
        state.process_events_while_blocked()
        return bool(run.flags & RUN_KILLED)


def kill_script(state: "ServerState", is_eval: bool) -> Any:
    """scriptKill: SCRIPT KILL / FUNCTION KILL."""
    from ..resp import OK

    run = state.script_run
    if run is None:
        raise RedisError("NOTBUSY No scripts in execution right now.")
    if run.caller.flags & CLIENT_MASTER:
        raise RedisError(
            "UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed."
        )
    if run.flags & RUN_WRITE_DIRTY:
        raise RedisError(
            "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either "
            "wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
        )
    if is_eval and not run.flags & RUN_EVAL_MODE:
        raise RedisError(BUSY_FUNCTION)
    if not is_eval and run.flags & RUN_EVAL_MODE:
        raise RedisError(BUSY_EVAL)
    run.flags |= RUN_KILLED
    return OK


def stop_script_for_shutdown(state: "ServerState") -> None:
    """SHUTDOWN NOSAVE while a script is busy. Redis exit()s from inside the script: its
    caller gets no reply and the effects it made so far reach neither the AOF nor the
    replicas. Here the script stops at its next line (killed, written or not), nothing more is
    propagated, the caller's connection is closed without a reply, and the reactor stops
    (SHUTDOWN's callLater) as soon as the script has unwound."""
    run = state.script_run
    if run is None:
        return
    run.flags |= RUN_KILLED | RUN_SHUTDOWN
    state.propagation_targets = []
    state.also_propagate = []


# ---------------------------------------------------------------------------------------------


def parse_resp(data: bytes) -> Any:
    """Reply bytes back into reply values (replies that arrive pre-encoded, ``Raw``)."""
    value, _ = _parse(data, 0)
    return value


def _parse(data: bytes, pos: int) -> tuple[Any, int]:
    if pos >= len(data):
        return None, pos
    end = data.index(b"\r\n", pos)
    kind, line = data[pos : pos + 1], data[pos + 1 : end]
    pos = end + 2
    if kind == b"+":
        return SimpleString(line), pos
    if kind == b"-":
        return RedisError(line.decode("utf-8", "surrogateescape")), pos
    if kind == b":":
        return int(line), pos
    if kind in (b"$", b"="):
        n = int(line)
        if n < 0:
            return None, pos
        s = data[pos : pos + n]
        if kind == b"=":
            return Verbatim(s[4:]), pos + n + 2
        return s, pos + n + 2
    if kind == b"_":
        return None, pos
    if kind == b",":
        return float(line.replace(b"inf", b"inf")), pos
    if kind == b"#":
        return line == b"t", pos
    if kind == b"(":
        return line, pos
    if kind in (b"*", b"~", b">", b"%"):
        n = int(line)
        if n < 0:
            return NULL_ARRAY, pos
        count = 2 * n if kind == b"%" else n
        items = []
        for _ in range(count):
            x, pos = _parse(data, pos)
            items.append(x)
        if kind == b"%":
            return MapPairs(zip(items[::2], items[1::2])), pos
        if kind == b"~":
            return RespSet(items), pos
        return items, pos
    return None, pos


Interrupt = Callable[[], None]
