"""PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET and the auth gate, checked against Redis 7.0.15."""

import pytest

from tests.unit.harness import FakeServer, ReplyError

HELLO_NOAUTH = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH "
    "<user> <pass> option can be used to authenticate the client and select the RESP protocol "
    "version at the same time"
)
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."


def err(reply):
    assert isinstance(reply, ReplyError), reply
    return str(reply)


@pytest.fixture
def pw_server():
    srv = FakeServer(config={"requirepass": "pw"})
    yield srv
    srv.stop()


def hello_map(conn, proto, cid):
    return (
        b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:"
        + str(proto).encode()
        + b"\r\n$2\r\nid\r\n:%d\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
        b"$7\r\nmodules\r\n*0\r\n" % cid
    )


# ---------------------------------------------------------------- PING / ECHO


def test_ping(conn):
    assert conn.raw(b"PING\r\n") == b"+PONG\r\n"
    assert conn.raw(b"PING hi\r\n") == b"$2\r\nhi\r\n"
    assert conn.raw(b"PING a b\r\n") == b"-ERR wrong number of arguments for 'ping' command\r\n"
    conn.hello3()
    assert conn.raw(b"PING\r\n") == b"+PONG\r\n"
    assert conn.raw(b"PING hi\r\n") == b"$2\r\nhi\r\n"


def test_ping_in_resp2_subscribed_context(conn):
    from twistd_redis.client import CLIENT_PUBSUB

    conn.client.flags |= CLIENT_PUBSUB  # as SUBSCRIBE leaves it
    assert conn.raw(b"PING\r\n") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    assert conn.raw(b"PING m\r\n") == b"*2\r\n$4\r\npong\r\n$1\r\nm\r\n"


def test_echo(conn):
    assert conn.raw(b"ECHO hello\r\n") == b"$5\r\nhello\r\n"
    assert conn.call("ECHO", b"\x00\xff") == b"\x00\xff"
    assert conn.raw(b"ECHO\r\n") == b"-ERR wrong number of arguments for 'echo' command\r\n"
    assert conn.raw(b"ECHO a b\r\n") == b"-ERR wrong number of arguments for 'echo' command\r\n"


def test_command_rows_match_redis():
    from twistd_redis.commands import table as t

    rows = {
        "ping": (-1, ["fast"]),
        "echo": (2, ["loading", "stale", "fast"]),
        "quit": (-1, ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"]),
        "select": (2, ["loading", "stale", "fast"]),
        "hello": (-1, ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"]),
        "auth": (-2, ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"]),
        "reset": (1, ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"]),
    }
    for name, (arity, flags) in rows.items():
        spec = t.REGISTRY[name]
        assert (spec.arity, spec.flag_names()) == (arity, flags), name


# ---------------------------------------------------------------- QUIT / SELECT


def test_quit_replies_then_closes(conn):
    assert conn.raw(b"QUIT\r\nPING\r\n") == b"+OK\r\n"
    assert conn.closed


def test_quit_with_arguments_still_quits(conn):
    assert conn.raw(b"QUIT x\r\n") == b"+OK\r\n"
    assert conn.closed


def test_select(conn):
    assert conn.call("SET", "k", "0") == b"OK"
    assert conn.call("SELECT", "15") == b"OK"
    assert conn.call("GET", "k") is None
    assert conn.client.db.id == 15
    assert conn.call("SELECT", "0") == b"OK"
    assert conn.call("GET", "k") == b"0"


@pytest.mark.parametrize(
    "arg,text",
    [
        ("abc", "ERR value is not an integer or out of range"),
        ("01", "ERR value is not an integer or out of range"),
        (" 1", "ERR value is not an integer or out of range"),
        ("16", "ERR DB index is out of range"),
        ("-1", "ERR DB index is out of range"),
    ],
)
def test_select_errors(conn, arg, text):
    assert err(conn.call("SELECT", arg)) == text


# ---------------------------------------------------------------- HELLO


def test_hello_switches_protocol_and_replies_a_map(conn):
    cid = conn.client.id
    assert conn.raw(b"HELLO 3\r\n") == hello_map(conn, 3, cid)
    assert conn.raw(b"HELLO\r\n") == hello_map(conn, 3, cid)
    out = conn.raw(b"HELLO 2\r\n")
    assert out.startswith(b"*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n")
    assert b"$5\r\nproto\r\n:2\r\n" in out


def test_hello_without_arguments_in_resp2_is_a_flat_array(conn):
    out = conn.raw(b"HELLO\r\n")
    assert out.startswith(b"*14\r\n") and b"$5\r\nproto\r\n:2\r\n" in out
    assert conn.client.resp == 2


@pytest.mark.parametrize(
    "args,text",
    [
        (("4",), "NOPROTO unsupported protocol version"),
        (("1",), "NOPROTO unsupported protocol version"),
        (("-1",), "NOPROTO unsupported protocol version"),
        (("abc",), "ERR Protocol version is not an integer or out of range"),
        (("3.0",), "ERR Protocol version is not an integer or out of range"),
        (("3", "foo"), "ERR Syntax error in HELLO option 'foo'"),
        (("3", "AUTH", "a"), "ERR Syntax error in HELLO option 'AUTH'"),
        (("3", "SETNAME"), "ERR Syntax error in HELLO option 'SETNAME'"),
        (("3", "SETNAME", "a b"), "ERR Client names cannot contain spaces, newlines or special characters."),
        (("2", "AUTH", "bob", "x"), WRONGPASS),
        (("4", "foo"), "NOPROTO unsupported protocol version"),
    ],
)
def test_hello_errors_leave_protocol_alone(conn, args, text):
    assert err(conn.call("HELLO", *args)) == text
    assert conn.client.resp == 2


def test_hello_setname_and_auth_without_password(conn):
    out = conn.raw(b"HELLO 3 AUTH default anything setname nm\r\n")
    assert out.startswith(b"%7\r\n")
    assert conn.call("CLIENT", "GETNAME") == b"nm"


def test_hello_with_requirepass(pw_server):
    c = pw_server.connect()
    for args in (("HELLO",), ("HELLO", "3"), ("HELLO", "3", "SETNAME", "x")):
        assert err(c.call(*args)) == HELLO_NOAUTH
    assert c.client.resp == 2 and c.client.name is None
    assert err(c.call("HELLO", "3", "AUTH", "default", "bad")) == WRONGPASS
    out = c.raw(b"HELLO 3 AUTH default pw SETNAME zz\r\n")
    assert out == hello_map(c, 3, c.client.id)
    assert c.raw(b"PING\r\n") == b"+PONG\r\n"
    assert c.call("CLIENT", "GETNAME") == b"zz"


# ---------------------------------------------------------------- AUTH and the gate


def test_auth_without_requirepass(conn):
    assert err(conn.call("AUTH", "x")) == (
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?"
    )
    assert conn.call("AUTH", "default", "x") == b"OK"
    assert err(conn.call("AUTH", "bob", "x")) == WRONGPASS
    assert err(conn.call("AUTH", "a", "b", "c")) == "ERR syntax error"


def test_noauth_gate(pw_server):
    c = pw_server.connect()
    assert c.raw(b"PING\r\n") == b"-NOAUTH Authentication required.\r\n"
    assert c.raw(b"GET x\r\n") == b"-NOAUTH Authentication required.\r\n"
    assert c.raw(b"CLIENT ID\r\n") == b"-NOAUTH Authentication required.\r\n"
    assert pw_server.state.stats.errors["NOAUTH"] == 3
    for args in (("AUTH", "x"), ("AUTH", "default", "x"), ("AUTH", "bob", "pw")):
        assert err(c.call(*args)) == WRONGPASS
    assert err(c.call("AUTH", "a", "b", "c")) == "ERR syntax error"
    assert c.call("AUTH", "pw") == b"OK"
    assert c.raw(b"PING\r\n") == b"+PONG\r\n"
    d = pw_server.connect()
    assert d.call("AUTH", "default", "pw") == b"OK"
    assert d.call("SET", "k", "v") == b"OK"


def test_quit_is_allowed_unauthenticated(pw_server):
    c = pw_server.connect()
    assert c.raw(b"QUIT\r\n") == b"+OK\r\n"
    assert c.closed


def test_unauthenticated_bulk_length_limit(pw_server):
    # Redis 7.0.15: a bulk over 16384 bytes before AUTH is a protocol error that closes.
    c = pw_server.connect()
    assert c.raw(b"*1\r\n$16385\r\n") == b"-ERR Protocol error: unauthenticated bulk length\r\n"
    assert c.closed
    c = pw_server.connect()
    assert c.raw(b"*1\r\n$16384\r\n") == b""
    assert not c.closed


@pytest.mark.parametrize("split", [True, False])
def test_unauthenticated_multibulk_length_limit(pw_server, split):
    # Redis 7.0.15: more than 10 arguments before AUTH is a protocol error that closes.
    c = pw_server.connect()
    req = b"*11\r\n" + b"$1\r\nx\r\n" * 11
    out = c.raw(req[:5]) if split else c.raw(req)
    assert out == b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    assert c.closed


# ---------------------------------------------------------------- RESET


def test_reset_clears_connection_state(conn):
    conn.call("SELECT", "3")
    conn.call("CLIENT", "SETNAME", "me")
    conn.call("CLIENT", "NO-EVICT", "on")
    conn.call("CLIENT", "SETINFO", "LIB-NAME", "lib")
    conn.hello3()
    assert conn.raw(b"RESET\r\n") == b"+RESET\r\n"
    c = conn.client
    assert (c.db.id, c.resp, c.name, c.flags) == (0, 2, None, 0)
    info = conn.call("CLIENT", "INFO")
    assert b" db=0 " in info and b" name= " in info and b" flags=N " in info and b" resp=2 " in info
    assert b"lib-name=lib" in info  # RESET keeps the library info, as Redis does


def test_reset_turns_replies_back_on(conn):
    assert conn.raw(b"CLIENT REPLY OFF\r\nPING\r\n") == b""
    assert conn.raw(b"RESET\r\nPING\r\n") == b"+RESET\r\n+PONG\r\n"


def test_reset_unwatches_and_clears_pubsub_and_monitor(server):
    from twistd_redis.client import CLIENT_MONITOR, CLIENT_PUBSUB

    conn = server.connect()
    st = server.state
    c = conn.client
    st.watch_key(c, b"k")
    assert st.watched_keys == {(0, b"k"): [c]}
    c.flags |= CLIENT_PUBSUB | CLIENT_MONITOR
    c.pubsub_channels.add(b"ch")
    st.monitors.append(c)
    assert conn.raw(b"RESET\r\n") == b"+RESET\r\n"
    assert st.watched_keys == {} and c.watched_keys is None
    assert c.pubsub_channels == set() and c not in st.monitors and c.flags == 0
    assert conn.raw(b"GET x\r\n") == b"$-1\r\n"


def test_reset_runs_module_hooks(conn):
    from twistd_redis import state as state_mod

    seen = []
    state_mod.CLIENT_RESET_HOOKS.append(lambda st, cl: seen.append(cl.id))
    try:
        assert conn.raw(b"RESET\r\n") == b"+RESET\r\n"
    finally:
        state_mod.CLIENT_RESET_HOOKS.pop()
    assert seen == [conn.client.id]


def test_reset_deauthenticates_when_a_password_is_set(pw_server):
    c = pw_server.connect()
    assert c.call("AUTH", "pw") == b"OK"
    c.call("CLIENT", "SETNAME", "me")
    assert c.raw(b"RESET\r\n") == b"+RESET\r\n"
    assert c.raw(b"GET x\r\n") == b"-NOAUTH Authentication required.\r\n"
    assert c.call("AUTH", "pw") == b"OK"
    assert c.call("CLIENT", "GETNAME") is None


def test_reset_arity(conn):
    assert conn.raw(b"RESET x\r\n") == b"-ERR wrong number of arguments for 'reset' command\r\n"


def test_authenticated_client_loses_the_unauth_limits(pw_server):
    c = pw_server.connect()
    assert c.raw(b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n") == b"+OK\r\n"
    assert c.raw(b"*1\r\n$20000\r\n") == b""
    assert not c.closed


def test_hello_3_multibulk_replies_in_resp3(conn):
    # redis-py 8 sends exactly this on connect and parses the answer as a RESP3 map
    assert conn.raw(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n") == hello_map(conn, 3, conn.client.id)
