"""twistd_redis.glob: the port of Redis 7.0's stringmatchlen.

Every (pattern, string, expected) row below was checked against redis-server 7.0.15 with
``SET string`` + ``KEYS pattern``; the random differential run that found no difference over
thousands of patterns lives in the module's history, these are its edge cases."""

import time

import pytest

from twistd_redis.glob import compile_matcher, stringmatchlen

CASES = [
    # (pattern, string, expected) - each checked against Redis 7.0.15 with KEYS
    (b"h?llo", b"hello", True),
    (b"h?llo", b"hllo", False),
    (b"h*llo", b"hllo", True),
    (b"h*llo", b"heeeello", True),
    (b"h*llo", b"hellox", False),
    (b"h[ae]llo", b"hallo", True),
    (b"h[ae]llo", b"hillo", False),
    (b"h[^e]llo", b"hallo", True),
    (b"h[^e]llo", b"hello", False),
    (b"h[a-b]llo", b"hbllo", True),
    (b"h[a-b]llo", b"hcllo", False),
    (b"[z-a]", b"m", True),
    (b"\\*", b"*", True),
    (b"\\*", b"a", False),
    (b"a\\", b"a\\", True),
    (b"[abc", b"b", True),
    (b"[abc", b"d", False),
    (b"[^", b"x", True),
    (b"[]", b"]", False),
    (b"[]]", b"]", False),
    (b"[\\]]", b"]", True),
    (b"[a-]", b"-", False),
    (b"[a-]", b"a", True),
    (b"[-a]", b"-", True),
    (b"[a-\xff]", b"\xff", True),
    (b"[a-\xff]", b"0", True),
    (b"[a-\xff]", b"\x80", False),
    (b"[a-\xff]", b"b", False),
    (b"*a", b"a", True),
    (b"a*", b"a", True),
    (b"a**", b"a", True),
    (b"a*b*c", b"aXbYc", True),
    (b"a*b*c", b"aXbY", False),
    (b"*?*", b"x", True),
    (b"??", b"x", False),
    (b"[^a-c]*", b"dz", True),
    (b"[^a-c]*", b"bz", False),
    (b"*\\?", b"why?", True),
    (b"*\\?", b"why", False),
    (b"**", b"", False),
    (b"", b"", True),
    (b"", b"a", False),
    (b"a", b"A", False),
]


@pytest.mark.parametrize("pattern,string,expected", CASES)
def test_matches_like_redis(pattern, string, expected):
    assert stringmatchlen(pattern, string) is expected
    assert bool(compile_matcher(pattern)(string)) is expected


def test_star_only_fast_path_matches_everything_but_the_empty_string():
    for pat in (b"*", b"**", b"*****"):
        assert stringmatchlen(pat, b"x")
        assert stringmatchlen(pat, b"\x00\xff*[")
        assert not stringmatchlen(pat, b"")
        assert not compile_matcher(pat)(b"")


def test_plain_pattern_is_equality():
    assert stringmatchlen(b"foo", b"foo")
    assert not stringmatchlen(b"foo", b"foO")
    assert not stringmatchlen(b"foo", b"fooo")
    assert stringmatchlen(b"foo", b"FOO", nocase=True)
    assert compile_matcher(b"foo", nocase=True)(b"fOo")
    assert not compile_matcher(b"foo", nocase=True)(b"fo")


def test_nocase():
    assert stringmatchlen(b"H*O", b"hello", nocase=True)
    assert stringmatchlen(b"[A-C]x", b"bX", nocase=True)
    assert not stringmatchlen(b"[A-C]x", b"bX")
    assert stringmatchlen(b"[Q]", b"q", nocase=True)
    assert not stringmatchlen(b"[Q]", b"q")
    assert stringmatchlen(b"\\Q?", b"qz", nocase=True)
    # only ASCII folds (C tolower in the C locale)
    assert not stringmatchlen(b"\xc9?", b"\xe9a", nocase=True)


def test_nesting_guard_at_1000_stars():
    s = b"x" * 3000
    assert stringmatchlen(b"*?" * 1000, s)  # checked against Redis: matches
    assert not stringmatchlen(b"*?" * 1001, s)  # deeper than 1000: no match, as Redis
    # adjacent stars collapse, so they never nest
    assert stringmatchlen(b"*" * 100000 + b"x", s)


def test_pathological_pattern_is_fast():
    t0 = time.perf_counter()
    assert not stringmatchlen(b"a*" * 30 + b"b", b"a" * 5000)
    assert not stringmatchlen(b"*a*a*a*a*a*a*a*a*a*a*a*a*b", b"a" * 20000)
    assert time.perf_counter() - t0 < 2.0
