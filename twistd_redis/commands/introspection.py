"""COMMAND and its subcommands: the server describing its own command table.

Name, arity, flags and the legacy key positions come from our ``CommandSpec`` rows (the same rows
dispatch uses), so what COMMAND says is what the server does. What the rows lack (ACL
categories, tips, key specs, and the COMMAND DOCS text: summary, since, complexity, history,
arguments) comes from ``redis_meta.json``, dumped from Redis 7.0.15 by tools/gen_command_meta.py.
Only commands we implement are listed.

Reply shapes follow Redis 7.0.15 exactly (checked byte for byte in RESP3): flags, ACL
categories, tips, key-spec flags, doc flags, argument flags and history are sets (flags and
categories as status strings); argument lists are arrays; maps flatten in RESP2.

Key extraction for COMMAND GETKEYS / GETKEYSANDFLAGS follows db.c's getKeysFromCommandWithSpecs
(which Redis 7.0 uses for both): the key specs when none is ``variable_flags`` and the search
succeeds, else the command's getkeys procedure (ported below: SORT, MIGRATE, SET, BITFIELD, ...).
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable

from ..client import Client
from ..errors import RedisError, syntax_error
from ..glob import stringmatchlen
from ..resp import RespSet, SimpleString
from . import table
from .args import parse_int
from .table import help_reply
from .table import LOADING, STALE, CommandSpec, command, container

_META_PATH = os.path.join(os.path.dirname(__file__), "redis_meta.json")
_META: dict[str, Any] | None = None


# Commands we serve although Redis 7.0 has none (clients send them: redis-py 8 sends CLIENT
# SETINFO on connect), described as Redis 7.2 describes them. Listed here, not in the JSON, so
# the generated file stays a pure dump of 7.0.15.
BEYOND_7_0: dict[str, Any] = {
    "client|setinfo": {
        "arity": 4,
        "flags": ["noscript", "loading", "stale"],
        "keys": [0, 0, 0],
        "acl": ["@slow", "@connection"],
        "tips": ["request_policy:all_nodes", "response_policy:all_succeeded"],
        "docs": {
            "summary": "Sets information specific to the client or connection.",
            "since": "7.2.0",
            "group": "connection",
            "complexity": "O(1)",
            "arguments": [
                {
                    "name": "attr",
                    "type": "oneof",
                    "arguments": [
                        {"name": "libname", "type": "string", "token": "LIB-NAME"},
                        {"name": "libver", "type": "string", "token": "LIB-VER"},
                    ],
                }
            ],
        },
    },
}


def meta() -> dict[str, Any]:
    """The Redis 7.0.15 metadata, by full command name (``client|kill``), plus BEYOND_7_0;
    loaded once."""
    global _META
    if _META is None:
        with open(_META_PATH, encoding="utf-8") as f:
            _META = json.load(f)["commands"]
        for name, m in BEYOND_7_0.items():
            _META.setdefault(name, m)
    return _META


def _status_set(names: list[str]) -> RespSet:
    return RespSet([SimpleString(n.encode()) for n in names])


# ---------------------------------------------------------------- lookup


def lookup_by_name(name: bytes) -> CommandSpec | None:
    """lookupCommandBySds: ``get`` or ``client|kill``, case-insensitive."""
    parts = name.lower().split(b"|")
    if len(parts) > 2:
        return None
    try:
        spec = table.REGISTRY.get(parts[0].decode())
    except UnicodeDecodeError:
        return None
    if spec is None or len(parts) == 1:
        return spec
    if not spec.subcommands:
        return None
    return spec.subcommands.get(parts[1])


def lookup_by_argv(argv: list[bytes]) -> CommandSpec | None:
    """lookupCommand: the base command, or its subcommand when it has any and argc > 1."""
    try:
        spec = table.REGISTRY.get(argv[0].lower().decode())
    except UnicodeDecodeError:
        return None
    if spec is None or len(argv) == 1 or not spec.subcommands:
        return spec
    return spec.subcommands.get(argv[1].lower())


# ---------------------------------------------------------------- COMMAND INFO


def _key_spec_reply(ks: dict[str, Any]) -> dict[bytes, Any]:
    out: dict[bytes, Any] = {}
    for k, v in ks.items():
        if k == "flags":
            out[b"flags"] = _status_set(v)
        elif isinstance(v, dict):  # begin_search / find_keys: {type, spec: {...}}
            out[k.encode()] = {
                b"type": v["type"].encode(),
                b"spec": {sk.encode(): (sv.encode() if isinstance(sv, str) else sv) for sk, sv in v["spec"].items()},
            }
        else:  # notes
            out[k.encode()] = v.encode() if isinstance(v, str) else v
    return out


def command_info(spec: CommandSpec) -> list[Any]:
    """addReplyCommandInfo: the 10-field entry."""
    m = meta().get(spec.fullname, {})
    if spec.subcommands is not None:
        subs: Any = [command_info(s) for s in spec.subcommands.values()]
    else:
        subs = RespSet()
    return [
        spec.fullname.encode(),
        spec.arity,
        _status_set(spec.flag_names()),
        spec.first_key,
        spec.last_key,
        spec.step,
        _status_set(m.get("acl", [])),
        RespSet([t.encode() for t in m.get("tips", [])]),
        RespSet([_key_spec_reply(ks) for ks in m.get("key_specs", [])]),
        subs,
    ]


# ---------------------------------------------------------------- COMMAND DOCS


def _arg_reply(arg: dict[str, Any]) -> dict[bytes, Any]:
    out: dict[bytes, Any] = {}
    for k, v in arg.items():
        if k == "flags":
            out[b"flags"] = _status_set(v)
        elif k == "arguments":
            out[b"arguments"] = [_arg_reply(a) for a in v]
        else:
            out[k.encode()] = v.encode() if isinstance(v, str) else v
    return out


def command_docs(spec: CommandSpec) -> dict[bytes, Any]:
    """addReplyCommandDocs: summary, since, group, then the optional fields in Redis's order."""
    doc = meta().get(spec.fullname, {}).get("docs", {})
    out: dict[bytes, Any] = {
        b"summary": doc.get("summary", "").encode(),
        b"since": doc.get("since", "").encode(),
        b"group": (spec.group or doc.get("group", "generic")).encode(),
    }
    for k in ("complexity", "doc_flags", "deprecated_since", "replaced_by", "history", "arguments"):
        if k not in doc:
            continue
        v = doc[k]
        if k == "doc_flags":
            out[b"doc_flags"] = _status_set(v)
        elif k == "history":
            out[b"history"] = RespSet([[since.encode(), change.encode()] for since, change in v])
        elif k == "arguments":
            out[b"arguments"] = [_arg_reply(a) for a in v]
        else:
            out[k.encode()] = v.encode()
    if spec.subcommands is not None:
        out[b"subcommands"] = {s.fullname.encode(): command_docs(s) for s in spec.subcommands.values()}
    return out


# ---------------------------------------------------------------- key extraction (db.c)

KeyRefs = list[tuple[int, list[str]]]  # (argv index, key-spec flag names)


def _legacy_range_keys(spec: CommandSpec, argv: list[bytes]) -> KeyRefs:
    """getKeysUsingLegacyRangeSpec, from our row's (first, last, step)."""
    first, last, step = spec.first_key, spec.last_key, spec.step
    if first <= 0:
        return []
    argc = len(argv)
    if last < 0:
        last = argc + last
    keys: KeyRefs = []
    j = first
    while j <= last:
        if j >= argc:
            return []  # negative arity: the command itself answers the error
        keys.append((j, []))
        j += step or 1
    return keys


class _InvalidSpec(Exception):
    pass


def _key_specs_keys(specs: list[dict[str, Any]], argv: list[bytes]) -> KeyRefs | None:
    """getKeysUsingKeySpecs with GET_KEYSPEC_DEFAULT; None where Redis returns -1."""
    argc = len(argv)
    keys: KeyRefs = []
    try:
        for ks in specs:
            flags = ks["flags"]
            if "not_key" in flags:
                continue
            bs, fk = ks["begin_search"], ks["find_keys"]
            first = 0
            if bs["type"] == "index":
                first = bs["spec"]["index"]
            elif bs["type"] == "keyword":
                kw = bs["spec"]["keyword"].encode().lower()
                startfrom = bs["spec"]["startfrom"]
                start = startfrom if startfrom > 0 else argc + startfrom
                end = argc - 1 if startfrom > 0 else 1
                i = start
                while i != end:
                    if i >= argc or i < 1:
                        break
                    if argv[i].lower() == kw:
                        first = i + 1
                        break
                    i = i + 1 if start <= end else i - 1
                if not first:
                    continue
            else:
                raise _InvalidSpec
            s = fk["spec"]
            if fk["type"] == "range":
                step = s["keystep"]
                if s["lastkey"] >= 0:
                    last = first + s["lastkey"]
                elif not s["limit"]:
                    last = argc + s["lastkey"]
                else:
                    last = first + ((argc - first) // s["limit"] + s["lastkey"])
            elif fk["type"] == "keynum":
                step = s["keystep"]
                if s["keynumidx"] >= argc or first + s["keynumidx"] >= argc:
                    raise _InvalidSpec
                numkeys = parse_int(argv[first + s["keynumidx"]])
                if numkeys is None or numkeys < 0:
                    raise _InvalidSpec
                first += s["firstkey"]
                last = first + numkeys - 1
            else:
                raise _InvalidSpec
            if last >= argc or last < first or first >= argc:
                raise _InvalidSpec
            i = first
            while i <= last:
                keys.append((i, flags))
                i += step
            if "incomplete" in flags:
                raise _InvalidSpec
    except _InvalidSpec:
        return None
    return keys


def _generic(store: int, count: int, first: int, step: int = 1) -> Callable[[list[bytes]], KeyRefs]:
    """genericGetKeys: [destkey] numkeys key ... (Redis uses atoi here, not string2ll)."""

    def getkeys(argv: list[bytes]) -> KeyRefs:
        num = _atoi(argv[count]) if count < len(argv) else 0
        if num < 1 or num > (len(argv) - first) // step:
            return []
        keys: KeyRefs = [(first + i * step, []) for i in range(num)]
        if store:
            keys.append((store, []))
        return keys

    return getkeys


def _atoi(b: bytes) -> int:
    s = b.lstrip(b" \t\n\r\v\f")
    n = 0
    neg = False
    i = 0
    if s[:1] in (b"-", b"+"):
        neg = s[:1] == b"-"
        i = 1
    while i < len(s) and 48 <= s[i] <= 57:
        n = n * 10 + s[i] - 48
        i += 1
    n = -n if neg else n
    return ((n + 2**31) % 2**32) - 2**31  # C int


def _sort_ro_keys(argv: list[bytes]) -> KeyRefs:
    return [(1, ["RO", "access"])]


def _sort_keys(argv: list[bytes]) -> KeyRefs:
    keys: KeyRefs = [(1, ["RO", "access"])]
    store = None
    skip = {b"limit": 2, b"get": 1, b"by": 1}
    i = 2
    argc = len(argv)
    while i < argc:
        a = argv[i].lower()
        if a in skip:
            i += skip[a]
        elif a == b"store" and i + 1 < argc:
            store = i + 1  # the last STORE wins, as in SORT
        i += 1
    if store is not None:
        keys.append((store, ["OW", "update"]))
    return keys


def _migrate_keys(argv: list[bytes]) -> KeyRefs:
    first, num = 3, 1
    argc = len(argv)
    skip = {b"copy": 0, b"replace": 0, b"auth": 1, b"auth2": 2}
    if argc > 6:
        i = 6
        while i < argc:
            a = argv[i].lower()
            if a == b"keys":
                if len(argv[3]) > 0:
                    num = 0  # a syntax error MIGRATE itself reports
                else:
                    first = i + 1
                    num = argc - first
                break
            i += skip.get(a, 0) + 1
    return [(first + i, ["RW", "access", "delete"]) for i in range(num)]


def _georadius_keys(argv: list[bytes]) -> KeyRefs:
    stored = -1
    i = 5
    while i < len(argv):
        if argv[i].lower() in (b"store", b"storedist") and i + 1 < len(argv):
            stored = i + 1
            i += 1
        i += 1
    return [(1, [])] + ([(stored, [])] if stored != -1 else [])


def _xread_keys(argv: list[bytes]) -> KeyRefs:
    streams = -1
    i = 1
    argc = len(argv)
    while i < argc:
        a = argv[i].lower()
        if a in (b"block", b"count"):
            i += 1
        elif a == b"group":
            i += 2
        elif a == b"noack":
            pass
        elif a == b"streams":
            streams = i
            break
        else:
            break
        i += 1
    num = argc - streams - 1 if streams != -1 else 0
    if streams == -1 or num == 0 or num % 2:
        return []
    num //= 2
    return [(j, []) for j in range(streams + 1, argc - num)]


def _set_keys(argv: list[bytes]) -> KeyRefs:
    for a in argv[3:]:
        if a.lower() == b"get":
            return [(1, ["RW", "access", "update"])]
    return [(1, ["OW", "update"])]


def _bitfield_keys(argv: list[bytes]) -> KeyRefs:
    readonly = True
    i = 2
    argc = len(argv)
    while i < argc:
        rem = argc - i - 1
        a = argv[i].lower()
        if a == b"get" and rem >= 2:
            i += 2
        elif a in (b"set", b"incrby") and rem >= 3:
            readonly = False
            break
        elif a == b"overflow" and rem >= 1:
            i += 1
        else:
            readonly = False
            break
        i += 1
    return [(1, ["RO", "access"] if readonly else ["RW", "access", "update"])]


# Commands that have a getkeys_proc in Redis 7.0's command table.
GETKEYS_PROCS: dict[str, Callable[[list[bytes]], KeyRefs]] = {
    "zunionstore": _generic(1, 2, 3),
    "zinterstore": _generic(1, 2, 3),
    "zdiffstore": _generic(1, 2, 3),
    "zunion": _generic(0, 1, 2),
    "zinter": _generic(0, 1, 2),
    "zdiff": _generic(0, 1, 2),
    "zintercard": _generic(0, 1, 2),
    "sintercard": _generic(0, 1, 2),
    "eval": _generic(0, 2, 3),
    "evalsha": _generic(0, 2, 3),
    "eval_ro": _generic(0, 2, 3),
    "evalsha_ro": _generic(0, 2, 3),
    "fcall": _generic(0, 2, 3),
    "fcall_ro": _generic(0, 2, 3),
    "lmpop": _generic(0, 1, 2),
    "blmpop": _generic(0, 2, 3),
    "zmpop": _generic(0, 1, 2),
    "bzmpop": _generic(0, 2, 3),
    "sort": _sort_keys,
    "sort_ro": _sort_ro_keys,
    "migrate": _migrate_keys,
    "georadius": _georadius_keys,
    "georadiusbymember": _georadius_keys,
    "xread": _xread_keys,
    "xreadgroup": _xread_keys,
    "set": _set_keys,
    "bitfield": _bitfield_keys,
}


def get_keys(spec: CommandSpec, argv: list[bytes]) -> KeyRefs:
    """getKeysFromCommandWithSpecs: the key arguments of a full command ``argv`` as
    [(index, key-spec flag names)]. The key specs are preferred when none of them is
    ``variable_flags`` and the search succeeds; else Redis's getkeys procedure; a command
    without either uses our row's legacy (first, last, step) range."""
    specs = meta().get(spec.fullname, {}).get("key_specs")
    proc = GETKEYS_PROCS.get(spec.fullname)
    if specs is None:
        return proc(argv) if proc is not None else _legacy_range_keys(spec, argv)
    has_key = any("not_key" not in ks["flags"] for ks in specs)
    has_var = any("variable_flags" in ks["flags"] for ks in specs)
    if has_key and not has_var:
        keys = _key_specs_keys(specs, argv)
        if keys is not None:
            return keys
    return proc(argv) if proc is not None else []


def has_keys(spec: CommandSpec) -> bool:
    """doesCommandHaveKeys."""
    if spec.fullname in GETKEYS_PROCS:
        return True
    specs = meta().get(spec.fullname, {}).get("key_specs")
    if specs is None:
        return spec.first_key > 0  # a row Redis does not describe: its key positions
    return any("not_key" not in ks["flags"] for ks in specs)


def getkeys_reply(spec: CommandSpec, cmd_argv: list[bytes], with_flags: bool) -> Any:
    """getKeysSubcommandImpl, once the command is found. (Redis 7.0 finds the keys the same
    way for GETKEYS and GETKEYSANDFLAGS; only the reply differs.)"""
    if not has_keys(spec):
        raise RedisError("ERR The command has no key arguments")
    if not spec.arity_ok(len(cmd_argv)):
        raise RedisError("ERR Invalid number of arguments specified for command")
    keys = get_keys(spec, cmd_argv)
    if not keys:
        if spec.flags & table.NO_MANDATORY_KEYS:
            return []
        raise RedisError("ERR Invalid arguments specified for command")
    if with_flags:
        return [[cmd_argv[i], _status_set(flags)] for i, flags in keys]
    return [cmd_argv[i] for i, _ in keys]


def _getkeys(argv: list[bytes], with_flags: bool) -> Any:
    cmd_argv = argv[2:]
    spec = lookup_by_argv(cmd_argv)
    if spec is None:
        raise RedisError("ERR Invalid command specified")
    return getkeys_reply(spec, cmd_argv, with_flags)


# ---------------------------------------------------------------- the commands

COMMAND_HELP = [  # between help_reply's header and its HELP entry
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
]


def command_command(c: Client, argv: list[bytes]):
    """COMMAND"""
    return [command_info(spec) for spec in table.REGISTRY.values()]


_command = container("command", arity=-1, flags=LOADING | STALE, group="server")
_command.func = command_command


@command("command|count", arity=2, flags=LOADING | STALE, group="server")
def command_count_command(c: Client, argv: list[bytes]):
    """COMMAND COUNT"""
    return len(table.REGISTRY)


@command("command|info", arity=-2, flags=LOADING | STALE, group="server")
def command_info_command(c: Client, argv: list[bytes]):
    """COMMAND INFO [command-name [command-name ...]]"""
    if len(argv) == 2:
        return [command_info(spec) for spec in table.REGISTRY.values()]
    out = []
    for name in argv[2:]:
        spec = lookup_by_name(name)
        out.append(command_info(spec) if spec is not None else None)
    return out


@command("command|docs", arity=-2, flags=LOADING | STALE, group="server")
def command_docs_command(c: Client, argv: list[bytes]):
    """COMMAND DOCS [command-name [command-name ...]]"""
    if len(argv) == 2:
        return {spec.fullname.encode(): command_docs(spec) for spec in table.REGISTRY.values()}
    out: dict[bytes, Any] = {}
    for name in argv[2:]:
        spec = lookup_by_name(name)
        if spec is not None:
            out[spec.fullname.encode()] = command_docs(spec)
    return out


def _acl_categories() -> set[str]:
    cats: set[str] = set()
    for m in meta().values():
        cats.update(a[1:] for a in m.get("acl", []))
    return cats


@command("command|list", arity=-2, flags=LOADING | STALE, group="server")
def command_list_command(c: Client, argv: list[bytes]):
    """COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern]"""
    flt: tuple[bytes, bytes] | None = None
    i = 2
    while i < len(argv):
        if argv[i].lower() == b"filterby" and len(argv) - 1 - i == 2:
            kind = argv[i + 1].lower()
            if kind not in (b"module", b"aclcat", b"pattern"):
                raise syntax_error()
            flt = (kind, argv[i + 2])
            i += 3
        else:
            raise syntax_error()
    specs = table.all_specs()
    if flt is None:
        return [s.fullname.encode() for s in specs]
    kind, arg = flt
    if kind == b"module":
        return []  # no modules: every command is filtered out, as in Redis
    if kind == b"aclcat":
        cat = arg.decode("utf-8", "replace").lower()
        if cat not in _acl_categories():
            return []
        tag = "@" + cat
        return [s.fullname.encode() for s in specs if tag in meta().get(s.fullname, {}).get("acl", [])]
    return [s.fullname.encode() for s in specs if stringmatchlen(arg, s.fullname.encode(), nocase=True)]


@command("command|getkeys", arity=-4, flags=LOADING | STALE, group="server")
def command_getkeys_command(c: Client, argv: list[bytes]):
    """COMMAND GETKEYS command [arg [arg ...]]"""
    return _getkeys(argv, False)


@command("command|getkeysandflags", arity=-4, flags=LOADING | STALE, group="server")
def command_getkeysandflags_command(c: Client, argv: list[bytes]):
    """COMMAND GETKEYSANDFLAGS command [arg [arg ...]]"""
    return _getkeys(argv, True)


@command("command|help", arity=2, flags=LOADING | STALE, group="server")
def command_help_command(c: Client, argv: list[bytes]):
    """COMMAND HELP"""
    return help_reply("COMMAND", COMMAND_HELP)
