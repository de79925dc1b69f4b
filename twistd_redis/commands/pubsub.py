"""Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, SSUBSCRIBE,
SUNSUBSCRIBE, SPUBLISH and PUBSUB CHANNELS / NUMSUB / NUMPAT / SHARDCHANNELS / SHARDNUMSUB /
HELP (the registry and delivery are in ``twistd_redis/pubsub.py``).

A (un)subscribe command answers one frame per argument (``[kind, channel, count]``: an array in
RESP2, a push in RESP3). Like Redis, which marks these replies CLIENT_PUSHING, they are written
even under CLIENT REPLY OFF/SKIP: the frames go out through ``client.send`` and the command's own
reply is empty then. Otherwise the frames are the command's reply (inside EXEC they land in
the array as Redis writes them, one frame per channel). Single node: shard channels behave as
plain channels of their own namespace (no slots, no MOVED/CROSSSLOT), SPUBLISH does not reach
pattern subscribers.
PUBLISH/SPUBLISH are not propagated here (replication of PUBLISH comes with replication).
"""

from __future__ import annotations

from typing import Any

from ..client import CLIENT_DENY_BLOCKING, CLIENT_MULTI, CLIENT_REPLY_MASK, Client
from ..errors import RedisError
from ..glob import compile_matcher
from ..pubsub import _install_hooks, get_pubsub
from ..resp import Push, Raw
from .table import FAST, LOADING, NOSCRIPT, PUBSUB, STALE, command, container, help_reply

_install_hooks()

_SUB_FLAGS = PUBSUB | NOSCRIPT | LOADING | STALE
_NO_REPLY = Raw(b"")


def _answer(c: Client, frames: list[Push]):
    """The frames as the command's reply, in one piece (inside EXEC they land in the array as
    Redis writes them); under CLIENT REPLY OFF/SKIP they are sent anyway, as Redis's pushing
    flag bypasses the reply mode, and the command's own reply is empty."""
    if c.flags & CLIENT_REPLY_MASK:
        for f in frames:
            c.send(f)
        return _NO_REPLY
    if len(frames) == 1:
        return frames[0]
    encode = c.encode
    return Raw(b"".join([encode(f) for f in frames]))


def _subscribe(c: Client, argv: list[bytes], kind: bytes, add: Any, count: Any):
    """One confirmation frame per name: [kind, name, the client's count after it]."""
    frames = []
    for name in argv[1:]:
        add(c, name)
        frames.append(Push([kind, name, count(c)]))
    return _answer(c, frames)


def _deny(c: Client, name: str, multi_ok: bool = True) -> None:
    if c.flags & CLIENT_DENY_BLOCKING and not (multi_ok and c.flags & CLIENT_MULTI):
        raise RedisError(f"ERR {name} isn't allowed for a DENY BLOCKING client")


@command("subscribe", arity=-2, flags=_SUB_FLAGS, group="pubsub")
def subscribe_command(c: Client, argv: list[bytes]):
    """SUBSCRIBE channel [channel ...]"""
    _deny(c, "SUBSCRIBE")
    ps = get_pubsub(c.state)
    return _subscribe(c, argv, b"subscribe", ps.subscribe, ps.count)


@command("ssubscribe", arity=-2, flags=_SUB_FLAGS, keys=(1, -1, 1), group="pubsub")
def ssubscribe_command(c: Client, argv: list[bytes]):
    """SSUBSCRIBE shardchannel [shardchannel ...]"""
    _deny(c, "SSUBSCRIBE", multi_ok=False)
    ps = get_pubsub(c.state)
    return _subscribe(c, argv, b"ssubscribe", lambda c, ch: ps.subscribe(c, ch, shard=True), ps.shard_count)


@command("psubscribe", arity=-2, flags=_SUB_FLAGS, group="pubsub")
def psubscribe_command(c: Client, argv: list[bytes]):
    """PSUBSCRIBE pattern [pattern ...]"""
    _deny(c, "PSUBSCRIBE")
    ps = get_pubsub(c.state)
    return _subscribe(c, argv, b"psubscribe", ps.psubscribe, ps.count)


def _unsubscribe(c: Client, argv: list[bytes], kind: bytes, shard: bool = False):
    ps = get_pubsub(c.state)
    count = ps.shard_count if shard else ps.count
    names = argv[1:] or ps.channels_of(c, shard)
    frames = []
    for ch in names:
        ps.unsubscribe(c, ch, shard)
        frames.append(Push([kind, ch, count(c)]))
    if not frames:  # nothing to unsubscribe from: still one frame, with a null channel
        frames.append(Push([kind, None, count(c)]))
    ps._settle(c)
    return _answer(c, frames)


@command("unsubscribe", arity=-1, flags=_SUB_FLAGS, group="pubsub")
def unsubscribe_command(c: Client, argv: list[bytes]):
    """UNSUBSCRIBE [channel [channel ...]]"""
    return _unsubscribe(c, argv, b"unsubscribe")


@command("sunsubscribe", arity=-1, flags=_SUB_FLAGS, keys=(1, -1, 1), group="pubsub")
def sunsubscribe_command(c: Client, argv: list[bytes]):
    """SUNSUBSCRIBE [shardchannel [shardchannel ...]]"""
    return _unsubscribe(c, argv, b"sunsubscribe", shard=True)


@command("punsubscribe", arity=-1, flags=_SUB_FLAGS, group="pubsub")
def punsubscribe_command(c: Client, argv: list[bytes]):
    """PUNSUBSCRIBE [pattern [pattern ...]]"""
    ps = get_pubsub(c.state)
    names = argv[1:] or ps.patterns_of(c)
    frames = []
    for p in names:
        ps.punsubscribe(c, p)
        frames.append(Push([b"punsubscribe", p, ps.count(c)]))
    if not frames:
        frames.append(Push([b"punsubscribe", None, ps.count(c)]))
    ps._settle(c)
    return _answer(c, frames)


@command("publish", arity=3, flags=PUBSUB | LOADING | STALE | FAST, group="pubsub")
def publish_command(c: Client, argv: list[bytes]):
    """PUBLISH channel message"""
    ps = c.state.__dict__.get("pubsub")
    return ps.publish(argv[1], argv[2]) if ps is not None else 0


@command("spublish", arity=3, flags=PUBSUB | LOADING | STALE | FAST, keys=(1, 1, 1), group="pubsub")
def spublish_command(c: Client, argv: list[bytes]):
    """SPUBLISH shardchannel message"""
    ps = c.state.__dict__.get("pubsub")
    return ps.spublish(argv[1], argv[2]) if ps is not None else 0


# ------------------------------------------------------------------ PUBSUB

container("pubsub", arity=-2, group="pubsub")

PUBSUB_HELP = [
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
]


def _syntax(argv: list[bytes]) -> RedisError:
    """addReplySubcommandSyntaxError"""
    return RedisError(
        "ERR unknown subcommand or wrong number of arguments for '{:.128}'. Try {} HELP.".format(
            argv[1].decode("utf-8", "replace"), argv[0].decode("utf-8", "replace").upper()
        )
    )


def _channel_list(registry: dict, argv: list[bytes]) -> list[bytes]:
    if len(argv) > 3:
        raise _syntax(argv)
    if len(argv) == 2:
        return list(registry)
    match = compile_matcher(argv[2])
    return [ch for ch in registry if match(ch)]


@command("pubsub|channels", arity=-2, flags=PUBSUB | LOADING | STALE, group="pubsub")
def pubsub_channels_command(c: Client, argv: list[bytes]):
    """PUBSUB CHANNELS [pattern]"""
    return _channel_list(get_pubsub(c.state).channels, argv)


@command("pubsub|shardchannels", arity=-2, flags=PUBSUB | LOADING | STALE, group="pubsub")
def pubsub_shardchannels_command(c: Client, argv: list[bytes]):
    """PUBSUB SHARDCHANNELS [pattern]"""
    return _channel_list(get_pubsub(c.state).shard_channels, argv)


def _numsub(registry: dict, argv: list[bytes]) -> list:
    out: list = []
    for ch in argv[2:]:
        clients = registry.get(ch)
        out.append(ch)
        out.append(len(clients) if clients else 0)
    return out


@command("pubsub|numsub", arity=-2, flags=PUBSUB | LOADING | STALE, group="pubsub")
def pubsub_numsub_command(c: Client, argv: list[bytes]):
    """PUBSUB NUMSUB [channel [channel ...]]"""
    return _numsub(get_pubsub(c.state).channels, argv)


@command("pubsub|shardnumsub", arity=-2, flags=PUBSUB | LOADING | STALE, group="pubsub")
def pubsub_shardnumsub_command(c: Client, argv: list[bytes]):
    """PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]]"""
    return _numsub(get_pubsub(c.state).shard_channels, argv)


@command("pubsub|numpat", arity=2, flags=PUBSUB | LOADING | STALE, group="pubsub")
def pubsub_numpat_command(c: Client, argv: list[bytes]):
    """PUBSUB NUMPAT"""
    return len(get_pubsub(c.state).patterns)


@command("pubsub|help", arity=2, flags=LOADING | STALE, group="pubsub")
def pubsub_help_command(c: Client, argv: list[bytes]):
    """PUBSUB HELP"""
    return help_reply("PUBSUB", PUBSUB_HELP)
