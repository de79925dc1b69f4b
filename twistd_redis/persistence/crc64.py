"""Redis's CRC-64 (crc64.c: Jones polynomial 0xad93d23594c935a9, reflected in and out, initial 0,
no final xor), as RDB files and DUMP payloads carry it. The C implementation comes from
crcmod-plus; ``crc64(b"123456789") == 0xe9c6d914c4b8d9ca`` (Redis's own test vector)."""

from __future__ import annotations

import crcmod

__all__ = ["crc64"]

_crc = crcmod.mkCrcFun(0x1AD93D23594C935A9, initCrc=0, rev=True, xorOut=0)


def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-64 of ``data``, continuing from ``crc`` (the result of the previous chunk)."""
    return _crc(data, crc)
