"""EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (eval.c).

A script body is compiled once, as Redis 7.0.15 does (the body itself loaded as a chunk named
``@user_script``, a shebang line cut but its newline kept, so compile errors and line numbers
read the same; the chunk is a vararg function called with no arguments), and kept under its
SHA1 until SCRIPT FLUSH, which replaces the whole Lua runtime. A ``#!lua`` shebang line may
carry ``flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys``; a script
without one runs in the compatibility mode of Redis 6 scripts.

The run itself is the engine's (``scripting/engine.py``): one atomic unit whose commands reach
the AOF and the replicas as themselves (effects replication) wrapped in MULTI/EXEC; EVAL itself
is never propagated.
"""

from __future__ import annotations

from typing import Any

from ..client import CLIENT_MASTER, CLIENT_MULTI, Client
from ..errors import RedisError, err
from ..resp import OK, split_args
from ..scripting.engine import (
    CLIENT_ID_AOF,
    SCRIPT_FLAG_ALLOW_STALE,
    SCRIPT_FLAG_EVAL_COMPAT_MODE,
    SCRIPT_FLAG_NAMES,
    SCRIPT_FLAG_NO_WRITES,
    LuaEngine,
    kill_script,
    sha1hex,
)
from .args import parse_int
from .table import (
    ALLOW_BUSY,
    LOADING,
    MOVABLE_KEYS,
    NO_MANDATORY_KEYS,
    NOSCRIPT,
    READONLY,
    SKIP_MONITOR,
    STALE,
    command,
    container,
    help_reply,
)

_EVAL_FLAGS = NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | MOVABLE_KEYS

SCRIPT_HELP = [
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
]


class EvalScripts:
    """lctx: the EVAL engine and its script cache (sha -> (function, body, flags))."""

    def __init__(self, state: Any) -> None:
        self.engine = LuaEngine(state)
        self.scripts: dict[bytes, tuple[Any, bytes, int]] = {}
        self.body_bytes = 0
        self.scripts_mem = 0  # lctx.lua_scripts_mem: the SHAs' and bodies' allocations

    def create(self, body: bytes) -> bytes:
        """luaCreateFunction: compile ``body`` (once per SHA) and give its SHA."""
        sha = sha1hex(body)
        if sha in self.scripts:
            return sha
        flags, code = parse_shebang(body)
        fn, error = self.engine.compile(code, b"@user_script")
        if fn is None:
            raise RedisError("ERR Error compiling script (new function): %s" % _text(error))
        self.scripts[sha] = (fn, body, flags)
        self.body_bytes += len(body)
        self.scripts_mem += _SHA_SDS_SIZE + _string_object_sds_memory(len(body))
        return sha

    def vm_memory(self) -> int:
        """used_memory_vm_eval: the Lua heap in whole KB, as lua_gc(LUA_GCCOUNT) * 1024."""
        return int(self.engine.lua.eval("collectgarbage('count')")) * 1024

    def scripts_memory(self) -> int:
        """used_memory_scripts_eval (evalScriptsMemory): the cache's allocations plus its dict
        (an entry and a luaScript per script, a pointer per bucket)."""
        n = len(self.scripts)
        slots = 0 if n == 0 else max(4, 1 << (n - 1).bit_length())
        return self.scripts_mem + n * (24 + 16) + slots * 8


def _jemalloc_size(n: int) -> int:
    """The jemalloc size class an allocation of ``n`` bytes takes (zmalloc_size)."""
    if n <= 8:
        return 8
    if n <= 128:
        return (n + 15) & ~15
    step = 1 << ((n - 1).bit_length() - 3)
    return (n + step - 1) & ~(step - 1)


def _sds_header(n: int) -> int:
    return 3 if n < 1 << 8 else 5 if n < 1 << 16 else 9 if n < 1 << 32 else 17


_SHA_SDS_SIZE = _jemalloc_size(3 + 40 + 1)


def _string_object_sds_memory(n: int) -> int:
    """getStringObjectSdsUsedMemory of a script body as the argv made it: an embedded string
    (up to 44 bytes: robj and sds in one allocation, the robj not counted) or a raw sds."""
    if n <= 44:
        return _jemalloc_size(16 + 3 + n + 1) - 16
    return _jemalloc_size(_sds_header(n) + n + 1)


def info_memory_fields(state: Any) -> dict[str, int]:
    """INFO memory's EVAL fields (the Lua VM exists from startup in Redis: made here if not yet)."""
    es = eval_scripts(state)
    return {
        "used_memory_vm_eval": es.vm_memory(),
        "used_memory_scripts_eval": es.scripts_memory(),
        "number_of_cached_scripts": len(es.scripts),
    }


def _text(b: Any) -> str:
    if isinstance(b, bytes):
        return b.decode("utf-8", "surrogateescape").strip("\r\n")
    return str(b)


def parse_shebang(body: bytes) -> tuple[int, bytes]:
    """evalExtractShebangFlags: the script flags of a ``#!lua flags=...`` first line (split as
    sdssplitargs does: quotes allowed) and the code after it (the newline stays, so line
    numbers are the body's). No shebang: EVAL's compatibility mode."""
    if not body.startswith(b"#!"):
        return SCRIPT_FLAG_EVAL_COMPAT_MODE, body
    nl = body.find(b"\n")
    if nl < 0 or b"\0" in body[:nl]:  # strchr on a C string
        raise RedisError("ERR Invalid script shebang")
    parts = split_args(body[:nl])
    if not parts:
        raise RedisError("ERR Invalid engine in script shebang")
    if parts[0] != b"#!lua":
        raise RedisError("ERR Unexpected engine in script shebang: %s" % _text(parts[0]))
    flags = 0
    for p in parts[1:]:
        if not p.startswith(b"flags="):
            raise RedisError("ERR Unknown lua shebang option: %s" % _text(p))
        if len(p) == 6:
            continue  # sdssplitlen of an empty string: no flags at all
        for f in p[6:].split(b","):  # an empty one ("a,", ",a") is an unknown flag
            bit = SCRIPT_FLAG_NAMES.get(f)
            if bit is None:
                raise RedisError("ERR Unexpected flag in script shebang: %s" % _text(f))
            flags |= bit
    return flags, body[nl:]


def eval_scripts(state: Any) -> EvalScripts:
    es = state.lua
    if es is None:
        es = state.lua = EvalScripts(state)
    return es


def parse_numkeys(argv: list[bytes]) -> int:
    """evalGenericCommand / fcallCommandGeneric's numkeys."""
    numkeys = parse_int(argv[2])
    if numkeys is None:
        raise RedisError("ERR value is not an integer or out of range")
    if numkeys > len(argv) - 3:
        raise err("Number of keys can't be greater than number of args")
    if numkeys < 0:
        raise err("Number of keys can't be negative")
    return numkeys


def _script_flags(state: Any, argv: list[bytes], evalsha: bool) -> int:
    """evalGetCommandFlags' view of the script: its shebang flags when they can be known before
    it runs (cached, or an EVAL body that parses), else the compatibility mode."""
    es = state.lua
    if evalsha:
        if len(argv[1]) != 40 or es is None:
            return SCRIPT_FLAG_EVAL_COMPAT_MODE
        entry = es.scripts.get(argv[1].lower())
        return entry[2] if entry is not None else SCRIPT_FLAG_EVAL_COMPAT_MODE
    if es is not None:
        entry = es.scripts.get(sha1hex(argv[1]))
        if entry is not None:
            return entry[2]
    try:
        return parse_shebang(argv[1])[0]
    except RedisError:
        return SCRIPT_FLAG_EVAL_COMPAT_MODE


def _flag_gates(c: Client, argv: list[bytes], evalsha: bool) -> RedisError | None:
    """processCommand's gates under the flags a shebang script gives its EVAL
    (scriptFlagsToCmdFlags): without ``no-writes`` it is a write command (MISCONF, NOREPLICAS,
    READONLY on a replica), without ``allow-stale`` a stale replica refuses it. The row's
    static flags let EVAL through ServerState's gates; these apply once the flags are known,
    with the gates' texts, as a rejection. Inside EXEC no gate applies (call() directly):
    the run's own checks (LuaEngine.prepare) answer."""
    state = c.state
    if not state.gate_all or c.flags & (CLIENT_MASTER | CLIENT_MULTI) or c.id == CLIENT_ID_AOF:
        return None
    flags = _script_flags(state, argv, evalsha)
    if flags & SCRIPT_FLAG_EVAL_COMPAT_MODE:
        return None
    return script_flag_gates(c, argv, flags)


def script_flag_gates(c: Client, argv: list[bytes], script_flags: int) -> RedisError | None:
    """The gates themselves, for EVAL's shebang flags and FCALL's function flags: the
    rejection (counted by ``state.reject``), or None."""
    state = c.state
    repl = state.repl
    error = None
    if not script_flags & SCRIPT_FLAG_NO_WRITES:
        need = state.config["min-replicas-to-write"]
        if state.write_denied is not None and repl.masterhost is None:
            error = state.write_denied
        elif repl.masterhost is None and need and state.config["min-replicas-max-lag"] and repl.good_replicas < need:
            error = RedisError("NOREPLICAS Not enough good replicas to write.")
        elif repl.masterhost is not None and state.config["replica-read-only"]:
            error = RedisError("READONLY You can't write against a read only replica.")
    if (
        error is None
        and not script_flags & SCRIPT_FLAG_ALLOW_STALE
        and repl.masterhost is not None
        and not state.config["replica-serve-stale-data"]
        and (repl.link is None or not repl.link.connected())
    ):
        error = RedisError("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
    if error is None:
        return None
    return state.reject(c, state.lookup_command(argv), error)


def _eval_generic(c: Client, argv: list[bytes], evalsha: bool, ro: bool) -> Any:
    state = c.state
    if state.gate_all:
        rejected = _flag_gates(c, argv, evalsha)
        if rejected is not None:
            return rejected
    if state.monitors:  # evalCommand feeds monitors itself, first: the script's commands follow
        state.feed_monitors(c, argv)
    if evalsha and len(argv[1]) != 40:  # evalShaCommand: before numkeys is even looked at
        raise RedisError("NOSCRIPT No matching script. Please use EVAL.")
    numkeys = parse_numkeys(argv)
    es = eval_scripts(state)
    if evalsha:
        sha = argv[1].lower()
        entry = es.scripts.get(sha)
        if entry is None:
            raise RedisError("NOSCRIPT No matching script. Please use EVAL.")
    else:
        sha = es.create(argv[1])
        entry = es.scripts[sha]
    fn, _body, flags = entry
    engine = es.engine
    run = engine.prepare(c, sha, flags, ro, eval_mode=True)
    try:
        reply = engine.call(run, fn, argv[3 : 3 + numkeys], argv[3 + numkeys :])
        if engine.reply_failures:  # errors in the reply (counted by the engine): a failed call
            spec = state.commands.get(argv[0].lower())
            if spec is not None:
                spec.failed_calls += engine.reply_failures
        return reply
    finally:
        # never EVAL itself: the commands it ran went out (effects). Set after the run: an
        # override set before would be taken by the script's first write command.
        state.rewrite_propagation()


@command("eval", arity=-3, flags=_EVAL_FLAGS, group="scripting")
def eval_command(c: Client, argv: list[bytes]):
    return _eval_generic(c, argv, evalsha=False, ro=False)


@command("evalsha", arity=-3, flags=_EVAL_FLAGS, group="scripting")
def evalsha_command(c: Client, argv: list[bytes]):
    return _eval_generic(c, argv, evalsha=True, ro=False)


@command("eval_ro", arity=-3, flags=_EVAL_FLAGS | READONLY, group="scripting")
def eval_ro_command(c: Client, argv: list[bytes]):
    return _eval_generic(c, argv, evalsha=False, ro=True)


@command("evalsha_ro", arity=-3, flags=_EVAL_FLAGS | READONLY, group="scripting")
def evalsha_ro_command(c: Client, argv: list[bytes]):
    return _eval_generic(c, argv, evalsha=True, ro=True)


container("script", arity=-2, group="scripting")


@command("script|help", arity=2, flags=LOADING | STALE, group="scripting")
def script_help_command(c: Client, argv: list[bytes]):
    return help_reply("SCRIPT", SCRIPT_HELP)


@command("script|flush", arity=-2, flags=NOSCRIPT, group="scripting")
def script_flush_command(c: Client, argv: list[bytes]):
    if len(argv) > 3 or (len(argv) == 3 and argv[2].lower() not in (b"sync", b"async")):
        raise err("SCRIPT FLUSH only support SYNC|ASYNC option")
    c.state.lua = None  # scriptingReset: a new runtime on next use, the old one is dropped
    return OK


@command("script|exists", arity=-3, flags=NOSCRIPT, group="scripting")
def script_exists_command(c: Client, argv: list[bytes]):
    es = c.state.lua
    scripts = es.scripts if es is not None else {}
    return [1 if a.lower() in scripts else 0 for a in argv[2:]]


@command("script|load", arity=3, flags=NOSCRIPT | STALE, group="scripting")
def script_load_command(c: Client, argv: list[bytes]):
    return eval_scripts(c.state).create(argv[2])


@command("script|kill", arity=2, flags=NOSCRIPT | ALLOW_BUSY, group="scripting")
def script_kill_command(c: Client, argv: list[bytes]):
    return kill_script(c.state, is_eval=True)


@command("script|debug", arity=3, flags=NOSCRIPT, group="scripting")
def script_debug_command(c: Client, argv: list[bytes]):
    # clientHasPendingReplies: replies of a pipeline not yet written, or EXEC's own array
    if c.flags & CLIENT_MULTI or getattr(c.conn, "batch", None):
        raise err("SCRIPT DEBUG must be called outside a pipeline")
    mode = argv[2].lower()
    if mode == b"no":
        return OK
    if mode in (b"yes", b"sync"):
        # the Lua debugger (LDB) is not part of this server
        raise err("SCRIPT DEBUG YES/SYNC is not supported by this server (no Lua debugger)")
    raise err("Use SCRIPT DEBUG YES/SYNC/NO")
