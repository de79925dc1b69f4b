"""RedisProtocol: batching, splits at every byte, protocol errors, waiting on Deferreds."""

from __future__ import annotations

from twisted.internet import defer

from twistd_redis.commands.table import CommandSpec
from twistd_redis.resp import OK

from .harness import FakeServer, encode_request


def _pipeline() -> bytes:
    return (
        encode_request("SET", "k", "v1")
        + b"GET k\r\n"
        + encode_request("APPEND", "k", "x" * 100)
        + encode_request("GET", "k")
        + b"PING\r\n"
        + encode_request("ECHO", "\r\n$3\r\n")
    )


_REPLIES = b"+OK\r\n$2\r\nv1\r\n:102\r\n$102\r\nv1" + b"x" * 100 + b"\r\n+PONG\r\n$6\r\n\r\n$3\r\n\r\n"


def test_pipeline_answers_in_order_with_one_write_per_read(conn):
    writes = []
    conn.transport.write = writes.append  # count writes
    conn.proto.dataReceived(_pipeline())
    assert writes == [_REPLIES]


def test_every_split_offset_gives_the_same_replies(server):
    data = _pipeline()
    for i in range(1, len(data)):
        c = server.connect()
        out = c.raw(data[:i]) + c.raw(data[i:])
        assert out == _REPLIES, i


def test_three_way_splits_mixing_fast_and_exact_parsers(server):
    data = _pipeline()
    for i in range(1, len(data), 7):
        for j in range(i + 1, len(data), 11):
            c = server.connect()
            assert c.raw(data[:i]) + c.raw(data[i:j]) + c.raw(data[j:]) == _REPLIES, (i, j)


def test_protocol_error_answers_earlier_requests_then_closes(server):
    c = server.connect()
    other = server.connect()
    out = c.raw(encode_request("SET", "a", "1") + b"*1\r\n:1\r\n" + encode_request("SET", "b", "2"))
    assert out == b"+OK\r\n-ERR Protocol error: expected '$', got ':'\r\n"
    assert c.closed
    assert not other.closed
    assert other.call("GET", "a") == b"1"
    assert other.call("GET", "b") is None  # nothing after the error ran


def test_data_after_close_is_ignored(server):
    c = server.connect()
    c.raw(b"QUIT\r\n")
    assert c.closed
    assert c.raw(b"SET z 1\r\n") == b""
    assert server.connect().call("EXISTS", "z") == 0


def test_query_buffer_limit_closes_the_connection(server):
    server.state.config.set("client-query-buffer-limit", "1mb")
    c = server.connect()
    c.raw(b"*2\r\n$3\r\nGET\r\n$2000000\r\n" + b"x" * (1024 * 1024 + 10))
    assert c.closed
    assert not server.connect().closed


def test_empty_requests_are_skipped(conn):
    assert conn.raw(b"*0\r\n*-1\r\n\r\n\r\nPING\r\n") == b"+PONG\r\n"


def _install_wait(server) -> list[defer.Deferred]:
    """A test command WAITFOR that returns a Deferred the test fires by hand."""
    waiting: list[defer.Deferred] = []

    def waitfor(c, argv):
        d = defer.Deferred()
        waiting.append(d)
        return d

    spec = CommandSpec("waitfor", waitfor, 1, 0, (0, 0, 0), "test")
    server.state.commands[b"waitfor"] = server.state.commands[b"WAITFOR"] = spec
    return waiting


def test_waiting_client_holds_its_later_pipelined_input(server):
    waiting = _install_wait(server)
    c = server.connect()
    assert c.raw(encode_request("SET", "a", "1") + b"WAITFOR\r\n" + encode_request("GET", "a")) == b"+OK\r\n"
    # more input while waiting stays unparsed, even a malformed request
    assert c.raw(encode_request("SET", "a", "2") + b"*1\r\n:x\r\n") == b""
    other = server.connect()
    assert other.call("GET", "a") == b"1"
    c.transport.clear()
    waiting[0].callback(OK)
    assert c.transport.value() == b"+OK\r\n$1\r\n1\r\n+OK\r\n-ERR Protocol error: expected '$', got ':'\r\n"
    assert c.closed
    assert other.call("GET", "a") == b"2"


def test_disconnect_cancels_the_wait(server):
    waiting = _install_wait(server)
    c = server.connect()
    c.raw(b"WAITFOR\r\n")
    assert c.client.waiting is waiting[0]
    c.close()
    assert waiting[0].called  # cancelled, and the CancelledError was consumed
    assert c.client.id not in server.state.clients


def test_already_fired_deferred_is_answered_in_order(server):
    def ready(c, argv):
        return defer.succeed(b"now")

    server.state.commands[b"READY"] = CommandSpec("ready", ready, 1, 0, (0, 0, 0), "test")
    c = server.connect()
    assert c.raw(b"READY\r\nPING\r\n") == b"$3\r\nnow\r\n+PONG\r\n"


def test_hello3_switches_encoding_for_its_own_reply_and_later_ones(conn):
    out = conn.raw(encode_request("HELLO", "3") + encode_request("GET", "missing"))
    assert out.startswith(b"%7\r\n")
    assert out.endswith(b"_\r\n")


def test_client_reply_modes(conn):
    out = conn.raw(
        b"CLIENT REPLY SKIP\r\nSET a 1\r\nGET a\r\nCLIENT REPLY OFF\r\nGET a\r\nCLIENT REPLY ON\r\nGET a\r\n"
    )
    assert out == b"$1\r\n1\r\n+OK\r\n$1\r\n1\r\n"


def test_time_is_cached_per_read(server):
    c = server.connect()
    server.advance(5)
    c.raw(b"PING\r\n")
    assert server.state.mstime == int(server.clock.seconds() * 1000)


def test_unknown_command_and_arity_count_in_errorstats(conn, server):
    conn.raw(b"NOPE\r\nGET\r\nGET\r\n")
    assert server.state.stats.errors["ERR"] == 3
    assert server.state.commands[b"get"].rejected_calls == 2


def test_huge_multibulk_header_answers_fast_and_allocates_nothing(server):
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    c = server.connect()
    assert c.raw(b"*2147483648\r\n") == b"-ERR Protocol error: invalid multibulk length\r\n"
    assert c.closed
    c2 = server.connect()
    assert c2.raw(b"*2000000000\r\n") == b""  # valid for Redis: it waits for the items
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB


def test_unknown_command_arguments_end_at_nul(conn):
    assert conn.raw(encode_request("nope", b"bin\x00ary")) == (
        b"-ERR unknown command 'nope', with args beginning with: 'bin' \r\n"
    )
