"""Out-of-band output (pushes, MONITOR lines) is queued per connection and written once at the
end of the reactor turn (ServerState.flush_pending_writes), in order with the connection's own
replies."""

from __future__ import annotations

from tests.unit.harness import encode_request


def test_pushes_of_one_turn_go_out_in_one_write(server):
    sub = server.connect()
    sub.call("SUBSCRIBE", "ch")
    pub = server.connect()
    writes = []
    orig = sub.transport.write
    sub.transport.write = lambda data: (writes.append(data), orig(data))
    # three PUBLISHes read in one turn (a pipeline), then the turn ends
    pub.proto.dataReceived(encode_request("PUBLISH", "ch", "a") * 3)
    assert writes == [] and sub.transport.value() == b""
    server.end_turn()
    assert len(writes) == 1
    assert sub.replies() == [[b"message", b"ch", m] for m in (b"a", b"a", b"a")]


def test_queued_pushes_precede_the_subscribers_own_reply(server):
    sub = server.connect()
    sub.hello3()
    sub.call("SUBSCRIBE", "ch")
    pub = server.connect()
    pub.proto.dataReceived(encode_request("PUBLISH", "ch", "first"))
    # the subscriber's own command is read in the same turn, before the queued push is written
    sub.proto.dataReceived(encode_request("PING"))
    assert sub.replies() == [[b"message", b"ch", b"first"], b"PONG"]
    server.end_turn()
    assert sub.replies() == []  # nothing written twice


def test_killed_connection_drops_its_queued_pushes(server):
    sub = server.connect()
    sub.call("SUBSCRIBE", "ch")
    pub = server.connect()
    pub.proto.dataReceived(encode_request("PUBLISH", "ch", "x"))
    sub.proto.close_now()
    server.end_turn()
    assert sub.transport.value() == b""
