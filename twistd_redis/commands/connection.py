"""Connection commands: PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET (CLIENT is in client_cmd.py).

AUTH knows one user, ``default``: with no ``requirepass`` it has no password (any password is
accepted for it), otherwise its password is ``requirepass``."""

from __future__ import annotations

from .. import REDIS_VERSION
from ..client import CLIENT_CLOSE_AFTER_REPLY, CLIENT_PUBSUB, Client
from ..errors import RedisError, err
from ..resp import OK, PONG, SimpleString
from .args import parse_int
from .table import ALLOW_BUSY, FAST, LOADING, NO_AUTH, NOSCRIPT, STALE, command

WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."


@command("ping", arity=-1, flags=FAST, group="connection")
def ping_command(c: Client, argv: list[bytes]):
    """PING [message]"""
    if len(argv) > 2:
        raise err("wrong number of arguments for 'ping' command")
    if c.flags & CLIENT_PUBSUB and c.resp == 2:
        return [b"pong", argv[1] if len(argv) == 2 else b""]
    return argv[1] if len(argv) == 2 else PONG


@command("echo", arity=2, flags=LOADING | STALE | FAST, group="connection")
def echo_command(c: Client, argv: list[bytes]):
    """ECHO message"""
    return argv[1]


@command("quit", arity=-1, flags=ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH, group="connection")
def quit_command(c: Client, argv: list[bytes]):
    """QUIT: answer OK, then close the connection."""
    c.flags |= CLIENT_CLOSE_AFTER_REPLY
    return OK


@command("select", arity=2, flags=LOADING | STALE | FAST, group="connection")
def select_command(c: Client, argv: list[bytes]):
    """SELECT index"""
    idx = parse_int(argv[1])
    if idx is None:
        raise err("value is not an integer or out of range")
    if not 0 <= idx < len(c.state.dbs):
        raise err("DB index is out of range")
    c.select(idx)
    return OK


def check_password(c: Client, user: bytes, password: bytes) -> bool:
    """ACL-less AUTH: the only user is ``default``; with no requirepass it has nopass."""
    state = c.state
    if user != b"default":
        return False
    if not state.requirepass:
        return True
    return password == state.requirepass.encode()


def _authenticate(c: Client, user: bytes, password: bytes) -> None:
    if not check_password(c, user, password):
        raise RedisError(WRONGPASS)
    c.authenticated = True
    c.user = user.decode("utf-8", "replace")


@command("auth", arity=-2, flags=NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, group="connection")
def auth_command(c: Client, argv: list[bytes]):
    """AUTH [username] password"""
    if len(argv) > 3:
        raise err("syntax error")
    if len(argv) == 2:
        if not c.state.requirepass:
            raise err(
                "AUTH <password> called without any password configured for the default user. "
                "Are you sure your configuration is correct?"
            )
        _authenticate(c, b"default", argv[1])
    else:
        _authenticate(c, argv[1], argv[2])
    return OK


@command("hello", arity=-1, flags=NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, group="connection")
def hello_command(c: Client, argv: list[bytes]):
    """HELLO [protover [AUTH username password] [SETNAME clientname]]"""
    ver = 0
    i = 1
    if len(argv) >= 2:
        v = parse_int(argv[1])
        if v is None:
            raise err("Protocol version is not an integer or out of range")
        ver = v
        i = 2
        if ver < 2 or ver > 3:
            raise RedisError("NOPROTO unsupported protocol version")
    auth = None
    setname = None
    while i < len(argv):
        opt = argv[i].lower()
        more = len(argv) - i - 1
        if opt == b"auth" and more >= 2:
            auth = (argv[i + 1], argv[i + 2])
            i += 3
        elif opt == b"setname" and more >= 1:
            setname = argv[i + 1]
            i += 2
        else:
            raise err("Syntax error in HELLO option '%s'" % argv[i].decode("utf-8", "replace"))
    if auth is not None:
        _authenticate(c, *auth)
    if not c.authenticated:
        raise RedisError(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
            "HELLO AUTH <user> <pass> option can be used to authenticate the client and "
            "select the RESP protocol version at the same time"
        )
    if setname is not None:
        from .client_cmd import validate_client_name

        validate_client_name(setname)
        c.name = setname or None
    if ver:
        c.set_resp(ver)
    return {
        b"server": b"redis",
        b"version": REDIS_VERSION.encode(),
        b"proto": c.resp,
        b"id": c.id,
        b"mode": b"standalone",
        b"role": b"replica" if c.state.is_replica() else b"master",
        b"modules": [],
    }


@command("reset", arity=1, flags=NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, group="connection")
def reset_command(c: Client, argv: list[bytes]):
    """RESET: back to a fresh connection's state (db 0, RESP2, no name, no MULTI/WATCH,
    no subscriptions, CLIENT REPLY ON, unauthenticated if a password is set)."""
    state = c.state
    state.reset_client(c)
    return SimpleString(b"RESET")
