"""Malformed and unusual input: the exact error bytes, and whether the connection is closed."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.compat

PING = b"*1\r\n$4\r\nPING\r\n"

# input that makes Redis reply with a protocol error and close the connection
CLOSING = {
    "invalid_multibulk_length": b"*abc\r\n",
    "multibulk_length_too_big": b"*2147483648\r\n",
    "multibulk_length_plus": b"*+1\r\n",
    "multibulk_length_empty": b"*\r\n",
    "invalid_bulk_length": b"*1\r\n$abc\r\n",
    "negative_bulk_length": b"*1\r\n$-1\r\n",
    "bulk_length_over_proto_max": b"*1\r\n$536870913\r\n",
    "bulk_length_4gb": b"*2\r\n$3\r\nGET\r\n$4294967296\r\n",
    "expected_dollar_colon": b"*1\r\n:1\r\n",
    "expected_dollar_plus": b"*2\r\n$3\r\nGET\r\n+k\r\n",
    "expected_dollar_star": b"*1\r\n*1\r\n",
    "unbalanced_double_quotes": b'SET "k v\r\n',
    "unbalanced_single_quotes": b"SET 'k v\r\n",
    "quote_not_followed_by_space": b'SET "k"v x\r\n',
    "single_quote_not_followed_by_space": b"SET 'k'v x\r\n",
    "too_big_inline_request": b"a" * (70 * 1024),
    "too_big_mbulk_count_string": b"*" + b"1" * (70 * 1024),
    "too_big_bulk_count_string": b"*1\r\n$" + b"1" * (70 * 1024),
    "error_after_good_commands": PING + b"*1\r\n$4\r\nPING\r\n*x\r\n" + PING,
    "inline_then_error": b"PING\r\n*1\r\n$z\r\n",
}

# input that is served normally: (payload, number of replies)
SERVED = {
    "null_multibulk_ignored": (b"*-1\r\n" + PING, 1),
    "null_multibulk_minus_5_ignored": (b"*-5\r\n" + PING, 1),
    "empty_multibulk_ignored": (b"*0\r\n" + PING, 1),
    "empty_inline_lines_ignored": (b"\r\n\r\n\n" + PING, 1),
    "blank_inline_line": (b"   \r\nPING\r\n", 1),
    "inline_ping": (b"PING\r\n", 1),
    "inline_lf_only": (b"PING\nECHO hi\n", 2),
    "inline_case": (b"pInG hello\r\n", 1),
    "inline_with_double_quotes": (b'SET "a key" "a value"\r\nGET "a key"\r\n', 2),
    "inline_with_single_quotes": (b"SET 'k' 'it''s'\r\nSET 'k2' 'x y'\r\nGET k2\r\n", 3),
    "inline_escapes": (b'SET k "\\x41\\x00\\n\\r\\t\\b\\a\\\\\\"z"\r\nGET k\r\nSTRLEN k\r\n', 3),
    "inline_bad_hex_escape": (b'SET k "\\xZZ"\r\nGET k\r\n', 2),
    "inline_single_quote_escape": (b"SET k 'a\\'b'\r\nGET k\r\n", 2),
    "inline_empty_quoted_args": (b'SET "" ""\r\nGET ""\r\nEXISTS ""\r\n', 3),
    "inline_extra_spaces": (b"  SET   k    v  \r\nGET k\r\n", 2),
    "inline_tabs": (b"SET\tk\tv\r\nGET k\r\n", 2),
    "inline_unknown": (b"NOPE a b\r\n", 1),
    "inline_arity": (b"GET\r\n", 1),
    "pipelined_mix": (PING + b"PING\r\n" + b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\nGET a\r\n*0\r\n*-1\r\n"
                      b"INCR a\r\n" + PING, 6),
    "many_pipelined": (PING * 1000, 1000),
    "binary_bulk": (b"*3\r\n$3\r\nSET\r\n$3\r\n\r\n\x00\r\n$4\r\n\xff\r\n\x00\r\n*2\r\n$3\r\nGET\r\n$3\r\n\r\n\x00\r\n", 2),
    "zero_length_bulk": (b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", 1),
    "bulk_length_leading_zero": (b"*2\r\n$4\r\nECHO\r\n$01\r\nx\r\n", 1),
    "multibulk_leading_zero": (b"*01\r\n$4\r\nPING\r\n", 1),
    # Redis does not check the CRLF after a bulk: it skips two bytes, whatever they are
    "bulk_crlf_not_checked": (b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n", 2),
    "big_but_legal_inline": (b"ECHO " + b"x" * 60000 + b"\r\n", 1),
}

SPLIT = {
    "split_every_byte": [bytes([b]) for b in b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nvv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"],
    "split_after_star": [b"*", b"1\r\n$4\r\nPING\r\n"],
    "split_inline": [b"PI", b"NG\r", b"\n"],
    "split_in_crlf": [b"*1\r\n$4\r\nPING\r", b"\n"],
}


@pytest.mark.parametrize("name", CLOSING)
@pytest.mark.parametrize("resp", [2, 3])
def test_protocol_error_closes(differ, name, resp):
    differ.raw(CLOSING[name], resp=resp)


@pytest.mark.parametrize("name", SERVED)
@pytest.mark.parametrize("resp", [2, 3])
def test_served(differ, name, resp):
    payload, replies = SERVED[name]
    differ.raw(payload, replies=replies, resp=resp)


@pytest.mark.parametrize("name", SPLIT)
def test_split_requests(differ, name):
    differ.raw(SPLIT[name], replies=2 if name == "split_every_byte" else 1, pause=0.002)


def test_inline_request_at_limit(differ):
    """Exactly at and just under the 64 KB inline limit, without a newline yet, then completed."""
    differ.raw([b"ECHO " + b"y" * (64 * 1024 - 10), b"\r\n"], replies=1, pause=0.05)
