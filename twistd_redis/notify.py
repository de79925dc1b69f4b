"""Keyspace notifications (Redis's notify.c): ``__keyspace@<db>__:<key>`` and
``__keyevent@<db>__:<event>`` messages published through pub/sub.

Commands call ``state.notify_keyspace_event(type_letter, event, key, dbid)``; while
``notify-keyspace-events`` is empty that costs one attribute test (``state.notify_flags``) and
nothing else. Otherwise it calls ``state.keyspace_notifier`` - a :class:`KeyspaceNotifier`
installed by ``ServerState.__init__`` (unit tests may replace it per instance with a recorder).

The flag string is turned into bits once per config change (a config listener sets
``state.notify_bits``); an event then costs a dict lookup for its class letter and a bit test.
The config value is a ``config.NotifyFlags``: a str that also carries the bits, because with
every class set Redis 7.0 shows ``AKE`` for ``KEAn`` yet still fires ``new``.

Two classes are not in ``A`` and are fired from the keyspace itself only when enabled (so the
common path pays nothing): ``n`` (``new``, from ``Database.add`` - Redis's dbAdd) and ``m``
(``keymiss``, from a read lookup that misses - lookupKeyGeneric without LOOKUP_NONOTIFY).
Eviction (``e``) never fires: this server has no maxmemory eviction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import (
    NOTIFY_KEYEVENT,
    NOTIFY_KEYSPACE,
    NOTIFY_LETTERS,
    keyspace_events_string_to_flags,
)
from .pubsub import publish

if TYPE_CHECKING:  # pragma: no cover
    from .state import ServerState

# The type letter a command passes -> its class bit (notifyKeyspaceEvent's ``type``): the
# config's letters without A (all), K and E (channels, not classes).
TYPE_BITS: dict[str, int] = {k: v for k, v in NOTIFY_LETTERS.items() if k not in "AKE"}


def flags_bits(value: Any) -> int:
    """The bits of a notify-keyspace-events value (a NotifyFlags, or a plain letter string)."""
    bits = getattr(value, "bits", None)
    if bits is None:
        bits = keyspace_events_string_to_flags(value or "")
        bits = max(bits, 0)
    return bits


class KeyspaceNotifier:
    """notifyKeyspaceEvent for one server: publish on the keyspace and/or keyevent channel."""

    __slots__ = ("_event", "_space", "state")

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self._space: dict[int, bytes] = {}  # dbid -> b"__keyspace@<db>__:"
        self._event: dict[int, bytes] = {}  # dbid -> b"__keyevent@<db>__:"

    def __call__(self, type_flag: str, event: bytes, key: bytes, dbid: int) -> None:
        state = self.state
        bits = state.notify_bits
        if not bits & TYPE_BITS[type_flag]:
            return
        if bits & NOTIFY_KEYSPACE:
            prefix = self._space.get(dbid)
            if prefix is None:
                prefix = self._space[dbid] = b"__keyspace@%d__:" % dbid
            publish(state, prefix + bytes(key), event)
        if bits & NOTIFY_KEYEVENT:
            prefix = self._event.get(dbid)
            if prefix is None:
                prefix = self._event[dbid] = b"__keyevent@%d__:" % dbid
            publish(state, prefix + event, bytes(key))


def install_notifier(state: ServerState) -> None:
    """Give ``state`` its notifier and keep ``state.notify_bits`` in step with the config."""
    state.keyspace_notifier = KeyspaceNotifier(state)
    state.notify_bits = flags_bits(state.config["notify-keyspace-events"])

    def changed(value: Any) -> None:
        state.notify_bits = flags_bits(value)

    state.config.on_change("notify-keyspace-events", changed)
