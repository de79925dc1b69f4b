"""Unknown commands, arity errors and unknown subcommands: texts word for word."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.compat

LONG = "x" * 200

SCRIPT_UNKNOWN = [
    ("FOO",),
    ("FOO", "a", "b"),
    ("foo", "a b", "c"),
    ("FOO", LONG),
    (LONG, "a"),
    ("FOO", *["a"] * 30),
    ("FOO", "a" * 127, "b" * 129),
    ("FOO", b"bin\x00ary", b"\r\n"),
    ("",),
    (" ",),
    ("GETT", "k"),
    ("CONFIG", "BOGUS"),
    ("CONFIG", "BOGUS", "a", "b"),
    ("CONFIG",),
    ("CLIENT", "NOPE", "x"),
    ("OBJECT", "NOPE"),
    ("COMMAND", "NOPE"),
    ("CONFIG", "HELP", "extra"),
]

# (command, args that are too few / too many) for every string, key and connection command
ARITY = [
    ("GET",), ("GET", "a", "b"), ("SET", "a"), ("SETNX", "a"), ("SETEX", "a", "1"), ("PSETEX", "a", "1"),
    ("GETSET", "a"), ("GETDEL",), ("GETDEL", "a", "b"), ("GETEX",), ("MGET",), ("MSET",), ("MSET", "a"),
    ("MSETNX",), ("APPEND", "a"), ("STRLEN",), ("GETRANGE", "a", "1"), ("SUBSTR", "a"),
    ("SETRANGE", "a", "1"), ("INCR",), ("DECR",), ("INCRBY", "a"), ("DECRBY", "a"), ("INCRBYFLOAT", "a"),
    ("LCS", "a"), ("DEL",), ("UNLINK",), ("EXISTS",), ("TYPE",), ("TOUCH",), ("KEYS",), ("KEYS", "a", "b"),
    ("RENAME", "a"), ("RENAMENX", "a"), ("COPY", "a"), ("MOVE", "a"), ("EXPIRE", "a"), ("PEXPIRE", "a"),
    ("EXPIREAT", "a"), ("PEXPIREAT", "a"), ("TTL",), ("PTTL",), ("EXPIRETIME",), ("PEXPIRETIME",),
    ("PERSIST",), ("RANDOMKEY", "a"), ("DBSIZE", "a"), ("SCAN",), ("DUMP",), ("RESTORE", "a", "0"),
    ("ECHO",), ("SELECT",), ("SWAPDB", "0"), ("FLUSHALL", "a", "b"), ("FLUSHDB", "a", "b"),
    ("FLUSHALL", "BOGUS"), ("FLUSHDB", "BOGUS"), ("FLUSHALL", "ASYNC"), ("FLUSHDB", "SYNC"),
    ("CLIENT", "SETNAME"), ("CLIENT", "GETNAME", "x"), ("CLIENT", "ID", "x"), ("CONFIG", "GET"),
    ("CONFIG", "SET", "a"), ("CONFIG", "SET", "maxmemory"), ("CONFIG", "RESETSTAT", "x"),
    ("OBJECT", "ENCODING"), ("INFO", "a", "b", "c"), ("TIME", "x"), ("LASTSAVE", "x"),
]


def test_unknown_commands(check):
    check(SCRIPT_UNKNOWN)


def test_arity_errors(check):
    check(ARITY)
