"""Pub/Sub: SUBSCRIBE/PSUBSCRIBE/SSUBSCRIBE and their UN- forms, PUBLISH/SPUBLISH, PUBSUB *,
delivery in RESP2 and RESP3, the subscribed context, cleanup on disconnect and RESET.
Exact bytes were recorded from Redis 7.0.15."""

from __future__ import annotations

import pytest

from tests.unit.harness import ReplyError, encode_request
from twistd_redis import pubsub as pubsub_mod
from twistd_redis.client import CLIENT_DENY_BLOCKING, CLIENT_PUBSUB
from twistd_redis.pubsub import get_pubsub, publish


def frame(kind: bytes, *items, resp: int = 2) -> bytes:
    out = [(b">%d\r\n" if resp == 3 else b"*%d\r\n") % (len(items) + 1), b"$%d\r\n%s\r\n" % (len(kind), kind)]
    for x in items:
        if x is None:
            out.append(b"_\r\n" if resp == 3 else b"$-1\r\n")
        elif isinstance(x, int):
            out.append(b":%d\r\n" % x)
        else:
            out.append(b"$%d\r\n%s\r\n" % (len(x), x))
    return b"".join(out)


def pending(c) -> bytes:
    """What the server wrote to ``c`` since it was last read (pushes, messages)."""
    out = c.transport.value()
    c.transport.clear()
    return out


def req(*args) -> bytes:
    return encode_request(*args)


GATE = (
    b"-ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
    b"are allowed in this context\r\n"
)


@pytest.fixture
def pub(server):
    return server.connect()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def resp(request):
    return request.param


@pytest.fixture
def sub(server, resp):
    c = server.connect()
    if resp == 3:
        c.hello3()
    return c


# ---------------------------------------------------------------- subscribe replies


def test_subscribe_frames_and_counts(sub, resp):
    assert sub.raw(req("SUBSCRIBE", "a", "b", "a")) == (
        frame(b"subscribe", b"a", 1, resp=resp)
        + frame(b"subscribe", b"b", 2, resp=resp)
        + frame(b"subscribe", b"a", 2, resp=resp)
    )
    # patterns count with channels; shard channels count apart
    assert sub.raw(req("PSUBSCRIBE", "p*")) == frame(b"psubscribe", b"p*", 3, resp=resp)
    assert sub.raw(req("SSUBSCRIBE", "s1", "s2")) == frame(b"ssubscribe", b"s1", 1, resp=resp) + frame(
        b"ssubscribe", b"s2", 2, resp=resp
    )
    assert sub.raw(req("SUBSCRIBE", "c")) == frame(b"subscribe", b"c", 4, resp=resp)
    assert sub.raw(req("SUNSUBSCRIBE", "s2", "nope")) == frame(b"sunsubscribe", b"s2", 1, resp=resp) + frame(
        b"sunsubscribe", b"nope", 1, resp=resp
    )
    assert sub.raw(req("PUNSUBSCRIBE", "p*")) == frame(b"punsubscribe", b"p*", 3, resp=resp)


@pytest.mark.parametrize("cmd", ["UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"])
def test_unsubscribe_all_with_nothing_answers_a_null_channel(sub, resp, cmd):
    assert sub.raw(req(cmd)) == frame(cmd.lower().encode(), None, 0, resp=resp)
    assert sub.client.flags & CLIENT_PUBSUB == 0
    assert sub.call("GET", "x") is None  # not in the subscribed context


def test_unsubscribe_all_in_subscription_order(sub, resp):
    sub.raw(req("SUBSCRIBE", "z", "y", "x"))
    sub.raw(req("PSUBSCRIBE", "p3", "p1", "p2"))
    out = sub.raw(req("PUNSUBSCRIBE"))
    assert out == (
        frame(b"punsubscribe", b"p3", 5, resp=resp)
        + frame(b"punsubscribe", b"p1", 4, resp=resp)
        + frame(b"punsubscribe", b"p2", 3, resp=resp)
    )
    assert sub.raw(req("UNSUBSCRIBE")) == (
        frame(b"unsubscribe", b"z", 2, resp=resp)
        + frame(b"unsubscribe", b"y", 1, resp=resp)
        + frame(b"unsubscribe", b"x", 0, resp=resp)
    )
    assert sub.client.flags & CLIENT_PUBSUB == 0


# ---------------------------------------------------------------- the subscribed context


def test_resp2_context_gate_and_ping(server):
    c = server.connect()
    c.raw(req("SUBSCRIBE", "a"))
    assert c.client.flags & CLIENT_PUBSUB
    assert c.raw(req("GET", "x")) == GATE % b"get"
    assert c.raw(req("HELLO", "3")) == GATE % b"hello"
    assert c.raw(req("CLIENT", "ID")) == GATE % b"client|id"
    assert c.raw(req("PING")) == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    assert c.raw(req("PING", "hi")) == b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"
    # a shard subscription alone keeps the context too
    c.raw(req("SSUBSCRIBE", "s"))
    c.raw(req("UNSUBSCRIBE", "a"))
    assert c.raw(req("GET", "x")) == GATE % b"get"
    assert c.raw(req("SUNSUBSCRIBE")) == frame(b"sunsubscribe", b"s", 0)
    assert c.raw(req("GET", "x")) == b"$-1\r\n"
    assert c.raw(req("PING")) == b"+PONG\r\n"


def test_resp3_every_command_is_allowed(server):
    c = server.connect()
    c.hello3()
    c.raw(req("SUBSCRIBE", "a"))
    assert c.client.flags & CLIENT_PUBSUB
    assert c.raw(req("SET", "x", "1")) == b"+OK\r\n"
    assert c.raw(req("GET", "x")) == b"$1\r\n1\r\n"
    assert c.raw(req("PING")) == b"+PONG\r\n"
    # HELLO 2 while subscribed, then the RESP2 gate applies
    assert c.raw(req("HELLO", "2")).startswith(b"*14\r\n")
    assert c.raw(req("GET", "x")) == GATE % b"get"


def test_quit_while_subscribed_closes(server):
    c = server.connect()
    c.raw(req("SUBSCRIBE", "a"))
    assert c.raw(req("QUIT")) == b"+OK\r\n"
    assert c.closed


def test_reset_while_subscribed(server, pub):
    c = server.connect()
    c.hello3()
    c.raw(req("SUBSCRIBE", "a", "b"))
    c.raw(req("PSUBSCRIBE", "p*"))
    c.raw(req("SSUBSCRIBE", "s"))
    assert c.raw(req("RESET")) == b"+RESET\r\n"
    assert c.client.flags & CLIENT_PUBSUB == 0
    assert (c.client.pubsub_channels, c.client.pubsub_patterns, c.client.pubsub_shard_channels) == (set(), set(), set())
    assert pub.call("PUBSUB", "NUMSUB", "a", "b") == [b"a", 0, b"b", 0]
    assert pub.call("PUBSUB", "NUMPAT") == 0
    assert pub.call("PUBSUB", "CHANNELS") == []
    assert pub.call("PUBSUB", "SHARDCHANNELS") == []
    assert pub.call("PUBLISH", "a", "m") == 0
    assert pending(c) == b""
    assert get_pubsub(server.state).clients == {}


def test_disconnect_cleans_the_registry(server, pub):
    c1, c2 = server.connect(), server.connect()
    c1.raw(req("SUBSCRIBE", "a", "b"))
    c1.raw(req("PSUBSCRIBE", "x*"))
    c1.raw(req("SSUBSCRIBE", "s"))
    c2.raw(req("SUBSCRIBE", "a"))
    c1.close()
    assert pub.call("PUBSUB", "NUMSUB", "a", "b") == [b"a", 1, b"b", 0]
    assert pub.call("PUBSUB", "CHANNELS") == [b"a"]
    assert pub.call("PUBSUB", "NUMPAT") == 0
    assert pub.call("PUBSUB", "SHARDCHANNELS") == []
    assert pub.call("PUBLISH", "a", "m") == 1
    assert pending(c2) == frame(b"message", b"a", b"m")
    c2.close()
    ps = get_pubsub(server.state)
    assert (ps.channels, ps.patterns, ps.shard_channels, ps.clients, ps.matchers) == ({}, {}, {}, {}, {})


def test_client_list_counts(server, pub):
    c = server.connect()
    c.hello3()
    c.raw(req("SUBSCRIBE", "a", "b"))
    c.raw(req("PSUBSCRIBE", "p*"))
    c.raw(req("SSUBSCRIBE", "s1", "s2", "s3"))
    line = next(ln for ln in pub.call("CLIENT", "LIST").decode().splitlines() if f"id={c.client.id} " in ln)
    assert " flags=P " in line and " sub=2 psub=1 ssub=3 " in line
    c.raw(req("UNSUBSCRIBE", "a"))
    c.raw(req("PUNSUBSCRIBE"))
    line = next(ln for ln in pub.call("CLIENT", "LIST").decode().splitlines() if f"id={c.client.id} " in ln)
    assert " sub=1 psub=0 ssub=3 " in line


# ---------------------------------------------------------------- delivery


def test_publish_to_channel_and_patterns(server, pub, sub, resp):
    other = server.connect()
    sub.raw(req("SUBSCRIBE", "news.tech"))
    other.raw(req("SUBSCRIBE", "news.tech"))
    sub.raw(req("PSUBSCRIBE", "news.*"))
    assert pub.call("PUBLISH", "news.tech", "hello") == 3
    assert pending(sub) == frame(b"message", b"news.tech", b"hello", resp=resp) + frame(
        b"pmessage", b"news.*", b"news.tech", b"hello", resp=resp
    )
    assert pending(other) == frame(b"message", b"news.tech", b"hello")
    assert pub.call("PUBLISH", "news.art", "x") == 1
    assert pending(sub) == frame(b"pmessage", b"news.*", b"news.art", b"x", resp=resp)
    assert pub.call("PUBLISH", "other", "x") == 0
    assert pending(sub) == pending(other) == b""


def test_channel_subscribers_in_subscription_order(server, pub):
    conns = [server.connect() for _ in range(5)]
    for c in reversed(conns):
        c.raw(req("SUBSCRIBE", "ch"))
    order = []
    ps = get_pubsub(server.state)
    assert [c.id for c in ps.channels[b"ch"]] == [c.client.id for c in reversed(conns)]
    for c in conns:
        c.proto.send_raw = lambda data, c=c, s=c.proto.send_raw: (order.append(c.client.id), s(data))
    assert pub.call("PUBLISH", "ch", "m") == 5
    assert order == [c.client.id for c in reversed(conns)]


def test_one_pmessage_per_matching_pattern(pub, sub, resp):
    sub.raw(req("PSUBSCRIBE", "h?llo", "h[ae]llo", "h*", "x*", r"h\*"))
    assert pub.call("PUBLISH", "hello", "m") == 3
    assert pending(sub) == b"".join(
        frame(b"pmessage", p, b"hello", b"m", resp=resp) for p in (b"h?llo", b"h[ae]llo", b"h*")
    )
    assert pub.call("PUBLISH", "h*", "m") == 2  # h* and the escaped h\*
    assert pending(sub) == frame(b"pmessage", b"h*", b"h*", b"m", resp=resp) + frame(
        b"pmessage", rb"h\*", b"h*", b"m", resp=resp
    )


def test_star_does_not_match_the_empty_channel(pub, sub, resp):
    """stringmatchlen("*", "") is 0 in Redis 7.0."""
    sub.raw(req("PSUBSCRIBE", "*"))
    sub.raw(req("SUBSCRIBE", ""))
    assert pub.call("PUBLISH", "", "m") == 1
    assert pending(sub) == frame(b"message", b"", b"m", resp=resp)


def test_publisher_subscribed_to_itself_gets_the_push_first(server):
    c = server.connect()
    c.hello3()
    c.raw(req("SUBSCRIBE", "a"))
    assert c.raw(req("PUBLISH", "a", "self")) == frame(b"message", b"a", b"self", resp=3) + b":1\r\n"


def test_spublish_reaches_shard_subscribers_only(pub, sub, resp):
    sub.raw(req("SSUBSCRIBE", "ch"))
    sub.raw(req("PSUBSCRIBE", "*"))
    sub.raw(req("SUBSCRIBE", "ch"))
    assert pub.call("SPUBLISH", "ch", "m") == 1
    assert pending(sub) == frame(b"smessage", b"ch", b"m", resp=resp)
    assert pub.call("PUBLISH", "ch", "n") == 2
    assert pending(sub) == frame(b"message", b"ch", b"n", resp=resp) + frame(b"pmessage", b"*", b"ch", b"n", resp=resp)
    assert pub.call("SPUBLISH", "none", "m") == 0


def test_one_encode_per_protocol_version(server, pub, monkeypatch):
    conns = [server.connect() for _ in range(100)]
    for i, c in enumerate(conns):
        if i % 2:
            c.hello3()
        c.raw(req("SUBSCRIBE", "ch"))
    calls = {"2": 0, "3": 0}
    enc2, enc3 = pubsub_mod.encode2, pubsub_mod.encode3

    def count2(v):
        calls["2"] += 1
        return enc2(v)

    def count3(v):
        calls["3"] += 1
        return enc3(v)

    monkeypatch.setattr(pubsub_mod, "encode2", count2)
    monkeypatch.setattr(pubsub_mod, "encode3", count3)
    assert pub.call("PUBLISH", "ch", "payload") == 100
    assert calls == {"2": 1, "3": 1}
    assert pending(conns[0]) == frame(b"message", b"ch", b"payload")
    assert pending(conns[1]) == frame(b"message", b"ch", b"payload", resp=3)


def test_publish_api_for_other_modules(server):
    assert publish(server.state, b"ch", b"m") == 0  # no registry yet: nobody listens
    c = server.connect()
    c.raw(req("PSUBSCRIBE", "__key*__:*"))
    assert publish(server.state, b"__keyspace@0__:k", b"set") == 1
    server.end_turn()  # queued pushes are written at the end of the reactor turn
    assert pending(c) == frame(b"pmessage", b"__key*__:*", b"__keyspace@0__:k", b"set")


def test_client_reply_off_still_sends_subscribe_frames(server):
    c = server.connect()
    c.hello3()
    assert c.raw(req("CLIENT", "REPLY", "OFF")) == b""
    assert c.raw(req("SUBSCRIBE", "a", "b")) == frame(b"subscribe", b"a", 1, resp=3) + frame(
        b"subscribe", b"b", 2, resp=3
    )
    assert c.raw(req("PING")) == b""
    assert c.raw(req("CLIENT", "REPLY", "ON")) == b"+OK\r\n"


def test_subscribe_inside_multi(server):
    c = server.connect()
    assert c.raw(req("MULTI") + req("SUBSCRIBE", "x") + req("EXEC")) == (
        b"+OK\r\n+QUEUED\r\n*1\r\n" + frame(b"subscribe", b"x", 1)
    )
    assert c.client.flags & CLIENT_PUBSUB


def test_deny_blocking_client(server):
    c = server.connect()
    c.client.flags |= CLIENT_DENY_BLOCKING
    assert c.raw(req("SUBSCRIBE", "a")) == b"-ERR SUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n"
    assert c.raw(req("PSUBSCRIBE", "a")) == b"-ERR PSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n"
    assert c.raw(req("SSUBSCRIBE", "a")) == b"-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n"
    assert c.client.flags & CLIENT_PUBSUB == 0


def test_split_requests_while_subscribed(server, pub):
    c = server.connect()
    data = req("SUBSCRIBE", "abc") + req("PING")
    out = b""
    for i in range(len(data)):
        c.transport.clear()
        c.proto.dataReceived(data[i : i + 1])
        out += c.transport.value()
    assert out == frame(b"subscribe", b"abc", 1) + b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"


# ---------------------------------------------------------------- PUBSUB introspection


def test_pubsub_introspection(server, pub):
    a, b = server.connect(), server.connect()
    a.raw(req("SUBSCRIBE", "news.a", "news.b", "other"))
    b.raw(req("SUBSCRIBE", "news.a"))
    a.raw(req("PSUBSCRIBE", "n*", "m*"))
    b.raw(req("PSUBSCRIBE", "n*"))
    a.raw(req("SSUBSCRIBE", "s1", "s2"))
    assert sorted(pub.call("PUBSUB", "CHANNELS")) == [b"news.a", b"news.b", b"other"]
    assert sorted(pub.call("PUBSUB", "channels", "news.*")) == [b"news.a", b"news.b"]
    assert pub.call("PUBSUB", "CHANNELS", "zz*") == []
    assert pub.call("PUBSUB", "NUMSUB") == []
    assert pub.call("PUBSUB", "NUMSUB", "news.a", "news.b", "none", "news.a") == [
        b"news.a",
        2,
        b"news.b",
        1,
        b"none",
        0,
        b"news.a",
        2,
    ]
    assert pub.call("PUBSUB", "NUMPAT") == 2  # distinct patterns, not subscriptions
    assert sorted(pub.call("PUBSUB", "SHARDCHANNELS")) == [b"s1", b"s2"]
    assert pub.call("PUBSUB", "SHARDCHANNELS", "*2") == [b"s2"]
    assert pub.call("PUBSUB", "SHARDNUMSUB", "s1", "x") == [b"s1", 1, b"x", 0]
    # no leaked empty entries
    b.raw(req("UNSUBSCRIBE", "news.a"))
    a.raw(req("UNSUBSCRIBE", "news.a"))
    assert sorted(pub.call("PUBSUB", "CHANNELS")) == [b"news.b", b"other"]
    assert b"news.a" not in get_pubsub(server.state).channels


def test_pubsub_errors_and_help(pub):
    e = pub.call("PUBSUB", "CHANNELS", "a", "b")
    assert isinstance(e, ReplyError)
    assert str(e) == "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."
    assert str(pub.call("pubsub", "shardchannels", "a", "b")) == (
        "ERR unknown subcommand or wrong number of arguments for 'shardchannels'. Try PUBSUB HELP."
    )
    assert str(pub.call("PUBSUB", "NUMPAT", "x")) == "ERR wrong number of arguments for 'pubsub|numpat' command"
    assert str(pub.call("PUBSUB", "foo")) == "ERR unknown subcommand 'foo'. Try PUBSUB HELP."
    assert str(pub.call("PUBSUB")) == "ERR wrong number of arguments for 'pubsub' command"
    assert str(pub.call("PUBLISH", "a")) == "ERR wrong number of arguments for 'publish' command"
    assert str(pub.call("SUBSCRIBE")) == "ERR wrong number of arguments for 'subscribe' command"
    assert str(pub.call("SPUBLISH", "a", "b", "c")) == "ERR wrong number of arguments for 'spublish' command"
    help_ = pub.call("PUBSUB", "HELP")
    assert help_[0] == b"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert help_[-2:] == [b"HELP", b"    Prints this help."] and len(help_) == 14


def test_publish_does_not_propagate_or_dirty(server, pub, seen):
    dirty = server.state.dirty
    assert pub.call("PUBLISH", "a", "b") == 0
    assert pub.call("SPUBLISH", "a", "b") == 0
    assert seen == [] and server.state.dirty == dirty


def test_info_stats_counts(server, pub):
    def stats():
        info = pub.call("INFO", "stats").decode()
        return [ln for ln in info.splitlines() if ln.startswith("pubsub")]

    assert stats() == ["pubsub_channels:0", "pubsub_patterns:0", "pubsubshard_channels:0"]
    a, b = server.connect(), server.connect()
    a.raw(req("SUBSCRIBE", "x", "y"))
    b.raw(req("SUBSCRIBE", "x"))
    a.raw(req("PSUBSCRIBE", "p*", "q*"))
    b.raw(req("PSUBSCRIBE", "p*"))
    b.raw(req("SSUBSCRIBE", "s"))
    assert stats() == ["pubsub_channels:2", "pubsub_patterns:2", "pubsubshard_channels:1"]
    a.close()
    b.raw(req("RESET"))
    assert stats() == ["pubsub_channels:0", "pubsub_patterns:0", "pubsubshard_channels:0"]
