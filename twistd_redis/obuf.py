"""client-output-buffer-limit: the per-class output limits Redis 7.0 enforces, so that a client
that does not read its replies (a slow Pub/Sub subscriber, a stuck replica, a pipeline nobody
drains) cannot grow the server's memory without bound.

This module owns the limits as CONFIG holds them, sorted by client class the way Redis's
``getClientType`` sorts clients, and ``check_output_buffer_limits``, the rule Redis's
``checkClientOutputBufferLimits`` applies:

- the hard limit closes the client as soon as its pending output reaches it;
- the soft limit closes it once its pending output has stayed at or above the soft limit for
  more than ``soft_seconds`` whole seconds (the timer starts the first time the limit is seen
  reached, and resets as soon as a check finds the output below it);
- a limit of 0 is no limit.

The protocol (protocol.py) measures the pending output: the bytes Twisted's transport still holds
(its write buffer) plus the replies of the batch being built. It asks this module only when the
transport has told it (``pauseProducing``) that its buffer passed ``bufferSize``, or when a batch
of replies grows past the lowest limit of the client's class, so the GET/SET path pays nothing.
"""

from __future__ import annotations

from typing import Any

from .client import CLIENT_MASTER, CLIENT_MONITOR, CLIENT_PUBSUB, CLIENT_SLAVE

# The flags getClientType looks at. Every combination is precomputed into a dict, so the
# protocol finds its class's limits with one ``flags & OBUF_CLASS_FLAGS`` lookup.
OBUF_CLASS_FLAGS = CLIENT_MASTER | CLIENT_SLAVE | CLIENT_MONITOR | CLIENT_PUBSUB

# Twisted's FileDescriptor.bufferSize: the transport pauses its producer past this many bytes.
TRANSPORT_BUFFER_SIZE = 1 << 16

NO_LIMITS = (0, 0, 0)


def client_class(flags: int) -> str:
    """getClientType, as the output limits use it: the master link counts as a normal client;
    MONITOR clients (which Redis marks as replicas too) are normal clients, not replicas."""
    if flags & CLIENT_MASTER:
        return "normal"
    if flags & CLIENT_SLAVE and not flags & CLIENT_MONITOR:
        return "slave"
    if flags & CLIENT_PUBSUB:
        return "pubsub"
    return "normal"


def _all_class_flag_sets() -> list[int]:
    bits = [CLIENT_MASTER, CLIENT_SLAVE, CLIENT_MONITOR, CLIENT_PUBSUB]
    out = []
    for mask in range(1 << len(bits)):
        f = 0
        for i, b in enumerate(bits):
            if mask >> i & 1:
                f |= b
        out.append(f)
    return out


class OutputBufferLimits:
    """The limits of one server, kept in step with CONFIG SET (changes apply at once).

    ``limits[flags & OBUF_CLASS_FLAGS]`` is the class's (hard, soft, soft_seconds);
    ``caps[flags & OBUF_CLASS_FLAGS]`` the smallest non-zero of hard and soft (0: no limit), the
    size from which a growing batch of replies must be checked; ``low`` is True when some
    limit is below the transport's buffer size, where the pause signal would come too late."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.limits: dict[int, tuple[int, int, int]] = {}
        self.caps: dict[int, int] = {}
        self.low = False
        self.reload()
        config.on_change("client-output-buffer-limit", self.reload)
        config.on_change("repl-backlog-size", self.reload)

    def reload(self, _value: Any = None) -> None:
        by_class = dict(self.config.client_output_buffer_limits())
        hard, soft, secs = by_class["slave"]
        # Redis 7.0: a replica's hard limit below repl-backlog-size is raised to it (the
        # replica shares the backlog's buffer; a partial sync would otherwise succeed and then
        # the replica be dropped at once).
        backlog = self.config["repl-backlog-size"]
        if hard and hard < backlog:
            by_class["slave"] = (backlog, soft, secs)
        limits = {}
        caps = {}
        low = False
        for f in _all_class_flag_sets():
            lim = by_class.get(client_class(f), NO_LIMITS)
            limits[f] = lim
            nonzero = [x for x in lim[:2] if x]
            caps[f] = min(nonzero) if nonzero else 0
            if caps[f] and caps[f] <= TRANSPORT_BUFFER_SIZE:
                low = True
        # update in place: protocols hold references to these dicts
        self.limits.clear()
        self.limits.update(limits)
        self.caps.clear()
        self.caps.update(caps)
        self.low = low


def limits_for(state: Any) -> OutputBufferLimits:
    """The server's OutputBufferLimits, made on first use (one per ServerState)."""
    obl = state.__dict__.get("obuf_limits")
    if obl is None:
        obl = state.obuf_limits = OutputBufferLimits(state.config)
    return obl


def check_output_buffer_limits(
    limits: tuple[int, int, int], used: int, soft_since: int | None, now: int
) -> tuple[bool, int | None]:
    """checkClientOutputBufferLimits: (limit reached, new soft-limit start time).

    ``used`` is the pending output in bytes, ``now`` the server's unixtime (whole seconds),
    ``soft_since`` when the soft limit was first seen reached (None: not reached)."""
    hard_limit, soft_limit, soft_seconds = limits
    hard = bool(hard_limit and used >= hard_limit)
    soft = False
    if soft_limit and used >= soft_limit:
        if soft_since is None:
            soft_since = now  # first time we see the soft limit reached
        elif now - soft_since > soft_seconds:
            soft = True
    else:
        soft_since = None
    return hard or soft, soft_since
