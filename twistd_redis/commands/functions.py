"""FUNCTION LOAD / LIST / DELETE / FLUSH / DUMP / RESTORE / STATS / KILL / HELP, FCALL and
FCALL_RO (functions.c).

The registry, the load run and the payloads are ``scripting/functions.py``; a call runs through
the function engine's ``LuaEngine`` as ``fn(keys, args)`` (no KEYS/ARGV globals). FCALL is
never propagated itself: the commands the function ran go out (effects replication), as EVAL's.
FUNCTION LOAD / DELETE / FLUSH / RESTORE are write commands: each adds 1 to ``dirty`` and reaches
the AOF and the replicas as itself.
"""

from __future__ import annotations

from typing import Any

from ..client import CLIENT_MASTER, Client
from ..errors import RedisError, err
from ..resp import OK, RespSet, SimpleString
from ..scripting.engine import BUSY_EVAL, kill_script
from ..scripting.functions import CLIENT_ID_AOF, ENGINE_NAME, FunctionError, get_functions
from .args import parse_int
from .scripting import script_flag_gates
from .table import (
    ALLOW_BUSY,
    DENYOOM,
    LOADING,
    MOVABLE_KEYS,
    NO_MANDATORY_KEYS,
    NOSCRIPT,
    READONLY,
    SKIP_MONITOR,
    STALE,
    WRITE,
    command,
    container,
    help_reply,
)

FUNCTION_HELP = [
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
]

_FCALL_FLAGS = NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | MOVABLE_KEYS


def _error(e: FunctionError) -> RedisError:
    return RedisError("ERR " + e.msg)


def _subcommand_syntax(argv: list[bytes]) -> RedisError:
    """addReplySubcommandSyntaxError: the subcommand as it was typed."""
    sub = argv[1].split(b"\0", 1)[0][:128].decode("utf-8", "surrogateescape")
    return err(f"unknown subcommand or wrong number of arguments for '{sub}'. Try FUNCTION HELP.")


# ---------------------------------------------------------------- FCALL


def _flag_gates(c: Client, argv: list[bytes], script_flags: int) -> RedisError | None:
    """processCommand's gates under the flags Redis gives FCALL from the function's own
    (fcallGetCommandFlags / scriptFlagsToCmdFlags): a function without ``no-writes`` is a write
    command (MISCONF, NOREPLICAS, READONLY on a replica), one without ``allow-stale`` is refused
    by a stale replica. The row's static flags let FCALL through ServerState's gates; this
    applies them once the function is known, with the gates' own texts, as a rejection."""
    state = c.state
    if not state.gate_all or c.flags & CLIENT_MASTER or c.id == CLIENT_ID_AOF:
        return None
    return script_flag_gates(c, argv, script_flags)


def _fcall_generic(c: Client, argv: list[bytes], ro: bool) -> Any:
    state = c.state
    funcs = get_functions(state)
    fi = funcs.ctx.get_function(argv[1])
    if fi is not None:
        rejected = _flag_gates(c, argv, fi.flags)
        if rejected is not None:
            return rejected
    if state.monitors:  # functions feed monitors before the commands they run
        state.feed_monitors(c, argv)
    if fi is None:
        raise err("Function not found")
    numkeys = parse_int(argv[2])
    if numkeys is None:
        raise err("Bad number of keys provided")
    if numkeys > len(argv) - 3:
        raise err("Number of keys can't be greater than number of args")
    if numkeys < 0:
        raise err("Number of keys can't be negative")
    engine = fi.library.engine.engine
    run = engine.prepare(c, fi.name, fi.flags, ro, eval_mode=False)
    funcs.running_argv = argv
    try:
        reply = engine.call(run, fi.fn, argv[3 : 3 + numkeys], argv[3 + numkeys :])
        if engine.reply_failures:  # errors in the reply (counted by the engine): a failed call
            spec = state.commands.get(argv[0].lower())
            if spec is not None:
                spec.failed_calls += engine.reply_failures
        return reply
    finally:
        funcs.running_argv = None
        # never FCALL itself: the commands it ran went out (effects). Set after the run: an
        # override set before would be taken by the function's first command.
        state.rewrite_propagation()


@command("fcall", arity=-3, flags=_FCALL_FLAGS, group="scripting")
def fcall_command(c: Client, argv: list[bytes]):
    """FCALL function numkeys [key ...] [arg ...]"""
    return _fcall_generic(c, argv, ro=False)


@command("fcall_ro", arity=-3, flags=_FCALL_FLAGS | READONLY, group="scripting")
def fcall_ro_command(c: Client, argv: list[bytes]):
    """FCALL_RO function numkeys [key ...] [arg ...]"""
    return _fcall_generic(c, argv, ro=True)


# ---------------------------------------------------------------- FUNCTION

container("function", arity=-2, group="scripting")


@command("function|help", arity=2, flags=LOADING | STALE, group="scripting")
def function_help_command(c: Client, argv: list[bytes]):
    return help_reply("FUNCTION", FUNCTION_HELP)


@command("function|load", arity=-3, flags=WRITE | DENYOOM | NOSCRIPT, group="scripting")
def function_load_command(c: Client, argv: list[bytes]):
    """FUNCTION LOAD [REPLACE] function-code"""
    replace = False
    pos = 2
    while pos < len(argv) - 1:
        a = argv[pos]
        pos += 1
        if a.lower() == b"replace":
            replace = True
            continue
        raise err("Unknown option given: {}".format(a.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")))
    funcs = get_functions(c.state)
    try:
        name = funcs.load_command(argv[pos], replace, c)
    except FunctionError as e:
        raise _error(e) from None
    c.state.dirty += 1
    return name


@command("function|delete", arity=3, flags=WRITE | NOSCRIPT, group="scripting")
def function_delete_command(c: Client, argv: list[bytes]):
    """FUNCTION DELETE library-name"""
    if not get_functions(c.state).delete(argv[2]):
        raise err("Library not found")
    c.state.dirty += 1
    return OK


@command("function|flush", arity=-2, flags=WRITE | NOSCRIPT, group="scripting")
def function_flush_command(c: Client, argv: list[bytes]):
    """FUNCTION FLUSH [ASYNC | SYNC]"""
    if len(argv) > 3:
        raise _subcommand_syntax(argv)
    if len(argv) == 3 and argv[2].lower() not in (b"sync", b"async"):
        raise err("FUNCTION FLUSH only supports SYNC|ASYNC option")
    get_functions(c.state).flush()
    c.state.dirty += 1
    return OK


@command("function|list", arity=-2, flags=NOSCRIPT, group="scripting")
def function_list_command(c: Client, argv: list[bytes]):
    """FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]"""
    from ..glob import stringmatchlen

    with_code = False
    pattern = None
    i = 2
    n = len(argv)
    while i < n:
        a = argv[i]
        if not with_code and a.lower() == b"withcode":
            with_code = True
            i += 1
            continue
        if pattern is None and a.lower() == b"libraryname":
            if i >= n - 1:
                raise err("library name argument was not given")
            pattern = argv[i + 1]
            i += 2
            continue
        raise err("Unknown argument {}".format(a.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")))
    out = []
    for li in get_functions(c.state).ctx.libraries.values():
        if pattern is not None and not stringmatchlen(pattern, li.name, True):
            continue
        entry: dict[bytes, Any] = {
            b"library_name": li.name,
            b"engine": ENGINE_NAME,
            b"functions": [
                {
                    b"name": fi.name,
                    b"description": fi.desc,
                    b"flags": RespSet(SimpleString(f) for f in fi.flag_names()),
                }
                for fi in li.functions.values()
            ],
        }
        if with_code:
            entry[b"library_code"] = li.code
        out.append(entry)
    return out


@command("function|dump", arity=2, flags=NOSCRIPT, group="scripting")
def function_dump_command(c: Client, argv: list[bytes]):
    """FUNCTION DUMP"""
    return get_functions(c.state).dump(compress=bool(c.state.config["rdbcompression"]))


@command("function|restore", arity=-3, flags=WRITE | DENYOOM | NOSCRIPT, group="scripting")
def function_restore_command(c: Client, argv: list[bytes]):
    """FUNCTION RESTORE serialized-value [FLUSH | APPEND | REPLACE]"""
    if len(argv) > 4:
        raise _subcommand_syntax(argv)
    policy = "append"
    if len(argv) == 4:
        p = argv[3].lower()
        if p in (b"append", b"replace", b"flush"):
            policy = p.decode()
        else:
            raise err("Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
    try:
        get_functions(c.state).restore(argv[2], policy, checksum=True)
    except FunctionError as e:
        raise _error(e) from None
    c.state.dirty += 1
    return OK


@command("function|stats", arity=2, flags=NOSCRIPT | ALLOW_BUSY, group="scripting")
def function_stats_command(c: Client, argv: list[bytes]):
    """FUNCTION STATS"""
    state = c.state
    run = state.script_run
    if run is not None and run.is_eval:
        raise RedisError(BUSY_EVAL)
    funcs = get_functions(state)
    running = None
    if run is not None:
        running = {
            b"name": run.funcname,
            b"command": list(funcs.running_argv or ()),
            b"duration_ms": int((state.clock.seconds() - run.start) * 1000),
        }
    ctx = funcs.ctx
    return {
        b"running_script": running,
        b"engines": {ENGINE_NAME: {b"libraries_count": ctx.n_lib, b"functions_count": ctx.n_functions}},
    }


@command("function|kill", arity=2, flags=NOSCRIPT | ALLOW_BUSY, group="scripting")
def function_kill_command(c: Client, argv: list[bytes]):
    """FUNCTION KILL"""
    return kill_script(c.state, is_eval=False)
