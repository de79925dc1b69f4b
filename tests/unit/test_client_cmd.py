"""CLIENT subcommands, checked against Redis 7.0.15 replies (SETINFO and lib-name/lib-ver: 7.2)."""

import pytest
from twisted.internet import defer

from tests.unit.harness import FakeServer, ReplyError


def err(reply):
    assert isinstance(reply, ReplyError), reply
    return str(reply)


def fields(line: bytes) -> dict:
    return dict(kv.split(b"=", 1) for kv in line.strip(b"\n").split(b" "))


# ---------------------------------------------------------------- ID / names


def test_id_is_per_connection_and_increasing(server):
    a, b = server.connect(), server.connect()
    ia, ib = a.call("CLIENT", "ID"), b.call("CLIENT", "ID")
    assert isinstance(ia, int) and ib == ia + 1


def test_setname_getname_and_empty_name_clears(conn):
    assert conn.call("CLIENT", "GETNAME") is None
    assert conn.call("CLIENT", "SETNAME", "worker-1") == b"OK"
    assert conn.call("CLIENT", "GETNAME") == b"worker-1"
    assert fields(conn.call("CLIENT", "INFO"))[b"name"] == b"worker-1"
    assert conn.call("CLIENT", "SETNAME", "") == b"OK"
    assert conn.call("CLIENT", "GETNAME") is None
    assert conn.raw(b"CLIENT GETNAME\r\n") == b"$-1\r\n"


@pytest.mark.parametrize("name", ["a b", "a\nb", "caf\xe9", "tab\t", "\x7f"])
def test_setname_rejects_special_characters(conn, name):
    conn.call("CLIENT", "SETNAME", "keep")
    r = conn.call("CLIENT", "SETNAME", name)
    assert err(r) == "ERR Client names cannot contain spaces, newlines or special characters."
    assert conn.call("CLIENT", "GETNAME") == b"keep"


def test_setinfo_72(conn):
    assert conn.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == b"OK"
    assert conn.call("CLIENT", "SETINFO", "lib-ver", "8.1.0") == b"OK"
    line = conn.call("CLIENT", "INFO")
    assert line.endswith(b" resp=2 lib-name=redis-py lib-ver=8.1.0\n")
    assert err(conn.call("CLIENT", "SETINFO", "lib-foo", "x")) == "ERR Unrecognized option 'lib-foo'"
    assert (
        err(conn.call("CLIENT", "SETINFO", "LIB-NAME", "a b"))
        == "ERR LIB-NAME cannot contain spaces, newlines or special characters."
    )
    assert conn.call("CLIENT", "SETINFO", "LIB-NAME", "") == b"OK"
    assert fields(conn.call("CLIENT", "INFO"))[b"lib-name"] == b""
    assert err(conn.call("CLIENT", "SETINFO", "LIB-NAME")) == "ERR wrong number of arguments for 'client|setinfo' command"


# ---------------------------------------------------------------- LIST / INFO


def test_info_line_fields_and_order(conn):
    line = conn.call("CLIENT", "INFO")
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    keys = [kv.split(b"=", 1)[0] for kv in line.strip().split(b" ")]
    assert keys == [
        b"id", b"addr", b"laddr", b"fd", b"name", b"age", b"idle", b"flags", b"db", b"sub", b"psub", b"ssub",
        b"multi", b"watch", b"qbuf", b"qbuf-free", b"argv-mem", b"multi-mem", b"rbs", b"rbp", b"obl", b"oll", b"omem",
        b"tot-mem", b"events", b"cmd", b"user", b"redir", b"resp", b"lib-name", b"lib-ver",
    ]  # fmt: skip
    f = fields(line)
    assert f[b"cmd"] == b"client|info"  # the running command, as Redis sets lastcmd first
    assert f[b"flags"] == b"N" and f[b"db"] == b"0" and f[b"multi"] == b"-1"
    assert f[b"addr"] == conn.client.addr.encode()


def test_info_and_list_are_verbatim_in_resp3(conn):
    out = conn.raw(b"CLIENT INFO\r\n")
    assert out.startswith(b"$") and b"resp=2" in out
    conn.hello3()
    out = conn.raw(b"CLIENT INFO\r\n")
    assert out.startswith(b"=") and out[out.index(b"\r\n") + 2 :].startswith(b"txt:id=")
    out = conn.raw(b"CLIENT LIST ID 999999\r\n")
    assert out == b"=4\r\ntxt:\r\n"


def test_list_all_type_and_id(server):
    a, b, c = server.connect(), server.connect(), server.connect()
    ids = [x.call("CLIENT", "ID") for x in (a, b, c)]
    lines = a.call("CLIENT", "LIST").splitlines()
    assert [int(fields(ln)[b"id"]) for ln in lines] == ids
    assert fields(lines[0])[b"cmd"] == b"client|list"
    assert fields(lines[1])[b"cmd"] == b"client|id"
    out = a.call("CLIENT", "LIST", "ID", ids[2], "12345", ids[0])
    assert [int(fields(ln)[b"id"]) for ln in out.splitlines()] == [ids[2], ids[0]]
    assert a.call("CLIENT", "LIST", "ID", "12345") == b""
    assert len(a.call("CLIENT", "LIST", "TYPE", "normal").splitlines()) == 3
    assert a.call("CLIENT", "LIST", "TYPE", "REPLICA") == b""
    assert a.call("CLIENT", "LIST", "TYPE", "master") == b""
    assert a.call("CLIENT", "LIST", "TYPE", "pubsub") == b""


@pytest.mark.parametrize(
    "args,text",
    [
        (("TYPE", "foo"), "ERR Unknown client type 'foo'"),
        (("TYPE",), "ERR syntax error"),
        (("ID",), "ERR syntax error"),
        (("ID", "abc"), "ERR Invalid client ID"),
        (("ID", "1", "x"), "ERR Invalid client ID"),
        (("foo", "bar"), "ERR syntax error"),
        (("TYPE", "normal", "x"), "ERR syntax error"),
    ],
)
def test_list_errors(conn, args, text):
    assert err(conn.call("CLIENT", "LIST", *args)) == text


def test_list_shows_db_name_and_flags(server):
    a, b = server.connect(), server.connect()
    b.call("SELECT", "5")
    b.call("CLIENT", "SETNAME", "bee")
    b.call("CLIENT", "NO-EVICT", "on")
    f = fields(a.call("CLIENT", "LIST", "ID", b.client.id))
    assert (f[b"db"], f[b"name"], f[b"flags"], f[b"cmd"]) == (b"5", b"bee", b"e", b"client|no-evict")
    b.call("CLIENT", "NO-EVICT", "off")
    assert fields(a.call("CLIENT", "LIST", "ID", b.client.id))[b"flags"] == b"N"


# ---------------------------------------------------------------- KILL


def test_kill_old_form(server):
    a, b = server.connect(), server.connect()
    assert err(a.call("CLIENT", "KILL", "1.2.3.4:5")) == "ERR No such client"
    assert err(a.call("CLIENT", "KILL", "ID")) == "ERR No such client"  # 3 args: the old form
    assert a.call("CLIENT", "KILL", b.client.addr) == b"OK"
    assert b.closed
    assert b.client.id not in server.state.clients
    assert len(a.call("CLIENT", "LIST").splitlines()) == 1


def test_kill_old_form_can_kill_yourself_after_the_reply(conn):
    assert conn.raw(b"CLIENT KILL " + conn.client.addr.encode() + b"\r\nPING\r\n") == b"+OK\r\n"
    assert conn.closed


def test_kill_new_form_filters(server):
    a, b, c = server.connect(), server.connect(), server.connect()
    assert a.call("CLIENT", "KILL", "ID", "99") == 0
    assert a.call("CLIENT", "KILL", "ADDR", "1.1.1.1:1") == 0
    assert a.call("CLIENT", "KILL", "TYPE", "master") == 0
    assert a.call("CLIENT", "KILL", "TYPE", "slave") == 0
    assert a.call("CLIENT", "KILL", "TYPE", "pubsub") == 0
    assert a.call("CLIENT", "KILL", "LADDR", "x") == 0
    assert a.call("CLIENT", "KILL", "ID", b.client.id) == 1
    assert b.closed and not c.closed
    # SKIPME yes is the default: TYPE normal kills everyone but the caller
    assert a.call("CLIENT", "KILL", "TYPE", "normal") == 1
    assert c.closed and not a.closed


def test_kill_laddr_user_and_skipme_no(server):
    a, b = server.connect(), server.connect()
    assert a.call("CLIENT", "KILL", "USER", "default", "LADDR", "127.0.0.1:6379", "SKIPME", "yes") == 1
    assert b.closed and not a.closed
    assert a.raw(b"CLIENT KILL USER default SKIPME no\r\nPING\r\n") == b":1\r\n"
    assert a.closed


def test_kill_maxage(server):
    a = server.connect()
    server.advance(10)
    b = server.connect()
    assert b.call("CLIENT", "KILL", "MAXAGE", "5") == 1
    assert a.closed and not b.closed
    assert err(b.call("CLIENT", "KILL", "MAXAGE", "0")) == "ERR maxage should be greater than 0"
    assert err(b.call("CLIENT", "KILL", "MAXAGE", "x")) == "ERR maxage is not an integer or out of range"


@pytest.mark.parametrize(
    "args,text",
    [
        (("ID", "0"), "ERR client-id should be greater than 0"),
        (("ID", "-1"), "ERR client-id should be greater than 0"),
        (("ID", "abc"), "ERR client-id should be greater than 0"),
        (("TYPE", "x", "y"), "ERR Unknown client type 'x'"),
        (("USER", "nobody"), "ERR No such user 'nobody'"),
        (("SKIPME", "maybe"), "ERR syntax error"),
        (("ID", "1", "TYPE"), "ERR syntax error"),
        (("FOO", "1"), "ERR syntax error"),
    ],
)
def test_kill_errors(conn, args, text):
    assert err(conn.call("CLIENT", "KILL", *args)) == text


# ---------------------------------------------------------------- REPLY / NO-EVICT / misc


def test_reply_off_on(conn):
    assert conn.raw(b"CLIENT REPLY OFF\r\n") == b""
    assert conn.raw(b"SET k v\r\nGET k\r\n") == b""
    assert conn.raw(b"CLIENT REPLY ON\r\n") == b"+OK\r\n"
    assert conn.raw(b"GET k\r\n") == b"$1\r\nv\r\n"


def test_reply_skip_skips_only_the_next_command(conn):
    assert conn.raw(b"CLIENT REPLY SKIP\r\nSET k v\r\nGET k\r\n") == b"$1\r\nv\r\n"
    assert conn.raw(b"CLIENT REPLY SKIP\r\n") == b""
    assert conn.raw(b"PING\r\n") == b""
    assert conn.raw(b"PING\r\n") == b"+PONG\r\n"


def test_reply_skip_while_off_stays_off(conn):
    assert conn.raw(b"CLIENT REPLY OFF\r\nCLIENT REPLY SKIP\r\nPING\r\nPING\r\n") == b""
    assert conn.raw(b"CLIENT REPLY ON\r\nPING\r\n") == b"+OK\r\n+PONG\r\n"


def test_reply_and_no_evict_syntax(conn):
    assert err(conn.call("CLIENT", "REPLY", "maybe")) == "ERR syntax error"
    assert err(conn.call("CLIENT", "NO-EVICT", "maybe")) == "ERR syntax error"
    assert conn.call("CLIENT", "NO-EVICT", "ON") == b"OK"


def test_getredir_and_help(conn):
    assert conn.call("CLIENT", "GETREDIR") == -1
    out = conn.raw(b"CLIENT HELP\r\n")
    assert out.startswith(b"*48\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n")
    assert out.endswith(b"+HELP\r\n+    Prints this help.\r\n")


@pytest.mark.parametrize(
    "args,text",
    [
        (("ID", "x"), "ERR wrong number of arguments for 'client|id' command"),
        (("GETREDIR", "x"), "ERR wrong number of arguments for 'client|getredir' command"),
        (("help", "x"), "ERR wrong number of arguments for 'client|help' command"),
        (("kill",), "ERR wrong number of arguments for 'client|kill' command"),
        ((), "ERR wrong number of arguments for 'client' command"),
        (("foo",), "ERR unknown subcommand 'foo'. Try CLIENT HELP."),
        (("TYPE", "normal"), "ERR unknown subcommand 'TYPE'. Try CLIENT HELP."),
    ],
)
def test_client_arity_and_unknown(conn, args, text):
    assert err(conn.call("CLIENT", *args)) == text


# ---------------------------------------------------------------- UNBLOCK


def _block(conn, d=None):
    """Make ``conn`` wait on a Deferred exactly as a blocking command's reply does."""
    d = d or defer.Deferred()
    assert conn.proto._deliver(d, []) is False
    assert conn.client.waiting is d
    return d


def test_unblock_timeout_gives_null_array(server):
    a, b = server.connect(), server.connect()
    _block(b)
    assert fields(a.call("CLIENT", "LIST", "ID", b.client.id))[b"flags"] == b"b"
    b.transport.clear()
    assert a.call("CLIENT", "UNBLOCK", b.client.id) == 1
    assert b.transport.value() == b"*-1\r\n"
    assert b.client.waiting is None
    assert a.call("CLIENT", "UNBLOCK", b.client.id) == 0


def test_unblock_timeout_resp3_and_custom_reply(server):
    a, b = server.connect(), server.connect()
    b.hello3()
    _block(b)
    b.transport.clear()
    assert a.call("CLIENT", "UNBLOCK", b.client.id, "TIMEOUT") == 1
    assert b.transport.value() == b"_\r\n"
    d = defer.Deferred()
    d.timeout_reply = lambda: 3  # WAIT answers the acks it has
    _block(b, d)
    b.transport.clear()
    assert a.call("CLIENT", "UNBLOCK", b.client.id) == 1
    assert b.transport.value() == b":3\r\n"


def test_unblock_error_and_pipeline_resumes(server):
    a, b = server.connect(), server.connect()
    _block(b)
    b.proto.dataReceived(b"PING\r\n")  # stays unparsed while blocked
    b.transport.clear()
    assert a.call("CLIENT", "UNBLOCK", b.client.id, "ERROR") == 1
    assert b.transport.value() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n+PONG\r\n"
    assert server.state.stats.errors.get("UNBLOCKED") == 1


def test_unblock_hook_and_unblockable(server):
    a, b = server.connect(), server.connect()
    d = defer.Deferred()
    seen = []

    def on_unblock(error):
        seen.append(error)
        d.callback(b"custom")

    d.on_unblock = on_unblock
    _block(b, d)
    b.transport.clear()
    assert a.call("CLIENT", "UNBLOCK", b.client.id, "error") == 1
    assert str(seen[0]) == "UNBLOCKED client unblocked via CLIENT UNBLOCK"
    assert b.transport.value() == b"$6\r\ncustom\r\n"
    d2 = defer.Deferred()
    d2.unblockable = False
    _block(b, d2)
    assert a.call("CLIENT", "UNBLOCK", b.client.id) == 0
    assert b.client.waiting is d2


@pytest.mark.parametrize(
    "args,text",
    [
        (("1", "foo"), "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
        (("abc",), "ERR value is not an integer or out of range"),
        (("abc", "foo"), "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
        (("1", "timeout", "x"), "ERR unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP."),
    ],
)
def test_unblock_errors(conn, args, text):
    assert err(conn.call("client", "unblock", *args)) == text


def test_unblock_not_blocked_or_unknown(server):
    a, b = server.connect(), server.connect()
    assert a.call("CLIENT", "UNBLOCK", b.client.id) == 0
    assert a.call("CLIENT", "UNBLOCK", "999") == 0


def test_kill_blocked_client_cancels_its_wait(server):
    a, b = server.connect(), server.connect()
    d = _block(b)
    assert a.call("CLIENT", "KILL", "ID", b.client.id) == 1
    assert d.called and b.closed
    assert b.client.id not in server.state.clients


def test_client_commands_need_auth():
    srv = FakeServer(config={"requirepass": "pw"})
    c = srv.connect()
    assert err(c.call("CLIENT", "ID")) == "NOAUTH Authentication required."
    assert err(c.call("CLIENT", "SETNAME", "x")) == "NOAUTH Authentication required."
    srv.stop()
