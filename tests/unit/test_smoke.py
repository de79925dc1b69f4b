def test_set_get_roundtrip(conn):
    assert conn.call("SET", "k", "v") == b"OK"
    assert conn.call("GET", "k") == b"v"
    assert conn.raw(b"GET k\r\n") == b"$1\r\nv\r\n"


def test_unknown_command_text(conn):
    assert conn.raw(b"foo a b\r\n") == b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
