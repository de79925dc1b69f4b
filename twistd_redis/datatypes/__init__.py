"""Value types: the registry that names them for TYPE / SCAN TYPE / OBJECT ENCODING and copies
them for COPY.

Strings are stored bare: ``bytes`` (an "int" or "embstr" or "raw" string, decided from the
bytes as Redis's tryObjectEncoding would) or ``bytearray`` (a string APPEND/SETRANGE made
mutable: always "raw", as Redis's sds-backed raw strings). Every other type is a class of its
own, registered once by its module::

    register_type(RedisList, b"list", encoding=lambda v: b"quicklist")
    register_type(RedisHash, b"hash", encoding=RedisHash.encoding_name, copy=RedisHash.copy)

``encoding`` is a function (value -> bytes) or a constant bytes; ``copy`` returns an independent
duplicate for COPY (default: the value's own ``.copy()``, else ``copy.deepcopy``).
"""

from __future__ import annotations

import copy as _copy
from typing import Any, Callable

__all__ = ["EmbStr", "TYPES", "copy_value", "encoding_name", "register_type", "string_encoding", "type_name", "TYPE_NAMES"]

LLONG_MAX = 2**63 - 1
LLONG_MIN = -(2**63)
OBJ_ENCODING_EMBSTR_SIZE_LIMIT = 44


class TypeInfo:
    __slots__ = ("cls", "name", "encoding", "copy")

    def __init__(
        self,
        cls: type,
        name: bytes,
        encoding: Callable[[Any], bytes] | bytes,
        copy: Callable[[Any], Any] | None,
    ) -> None:
        self.cls = cls
        self.name = name
        self.encoding = encoding
        self.copy = copy


def _is_canonical_int(v: bytes) -> bool:
    """string2ll succeeds and the text is <= 20 chars: Redis would store it as an int."""
    n = len(v)
    if n == 0 or n > 20:
        return False
    if n == 1:
        return 48 <= v[0] <= 57
    i = 1 if v[0] == 45 else 0
    if i == n or v[i] == 48 or not v[i:].isdigit():
        return False
    return LLONG_MIN <= int(v) <= LLONG_MAX


class EmbStr(bytes):
    """A string Redis keeps as a plain string object even when it reads as an integer: the
    result of INCRBYFLOAT (createStringObjectFromLongDouble never int-encodes), so OBJECT
    ENCODING says ``embstr`` for "10" there and ``int`` after SET. Readers treat it as bytes and
    reply ``bytes(v)``."""

    __slots__ = ()


def string_encoding(v: bytes | bytearray) -> bytes:
    """OBJECT ENCODING of a string value."""
    if type(v) is bytearray:
        return b"raw"
    if type(v) is EmbStr:
        return b"embstr" if len(v) <= OBJ_ENCODING_EMBSTR_SIZE_LIMIT else b"raw"
    if _is_canonical_int(v):
        return b"int"
    return b"embstr" if len(v) <= OBJ_ENCODING_EMBSTR_SIZE_LIMIT else b"raw"


TYPES: dict[type, TypeInfo] = {}
# Every name TYPE can answer (SCAN TYPE compares against these).
TYPE_NAMES: set[bytes] = set()


def register_type(
    cls: type,
    name: bytes,
    encoding: Callable[[Any], bytes] | bytes,
    copy: Callable[[Any], Any] | None = None,
) -> None:
    """Declare a value class: its TYPE name, its OBJECT ENCODING, and how COPY duplicates it."""
    TYPES[cls] = TypeInfo(cls, name, encoding, copy)
    TYPE_NAMES.add(name)


def _info(value: Any) -> TypeInfo:
    info = TYPES.get(type(value))
    if info is None:
        for cls, info in TYPES.items():  # a subclass of a registered class
            if isinstance(value, cls):
                return info
        raise TypeError("unregistered value type %r" % type(value).__name__)
    return info


def type_name(value: Any) -> bytes:
    """What TYPE answers for a stored value (b"none" for None)."""
    if value is None:
        return b"none"
    return _info(value).name


def encoding_name(value: Any) -> bytes:
    """What OBJECT ENCODING answers for a stored value."""
    enc = _info(value).encoding
    return enc if isinstance(enc, bytes) else enc(value)


def copy_value(value: Any) -> Any:
    """An independent duplicate of ``value`` for COPY (immutable bytes are shared)."""
    info = _info(value)
    if info.copy is not None:
        return info.copy(value)
    c = getattr(value, "copy", None)
    if c is not None:
        return c()
    return _copy.deepcopy(value)


register_type(bytes, b"string", string_encoding, copy=lambda v: v)
register_type(bytearray, b"string", string_encoding, copy=bytearray)
register_type(EmbStr, b"string", string_encoding, copy=lambda v: v)

# The collection types register themselves on import.
from .hash import RedisHash  # noqa: E402
from .list import RedisList  # noqa: E402
from .set import RedisSet  # noqa: E402
from .zset import RedisZSet  # noqa: E402
from .stream import RedisStream  # noqa: E402

__all__ += ["RedisHash", "RedisList", "RedisSet", "RedisZSet", "RedisStream"]
