"""The RDB format layer: primitives, every encoding both ways, LZF, DUMP payloads byte-identical
to a real redis-server 7.0's, whole files both ways, and errors that name their offset."""

from __future__ import annotations

import io
import math
import os
import struct
import subprocess
import tempfile

import pytest

from twistd_redis.datatypes import RedisHash, RedisList, RedisSet, RedisZSet
from twistd_redis.persistence import lzf, rdb
from twistd_redis.persistence.crc64 import crc64
from twistd_redis.persistence.encodings import intset_decode, ziplist_decode, zipmap_decode
from twistd_redis.persistence.listpack import listpack_encode

from tests.helpers_proc import REDIS_SERVER, ServerProcess


def written(fn, *args, compress=True) -> bytes:
    out = io.BytesIO()
    w = rdb.RdbWriter(out, compress)
    fn(w, *args)
    w.flush()
    return out.getvalue()


def H(pairs, ht=False):
    h = RedisHash(pairs)
    h.ht = ht
    return h


def Z(pairs, ht=False):
    z = RedisZSet()
    z.ht = ht
    for m, s in pairs:
        z.add(m, s)
    return z


def S(members, ht=False):
    s = RedisSet(members)
    s.ht = ht
    return s


# ---------------------------------------------------------------- primitives


def test_crc64_known_value():
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    assert crc64(b"56789", crc64(b"1234")) == 0xE9C6D914C4B8D9CA


@pytest.mark.parametrize(
    "n,enc",
    [
        (0, b"\x00"),
        (63, b"\x3f"),
        (64, b"\x40\x40"),
        (16383, b"\x7f\xff"),
        (16384, b"\x80\x00\x00\x40\x00"),
        (2**32 - 1, b"\x80\xff\xff\xff\xff"),
        (2**32, b"\x81\x00\x00\x00\x01\x00\x00\x00\x00"),
    ],
)
def test_lengths(n, enc):
    assert written(rdb.RdbWriter.write_len, n) == enc
    r = rdb.RdbReader(enc)
    assert r.read_len() == n and r.pos == len(enc)


@pytest.mark.parametrize(
    "s,enc",
    [
        (b"0", b"\xc0\x00"),
        (b"-1", b"\xc0\xff"),
        (b"127", b"\xc0\x7f"),
        (b"128", b"\xc1\x80\x00"),
        (b"-32768", b"\xc1\x00\x80"),
        (b"32768", b"\xc2\x00\x80\x00\x00"),
        (b"-2147483648", b"\xc2\x00\x00\x00\x80"),
        (b"2147483648", b"\x0a2147483648"),  # beyond 32 bits: raw
        (b"01", b"\x0201"),  # not canonical: raw
        (b"-0", b"\x02-0"),
        (b"+1", b"\x02+1"),
        (b" 1", b"\x02 1"),
        (b"", b"\x00"),
        (b"hello", b"\x05hello"),
    ],
)
def test_strings_int_encoding(s, enc):
    assert written(rdb.RdbWriter.write_string, s) == enc
    assert rdb.RdbReader(enc).read_string() == s


def test_lzf_only_over_20_bytes_and_with_gain():
    s20 = b"a" * 20
    assert written(rdb.RdbWriter.write_string, s20) == b"\x14" + s20
    s21 = b"a" * 21
    enc = written(rdb.RdbWriter.write_string, s21)
    assert enc[0] == 0xC3 and len(enc) < 22
    assert rdb.RdbReader(enc).read_string() == s21
    assert written(rdb.RdbWriter.write_string, s21, compress=False) == b"\x15" + s21
    rnd = bytes(range(256)) * 1
    assert written(rdb.RdbWriter.write_string, rnd)[:3] == b"\x41\x00" + rnd[:1]  # no gain: raw
    assert lzf.compress(b"abcd") is None
    big = b"abcdefgh" * 10000
    assert rdb.RdbReader(written(rdb.RdbWriter.write_string, big)).read_string() == big


def test_lzf_corrupt_is_rdb_error():
    enc = bytearray(written(rdb.RdbWriter.write_string, b"x" * 100))
    enc[2] = 200  # the uncompressed length no longer matches
    with pytest.raises(rdb.RdbError, match="Invalid LZF compressed string at offset 0"):
        rdb.RdbReader(bytes(enc)).read_string()


@pytest.mark.parametrize("d", [0.0, -0.0, 1.5, -1e300, 5e-324, math.inf, -math.inf])
def test_binary_doubles(d):
    enc = written(rdb.RdbWriter.write_double_binary, d)
    assert enc == struct.pack("<d", d)
    got = rdb.RdbReader(enc).read_double_binary()
    assert got == d and math.copysign(1, got) == math.copysign(1, d)


def test_string_doubles_old_zset():
    r = rdb.RdbReader(b"\xfd\xfe\xff\x031.5")
    assert math.isnan(r.read_double_string())
    assert r.read_double_string() == math.inf
    assert r.read_double_string() == -math.inf
    assert r.read_double_string() == 1.5


def test_times():
    enc = written(rdb.RdbWriter.write_millisecond_time, 1700000000123)
    assert enc == struct.pack("<q", 1700000000123)
    assert rdb.RdbReader(enc).read_millisecond_time() == 1700000000123


def test_d2string_as_redis_70():
    assert rdb.d2string(-0.0) == b"0"
    assert rdb.d2string(3.0) == b"3"
    assert rdb.d2string(0.1) == b"0.10000000000000001"
    assert rdb.d2string(1e20) == b"1e+20"
    assert rdb.d2string(math.inf) == b"inf"


def test_module_type_name():
    # encode "mytype123" the way RedisModule_CreateDataType does, encoding version 5
    cs = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    mid = 0
    for ch in "mytype123":
        mid = (mid << 6) | cs.index(ch)
    mid = (mid << 10) | 5
    assert rdb.module_type_name(mid) == "mytype123"
    body = written(rdb.RdbWriter.write_len, mid)
    with pytest.raises(rdb.RdbError, match="no matching module type 'mytype123' at offset 0"):
        rdb.read_value(rdb.RdbReader(body), rdb.RDB_TYPE_MODULE_2)


# ---------------------------------------------------------------- compact encodings


def _ziplist(entries: list[bytes]) -> bytes:
    """A ziplist of short strings (for decoder tests)."""
    body = b""
    prev = 0
    offs = []
    for e in entries:
        ent = bytes((prev,)) + bytes((len(e),)) + e
        offs.append(10 + len(body))
        body += ent
        prev = len(ent)
    total = 10 + len(body) + 1
    return struct.pack("<IIH", total, offs[-1] if offs else 10, len(entries)) + body + b"\xff"


def test_ziplist_decode_and_checks():
    zl = _ziplist([b"a", b"bb", b"ccc"])
    assert ziplist_decode(zl) == [b"a", b"bb", b"ccc"]
    bad = bytearray(zl)
    bad[8] = 5  # header count
    with pytest.raises(ValueError):
        ziplist_decode(bytes(bad))
    bad = bytearray(zl)
    bad[4] = 0  # tail offset
    with pytest.raises(ValueError):
        ziplist_decode(bytes(bad))
    bad = bytearray(zl)
    bad[13] = 9  # prevlen of entry 2
    with pytest.raises(ValueError):
        ziplist_decode(bytes(bad))
    with pytest.raises(ValueError):
        ziplist_decode(b"xxxxx")


def test_ziplist_integers():
    # entries: int8 -5, immediate 7, int16 1000, int24 -100000, int32, int64
    ents = [b"\xfe" + struct.pack("<b", -5), bytes((0xF1 + 7,)), b"\xc0" + struct.pack("<h", 1000),
            b"\xf0" + (-100000).to_bytes(3, "little", signed=True), b"\xd0" + struct.pack("<i", 2**31 - 1),
            b"\xe0" + struct.pack("<q", -(2**63))]
    body = b""
    prev = 0
    last = 0
    for e in ents:
        last = 10 + len(body)
        body += bytes((prev,)) + e
        prev = 1 + len(e)
    zl = struct.pack("<IIH", 10 + len(body) + 1, last, len(ents)) + body + b"\xff"
    assert ziplist_decode(zl) == [-5, 7, 1000, -100000, 2**31 - 1, -(2**63)]


def test_intset_decode_and_checks():
    assert intset_decode(struct.pack("<II3h", 2, 3, -1, 5, 7)) == [-1, 5, 7]
    for blob in (
        struct.pack("<II3h", 2, 3, 5, 1, 7),  # not ascending
        struct.pack("<II3h", 2, 3, 1, 1, 7),  # duplicate
        struct.pack("<II3h", 3, 3, 1, 2, 7),  # bad width
        struct.pack("<II", 2, 0),  # empty
        struct.pack("<II2h", 2, 3, 1, 2),  # short
    ):
        with pytest.raises(ValueError):
            intset_decode(blob)


def test_zipmap_decode_and_checks():
    zm = b"\x02\x01a\x01\x00x\x02bb\x02\x01yyZ\xff"
    assert zipmap_decode(zm) == [(b"a", b"x"), (b"bb", b"yy")]
    with pytest.raises(ValueError):
        zipmap_decode(b"\x03" + zm[1:])  # count
    with pytest.raises(ValueError):
        zipmap_decode(zm[:-1])


# ---------------------------------------------------------------- values both ways


def roundtrip(value, limits=None):
    enc = written(rdb.write_value, value)
    r = rdb.RdbReader(enc)
    t = r.read_byte()
    got = rdb.read_value(r, t, limits)
    assert r.pos == len(enc)
    return t, got


def test_roundtrip_every_type():
    assert roundtrip(b"12345") == (0, b"12345")
    t, lst = roundtrip(RedisList([b"a", b"1", b"-7", b"x" * 100]))
    assert t == rdb.RDB_TYPE_LIST_QUICKLIST_2 and list(lst) == [b"a", b"1", b"-7", b"x" * 100]
    t, h = roundtrip(H([(b"f", b"1"), (b"g", b"two")]))
    assert t == rdb.RDB_TYPE_HASH_LISTPACK and dict(h) == {b"f": b"1", b"g": b"two"} and not h.ht
    big = H([(b"f%d" % i, b"v" * i) for i in range(200)], ht=True)
    t, h = roundtrip(big)
    assert t == rdb.RDB_TYPE_HASH and dict(h) == dict(big) and h.ht
    t, z = roundtrip(Z([(b"a", 1.0), (b"b", 2.5), (b"c", -math.inf), (b"d", 0.1)]))
    assert t == rdb.RDB_TYPE_ZSET_LISTPACK and not z.ht
    assert list(z) == [(-math.inf, b"c"), (0.1, b"d"), (1.0, b"a"), (2.5, b"b")]
    zb = Z([(b"m%d" % i, i / 7) for i in range(300)], ht=True)
    t, z = roundtrip(zb)
    assert t == rdb.RDB_TYPE_ZSET_2 and z.ht and list(z) == list(zb)
    t, s = roundtrip(S([b"1", b"-5", b"70000", b"5000000000"]))
    assert t == rdb.RDB_TYPE_SET_INTSET and not s.ht and s == {b"1", b"-5", b"70000", b"5000000000"}
    t, s = roundtrip(S([b"x", b"y"], ht=True))
    assert t == rdb.RDB_TYPE_SET and s.ht and s == {b"x", b"y"}


def test_load_conversions_follow_limits():
    # a plain HASH with few small fields becomes listpack; a long value makes it hashtable
    _, h = roundtrip(H([(b"a", b"1")], ht=True))
    assert not h.ht
    _, h = roundtrip(H([(b"a", b"v" * 65)], ht=True))
    assert h.ht
    _, h = roundtrip(H([(b"a", b"1"), (b"b", b"2")]), limits={"hash-max-listpack-entries": 1})
    assert h.ht
    # a listpack hash over the count limit turns hashtable; over the value limit it does not
    _, h = roundtrip(H([(b"a", b"v" * 100)]))
    assert not h.ht
    # sets: intset only when every member is an integer and they are few
    _, s = roundtrip(S([b"1", b"2"], ht=True))
    assert not s.ht
    _, s = roundtrip(S([b"1", b"a"], ht=True))
    assert s.ht
    _, s = roundtrip(S([b"1", b"2", b"3"]), limits={"set-max-intset-entries": 2})
    assert s.ht
    _, z = roundtrip(Z([(b"a", 1.0)], ht=True))
    assert not z.ht
    _, z = roundtrip(Z([(b"a" * 65, 1.0)], ht=True))
    assert z.ht


def test_quicklist_nodes_split_at_8kb():
    items = [b"%05d" % i + b"x" * 100 for i in range(300)]
    enc = written(rdb.write_value, RedisList(items))
    r = rdb.RdbReader(enc)
    assert r.read_byte() == rdb.RDB_TYPE_LIST_QUICKLIST_2
    nodes = r.read_len()
    assert nodes == 4  # 8 KB listpacks of 108-byte entries: 75 a node (the real layout: test_dump_identical)
    r.pos = 0
    _, got = roundtrip(RedisList(items))
    assert list(got) == items


def test_empty_collections_are_empty_key():
    for t, body in (
        (rdb.RDB_TYPE_LIST, b"\x00"),
        (rdb.RDB_TYPE_SET, b"\x00"),
        (rdb.RDB_TYPE_HASH, b"\x00"),
        (rdb.RDB_TYPE_ZSET_2, b"\x00"),
        (rdb.RDB_TYPE_HASH_LISTPACK, b"\x07" + listpack_encode([])),
        (rdb.RDB_TYPE_ZSET_LISTPACK, b"\x07" + listpack_encode([])),
    ):
        assert rdb.read_value(rdb.RdbReader(body), t) is rdb.EMPTY_KEY


def test_duplicates_and_nan_refused():
    with pytest.raises(rdb.RdbError, match="Duplicate set members"):
        rdb.read_value(rdb.RdbReader(b"\x02\x01a\x01a"), rdb.RDB_TYPE_SET)
    with pytest.raises(rdb.RdbError, match="Zset with NAN score detected"):
        rdb.read_value(rdb.RdbReader(b"\x01\x01a" + struct.pack("<d", math.nan)), rdb.RDB_TYPE_ZSET_2)
    lp = listpack_encode([b"f", b"1", b"f", b"2"])
    with pytest.raises(rdb.RdbError, match="Hash listpack integrity check failed"):
        rdb.read_value(rdb.RdbReader(bytes((len(lp),)) + lp), rdb.RDB_TYPE_HASH_LISTPACK)


def test_quicklist2_plain_node():
    lp = listpack_encode([b"a", 1])
    body = b"\x02" + b"\x01\x05hello" + b"\x02" + bytes((len(lp),)) + lp
    got = rdb.read_value(rdb.RdbReader(body), rdb.RDB_TYPE_LIST_QUICKLIST_2)
    assert list(got) == [b"hello", b"a", b"1"]
    with pytest.raises(rdb.RdbError, match="Quicklist integrity check failed. at offset 1"):
        rdb.read_value(rdb.RdbReader(b"\x01\x03\x01a"), rdb.RDB_TYPE_LIST_QUICKLIST_2)


# ---------------------------------------------------------------- whole files


def sample_dbs():
    return [
        (0, {b"s": b"v", b"n": b"42", b"l": RedisList([b"a", b"b"]), b"h": H([(b"f", b"v")])}, {b"s": 1700000000000}),
        (1, {}, {}),
        (5, {b"z": Z([(b"m", 1.5)]), b"set": S([b"1", b"2"])}, {}),
    ]


def saved(dbs=None, **kw) -> bytes:
    out = io.BytesIO()
    rdb.save(out, sample_dbs() if dbs is None else dbs, [(b"redis-ver", b"7.0.15"), (b"redis-bits", 64)], **kw)
    return out.getvalue()


def test_save_load_roundtrip():
    data = saved()
    assert data.startswith(b"REDIS0010\xfa\x09redis-ver\x067.0.15\xfa\x0aredis-bits\xc0\x40\xfe\x00\xfb\x04\x01")
    assert struct.unpack("<Q", data[-8:])[0] == crc64(data[:-8])
    evs = list(rdb.load(data))
    assert evs[0] == ("aux", b"redis-ver", b"7.0.15")
    assert evs[1] == ("aux", b"redis-bits", b"64")
    assert evs[2] == ("db", 0, 4, 1)
    keys = {(e[1], e[2]): e for e in evs if e[0] == "key"}
    assert keys[(0, b"s")][3:] == (b"v", 1700000000000, None, None)
    assert keys[(0, b"n")][3] == b"42"
    assert list(keys[(0, b"l")][3]) == [b"a", b"b"]
    assert ("db", 1, 0, 0) not in evs  # empty databases are not written
    assert ("db", 5, 2, 0) in evs
    assert evs[-1] == ("end", len(data))


def test_checksum_off_writes_zeros_and_zero_is_not_checked():
    data = saved(checksum=False)
    assert data[-8:] == b"\x00" * 8
    assert list(rdb.load(data))[-1] == ("end", len(data))


def test_wrong_checksum():
    data = bytearray(saved())
    data[-1] ^= 0xFF
    with pytest.raises(rdb.RdbError, match=r"Wrong RDB checksum expected: \([0-9a-f]+\) but got \([0-9a-f]+\) at offset %d" % (len(data) - 8)):
        list(rdb.load(bytes(data)))
    assert list(rdb.load(bytes(data), checksum=False))[-1][0] == "end"


def test_bad_signature_and_version():
    with pytest.raises(rdb.RdbError, match="Wrong signature trying to load DB from file at offset 0"):
        list(rdb.load(b"RODIS0010\xff" + b"\x00" * 8))
    with pytest.raises(rdb.RdbError, match="Can't handle RDB format version 12 at offset 0"):
        list(rdb.load(b"REDIS0012\xff" + b"\x00" * 8))
    with pytest.raises(rdb.RdbError, match="Can't handle RDB format version 0"):
        list(rdb.load(b"REDIS0000\xff"))


def test_unknown_type_and_module_aux():
    with pytest.raises(rdb.RdbError, match="Unknown RDB encoding type 8 at offset 9"):
        list(rdb.load(b"REDIS0010\x08\x01k\x00"))
    with pytest.raises(rdb.RdbError, match="AUX module data I can't load: no matching module 'AAAAAAAAB' at offset 9"):
        list(rdb.load(b"REDIS0010\xf7\x80\x00\x00\x04\x00\x02\x02"))


def test_functions_expiretime_idle_freq():
    code = b"#!lua name=lib\nredis.register_function('f', function() return 1 end)"
    out = io.BytesIO()
    rdb.save(out, [(0, {b"k": b"v"}, {})], functions=[code])
    evs = list(rdb.load(out.getvalue()))
    assert ("function", code) in evs
    # EXPIRETIME (seconds) + IDLE + FREQ before a key, RDB version 7 (no RESIZEDB)
    body = b"REDIS0007\xfe\x00\xfd" + struct.pack("<i", 1000) + b"\xf8\x05\xf9\x07\x00\x01k\x01v\xff"
    body += struct.pack("<Q", crc64(body))
    evs = list(rdb.load(body))
    assert evs[0] == ("db", 0, None, None)
    assert evs[1] == ("key", 0, b"k", b"v", 1000000, 5, 7)


def test_truncation_at_every_offset_is_rdb_error():
    data = saved()
    for n in range(len(data)):
        with pytest.raises(rdb.RdbError):
            list(rdb.load(data[:n]))


def test_corruption_at_every_byte_never_another_exception():
    data = saved(checksum=False)
    for i in range(9, len(data) - 9):
        bad = bytearray(data)
        bad[i] ^= 0x5A
        try:
            list(rdb.load(bytes(bad)))
        except rdb.RdbError:
            pass


def test_dump_restore_payload():
    for v in (b"hello", RedisList([b"a"]), H([(b"a", b"b")]), Z([(b"a", 2.0)]), S([b"7"])):
        p = rdb.dump_payload(v)
        assert p[-10:-8] == b"\x0a\x00"
        got = rdb.restore_payload(p)
        assert type(got) is type(v)
    p = bytearray(rdb.dump_payload(b"hello"))
    p[-1] ^= 1
    with pytest.raises(rdb.RdbError, match="^DUMP payload version or checksum are wrong$"):
        rdb.restore_payload(bytes(p))
    with pytest.raises(rdb.RdbError, match="^DUMP payload version or checksum are wrong$"):
        rdb.restore_payload(b"\x00\x01a\x0b\x00" + b"\x00" * 8)  # version 11 > 10
    body = b"\x02\x00\x0a\x00"  # an empty set
    with pytest.raises(rdb.RdbError, match="^Bad data format$"):
        rdb.restore_payload(body + struct.pack("<Q", crc64(body)))


# ---------------------------------------------------------------- against a real redis-server

needs_redis = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")


@pytest.fixture(scope="module")
def real():
    redis = pytest.importorskip("redis")
    with tempfile.TemporaryDirectory() as d:
        with ServerProcess.real(None, "--dir", d, cwd=d) as srv:
            c = redis.Redis(port=srv.port)
            c.flushall()
            yield c, d, srv.port


def _same_values():
    """(name, commands building it on redis-server, our value)."""
    long_list = [b"%05d" % i + b"x" * (i % 150) for i in range(700)]
    return [
        ("str", [("SET", "k", "hello")], b"hello"),
        ("int", [("SET", "k", "12345")], b"12345"),
        ("bigint", [("SET", "k", "-98765432101")], b"-98765432101"),
        ("long", [("SET", "k", "abcdefgh" * 20)], b"abcdefgh" * 20),
        ("bin", [("SET", "k", b"\x00\x01\xff")], b"\x00\x01\xff"),
        ("list", [("RPUSH", "k", "a", "1", "-5", "x" * 80, "100000", "9999999999")],
         RedisList([b"a", b"1", b"-5", b"x" * 80, b"100000", b"9999999999"])),
        ("biglist", [("RPUSH", "k", *long_list)], RedisList(long_list)),
        ("hash", [("HSET", "k", "a", "1", "b", "two", "c", "x" * 40)], H([(b"a", b"1"), (b"b", b"two"), (b"c", b"x" * 40)])),
        ("zset", [("ZADD", "k", "-0", "a", "0.1", "b", "1.5", "c", "3", "d", "1e20", "e", "-inf", "f")],
         Z([(b"a", -0.0), (b"b", 0.1), (b"c", 1.5), (b"d", 3.0), (b"e", 1e20), (b"f", -math.inf)])),
        ("intset", [("SADD", "k", "3", "1", "2")], S([b"1", b"2", b"3"])),
        ("intset32", [("SADD", "k", "3", "70000", "-2")], S([b"3", b"70000", b"-2"])),
        ("intset64", [("SADD", "k", "3", "7000000000")], S([b"3", b"7000000000"])),
        ("sethash", [("SADD", "k", "x")], S([b"x"], ht=True)),
        ("zsetskip", [("ZADD", "k", "1", "a" * 70)], Z([(b"a" * 70, 1.0)], ht=True)),
        ("hashht", [("HSET", "k", "f", "v" * 70)], H([(b"f", b"v" * 70)], ht=True)),
    ]


@needs_redis
@pytest.mark.parametrize("name,cmds,value", _same_values(), ids=[v[0] for v in _same_values()])
def test_dump_identical_to_redis(real, name, cmds, value):
    c, _, _ = real
    c.delete("k")
    for cmd in cmds:
        c.execute_command(*cmd)
    theirs = c.dump("k")
    assert rdb.dump_payload(value) == theirs
    got = rdb.restore_payload(theirs)
    assert type(got) is type(value)
    c.delete("k2")
    c.restore("k2", 0, rdb.dump_payload(value))
    assert c.dump("k2") == theirs


@needs_redis
def test_real_save_loads_here_and_our_save_loads_there(real, tmp_path):
    from tests.dataset import capture, fill

    c, d, _ = real
    c.flushall()
    fill(c, large=True, streams=True)
    want = capture(c)
    c.save()
    with open(os.path.join(d, "dump.rdb"), "rb") as f:
        data = f.read()
    dbs: dict = {}
    for ev in rdb.load(data):
        if ev[0] == "key":
            data_, exp = dbs.setdefault(ev[1], ({}, {}))
            data_[ev[2]] = ev[3]
            if ev[4] is not None:
                exp[ev[2]] = ev[4]
    # write it back with our save() and let a fresh redis-server load it
    path = tmp_path / "dump.rdb"
    with open(path, "wb") as f:
        rdb.save(f, [(i, v[0], v[1]) for i, v in sorted(dbs.items())], [(b"redis-ver", b"7.0.15")])
    check = subprocess.run(["redis-check-rdb", str(path)], capture_output=True, text=True, timeout=60)
    assert "RDB looks OK!" in check.stdout, check.stdout
    redis = pytest.importorskip("redis")
    with ServerProcess.real(None, "--dir", str(tmp_path), "--dbfilename", "dump.rdb", cwd=str(tmp_path)) as srv:
        other = redis.Redis(port=srv.port)
        assert capture(other) == want
