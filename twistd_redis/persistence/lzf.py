"""LZF as Redis uses it for RDB strings (liblzf through pylzf).

Redis (rdbSaveLzfStringObject) only keeps the compressed form when it saves at least 4 bytes:
it gives lzf_compress an output buffer of len - 4 bytes and stores the string raw when that does
not fit. ``compress`` answers None in that case (and for strings of 4 bytes or fewer); the caller
decides the "> 20 bytes" rule (rdbSaveRawString).
"""

from __future__ import annotations

import pylzf

__all__ = ["compress", "decompress"]


def compress(data: bytes) -> bytes | None:
    """The LZF form of ``data`` if it is at least 4 bytes smaller, else None."""
    n = len(data)
    if n <= 4:
        return None
    try:
        out = pylzf.compress(data, n - 4)
    except ValueError:  # the output buffer was too small: no gain
        return None
    return out or None


def decompress(data: bytes, outlen: int) -> bytes:
    """Inflate ``data`` to exactly ``outlen`` bytes; ValueError when it is not valid LZF of
    that length."""
    if outlen == 0:
        raise ValueError("empty LZF output")
    try:
        out = pylzf.decompress(data, outlen)
    except Exception as e:  # pylzf raises on overrun / bad back-reference
        raise ValueError("invalid LZF data") from e
    if len(out) != outlen:
        raise ValueError("invalid LZF data")
    return out
