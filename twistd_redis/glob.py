"""Glob-style matching of bytes: a port of Redis 7.0's ``stringmatchlen`` (util.c).

Used by KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET, HSCAN/SSCAN/ZSCAN, ... Semantics follow the C
code exactly, quirks included:

* ``*`` any run (adjacent stars collapse), ``?`` one byte, ``[abc]`` / ``[^abc]`` a class with
  ``a-z`` ranges (reversed ranges are swapped; bytes >= 0x80 order as *signed* chars, as
  ``int start = pattern[0]`` does on x86), ``\\x`` escapes ``x`` (also inside a class); an
  unterminated class ends at the end of the pattern; a trailing lone ``\\`` matches ``\\``.
* ``nocase`` folds ASCII only (C ``tolower`` in the C locale).
* The empty string is matched only by the empty pattern: ``stringmatchlen("*", "")`` is 0 in
  Redis (KEYS and SCAN special-case the exact pattern ``*`` before calling the matcher, so they
  do return the empty key for ``*`` but not for ``**``).
* Redis's protections against abusive patterns (CVE-2022-36021): once the rest of a pattern
  failed everywhere after a ``*``, earlier stars stop trying longer matches
  (``skipLongerMatches``), and recursion deeper than 1000 stars gives "no match".

Fast paths: a pattern of stars only matches every non-empty string; a pattern without any of
``*?[\\`` is a plain (ASCII-case-folded with ``nocase``) comparison.
"""

from __future__ import annotations

__all__ = ["compile_matcher", "stringmatch", "stringmatchlen"]

_STAR, _QMARK, _LBRACKET, _RBRACKET, _BSLASH, _CARET, _DASH = 42, 63, 91, 93, 92, 94, 45
_SPECIALS = (b"*", b"?", b"[", b"\\")

MAX_NESTING = 1000


def _lower(c: int) -> int:
    return c + 32 if 65 <= c <= 90 else c


def _signed(c: int) -> int:
    return c - 256 if c >= 128 else c


def _impl(pat: bytes, s: bytes, nocase: bool) -> bool:
    """stringmatchlen_impl, with its recursion (one level per ``*``) turned into an explicit
    stack of star frames ``[star_index, string_index]`` so that Redis's 1000-level nesting
    limit is reachable without hitting Python's recursion limit. Reads past the end of the
    pattern see NUL, like the C code reading an sds string's terminator."""
    plen = len(pat)
    slen = len(s)
    stack: list[list[int]] = []
    skip = False  # skipLongerMatches
    pi = si = 0
    while True:
        # ---- one call of stringmatchlen_impl(pat[pi:], s[si:]) at nesting len(stack)
        result: bool | None = None
        if len(stack) > MAX_NESTING:
            result = False
        while result is None and pi < plen and si < slen:
            p = pat[pi]
            if p == _STAR:
                while pi + 1 < plen and pat[pi + 1] == _STAR:
                    pi += 1
                if pi + 1 == plen:
                    result = True
                    break
                stack.append([pi, si])  # recurse: try the rest of the pattern from here
                pi += 1
                if len(stack) > MAX_NESTING:
                    result = False
                continue
            elif p == _QMARK:
                si += 1
            elif p == _LBRACKET:
                pi += 1
                negate = pi < plen and pat[pi] == _CARET
                if negate:
                    pi += 1
                c = s[si]
                match = False
                while True:
                    cur = pat[pi] if pi < plen else 0
                    if cur == _BSLASH and plen - pi >= 2:
                        pi += 1
                        if pat[pi] == c:
                            match = True
                    elif cur == _RBRACKET:
                        break
                    elif pi >= plen:
                        pi -= 1  # unterminated class: the pi += 1 below lands on the end
                        break
                    elif plen - pi >= 3 and pat[pi + 1] == _DASH:
                        start = _signed(pat[pi])
                        end = _signed(pat[pi + 2])
                        cc = _signed(c)
                        if start > end:
                            start, end = end, start
                        if nocase:
                            start = _lower(start)
                            end = _lower(end)
                            cc = _lower(cc)
                        pi += 2
                        if start <= cc <= end:
                            match = True
                    else:
                        if nocase:
                            if _lower(cur) == _lower(c):
                                match = True
                        elif cur == c:
                            match = True
                    pi += 1
                if negate:
                    match = not match
                if not match:
                    result = False
                    break
                si += 1
            else:
                if p == _BSLASH and plen - pi >= 2:
                    pi += 1
                    p = pat[pi]
                c = s[si]
                if nocase:
                    if _lower(p) != _lower(c):
                        result = False
                        break
                elif p != c:
                    result = False
                    break
                si += 1
            pi += 1
            if si == slen:
                while pi < plen and pat[pi] == _STAR:
                    pi += 1
                break
        if result is None:
            result = pi >= plen and si == slen
        # ---- return into the star loop of the caller frame
        while True:
            if not stack or result:
                return result
            if skip:
                stack.pop()
                continue
            frame = stack[-1]
            frame[1] += 1
            if frame[1] < slen:
                pi = frame[0] + 1
                si = frame[1]
                break
            skip = True
            stack.pop()


def stringmatchlen(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """True if ``string`` matches the glob ``pattern`` (Redis's stringmatchlen)."""
    if not pattern.strip(b"*"):
        # stars only (or empty): every non-empty string; the empty pattern only matches b"".
        return bool(string) if pattern else not string
    if not any(ch in pattern for ch in _SPECIALS):
        if nocase:
            return len(pattern) == len(string) and pattern.lower() == string.lower()
        return pattern == string
    return _impl(pattern, string, nocase)


stringmatch = stringmatchlen


def compile_matcher(pattern: bytes, nocase: bool = False):
    """A one-argument predicate for ``pattern``, with the fast paths decided once (for
    KEYS/SCAN over many keys)."""
    if not pattern.strip(b"*"):
        if pattern:
            return bool
        return lambda s: not s
    if not any(ch in pattern for ch in _SPECIALS):
        if nocase:
            low = pattern.lower()
            return lambda s: s.lower() == low
        return pattern.__eq__
    return lambda s: _impl(pattern, s, nocase)
