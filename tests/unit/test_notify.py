"""Keyspace notifications (twistd_redis/notify.py): channels and payloads at the publish seam,
class filtering, the 'n' and 'm' classes, lazy and active expiry on a fake clock, the config
value and its bits, and delivery to a real PSUBSCRIBE through pub/sub."""

from __future__ import annotations

import pytest

from tests.unit.harness import FakeServer, ReplyError
from twistd_redis import notify
from twistd_redis.config import NOTIFY_ALL, NOTIFY_KEYEVENT, NOTIFY_KEYSPACE, NOTIFY_NEW, NotifyFlags


@pytest.fixture
def published(monkeypatch):
    """Every (channel, message) handed to pub/sub's publish()."""
    out: list[tuple[bytes, bytes]] = []

    def fake(state, channel, message):
        assert type(channel) is bytes and type(message) is bytes
        out.append((channel, message))
        return 0

    monkeypatch.setattr(notify, "publish", fake)
    return out


def events(published):
    """The keyspace messages as 'key=event' and keyevent ones as 'event:key'."""
    out = []
    for ch, msg in published:
        if ch.startswith(b"__keyspace@"):
            out.append(ch.split(b"__:", 1)[1].decode() + "=" + msg.decode())
        else:
            out.append(ch.split(b"__:", 1)[1].decode() + ":" + msg.decode())
    return out


def config(conn, flags):
    assert conn.call("CONFIG", "SET", "notify-keyspace-events", flags) == b"OK"


def test_keyspace_and_keyevent_channels(server, conn, published):
    config(conn, "KEA")
    conn.call("SET", "k", "v")
    assert published == [(b"__keyspace@0__:k", b"set"), (b"__keyevent@0__:set", b"k")]


def test_db_id_in_channels(server, conn, published):
    config(conn, "KEA")
    conn.call("SELECT", "12")
    conn.call("LPUSH", "l", "a")
    assert published == [(b"__keyspace@12__:l", b"lpush"), (b"__keyevent@12__:lpush", b"l")]


def test_binary_key(server, conn, published):
    config(conn, "KA")
    conn.call("SET", b"a\x00\xff\r\n", "v")
    assert published == [(b"__keyspace@0__:a\x00\xff\r\n", b"set")]


def test_only_keyspace_or_only_keyevent(server, conn, published):
    config(conn, "KA")
    conn.call("SET", "k", "v")
    config(conn, "EA")
    conn.call("DEL", "k")
    assert events(published) == ["k=set", "del:k"]


def test_class_filter(server, conn, published):
    config(conn, "K$")
    conn.call("SET", "k", "v", "EX", "100")  # set ($) and expire (g)
    conn.call("LPUSH", "l", "a")
    conn.call("DEL", "k")
    assert events(published) == ["k=set"]
    published.clear()
    config(conn, "Eglshz")
    conn.call("SET", "k", "v")
    conn.call("EXPIRE", "k", "10")
    conn.call("SADD", "s", "a")
    conn.call("HSET", "h", "f", "v")
    conn.call("ZADD", "z", "1", "a")
    conn.call("RPOP", "l")
    assert events(published) == ["expire:k", "sadd:s", "hset:h", "zadd:z", "rpop:l", "del:l"]


def test_classes_without_k_or_e_publish_nothing(server, conn, published):
    config(conn, "A")
    conn.call("SET", "k", "v")
    config(conn, "KE")
    conn.call("SET", "k", "v")
    assert published == []


def test_off_never_reaches_the_notifier(server, conn):
    def boom(*a):
        raise AssertionError("notifier called while notify-keyspace-events is empty")

    server.state.keyspace_notifier = boom
    conn.call("SET", "k", "v", "PX", "1")
    conn.call("GET", "nokey")
    server.advance(1)
    assert conn.call("GET", "k") is None
    assert server.state.notify_bits == 0


def test_turning_off(server, conn, published):
    config(conn, "KEA")
    config(conn, "")
    conn.call("SET", "k", "v")
    assert published == []
    assert server.state.notify_flags == ""


def test_startup_config():
    srv = FakeServer({"notify-keyspace-events": "KEg"})
    try:
        assert srv.state.notify_bits & NOTIFY_KEYSPACE
        conn = srv.connect()
        assert conn.call("CONFIG", "GET", "notify-keyspace-events") == [b"notify-keyspace-events", b"gKE"]
    finally:
        srv.stop()


def test_new_class_survives_the_A_display(server, conn, published):
    config(conn, "KEA")
    assert server.state.notify_bits & NOTIFY_NEW == 0
    config(conn, "KEAn")  # CONFIG GET shows AKE for both: the bits must still change
    assert conn.call("CONFIG", "GET", "notify-keyspace-events") == [b"notify-keyspace-events", b"AKE"]
    assert server.state.notify_bits & NOTIFY_NEW
    conn.call("SET", "k", "v")
    conn.call("SET", "k", "w")
    assert events(published) == ["k=new", "new:k", "k=set", "set:k", "k=set", "set:k"]
    config(conn, "KEA")
    assert server.state.notify_bits & NOTIFY_NEW == 0


def test_new_events(server, conn, published):
    config(conn, "Kn")
    conn.call("SET", "a", "1")
    conn.call("SET", "a", "2")
    conn.call("INCR", "n")
    conn.call("RPUSH", "l", "x", "y")
    conn.call("RPUSH", "l", "z")
    conn.call("HSET", "h", "f", "v")
    conn.call("SADD", "s", "x")
    conn.call("ZADD", "z", "1", "x")
    conn.call("RENAME", "a", "b")
    conn.call("LMOVE", "l", "l2", "LEFT", "LEFT")
    conn.call("SUNIONSTORE", "su", "s")
    assert events(published) == ["a=new", "n=new", "l=new", "h=new", "s=new", "z=new", "b=new", "l2=new", "su=new"]


def test_keymiss(server, conn, published):
    config(conn, "Em")
    conn.call("SET", "k", "v")
    conn.call("GET", "k")
    conn.call("GET", "nokey")
    conn.call("EXISTS", "nokey")
    conn.call("TYPE", "nokey")
    conn.call("TTL", "nokey")
    conn.call("LRANGE", "nokey", "0", "-1")
    conn.call("OBJECT", "ENCODING", "nokey")  # LOOKUP_NONOTIFY
    conn.call("LPOP", "nokey")  # a write lookup: no keymiss
    conn.call("SET", "k2", "v", "GET")  # SET ... GET reads the old value
    assert events(published) == ["keymiss:" + k for k in ("nokey", "nokey", "nokey", "nokey", "nokey", "k2")]


def test_keymiss_not_in_A(server, conn, published):
    config(conn, "KEA")
    conn.call("GET", "nokey")
    assert published == []


def test_lazy_expiry_then_keymiss(server, conn, published):
    config(conn, "KEAm")
    server.state.active_expire_enabled = False
    conn.call("SET", "k", "v", "PX", "100")
    published.clear()
    server.advance(1)
    assert published == []  # nobody touched it: still there
    assert conn.call("GET", "k") is None
    assert events(published) == ["k=expired", "expired:k", "k=keymiss", "keymiss:k"]


def test_lazy_expiry_on_write(server, conn, published):
    config(conn, "KEA")
    server.state.active_expire_enabled = False
    conn.call("RPUSH", "l", "a")
    conn.call("PEXPIRE", "l", "100")
    published.clear()
    server.advance(1)
    conn.call("RPUSH", "l", "b")
    assert events(published) == ["l=expired", "expired:l", "l=rpush", "rpush:l"]


def test_active_expiry(server, conn, published):
    config(conn, "Ex")
    conn.call("SET", "k", "v", "PX", "100")
    conn.call("HSET", "h", "f", "v")
    conn.call("PEXPIRE", "h", "100")
    assert published == []
    server.advance(1)  # the cron runs and finds both
    assert sorted(events(published)) == ["expired:h", "expired:k"]
    assert conn.call("DBSIZE") == 0


def test_recorder_replacing_the_notifier_gets_no_n_or_m(server, conn):
    """Unit tests of command modules replace the notifier per instance and set notify_flags
    directly: they keep seeing only their own events (no 'new'/'keymiss')."""
    seen = []
    server.state.notify_flags = "KEA"
    server.state.keyspace_notifier = lambda t, ev, key, dbid: seen.append((t, ev, key, dbid))
    conn.call("SET", "k", "v")
    conn.call("GET", "nokey")
    assert seen == [("$", b"set", b"k", 0)]


def test_type_letters_cover_every_class():
    assert set(notify.TYPE_BITS) == set("g$lshzxetmdn")
    for letter, bit in notify.TYPE_BITS.items():
        if letter in "mn":
            assert not bit & NOTIFY_ALL
        else:
            assert bit & NOTIFY_ALL


def test_flags_bits():
    assert notify.flags_bits("") == 0
    assert notify.flags_bits("KEA") == NOTIFY_ALL | NOTIFY_KEYSPACE | NOTIFY_KEYEVENT
    assert notify.flags_bits("bogus") == 0
    f = NotifyFlags(NOTIFY_ALL | NOTIFY_NEW | NOTIFY_KEYSPACE)
    assert f == "AK" and notify.flags_bits(f) == NOTIFY_ALL | NOTIFY_NEW | NOTIFY_KEYSPACE


def test_notify_flags_equality():
    a = NotifyFlags(NOTIFY_ALL | NOTIFY_KEYSPACE)
    b = NotifyFlags(NOTIFY_ALL | NOTIFY_KEYSPACE | NOTIFY_NEW)
    assert str(a) == str(b) == "AK"
    assert a != b
    assert (a == b) is False
    assert a == NotifyFlags(NOTIFY_ALL | NOTIFY_KEYSPACE)
    assert a == "AK" and a != "KA"
    import copy
    import pickle

    assert copy.deepcopy(b).bits == b.bits
    assert pickle.loads(pickle.dumps(b)).bits == b.bits


def test_config_errors_and_normalization(server, conn):
    err = conn.call("CONFIG", "SET", "notify-keyspace-events", "KEq")
    assert isinstance(err, ReplyError)
    assert str(err) == (
        "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - "
        "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
    )
    for given, shown in [
        ("KEA", b"AKE"),
        ("Kg$lshzxetd", b"AK"),
        ("g$lshzxetdn", b"A"),
        ("g$lshzxtn", b"g$lshzxtn"),
        ("mnE", b"nEm"),
        ("xeKE", b"xeKE"),
        ("", b""),
    ]:
        config(conn, given)
        assert conn.call("CONFIG", "GET", "notify-keyspace-events") == [b"notify-keyspace-events", shown]


def test_delivered_through_pubsub(server, conn):
    """The real publish: a PSUBSCRIBE client gets pmessage frames (RESP2) and pushes (RESP3)."""
    sub2 = server.connect()
    sub3 = server.connect()
    sub3.hello3()
    assert sub2.call("PSUBSCRIBE", "__key*__:*") == [b"psubscribe", b"__key*__:*", 1]
    assert sub3.call("PSUBSCRIBE", "__keyevent@0__:del") == [b"psubscribe", b"__keyevent@0__:del", 1]
    config(conn, "KEA")
    conn.call("SET", "k", "v")
    conn.call("DEL", "k")
    assert sub2.replies() == [
        [b"pmessage", b"__key*__:*", b"__keyspace@0__:k", b"set"],
        [b"pmessage", b"__key*__:*", b"__keyevent@0__:set", b"k"],
        [b"pmessage", b"__key*__:*", b"__keyspace@0__:k", b"del"],
        [b"pmessage", b"__key*__:*", b"__keyevent@0__:del", b"k"],
    ]
    assert sub3.transport.value() == (
        b">4\r\n$8\r\npmessage\r\n$18\r\n__keyevent@0__:del\r\n$18\r\n__keyevent@0__:del\r\n$1\r\nk\r\n"
    )


def test_keyevent_bits_alone(server, conn, published):
    config(conn, "E$")
    assert server.state.notify_bits == NOTIFY_KEYEVENT | notify.TYPE_BITS["$"]
    conn.call("APPEND", "k", "x")
    assert published == [(b"__keyevent@0__:append", b"k")]
