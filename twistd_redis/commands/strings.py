"""String commands."""

from __future__ import annotations

from ..client import Client
from ..errors import WrongTypeError
from ..resp import OK
from .table import DENYOOM, FAST, READONLY, WRITE, command


@command("get", arity=2, flags=READONLY | FAST, keys=(1, 1, 1), group="string")
def get_command(c: Client, argv: list[bytes]):
    """GET key"""
    v = c.db.lookup_read(argv[1])
    if v is None or type(v) is bytes:
        return v
    if type(v) is bytearray:
        return bytes(v)
    raise WrongTypeError()


@command("set", arity=-3, flags=WRITE | DENYOOM, keys=(1, 1, 1), group="string")
def set_command(c: Client, argv: list[bytes]):
    """SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ts | KEEPTTL]"""
    db = c.db
    key = argv[1]
    if db.expires:
        db.lookup_write(key)
    db.set_key(key, argv[2])
    c.state.dirty += 1
    c.state.notify_keyspace_event("$", b"set", key, db.id)
    return OK
