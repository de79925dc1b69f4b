"""SYNC, PSYNC and REPLCONF: the commands a replica sends its master (Redis's replication.c).
The work lives in replication/master.py; these check arguments and errors as Redis 7.0 does."""

from __future__ import annotations

from ..client import CLIENT_MASTER, CLIENT_SLAVE, Client
from ..errors import RedisError, not_integer, syntax_error
from ..resp import OK, Raw
from .args import option_word, parse_int
from .table import ADMIN, ALLOW_BUSY, LOADING, NO_ASYNC_LOADING, NO_MULTI, NOSCRIPT, STALE, command

NOTHING = Raw(b"")  # no reply at all (REPLCONF ACK, a full resync's reply is written apart)

NET_HOST_STR_LEN = 256


def _sync(c: Client, argv: list[bytes]) -> Raw:
    from ..replication import master

    if c.flags & CLIENT_SLAVE:  # already a replica (or a monitor): ignored, no reply
        return NOTHING
    state = c.state
    repl = state.repl
    if repl.masterhost is not None:
        link = repl.link
        if link is None or not link.connected():
            raise RedisError("NOMASTERLINK Can't SYNC while not connected with my master")
    conn = c.conn
    if conn is not None and (conn.output_buffer_len(True) or conn.pending_out):
        raise RedisError("ERR SYNC and PSYNC are invalid with pending output")
    offset = None
    if argv[0].lower() == b"psync":
        offset = parse_int(argv[2])
        if offset is None:
            raise not_integer()
    master.sync_command_impl(c, argv, offset)
    return NOTHING


@command("sync", arity=1, flags=ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, group="server")
def sync_command(c: Client, argv: list[bytes]) -> Raw:
    """SYNC"""
    return _sync(c, argv)


@command("psync", arity=-3, flags=ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, group="server")
def psync_command(c: Client, argv: list[bytes]) -> Raw:
    """PSYNC replicationid offset"""
    return _sync(c, argv)


@command("replconf", arity=-1, flags=ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY, group="server")
def replconf_command(c: Client, argv: list[bytes]) -> object:
    """REPLCONF option value [option value ...]"""
    from ..replication import master

    if len(argv) % 2 == 0:
        raise syntax_error()
    link = None
    for j in range(1, len(argv), 2):
        opt = option_word(argv[j])
        val = argv[j + 1]
        if opt == b"listening-port":
            port = parse_int(val)
            if port is None:
                raise not_integer()
            link = link or master.handshake_link(c)
            link.listening_port = port
        elif opt == b"ip-address":
            if len(val) >= NET_HOST_STR_LEN:
                raise RedisError(f"ERR REPLCONF ip-address provided by replica instance is too long: {len(val)} bytes")
            link = link or master.handshake_link(c)
            link.announced_ip = val.decode("utf-8", "replace")
        elif opt == b"capa":
            v = option_word(val)
            if v in (master.CAPA_EOF, master.CAPA_PSYNC2):  # others are ignored
                link = link or master.handshake_link(c)
                link.capa.add(v)
        elif opt == b"ack":
            # the replica's processed offset; never answered
            if not c.flags & CLIENT_SLAVE or c.repl is None:
                return NOTHING
            offset = parse_int(val)
            if offset is None:
                return NOTHING
            aof_off = None
            if len(argv) > j + 3 and option_word(argv[j + 2]) == b"fack":
                aof_off = parse_int(argv[j + 3])
                if aof_off is None:
                    return NOTHING
            master.replconf_ack(c, offset, aof_off)
            return NOTHING
        elif opt == b"getack":
            # our master asks for an ACK now (the replica side answers it)
            state = c.state
            if state.repl.masterhost is not None and c.flags & CLIENT_MASTER:
                from ..replication.replica import replication_send_ack

                replication_send_ack(state)
            return NOTHING
        elif opt == b"rdb-only":
            v = parse_int(val)
            if v is None:
                raise not_integer()
            if v < 0 or v > 1:
                raise RedisError("ERR value is out of range, value must between 0 and 1")
            link = link or master.handshake_link(c)
            link.rdb_only = v == 1
        else:
            raise RedisError(f"ERR Unrecognized REPLCONF option: {argv[j].decode('utf-8', 'replace')}")
    return OK
