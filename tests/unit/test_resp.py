"""resp.py: the exact request parser, the hiredis fast path and the reply encoders."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twistd_redis.errors import ProtocolError, RedisError
from twistd_redis.resp import (
    NULL_ARRAY,
    OK,
    EntryList,
    FastParser,
    MapPairs,
    Push,
    Raw,
    RequestParser,
    RespSet,
    SimpleString,
    Verbatim,
    encode2,
    encode3,
    split_args,
)


def test_map_pairs_may_repeat_a_key():
    v = MapPairs([(b"k", 1), (b"k", [b"x"])])
    assert encode3(v) == b"%2\r\n$1\r\nk\r\n:1\r\n$1\r\nk\r\n*1\r\n$1\r\nx\r\n"
    assert encode2(v) == b"*4\r\n$1\r\nk\r\n:1\r\n$1\r\nk\r\n*1\r\n$1\r\nx\r\n"
    assert encode3(MapPairs()) == b"%0\r\n" and encode2(MapPairs()) == b"*0\r\n"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.binary(min_size=1, max_size=24),
            st.one_of(st.none(), st.lists(st.binary(max_size=5000), max_size=6)),
        ),
        max_size=5,
    )
)
def test_entry_list_encodes_as_nested_lists(entries):
    """EntryList's one-join encoder gives the bytes the generic encoder gives for the same
    nested lists, in both protocols, including the fallbacks (a null, a 4 KB+ element)."""
    nested = [[sid, NULL_ARRAY if fv is None else fv] for sid, fv in entries]
    fast = EntryList([[sid, NULL_ARRAY if fv is None else fv] for sid, fv in entries])
    assert encode2(fast) == encode2(nested)
    assert encode3(fast) == encode3(nested)


def mb(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def parse_all(data: bytes, chunks: list[int] | None = None) -> list:
    """Run the exact parser over data fed in pieces; return requests (and a trailing error)."""
    p = RequestParser()
    out: list = []
    pieces = [data] if chunks is None else [data[i:j] for i, j in zip([0] + chunks, chunks + [len(data)])]
    for piece in pieces:
        p.feed(piece)
        while True:
            try:
                r = p.next_request()
            except ProtocolError as e:
                out.append(e.message)
                return out
            if r is None:
                break
            if r:
                out.append(r)
    return out


STREAM = (
    mb(b"SET", b"key", b"va\r\nlue")
    + b"GET key\r\n"
    + mb(b"ECHO", b"")
    + b"  set \"a b\" 'c d' \"\\x41\\n\"\r\n"
    + b"\r\n"
    + mb(b"PING")
    + b"*0\r\n*-1\r\n"
    + mb(b"MSET", b"k1", b"v" * 300, b"k2", b"\x00\xff")
)
EXPECTED = [
    [b"SET", b"key", b"va\r\nlue"],
    [b"GET", b"key"],
    [b"ECHO", b""],
    [b"set", b"a b", b"c d", b"A\n"],
    [b"PING"],
    [b"MSET", b"k1", b"v" * 300, b"k2", b"\x00\xff"],
]


def test_stream_parses_whole():
    assert parse_all(STREAM) == EXPECTED


def test_every_split_offset_parses_the_same():
    for i in range(1, len(STREAM)):
        assert parse_all(STREAM, [i]) == EXPECTED, i


def test_byte_at_a_time():
    assert parse_all(STREAM, list(range(1, len(STREAM)))) == EXPECTED


@pytest.mark.parametrize(
    "data, error",
    [
        (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"*3000000000\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"*1\r\n+PING\r\n", "ERR Protocol error: expected '$', got '+'"),
        (b"*1\r\n:1\r\n", "ERR Protocol error: expected '$', got ':'"),
        (b"*2\r\n$3\r\nGET\r\n*1\r\n", "ERR Protocol error: expected '$', got '*'"),
        (b"*1\r\n$99999999999\r\n", "ERR Protocol error: invalid bulk length"),
        (b"*1\r\n$4294967296\r\n", "ERR Protocol error: invalid bulk length"),
        (b"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"),
        (b"*1\r\n$ab\r\n", "ERR Protocol error: invalid bulk length"),
        (b'PING "a\r\n', "ERR Protocol error: unbalanced quotes in request"),
        (b"SET 'a'b\r\n", "ERR Protocol error: unbalanced quotes in request"),
        (b"x" * (64 * 1024 + 1), "ERR Protocol error: too big inline request"),
        (b"*" + b"1" * (64 * 1024 + 1), "ERR Protocol error: too big mbulk count string"),
        (b"*1\r\n$" + b"1" * (64 * 1024 + 1), "ERR Protocol error: too big bulk count string"),
    ],
)
def test_protocol_errors_have_redis_texts(data, error):
    assert parse_all(data) == [error]


def test_bytes_after_bulk_are_skipped_unchecked():
    # Redis reads the declared length and skips two bytes without looking at them.
    assert parse_all(b"*1\r\n$4\r\nPINGxx\r\n") == [[b"PING"]]


def test_huge_bulk_header_allocates_nothing():
    p = RequestParser(max_bulk_len=4 * 1024**3)
    p.feed(b"*1\r\n$4000000000\r\n" + b"x" * 10)
    assert p.next_request() is None
    assert p.pending() < 100  # waits for data; nothing preallocated


def test_unauthenticated_limits():
    p = RequestParser()
    p.unauth = True
    p.feed(b"*11\r\n")
    with pytest.raises(ProtocolError, match="unauthenticated multibulk length"):
        p.next_request()
    p = RequestParser()
    p.unauth = True
    p.feed(b"*1\r\n$16385\r\n")
    with pytest.raises(ProtocolError, match="unauthenticated bulk length"):
        p.next_request()


def test_split_args_like_sdssplitargs():
    assert split_args(b'set "a\\tb" \'it\\\'s\' "\\x4a\\x4B" \\x41') == [b"set", b"a\tb", b"it's", b"JK", b"\\x41"]
    assert split_args(b"  ") == []
    assert split_args(b'"unterminated') is None
    assert split_args(b'"a"b') is None
    assert split_args(b"a\0b c") == [b"a"]  # C string: a NUL ends the line


# ---------------------------------------------------------------- the fast path


def test_fast_path_whole_requests():
    data = mb(b"SET", b"a", b"b") + mb(b"GET", b"a")
    assert FastParser().parse(data) == ([[b"SET", b"a", b"b"], [b"GET", b"a"]], len(data))


def test_fast_path_reports_partial_tail():
    whole = mb(b"GET", b"a")
    data = whole + mb(b"SET", b"k", b"v")[:9]
    reqs, consumed = FastParser().parse(data)
    assert reqs == [[b"GET", b"a"]] and consumed == len(whole)


@pytest.mark.parametrize(
    "data",
    [
        b"*1\r\n+PING\r\n",
        b"*1\r\n:1\r\n",
        b"*1\r\n*1\r\n$1\r\na\r\n",  # nested array with one bulk: same '$' count as a flat one
        b"*2\r\n%1\r\n$1\r\na\r\n$1\r\nb\r\n+x\r\n",
        b"*1\r\n$1\r\n*\r\n+$\r\n",  # a '$' and a '*' in values balancing a status request
        mb(b"PING") + b"PING\r\n",  # inline after multibulk
        b"PING\r\n",
        b"*1\r\n$4\r\nPINGxx\r\n",
    ],
)
def test_fast_path_declines_what_redis_rejects_or_it_cannot_check(data):
    assert FastParser().parse(data) is None


_arg = st.binary(max_size=12)
_req = st.lists(_arg, min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(st.lists(_req, min_size=1, max_size=6), st.data())
def test_fast_path_agrees_with_exact_parser(reqs, data):
    stream = b"".join(mb(*r) for r in reqs)
    cut = data.draw(st.integers(min_value=1, max_value=len(stream)))
    chunk = stream[:cut]
    r = FastParser().parse(chunk)
    exact = parse_all(chunk)
    if r is not None:
        got, consumed = r
        assert got == exact
        # nothing is lost: the unconsumed tail plus the rest of the stream is exactly the rest
        assert parse_all(chunk[consumed:] + stream[cut:]) == reqs[len(got) :]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_fast_path_never_accepts_what_the_exact_parser_rejects(junk):
    data = b"*" + junk
    r = FastParser().parse(data)
    if r is not None:
        reqs, consumed = r
        exact = parse_all(data[:consumed])
        assert exact == [x for x in reqs if x]


# ---------------------------------------------------------------- encoders


@pytest.mark.parametrize(
    "value, resp2, resp3",
    [
        (b"abc", b"$3\r\nabc\r\n", b"$3\r\nabc\r\n"),
        (b"x" * 5000, b"$5000\r\n" + b"x" * 5000 + b"\r\n", b"$5000\r\n" + b"x" * 5000 + b"\r\n"),
        (bytearray(b"ab"), b"$2\r\nab\r\n", b"$2\r\nab\r\n"),
        (None, b"$-1\r\n", b"_\r\n"),
        (NULL_ARRAY, b"*-1\r\n", b"_\r\n"),
        (0, b":0\r\n", b":0\r\n"),
        (-5, b":-5\r\n", b":-5\r\n"),
        (2**63 - 1, b":9223372036854775807\r\n", b":9223372036854775807\r\n"),
        (OK, b"+OK\r\n", b"+OK\r\n"),
        (SimpleString(b"QUEUED"), b"+QUEUED\r\n", b"+QUEUED\r\n"),
        (RedisError("ERR bad\r\nthing"), b"-ERR bad  thing\r\n", b"-ERR bad  thing\r\n"),
        (1.5, b"$3\r\n1.5\r\n", b",1.5\r\n"),
        (0.1, b"$19\r\n0.10000000000000001\r\n", b",0.10000000000000001\r\n"),
        (float("inf"), b"$3\r\ninf\r\n", b",inf\r\n"),
        (float("-inf"), b"$4\r\n-inf\r\n", b",-inf\r\n"),
        (True, b":1\r\n", b"#t\r\n"),
        (False, b":0\r\n", b"#f\r\n"),
        ([b"a", 1, None], b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n", b"*3\r\n$1\r\na\r\n:1\r\n_\r\n"),
        ({b"k": 1}, b"*2\r\n$1\r\nk\r\n:1\r\n", b"%1\r\n$1\r\nk\r\n:1\r\n"),
        (RespSet([b"a"]), b"*1\r\n$1\r\na\r\n", b"~1\r\n$1\r\na\r\n"),
        (Push([b"message"]), b"*1\r\n$7\r\nmessage\r\n", b">1\r\n$7\r\nmessage\r\n"),
        (Verbatim(b"hi"), b"$2\r\nhi\r\n", b"=6\r\ntxt:hi\r\n"),
        (Raw(b"+X\r\n"), b"+X\r\n", b"+X\r\n"),
        ([], b"*0\r\n", b"*0\r\n"),
    ],
)
def test_encoders(value, resp2, resp3):
    assert encode2(value) == resp2
    assert encode3(value) == resp3


def test_encoders_refuse_unknown_types():
    with pytest.raises(TypeError):
        encode2(object())
    with pytest.raises(TypeError):
        encode3(object())


@pytest.mark.parametrize("header", [b"*2147483648\r\n", b"*2000000000\r\n", b"*1\r\n*100000000\r\n", b"*999999\r\n"])
def test_fast_path_never_sees_huge_array_counts(header):
    # hiredis would allocate the whole list on reading the header
    assert FastParser().parse(header) is None


def test_huge_multibulk_count_over_int_max_is_an_error_and_under_it_waits():
    assert parse_all(b"*2147483648\r\n") == ["ERR Protocol error: invalid multibulk length"]
    p = RequestParser()
    p.feed(b"*2000000000\r\n")
    assert p.next_request() is None and p.argv == []
