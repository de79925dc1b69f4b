"""COMMAND and its subcommands, and every command row checked against Redis 7.0.15.

The row checks iterate ``table.all_specs()``, so they cover whatever commands exist; the
expected arity/flags/key positions/group are read from redis_meta.json (dumped from a real
Redis 7.0.15 by tools/gen_command_meta.py). Exact bytes below were recorded from Redis 7.0.15.
"""

from __future__ import annotations

import shlex

import pytest

import twistd_redis.commands  # noqa: F401  (fills the registry)
from tests.unit.harness import ReplyError
from twistd_redis.commands import introspection, table
from twistd_redis.commands.table import FLAG_NAMES, CommandSpec
from twistd_redis.errors import RedisError

META = introspection.meta()
ROWS = [s.fullname for s in table.all_specs()]
SPECS = {s.fullname: s for s in table.all_specs()}

# ---------------------------------------------------------------- every row equals Redis 7.0


@pytest.mark.parametrize("name", ROWS)
def test_row_matches_redis(name):
    """Against Redis 7.0.15's COMMAND INFO (or, for the few rows in BEYOND_7_0, Redis 7.2's)."""
    spec = SPECS[name]
    m = META.get(name)
    assert m is not None, f"{name} is not a Redis 7.0 command"
    assert spec.arity == m["arity"], "arity"
    # "module" is Redis-only (module commands): built-ins never carry it, and neither do we.
    assert "module" not in spec.flag_names()
    assert spec.flag_names() == [f for f in m["flags"] if f != "module"], "flags"
    assert [spec.first_key, spec.last_key, spec.step] == m["keys"], "first/last/step"


@pytest.mark.parametrize("name", ROWS)
def test_row_group_matches_redis(name):
    m = META.get(name)
    assert m is not None, f"{name} is not a Redis 7.0 command"
    assert SPECS[name].group == m["docs"]["group"]


def test_only_listed_rows_go_beyond_redis_7_0():
    import json

    with open(introspection._META_PATH) as f:
        dumped = json.load(f)["commands"]
    assert dumped["get"]["arity"] == 2 and "client|setinfo" not in dumped
    assert [n for n in ROWS if n not in dumped] == [n for n in ROWS if n in introspection.BEYOND_7_0]


def test_meta_has_only_what_command_needs():
    get = META["get"]
    assert set(get) == {"arity", "flags", "keys", "acl", "key_specs", "docs"}
    assert get["docs"]["summary"] == "Get the value of a key"
    assert "tips" in META["keys"] and "key_specs" not in META["ping"]


# ---------------------------------------------------------------- COMMAND INFO

INFO_GET_RESP2 = (
    b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n"
    b"+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n"
    b"*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n"
    b"$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n"
    b"$5\r\nlimit\r\n:0\r\n*0\r\n"
)
INFO_GET_RESP3 = (
    b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n"
    b"+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n"
    b"%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n"
    b"$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n"
    b"$5\r\nlimit\r\n:0\r\n~0\r\n"
)
INFO_DEL_RESP3 = (
    b"*1\r\n*10\r\n$3\r\ndel\r\n:-2\r\n~1\r\n+write\r\n:1\r\n:-1\r\n:1\r\n~3\r\n+@keyspace\r\n+@write\r\n"
    b"+@slow\r\n~2\r\n$26\r\nrequest_policy:multi_shard\r\n$23\r\nresponse_policy:agg_sum\r\n~1\r\n%3\r\n"
    b"$5\r\nflags\r\n~2\r\n+RM\r\n+delete\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n"
    b"$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n"
    b"$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n"
)


def test_info_exact_bytes_resp2(conn):
    assert conn.raw(b"COMMAND INFO get\r\n") == INFO_GET_RESP2


def test_info_exact_bytes_resp3(conn):
    conn.hello3()
    assert conn.raw(b"COMMAND INFO get\r\n") == INFO_GET_RESP3
    assert conn.raw(b"COMMAND INFO del\r\n") == INFO_DEL_RESP3


def test_info_unknown_is_null(conn):
    assert conn.raw(b"COMMAND INFO nosuch\r\n") == b"*1\r\n$-1\r\n"
    conn.hello3()
    assert conn.raw(b"COMMAND INFO nosuch\r\n") == b"*1\r\n_\r\n"


def test_info_names_case_and_subcommands(conn):
    r = conn.call("COMMAND", "INFO", "GET", "get|x", "command|info|x", "COMMAND|Info", "ping")
    assert [e[0] if e else e for e in r] == [b"get", None, None, b"command|info", b"ping"]
    info = r[3]
    assert info[1:6] == [-2, [b"loading", b"stale"], 0, 0, 0]
    assert info[6] == [b"@slow", b"@connection"]
    assert info[7] == [b"nondeterministic_output_order"]


def test_info_container_lists_its_subcommands(conn):
    (entry,) = conn.call("COMMAND", "INFO", "command")
    assert entry[:7] == [b"command", -1, [b"loading", b"stale"], 0, 0, 0, [b"@slow", b"@connection"]]
    subs = entry[9]
    assert sorted(s[0] for s in subs) == sorted(n.encode() for n in ROWS if n.startswith("command|"))
    assert all(len(s) == 10 for s in subs)
    conn.hello3()
    # RESP3: a container's subcommands are an array of entries, a plain command's an empty set
    assert b"~1\r\n$29\r\nnondeterministic_output_order\r\n~0\r\n*7\r\n*10\r\n$13\r\ncommand|count" in conn.raw(b"COMMAND INFO command\r\n")  # noqa: E501
    assert conn.raw(b"COMMAND INFO ping\r\n").endswith(b"$29\r\nresponse_policy:all_succeeded\r\n~0\r\n~0\r\n")


def test_info_all_and_bare_command_cover_every_top_level_row(conn):
    everything = conn.call("COMMAND", "INFO")
    assert [e[0].decode() for e in everything] == list(table.REGISTRY)
    assert conn.call("COMMAND") == everything
    assert all(len(e) == 10 for e in everything)


def test_count(conn):
    assert conn.call("COMMAND", "COUNT") == len(table.REGISTRY)
    r = conn.call("COMMAND", "COUNT", "x")
    assert str(r) == "ERR wrong number of arguments for 'command|count' command"


def test_unknown_subcommand(conn):
    assert str(conn.call("COMMAND", "foo")) == "ERR unknown subcommand 'foo'. Try COMMAND HELP."


def test_help(conn):
    r = conn.raw(b"COMMAND HELP\r\n")
    assert r.startswith(b"*21\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n")
    assert r.endswith(
        b"+GETKEYSANDFLAGS <full-command>\r\n+    Return the keys and the access flags from a full Redis"
        b" command.\r\n+HELP\r\n+    Prints this help.\r\n"
    )
    assert str(conn.call("COMMAND", "HELP", "x")) == "ERR wrong number of arguments for 'command|help' command"


# ---------------------------------------------------------------- COMMAND LIST


def test_list_everything_with_subcommands(conn):
    assert conn.call("COMMAND", "LIST") == [n.encode() for n in ROWS]


def test_list_filters(conn):
    got = conn.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "COMMAND|g*")
    assert got == [b"command|getkeys", b"command|getkeysandflags"]
    assert conn.call("COMMAND", "LIST", "filterby", "pattern", "g?t") == [b"get"]
    strings = conn.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "String")
    assert b"get" in strings and b"set" in strings and b"ping" not in strings
    assert all("@string" in META[n.decode()]["acl"] for n in strings)
    assert conn.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch") == []
    assert conn.call("COMMAND", "LIST", "FILTERBY", "MODULE", "x") == []


@pytest.mark.parametrize(
    "args",
    [("foo",), ("FILTERBY", "x", "y"), ("FILTERBY", "PATTERN"), ("FILTERBY", "PATTERN", "a", "b")],
)
def test_list_syntax_errors(conn, args):
    assert str(conn.call("COMMAND", "LIST", *args)) == "ERR syntax error"


# ---------------------------------------------------------------- COMMAND DOCS

DOCS_GET_RESP2 = (
    b"*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\nsince\r\n$5\r\n"
    b"1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n"
    b"*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n"
)
DOCS_DEL_RESP3 = (
    b"%1\r\n$3\r\ndel\r\n%5\r\n$7\r\nsummary\r\n$12\r\nDelete a key\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n"
    b"$5\r\ngroup\r\n$7\r\ngeneric\r\n$10\r\ncomplexity\r\n$288\r\nO(N) where N is the number of keys that"
    b" will be removed. When a key to remove holds a value other than a string, the individual complexity"
    b" for this key is O(M) where M is the number of elements in the list, set, sorted set or hash."
    b" Removing a single key that holds a string value is O(1).\r\n$9\r\narguments\r\n*1\r\n%4\r\n$4\r\n"
    b"name\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n$5\r\nflags\r\n~1\r\n"
    b"+multiple\r\n"
)


def test_docs_exact_bytes(conn):
    assert conn.raw(b"COMMAND DOCS get\r\n") == DOCS_GET_RESP2
    conn.hello3()
    assert conn.raw(b"COMMAND DOCS del\r\n") == DOCS_DEL_RESP3


def test_docs_unknown_names_are_skipped(conn):
    assert conn.raw(b"COMMAND DOCS nosuch\r\n") == b"*0\r\n"
    assert conn.call("COMMAND", "DOCS", "nosuch", "GET")[0] == b"get"
    conn.hello3()
    assert conn.raw(b"COMMAND DOCS nosuch\r\n") == b"%0\r\n"


def test_docs_history_and_nested_arguments(conn):
    conn.hello3()
    r = conn.call("COMMAND", "DOCS", "set")[b"set"]
    assert r[b"history"][0] == [b"2.6.12", b"Added the `EX`, `PX`, `NX` and `XX` options."]
    cond = r[b"arguments"][2]
    assert cond[b"name"] == b"condition" and cond[b"flags"] == [b"optional"]
    assert [a[b"token"] for a in cond[b"arguments"]] == [b"NX", b"XX"]


def test_docs_container_and_all(conn):
    conn.hello3()
    r = conn.call("COMMAND", "DOCS", "command")[b"command"]
    assert r[b"group"] == b"server" and r[b"summary"] == b"Get array of Redis command details"
    assert r[b"subcommands"][b"command|count"][b"since"] == b"2.8.13"
    every = conn.call("COMMAND", "DOCS")
    assert list(every) == [n.encode() for n in table.REGISTRY]


# ---------------------------------------------------------------- COMMAND GETKEYS / GETKEYSANDFLAGS

# (command line, COMMAND GETKEYSANDFLAGS reply or error) recorded from Redis 7.0.15
GETKEYS_CASES = [
    ('zunionstore d 2 a b WEIGHTS 1 2', [('d', ['OW', 'update']), ('a', ['RO', 'access']), ('b', ['RO', 'access'])]),
    ('zunionstore d 0 a', 'ERR Invalid arguments specified for command'),
    ('zunionstore d 3 a b', 'ERR Invalid arguments specified for command'),
    ('zunionstore d x a b', 'ERR Invalid arguments specified for command'),
    ('zunion 2 a b', [('a', ['RO', 'access']), ('b', ['RO', 'access'])]),
    ('zintercard 1 a LIMIT 3', [('a', ['RO', 'access'])]),
    ('sintercard 2 a b', [('a', ['RO', 'access']), ('b', ['RO', 'access'])]),
    ('eval s 2 k1 k2 a1', [('k1', ['RW', 'access', 'update']), ('k2', ['RW', 'access', 'update'])]),
    ('eval s 0', []),
    ('eval s -1 a', []),
    ('evalsha_ro s 1 k', [('k', ['RO', 'access'])]),
    ('fcall f 1 k a', [('k', ['RW', 'access', 'update'])]),
    ('lmpop 2 a b LEFT', [('a', ['RW', 'access', 'delete']), ('b', ['RW', 'access', 'delete'])]),
    ('blmpop 0 2 a b LEFT', [('a', ['RW', 'access', 'delete']), ('b', ['RW', 'access', 'delete'])]),
    ('zmpop 1 a MIN', [('a', ['RW', 'access', 'delete'])]),
    ('bzmpop 1 1 a MAX', [('a', ['RW', 'access', 'delete'])]),
    ('sort a', [('a', ['RO', 'access'])]),
    ('sort a store b', [('a', ['RO', 'access']), ('b', ['OW', 'update'])]),
    ('sort a by x get y limit 0 1 store c store d', [('a', ['RO', 'access']), ('d', ['OW', 'update'])]),
    ('sort a store', [('a', ['RO', 'access'])]),
    ('sort_ro a by x', [('a', ['RO', 'access'])]),
    ('migrate h p k 0 100', [('k', ['RW', 'access', 'delete'])]),
    ('migrate h p "" 0 100 keys a b', [('a', ['RW', 'access', 'delete']), ('b', ['RW', 'access', 'delete'])]),
    ('migrate h p "" 0 100 AUTH pw KEYS a b', [('a', ['RW', 'access', 'delete']), ('b', ['RW', 'access', 'delete'])]),
    ('migrate h p "" 0 100 AUTH2 u pw copy KEYS a b', [('a', ['RW', 'access', 'delete']), ('b', ['RW', 'access', 'delete'])]),  # noqa: E501
    ('migrate h p x 0 100 keys a b', 'ERR Invalid arguments specified for command'),
    ('georadius a 1 2 3 m store b', [('a', ['RO', 'access']), ('b', ['OW', 'update'])]),
    ('georadius a 1 2 3 m storedist b store c', [('a', ['RO', 'access']), ('c', ['OW', 'update']), ('b', ['OW', 'update'])]),  # noqa: E501
    ('georadiusbymember a m 3 m STORE b', [('a', ['RO', 'access']), ('b', ['OW', 'update'])]),
    ('georadius_ro a 1 2 3 m store b', [('a', ['RO', 'access'])]),
    ('xread streams a b 1 2', [('a', ['RO', 'access']), ('b', ['RO', 'access'])]),
    ('xread count 2 block 0 streams a 1', [('a', ['RO', 'access'])]),
    ('xreadgroup group g c streams a b 1 2', [('a', ['RO', 'access']), ('b', ['RO', 'access'])]),
    ('xreadgroup group g c noack streams a 1', [('a', ['RO', 'access'])]),
    ('xread streams a 1 2', [('a', ['RO', 'access'])]),
    ('xread foo streams a 1', [('a', ['RO', 'access'])]),
    ('set a b', [('a', ['OW', 'update'])]),
    ('set a b get', [('a', ['RW', 'access', 'update'])]),
    ('set a b ex 10 GET', [('a', ['RW', 'access', 'update'])]),
    ('bitfield a get u8 0', [('a', ['RO', 'access'])]),
    ('bitfield a incrby u8 0 1', [('a', ['RW', 'access', 'update'])]),
    ('bitfield a overflow wrap get u8 0', [('a', ['RO', 'access'])]),
    ('bitfield a', [('a', ['RO', 'access'])]),
    ('bitfield_ro a get u8 0', [('a', ['RO', 'access'])]),
    ('mset a 1 b 2', [('a', ['OW', 'update']), ('b', ['OW', 'update'])]),
    ('mset a 1 b', [('a', ['OW', 'update']), ('b', ['OW', 'update'])]),
    ('del a b c', [('a', ['RM', 'delete']), ('b', ['RM', 'delete']), ('c', ['RM', 'delete'])]),
    ('blpop a b 0', [('a', ['RW', 'access', 'delete']), ('b', ['RW', 'access', 'delete'])]),
    ('lmove a b left right', [('a', ['RW', 'access', 'delete']), ('b', ['RW', 'insert'])]),
    ('object encoding k', [('k', ['RO'])]),
    ('memory usage k', [('k', ['RO'])]),
    ('geosearchstore d s frommember m byradius 1 m', [('d', ['OW', 'update']), ('s', ['RO', 'access'])]),
    ('xgroup create s g $', [('s', ['RW', 'insert'])]),
    ('pfcount a b', [('a', ['RW', 'access']), ('b', ['RW', 'access'])]),
    ('renamenx a b', [('a', ['RW', 'access', 'delete']), ('b', ['OW', 'insert'])]),
    ('msetnx a 1 b 2', [('a', ['OW', 'insert']), ('b', ['OW', 'insert'])]),
    ('sunionstore d a b', [('d', ['OW', 'update']), ('a', ['RO', 'access']), ('b', ['RO', 'access'])]),
    ('bitop and d a b', [('d', ['OW', 'update']), ('a', ['RO', 'access']), ('b', ['RO', 'access'])]),
    ('getex a px 1', [('a', ['RW', 'access', 'update'])]),
    ('xadd s * f v', [('s', ['RW', 'update'])]),
    ('lcs a b', [('a', ['RO', 'access']), ('b', ['RO', 'access'])]),
    ('xinfo stream s', [('s', ['RO', 'access'])]),
    ('xinfo consumers s g', [('s', ['RO', 'access'])]),
    ('publish ch m', 'ERR The command has no key arguments'),
    ('subscribe ch', 'ERR The command has no key arguments'),
    ('spublish ch m', 'ERR The command has no key arguments'),
    ('watch a b', [('a', ['RO']), ('b', ['RO'])]),
    ('exists a b', [('a', ['RO']), ('b', ['RO'])]),
    ('touch a', [('a', ['RO'])]),
]


def _row(name: str) -> CommandSpec:
    """The registered row, or one built from Redis's own values for a command not (yet) here."""
    if name in SPECS:
        return SPECS[name]
    m = META[name]
    flags = 0
    for f, n in FLAG_NAMES:
        if n in m["flags"]:
            flags |= f
    return CommandSpec(name, None, m["arity"], flags, tuple(m["keys"]), m["docs"]["group"])


@pytest.mark.parametrize("line,expected", GETKEYS_CASES)
def test_getkeys_like_redis(line, expected):
    argv = [a.encode() for a in shlex.split(line)]
    name = argv[0].decode()
    if any(k.startswith(name + "|") for k in META):
        name += "|" + argv[1].decode().lower()
    spec = _row(name)
    for with_flags in (False, True):
        try:
            got = introspection.getkeys_reply(spec, argv, with_flags)
        except RedisError as e:
            assert e.message == expected
            continue
        assert not isinstance(expected, str), got
        if with_flags:
            assert [(k.decode(), [f.decode() for f in fl]) for k, fl in got] == expected
        else:
            assert [k.decode() for k in got] == [k for k, _ in expected]


def test_getkeys_through_the_server(conn):
    assert conn.call("COMMAND", "GETKEYS", "del", "a", "b") == [b"a", b"b"]
    assert conn.call("COMMAND", "GETKEYS", "SET", "k", "v", "GET") == [b"k"]
    assert conn.raw(b"COMMAND GETKEYSANDFLAGS del a b\r\n") == (
        b"*2\r\n*2\r\n$1\r\na\r\n*2\r\n+RM\r\n+delete\r\n*2\r\n$1\r\nb\r\n*2\r\n+RM\r\n+delete\r\n"
    )
    conn.hello3()
    assert conn.raw(b"COMMAND GETKEYSANDFLAGS set a b\r\n") == b"*1\r\n*2\r\n$1\r\na\r\n~2\r\n+OW\r\n+update\r\n"


@pytest.mark.parametrize(
    "args,error",
    [
        (("nosuch", "a"), "Invalid command specified"),
        (("command", "nosuch"), "Invalid command specified"),
        (("ping", "a"), "The command has no key arguments"),
        (("command", "info"), "The command has no key arguments"),
        (("get", "a", "b"), "Invalid number of arguments specified for command"),
        (("set", "a"), "Invalid number of arguments specified for command"),
        (("get",), "wrong number of arguments for 'command|getkeys' command"),
    ],
)
def test_getkeys_errors(conn, args, error):
    r = conn.call("COMMAND", "GETKEYS", *args)
    assert isinstance(r, ReplyError) and str(r) == "ERR " + error
    r = conn.call("COMMAND", "GETKEYSANDFLAGS", *args)
    assert isinstance(r, ReplyError) and str(r) == "ERR " + error.replace("command|getkeys'", "command|getkeysandflags'")  # noqa: E501


def test_legacy_range_for_rows_redis_does_not_describe():
    spec = CommandSpec("x-test", None, -2, 0, (1, -1, 2), "generic")
    assert introspection.get_keys(spec, [b"x", b"a", b"1", b"b", b"2"]) == [(1, []), (3, [])]
    assert introspection.get_keys(CommandSpec("y-test", None, -1, 0, (2, 2, 1), "generic"), [b"y"]) == []


def test_commands_doc_is_current():
    """docs/commands.md is generated from the command table; a new command must regenerate it
    (python tools/gen_command_docs.py)."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("gen_command_docs", root / "tools" / "gen_command_docs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (root / "docs" / "commands.md").read_text() == mod.render(), "run python tools/gen_command_docs.py"
