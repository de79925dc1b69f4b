"""Connection commands: PING, ECHO, SELECT, HELLO shapes, AUTH errors, CLIENT basics, QUIT, RESET."""

from __future__ import annotations

import pytest

from tests.compat.differ import Skip

pytestmark = pytest.mark.compat

SCRIPTS = {
    "ping_echo": [
        ("PING",),
        ("PING", "hello"),
        ("PING", ""),
        ("PING", "a", "b"),
        ("ping",),
        ("PiNg", b"\x00\xff"),
        ("ECHO", "x"),
        ("ECHO", ""),
        ("ECHO", b"bin\r\nary\x00"),
        ("ECHO",),
        ("ECHO", "a", "b"),
    ],
    "select": [
        ("SELECT", "0"),
        ("SELECT", "15"),
        ("SET", "k", "in15"),
        ("SELECT", "16"),
        ("SELECT", "-1"),
        ("SELECT", "abc"),
        ("SELECT", "1.5"),
        ("SELECT", ""),
        ("SELECT", "99999999999999999999"),
        ("SELECT", " 1"),
        ("SELECT",),
        ("SELECT", "1", "2"),
        ("GET", "k"),
        ("SELECT", "0"),
        ("GET", "k"),
        ("SWAPDB", "0", "15"),
        ("GET", "k"),
        ("SWAPDB", "0", "16"),
        ("SWAPDB", "a", "0"),
        ("SWAPDB", "0"),
    ],
    "hello": [
        ("HELLO",),
        ("HELLO", "2"),
        ("HELLO", "3"),
        ("PING",),
        ("HELLO", "2"),
        ("HELLO", "4"),
        ("HELLO", "1"),
        ("HELLO", "0"),
        ("HELLO", "abc"),
        ("HELLO", "-1"),
        ("HELLO", "3", "SETNAME", "myname"),
        ("CLIENT", "GETNAME"),
        ("HELLO", "2", "SETNAME", "bad name"),
        ("HELLO", "2", "SETNAME"),
        ("HELLO", "2", "AUTH", "default"),
        ("HELLO", "2", "AUTH", "default", "wrong"),
        ("HELLO", "2", "AUTH", "default", ""),
        ("HELLO", "2", "AUTH", "nouser", "pw"),
        ("HELLO", "2", "BOGUS"),
        ("HELLO", "3", "AUTH", "default", "anything", "SETNAME", "n2"),
        ("CLIENT", "GETNAME"),
        ("HELLO", "2"),
    ],
    "auth_without_password": [
        ("AUTH", "pw"),
        ("AUTH", "default", "pw"),
        ("AUTH", "nouser", "pw"),
        ("AUTH",),
        ("AUTH", "a", "b", "c"),
        ("AUTH", ""),
    ],
    "client_basics": [
        ("CLIENT", "GETNAME"),
        ("CLIENT", "SETNAME", "conn-1"),
        ("CLIENT", "GETNAME"),
        ("CLIENT", "SETNAME", ""),
        ("CLIENT", "GETNAME"),
        ("CLIENT", "SETNAME", "has space"),
        ("CLIENT", "SETNAME", "new\nline"),
        ("CLIENT", "SETNAME"),
        ("CLIENT", "SETNAME", "a", "b"),
        ("CLIENT", "BOGUS"),
        ("CLIENT",),
        Skip(("CLIENT", "ID")),
        ("CLIENT", "NO-EVICT", "on"),
        ("CLIENT", "NO-EVICT", "maybe"),
        ("CLIENT", "REPLY", "maybe"),
        ("CLIENT", "KILL", "ID", "999999"),
        ("CLIENT", "KILL", "ADDR", "1.2.3.4:5"),
        ("CLIENT", "KILL", "1.2.3.4:5"),
        ("CLIENT", "KILL", "BOGUS", "x"),
        ("CLIENT", "UNPAUSE"),
        ("CLIENT", "PAUSE", "abc"),
    ],
    "reset": [
        ("SELECT", "3"),
        ("CLIENT", "SETNAME", "x"),
        ("RESET",),
        ("CLIENT", "GETNAME"),
        ("SET", "k", "db0"),
        ("SELECT", "3"),
        ("GET", "k"),
        ("RESET", "extra"),
    ],
}


@pytest.mark.parametrize("name", SCRIPTS)
def test_connection(check, name):
    check(SCRIPTS[name])


def test_quit_closes_after_reply(differ):
    differ.raw(b"*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n")
    differ.raw(b"QUIT\r\n")
    differ.raw(b"*1\r\n$4\r\nQUIT\r\n", resp=3)


def test_reset_returns_to_resp2(differ):
    differ.raw(b"*1\r\n$5\r\nRESET\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", replies=2, resp=3)


def test_auth_with_requirepass(servers):
    """Both servers with a password set: NOAUTH gates, AUTH errors, HELLO AUTH, then unset again."""
    from tests.compat.differ import Differ
    from tests.helpers_proc import RawConn

    real, ours = servers
    d = Differ(real.port, ours.port)
    try:
        for port in (real.port, ours.port):
            with RawConn(port) as c:
                reply = c.call("CONFIG", "SET", "requirepass", "s3cret")
                assert reply == b"+OK\r\n", f"CONFIG SET requirepass on {port}: {reply!r}"
        d_script = [
            ("PING",),
            ("GET", "k"),
            ("SELECT", "1"),
            ("BOGUSCMD",),
            ("GET",),
            ("CLIENT", "SETNAME", "x"),
            ("AUTH", "wrong"),
            ("AUTH", "default", "wrong"),
            ("AUTH", "nouser", "s3cret"),
            ("HELLO", "3", "AUTH", "default", "wrong"),
            ("HELLO", "2"),
            ("AUTH", "s3cret"),
            ("PING",),
            ("AUTH", "default", "s3cret"),
            ("HELLO", "2", "AUTH", "default", "s3cret"),
        ]

        real_c, our_c = RawConn(real.port), RawConn(ours.port)
        problems = d._run(d_script, {"main": (real_c, our_c)})
        real_c.close()
        our_c.close()
        # unauthenticated protocol limits: a big multibulk count is refused before AUTH
        d.raw(b"*100\r\n", flush=False)
        d.raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$99999\r\n", flush=False)
        assert not problems, "\n".join(problems)
    finally:
        for port in (real.port, ours.port):
            with RawConn(port) as c:
                c.call("AUTH", "s3cret")
                c.call("CONFIG", "SET", "requirepass", "")
