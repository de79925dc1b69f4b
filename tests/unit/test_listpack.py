"""Listpacks (persistence/listpack.py): every encoding boundary round-trips, the encoder picks
Redis's smallest encodings (byte identity with listpacks captured from redis-server 7.0.15 DUMP
output), and corrupt listpacks are rejected as lpValidateIntegrity rejects them."""

import base64
import struct
import zlib

import pytest

from twistd_redis.persistence.listpack import (
    listpack_decode,
    listpack_encode,
    listpack_validate,
    lp_string_to_int64,
)

# DUMP "h" from redis-server 7.0.15 (rdbcompression no), a listpack hash of fN -> VALUES[N]
VALUES = [
    b"0",
    b"1",
    b"127",
    b"128",
    b"-1",
    b"-4096",
    b"4095",
    b"4096",
    b"-4097",
    b"32767",
    b"-32768",
    b"32768",
    b"8388607",
    b"-8388608",
    b"8388608",
    b"2147483647",
    b"-2147483648",
    b"2147483648",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"9223372036854775808",
    b"-0",
    b"01",
    b"+1",
    b" 1",
    b"",
    b"a",
    b"x" * 63,
    b"y" * 64,
    b"z" * 4095,
    b"w" * 4096,
    b"1.5",
    b"-",
    b"00",
]
HASH_DUMP = zlib.decompress(
    base64.b64decode(
        "eNrtzjtOw0AQBuBJdiigSsEBQo2C9mF77S5CHIQ0vgKPxpu1OAEdR6DkAkCLIsEN4AYhj36ZDUdIF/2f5P3/2ZFW"
        "Hs0WizOiK4qtVjSIrVEDOa3q5HTqLQxjW6jvJFGqL5Ko1GeevFrRSMW2Vqu0lGwkO9W3RvOKQi6G1xSIpVlep9Tl"
        "5uSOQm4Fb6TRkdSSN0n2uVb5lkKunre5ykfHMta8Tf+6PDa7bRZktJofG2ud81a7qi4L78ta16eyMRwnWn7HWo7a"
        "5OI4nu9KwXG8KyWHgUTF89lQ0vPr7X6m8krNP9O7PV3KOw0v0z0AAAAAAAAAHLrxvG+d5l8aEd0AAAAAAAAAwMEb"
        "P/StM9ybi5KlWZ5PhpKOo9YqndCzf7q2Lx/vfyVRuOw="
    )
)
# DUMP of ZADD z 1.5 a -3 b 1e100 c 0 d 4096 e -0.0001 f (scores stored as d2string text)
ZSET_DUMP = bytes.fromhex(
    "1138380000000c00816202dffd02816602872d302e3030303108816402000181610283312e3504816502f100"
    "10038163028631652b31303007ff0a00fe27743024bcbdd2"
)


def _hash_listpack():
    assert HASH_DUMP[0] == 16  # RDB_TYPE_HASH_LISTPACK
    assert HASH_DUMP[1] >> 6 == 1  # 14-bit length
    n = ((HASH_DUMP[1] & 0x3F) << 8) | HASH_DUMP[2]
    return HASH_DUMP[3 : 3 + n]


def test_hash_dump_decodes_and_reencodes_byte_identical():
    lp = _hash_listpack()
    items = listpack_decode(lp)
    expected = []
    for i, v in enumerate(VALUES):
        iv = lp_string_to_int64(v)
        expected += [b"f%d" % i, iv if iv is not None else v]
    assert items == expected
    assert listpack_encode(items) == lp
    # encoding the original strings gives the same bytes (integer strings become integers)
    flat = []
    for i, v in enumerate(VALUES):
        flat += [b"f%d" % i, v]
    assert listpack_encode(flat) == lp
    assert listpack_validate(lp) == 2 * len(VALUES)


def test_zset_dump_byte_identical():
    assert ZSET_DUMP[0] == 17
    n = ZSET_DUMP[1]
    lp = ZSET_DUMP[2 : 2 + n]
    items = listpack_decode(lp)
    assert items == [b"b", -3, b"f", b"-0.0001", b"d", 0, b"a", b"1.5", b"e", 4096, b"c", b"1e+100"]
    assert (
        listpack_encode([b"b", b"-3", b"f", b"-0.0001", b"d", b"0", b"a", b"1.5", b"e", b"4096", b"c", b"1e+100"]) == lp
    )


@pytest.mark.parametrize(
    "v,first,size",
    [
        (0, 0x00, 1),
        (127, 0x7F, 1),
        (128, 0xC0, 2),
        (-1, 0xDF, 2),
        (-4096, 0xD0, 2),
        (4095, 0xCF, 2),
        (4096, 0xF1, 3),
        (-4097, 0xF1, 3),
        (32767, 0xF1, 3),
        (-32768, 0xF1, 3),
        (32768, 0xF2, 4),
        (-32769, 0xF2, 4),
        (8388607, 0xF2, 4),
        (-8388608, 0xF2, 4),
        (8388608, 0xF3, 5),
        (-8388609, 0xF3, 5),
        (2**31 - 1, 0xF3, 5),
        (-(2**31), 0xF3, 5),
        (2**31, 0xF4, 9),
        (-(2**31) - 1, 0xF4, 9),
        (2**63 - 1, 0xF4, 9),
        (-(2**63), 0xF4, 9),
    ],
)
def test_integer_encoding_boundaries(v, first, size):
    lp = listpack_encode([v])
    assert lp[6] == first
    assert len(lp) == 6 + size + 1 + 1  # header + entry + 1-byte backlen + EOF
    assert listpack_decode(lp) == [v]
    assert listpack_encode([str(v).encode()]) == lp


def test_integer_out_of_range():
    with pytest.raises(OverflowError):
        listpack_encode([2**63])
    # as a string it is simply a string
    assert listpack_decode(listpack_encode([b"9223372036854775808"])) == [b"9223372036854775808"]


@pytest.mark.parametrize(
    "n,first,hdr,bl",
    [
        (0, 0x80, 1, 1),
        (63, 0xBF, 1, 1),
        (64, 0xE0, 2, 1),
        (125, 0xE0, 2, 1),
        (126, 0xE0, 2, 2),
        (4095, 0xEF, 2, 2),
        (4096, 0xF0, 5, 2),
        (16377, 0xF0, 5, 2),
        (16378, 0xF0, 5, 3),
        (70000, 0xF0, 5, 3),
    ],
)
def test_string_encoding_boundaries(n, first, hdr, bl):
    s = b"s" * n
    lp = listpack_encode([s, b"after"])
    assert lp[6] == first
    assert lp[6 + hdr + n + bl] == 0x85  # the next entry starts right after the back-length
    assert listpack_decode(lp) == [s, b"after"]
    assert struct.unpack_from("<IH", lp) == (len(lp), 2)


@pytest.mark.parametrize(
    "s,v",
    [
        (b"0", 0),
        (b"-0", None),
        (b"00", None),
        (b"01", None),
        (b"+1", None),
        (b" 1", None),
        (b"1 ", None),
        (b"", None),
        (b"-", None),
        (b"1.0", None),
        (b"1e3", None),
        (b"-9223372036854775808", -(2**63)),
        (b"-9223372036854775809", None),
        (b"9223372036854775807", 2**63 - 1),
        (b"9223372036854775808", None),
        (b"00000000000000000001", None),
        (b"1_000", None),
        (b"\xd9\xa1", None),
    ],
)
def test_string_to_int64(s, v):
    assert lp_string_to_int64(s) == v


def test_empty_and_many_entries():
    assert listpack_encode([]) == b"\x07\x00\x00\x00\x00\x00\xff"
    assert listpack_decode(b"\x07\x00\x00\x00\x00\x00\xff") == []
    items = list(range(70000))
    lp = listpack_encode(items)
    assert struct.unpack_from("<H", lp, 4)[0] == 65535  # count unknown past 65534
    assert listpack_decode(lp) == items
    assert listpack_validate(lp) == 70000


def test_bools_are_not_ints_and_bytearray_ok():
    assert listpack_decode(listpack_encode([bytearray(b"12"), memoryview(b"ab")])) == [12, b"ab"]


GOOD = listpack_encode([b"hello", 5, b"x" * 200, -70000])


@pytest.mark.parametrize(
    "name,buf",
    [
        ("too short", b"\x06\x00\x00\x00\x00\x00"),
        ("total bytes", b"\x08" + GOOD[1:]),
        ("truncated", GOOD[:-1]),
        ("no terminator", GOOD[:-1] + b"\xfe"),
        ("count", GOOD[:4] + b"\x05\x00" + GOOD[6:]),
        ("count low", GOOD[:4] + b"\x03\x00" + GOOD[6:]),
        ("backlen", GOOD[:12] + b"\x07" + GOOD[13:]),
        ("bad encoding", GOOD[:6] + b"\xf5" + GOOD[7:]),
        ("string past end", struct.pack("<IH", 10, 1) + b"\x8a\x0b\xff"),
        ("int past end", struct.pack("<IH", 9, 1) + b"\xf4\x00\xff"),
    ],
)
def test_corrupt_rejected(name, buf):
    with pytest.raises(ValueError):
        listpack_validate(buf)
    with pytest.raises(ValueError):
        listpack_decode(buf)


def test_good_validates():
    assert listpack_validate(GOOD) == 4
    assert listpack_decode(GOOD) == [b"hello", 5, b"x" * 200, -70000]
