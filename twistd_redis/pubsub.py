"""Pub/Sub: the channel, pattern and shard-channel registry, and message delivery.

One ``PubSub`` per server, reached with ``get_pubsub(state)`` (created on first use and kept as
``state.pubsub``). It mirrors Redis 7.0's pubsub.c:

* ``channels`` / ``shard_channels``: channel -> its subscribers in subscription order (Redis
  7.0 keeps a list per channel), ``patterns``: pattern -> its subscribers. A channel or pattern
  whose last subscriber leaves is deleted (PUBSUB CHANNELS never lists empty ones).
* Per client, its subscriptions in subscription order (``ClientSubs``): UNSUBSCRIBE /
  PUNSUBSCRIBE / SUNSUBSCRIBE without arguments walk them in that order (Redis 7.0 keeps the
  client's patterns in a list, so PUNSUBSCRIBE answers in subscription order). The client's
  own ``pubsub_channels`` / ``pubsub_patterns`` / ``pubsub_shard_channels`` sets (CLIENT LIST
  sub=/psub=/ssub=) are kept in sync.
* The subscription count in the replies is channels + patterns; shard channels count apart
  (clientSubscriptionsCount / clientShardSubscriptionsCount). A client is in the Pub/Sub
  context (``CLIENT_PUBSUB``) while it has any subscription of the three kinds.

``publish(state, channel, message)`` delivers a message to the channel's subscribers, then to
every pattern that matches (one ``pmessage`` per matching pattern and subscriber), and returns
the number of deliveries, as PUBLISH answers. Each frame is encoded once per protocol version
(RESP2 array, RESP3 push) whatever the number of subscribers. Patterns are tried in the order
they were first subscribed (Redis walks its pattern dict in hash order).

Disconnect and RESET drop every subscription of the client without notifications
(``CLIENT_DISCONNECT_HOOKS`` / ``CLIENT_RESET_HOOKS``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .client import CLIENT_PUBSUB, Client
from .glob import compile_matcher
from .resp import Push, encode2, encode3

if TYPE_CHECKING:  # pragma: no cover
    from .state import ServerState

__all__ = ["PubSub", "get_pubsub", "publish", "spublish"]

MESSAGE = b"message"
PMESSAGE = b"pmessage"
SMESSAGE = b"smessage"


class ClientSubs:
    """One client's subscriptions, each in subscription order."""

    __slots__ = ("channels", "patterns", "shard")

    def __init__(self) -> None:
        self.channels: dict[bytes, None] = {}
        self.patterns: dict[bytes, None] = {}
        self.shard: dict[bytes, None] = {}

    def count(self) -> int:
        """clientSubscriptionsCount: channels + patterns."""
        return len(self.channels) + len(self.patterns)

    def total(self) -> int:
        return len(self.channels) + len(self.patterns) + len(self.shard)


class PubSub:
    """The server's Pub/Sub registry (server.pubsub_channels / pubsub_patterns /
    pubsubshard_channels) and the per-client side of it."""

    def __init__(self) -> None:
        self.channels: dict[bytes, dict[Client, None]] = {}
        self.patterns: dict[bytes, dict[Client, None]] = {}
        self.shard_channels: dict[bytes, dict[Client, None]] = {}
        self.matchers: dict[bytes, Callable[[bytes], Any]] = {}
        self.clients: dict[Client, ClientSubs] = {}

    # ------------------------------------------------------------ per client

    def subs(self, c: Client) -> ClientSubs:
        s = self.clients.get(c)
        if s is None:
            s = self.clients[c] = ClientSubs()
        return s

    def count(self, c: Client) -> int:
        s = self.clients.get(c)
        return s.count() if s is not None else 0

    def shard_count(self, c: Client) -> int:
        s = self.clients.get(c)
        return len(s.shard) if s is not None else 0

    def _settle(self, c: Client) -> None:
        """Leave the Pub/Sub context when nothing is left (clientTotalPubSubSubscriptionCount)."""
        s = self.clients.get(c)
        if s is not None and not s.total():
            del self.clients[c]
            s = None
        if s is None:
            c.flags &= ~CLIENT_PUBSUB

    # ------------------------------------------------------------ subscribe / unsubscribe

    def subscribe(self, c: Client, channel: bytes, shard: bool = False) -> bool:
        """pubsubSubscribeChannel: True when newly subscribed."""
        s = self.subs(c)
        mine = s.shard if shard else s.channels
        c.flags |= CLIENT_PUBSUB
        if channel in mine:
            return False
        mine[channel] = None
        (c.pubsub_shard_channels if shard else c.pubsub_channels).add(channel)
        registry = self.shard_channels if shard else self.channels
        clients = registry.get(channel)
        if clients is None:
            clients = registry[channel] = {}
        clients[c] = None
        return True

    def unsubscribe(self, c: Client, channel: bytes, shard: bool = False) -> bool:
        """pubsubUnsubscribeChannel: True when the client was subscribed."""
        s = self.clients.get(c)
        mine = None if s is None else (s.shard if shard else s.channels)
        if not mine or channel not in mine:
            return False
        del mine[channel]
        (c.pubsub_shard_channels if shard else c.pubsub_channels).discard(channel)
        registry = self.shard_channels if shard else self.channels
        clients = registry.get(channel)
        if clients is not None:
            clients.pop(c, None)
            if not clients:
                del registry[channel]
        return True

    def psubscribe(self, c: Client, pattern: bytes) -> bool:
        s = self.subs(c)
        c.flags |= CLIENT_PUBSUB
        if pattern in s.patterns:
            return False
        s.patterns[pattern] = None
        c.pubsub_patterns.add(pattern)
        clients = self.patterns.get(pattern)
        if clients is None:
            clients = self.patterns[pattern] = {}
            self.matchers[pattern] = compile_matcher(pattern)
        clients[c] = None
        return True

    def punsubscribe(self, c: Client, pattern: bytes) -> bool:
        s = self.clients.get(c)
        if s is None or pattern not in s.patterns:
            return False
        del s.patterns[pattern]
        c.pubsub_patterns.discard(pattern)
        clients = self.patterns.get(pattern)
        if clients is not None:
            clients.pop(c, None)
            if not clients:
                del self.patterns[pattern]
                self.matchers.pop(pattern, None)
        return True

    def channels_of(self, c: Client, shard: bool = False) -> list[bytes]:
        s = self.clients.get(c)
        if s is None:
            return []
        return list(s.shard if shard else s.channels)

    def patterns_of(self, c: Client) -> list[bytes]:
        s = self.clients.get(c)
        return list(s.patterns) if s is not None else []

    def drop_client(self, c: Client) -> None:
        """Every subscription of ``c`` goes, silently (disconnect, RESET)."""
        s = self.clients.get(c)
        if s is not None:
            for ch in list(s.channels):
                self.unsubscribe(c, ch)
            for ch in list(s.shard):
                self.unsubscribe(c, ch, shard=True)
            for p in list(s.patterns):
                self.punsubscribe(c, p)
            self.clients.pop(c, None)
        c.pubsub_channels.clear()
        c.pubsub_patterns.clear()
        c.pubsub_shard_channels.clear()
        c.flags &= ~CLIENT_PUBSUB

    # ------------------------------------------------------------ delivery

    def publish(self, channel: bytes, message: bytes) -> int:
        """pubsubPublishMessage: channel subscribers in subscription order, then each matching
        pattern's subscribers. Returns the number of deliveries."""
        receivers = 0
        clients = self.channels.get(channel)
        if clients:
            receivers = _deliver(list(clients), [MESSAGE, channel, message])
        if self.patterns:
            matchers = self.matchers
            for pattern, pclients in list(self.patterns.items()):
                if pclients and matchers[pattern](channel):
                    receivers += _deliver(list(pclients), [PMESSAGE, pattern, channel, message])
        return receivers

    def spublish(self, channel: bytes, message: bytes) -> int:
        """Shard channels ignore patterns."""
        clients = self.shard_channels.get(channel)
        return _deliver(list(clients), [SMESSAGE, channel, message]) if clients else 0


def _deliver(clients: list[Client], frame: list[bytes]) -> int:
    """Send one message frame to every client, encoded once per protocol version (straight to
    each connection's out-of-band queue: no per-subscriber encoding)."""
    f2 = f3 = None
    for c in clients:
        conn = c.conn
        if conn is None:
            continue
        if c.resp == 3:
            if f3 is None:
                f3 = encode3(Push(frame))
            conn.send_raw(f3)
        else:
            if f2 is None:
                f2 = encode2(Push(frame))
            conn.send_raw(f2)
    return len(clients)


def get_pubsub(state: ServerState) -> PubSub:
    """The server's registry, created on first use."""
    ps = state.__dict__.get("pubsub")
    if ps is None:
        ps = state.pubsub = PubSub()  # type: ignore[attr-defined]
        # INFO stats reads these (pubsub_channels / pubsub_patterns / pubsubshard_channels);
        # the dicts are only ever changed in place, so the aliases stay true
        state.pubsub_channels = ps.channels  # type: ignore[attr-defined]
        state.pubsub_patterns = ps.patterns  # type: ignore[attr-defined]
        state.pubsub_shard_channels = ps.shard_channels  # type: ignore[attr-defined]
    return ps


def publish(state: ServerState, channel: bytes, message: bytes) -> int:
    """Deliver ``message`` to ``channel``'s subscribers and matching patterns; the number of
    receivers (PUBLISH's reply). The keyspace-notification code calls this too."""
    ps = state.__dict__.get("pubsub")
    if ps is None:
        return 0
    return ps.publish(channel, message)


def spublish(state: ServerState, channel: bytes, message: bytes) -> int:
    ps = state.__dict__.get("pubsub")
    if ps is None:
        return 0
    return ps.spublish(channel, message)


def _drop_hook(state: ServerState, c: Client) -> None:
    ps = state.__dict__.get("pubsub")
    if ps is not None:
        ps.drop_client(c)


def _install_hooks() -> None:
    from . import state as state_mod

    if _drop_hook not in state_mod.CLIENT_DISCONNECT_HOOKS:
        state_mod.CLIENT_DISCONNECT_HOOKS.append(_drop_hook)
    if _drop_hook not in state_mod.CLIENT_RESET_HOOKS:
        state_mod.CLIENT_RESET_HOOKS.append(_drop_hook)
