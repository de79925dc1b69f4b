"""The CLIENT command family (Redis 7.0's clientCommand in networking.c), plus CLIENT SETINFO
from Redis 7.2, which redis-py 8 sends on every connect.

CLIENT LIST / INFO lines come from ``Client.info_line()``. A client blocked on a Deferred is
``c.waiting``; CLIENT UNBLOCK fires that Deferred (see ``unblock_client`` for the convention a
blocking command can use to supply its own timeout reply). CLIENT PAUSE / UNPAUSE and the
client-side caching subcommands (TRACKING, CACHING, TRACKINGINFO) are not implemented.
"""

from __future__ import annotations

from typing import Any

from ..client import (
    CLIENT_MASTER,
    CLIENT_MONITOR,
    CLIENT_NO_EVICT,
    CLIENT_PUBSUB,
    CLIENT_SLAVE,
    REPLY_OFF,
    REPLY_ON,
    REPLY_SKIP_NEXT,
    Client,
)
from ..errors import RedisError, err, not_integer, syntax_error
from ..resp import NULL_ARRAY, OK, Verbatim
from .args import parse_int
from .table import help_reply
from .table import ADMIN, LOADING, NOSCRIPT, STALE, command, container

CLIENT_TYPE_NORMAL, CLIENT_TYPE_SLAVE, CLIENT_TYPE_PUBSUB, CLIENT_TYPE_MASTER = 0, 1, 2, 3

_TYPE_NAMES = {
    b"normal": CLIENT_TYPE_NORMAL,
    b"slave": CLIENT_TYPE_SLAVE,
    b"replica": CLIENT_TYPE_SLAVE,
    b"pubsub": CLIENT_TYPE_PUBSUB,
    b"master": CLIENT_TYPE_MASTER,
}

UNBLOCKED_ERROR = "UNBLOCKED client unblocked via CLIENT UNBLOCK"

CLIENT_HELP = [  # between help_reply's header and its HELP entry
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
]

_CLIENT_FLAGS = NOSCRIPT | LOADING | STALE

container("client", arity=-2, group="connection")


# ---------------------------------------------------------------- helpers


def _valid_attr(value: bytes) -> bool:
    """validateClientAttr: printable ASCII without spaces ('!'..'~'), so LIST lines split."""
    for ch in value:
        if ch < 33 or ch > 126:
            return False
    return True


def validate_client_name(name: bytes) -> None:
    """clientSetNameOrReply's check: raise Redis's error for a name CLIENT LIST cannot show.
    (An empty name is valid: it clears the name.)"""
    if not _valid_attr(name):
        raise err("Client names cannot contain spaces, newlines or special characters.")


def client_type(c: Client) -> int:
    """getClientType: MONITOR clients count as normal, as in Redis."""
    f = c.flags
    if f & CLIENT_MASTER:
        return CLIENT_TYPE_MASTER
    if f & CLIENT_SLAVE and not f & CLIENT_MONITOR:
        return CLIENT_TYPE_SLAVE
    if f & CLIENT_PUBSUB:
        return CLIENT_TYPE_PUBSUB
    return CLIENT_TYPE_NORMAL


def _type_by_name(name: bytes) -> int:
    t = _TYPE_NAMES.get(name.lower())
    if t is None:
        raise err("Unknown client type '%s'" % name.decode("utf-8", "replace"))
    return t


def _subcommand_syntax_error(argv: list[bytes]) -> RedisError:
    """addReplySubcommandSyntaxError: the subcommand as the user typed it."""
    return err(
        "unknown subcommand or wrong number of arguments for '%.128s'. Try CLIENT HELP."
        % argv[1].decode("utf-8", "replace")
    )


def _info_text(clients: Any) -> Verbatim:
    return Verbatim("".join(cl.info_line() + "\n" for cl in clients).encode("utf-8", "replace"))


def _user_exists(c: Client, name: bytes) -> bool:
    """Without ACL the only user is ``default``."""
    return name == b"default"


# ---------------------------------------------------------------- simple subcommands


@command("client|id", arity=2, flags=_CLIENT_FLAGS, group="connection")
def client_id_command(c: Client, argv: list[bytes]):
    """CLIENT ID"""
    return c.id


@command("client|getname", arity=2, flags=_CLIENT_FLAGS, group="connection")
def client_getname_command(c: Client, argv: list[bytes]):
    """CLIENT GETNAME"""
    return c.name


@command("client|setname", arity=3, flags=_CLIENT_FLAGS, group="connection")
def client_setname_command(c: Client, argv: list[bytes]):
    """CLIENT SETNAME name (an empty name removes the name)"""
    name = argv[2]
    validate_client_name(name)
    c.name = name or None
    return OK


@command("client|setinfo", arity=4, flags=_CLIENT_FLAGS, group="connection")
def client_setinfo_command(c: Client, argv: list[bytes]):
    """CLIENT SETINFO <LIB-NAME libname | LIB-VER libver> (Redis 7.2)"""
    attr = argv[2]
    which = attr.lower()
    if which not in (b"lib-name", b"lib-ver"):
        raise err("Unrecognized option '%s'" % attr.decode("utf-8", "replace"))
    val = argv[3]
    if not _valid_attr(val):
        raise err("%s cannot contain spaces, newlines or special characters." % attr.decode("utf-8", "replace"))
    if which == b"lib-name":
        c.lib_name = val or None
    else:
        c.lib_ver = val or None
    return OK


@command("client|getredir", arity=2, flags=_CLIENT_FLAGS, group="connection")
def client_getredir_command(c: Client, argv: list[bytes]):
    """CLIENT GETREDIR: -1, as tracking is never enabled here."""
    return -1


@command("client|help", arity=2, flags=LOADING | STALE, group="connection")
def client_help_command(c: Client, argv: list[bytes]):
    """CLIENT HELP"""
    return help_reply("CLIENT", CLIENT_HELP)


@command("client|info", arity=2, flags=_CLIENT_FLAGS, group="connection")
def client_info_command(c: Client, argv: list[bytes]):
    """CLIENT INFO: this connection's CLIENT LIST line (verbatim text in RESP3)."""
    c.last_cmd = "client|info"  # Redis sets lastcmd before the call: the line shows this command
    return _info_text([c])


@command("client|list", arity=-2, flags=ADMIN | _CLIENT_FLAGS, group="connection")
def client_list_command(c: Client, argv: list[bytes]):
    """CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]"""
    state = c.state
    c.last_cmd = "client|list"
    argc = len(argv)
    if argc == 4 and argv[2].lower() == b"type":
        t = _type_by_name(argv[3])
        return _info_text(cl for cl in list(state.clients.values()) if client_type(cl) == t)
    if argc > 3 and argv[2].lower() == b"id":
        found = []
        for a in argv[3:]:
            cid = parse_int(a)
            if cid is None:
                raise err("Invalid client ID")
            cl = state.client_by_id(cid)
            if cl is not None:
                found.append(cl)
        return _info_text(found)
    if argc != 2:
        raise syntax_error()
    return _info_text(list(state.clients.values()))


@command("client|reply", arity=3, flags=_CLIENT_FLAGS, group="connection")
def client_reply_command(c: Client, argv: list[bytes]):
    """CLIENT REPLY ON|OFF|SKIP. OFF and SKIP send no reply of their own: the protocol drops
    the reply of a command run with reply_mode OFF / SKIP_NEXT."""
    mode = argv[2].lower()
    if mode == b"on":
        c.reply_mode = REPLY_ON
    elif mode == b"off":
        c.reply_mode = REPLY_OFF
    elif mode == b"skip":
        if c.reply_mode != REPLY_OFF:  # SKIP has no effect while replies are OFF
            c.reply_mode = REPLY_SKIP_NEXT
    else:
        raise syntax_error()
    return OK


@command("client|no-evict", arity=3, flags=ADMIN | _CLIENT_FLAGS, group="connection")
def client_no_evict_command(c: Client, argv: list[bytes]):
    """CLIENT NO-EVICT ON|OFF"""
    v = argv[2].lower()
    if v == b"on":
        c.flags |= CLIENT_NO_EVICT
    elif v == b"off":
        c.flags &= ~CLIENT_NO_EVICT
    else:
        raise syntax_error()
    return OK


# ---------------------------------------------------------------- KILL


@command("client|kill", arity=-3, flags=ADMIN | _CLIENT_FLAGS, group="connection")
def client_kill_command(c: Client, argv: list[bytes]):
    """CLIENT KILL ip:port  |  CLIENT KILL [ID id] [TYPE type] [USER name] [ADDR ip:port]
    [LADDR ip:port] [SKIPME yes|no] [MAXAGE seconds]

    The old form answers OK or "No such client" and may kill the caller; the new form answers
    the number killed and skips the caller unless SKIPME no. A caller that kills itself gets its
    reply, then the connection closes. MAXAGE is Redis 7.4's filter (kill clients at least that
    many seconds old); Redis 7.0 itself answers a syntax error to it."""
    state = c.state
    addr = laddr = user = None
    ctype = -1
    cid = 0
    max_age = 0
    skipme = True
    argc = len(argv)
    if argc == 3:
        addr = argv[2]
        skipme = False  # with the old form, you can kill yourself
    else:
        i = 2
        while i < argc:
            opt = argv[i].lower()
            if i + 1 >= argc:
                raise syntax_error()
            val = argv[i + 1]
            if opt == b"id":
                v = parse_int(val)
                if v is None or v < 1:
                    raise err("client-id should be greater than 0")
                cid = v
            elif opt == b"type":
                ctype = _type_by_name(val)
            elif opt == b"addr":
                addr = val
            elif opt == b"laddr":
                laddr = val
            elif opt == b"user":
                if not _user_exists(c, val):
                    raise err("No such user '%s'" % val.decode("utf-8", "replace"))
                user = val.decode("utf-8", "replace")
            elif opt == b"skipme":
                v2 = val.lower()
                if v2 == b"yes":
                    skipme = True
                elif v2 == b"no":
                    skipme = False
                else:
                    raise syntax_error()
            elif opt == b"maxage":
                v = parse_int(val)
                if v is None:
                    raise err("maxage is not an integer or out of range")
                if v <= 0:
                    raise err("maxage should be greater than 0")
                max_age = v
            else:
                raise syntax_error()
            i += 2

    now = state.clock.seconds()
    killed = 0
    close_this_client = False
    for cl in list(state.clients.values()):
        if addr is not None and cl.addr.encode() != addr:
            continue
        if laddr is not None and cl.laddr.encode() != laddr:
            continue
        if ctype != -1 and client_type(cl) != ctype:
            continue
        if cid and cl.id != cid:
            continue
        if user is not None and cl.user != user:
            continue
        if max_age and int(now - cl.ctime) < max_age:
            continue
        if cl is c:
            if skipme:
                continue
            close_this_client = True
        else:
            cl.kill()
            state.disconnect(cl)  # freeClient: gone from CLIENT LIST at once
        killed += 1
    if close_this_client:
        c.close_after_reply()
    if argc == 3:
        if not killed:
            raise err("No such client")
        return OK
    return killed


# ---------------------------------------------------------------- UNBLOCK


def unblock_client(target: Client, error: bool) -> bool:
    """Fire the Deferred ``target`` is blocked on, as CLIENT UNBLOCK does; False if it is not
    blocked (or its wait cannot be interrupted).

    Convention for blocking commands: the Deferred may carry ``on_unblock(error)``, a callable
    that fires the Deferred itself with the command's own timeout reply (WAIT: the acks so far)
    or with the given error, and deregisters the wait; else the Deferred may carry
    ``timeout_reply`` (BLPOP & co time out with a null array, the default); a Deferred with
    ``unblockable = False`` (a client pause) is left alone. Firing a Deferred that was given
    ``addTimeout`` cancels its timer."""
    d = target.waiting
    if d is None or d.called or getattr(d, "unblockable", True) is False:
        return False
    error_reply = RedisError(UNBLOCKED_ERROR) if error else None
    hook = getattr(d, "on_unblock", None)
    if hook is not None:
        hook(error_reply)
    elif error_reply is not None:
        d.callback(error_reply)
    else:
        reply = getattr(d, "timeout_reply", NULL_ARRAY)
        d.callback(reply() if callable(reply) else reply)
    if error_reply is not None:
        target.state.stats.count_error(error_reply.message)
    return True


@command("client|unblock", arity=-3, flags=ADMIN | _CLIENT_FLAGS, group="connection")
def client_unblock_command(c: Client, argv: list[bytes]):
    """CLIENT UNBLOCK client-id [TIMEOUT|ERROR]"""
    argc = len(argv)
    if argc > 4:
        raise _subcommand_syntax_error(argv)
    error = False
    if argc == 4:
        reason = argv[3].lower()
        if reason == b"timeout":
            error = False
        elif reason == b"error":
            error = True
        else:
            raise err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    cid = parse_int(argv[2])
    if cid is None:
        raise not_integer()
    target = c.state.client_by_id(cid)
    if target is None or target is c:
        return 0
    return 1 if unblock_client(target, error) else 0


__all__ = ["validate_client_name", "client_type", "unblock_client"]
