"""The command table: one ``CommandSpec`` row per command, registered by ``@command``.

Rows follow Redis 7's command JSON files: arity (negative = at least), flags, and the legacy
key positions (first, last, step; last -1 = to the end). Dispatch, COMMAND INFO/COUNT/LIST,
MULTI rules and the read-only-replica gate all read these rows. Container commands (CLIENT,
CONFIG, OBJECT, ...) have a row of their own and one row per subcommand, named ``client|kill``.
"""

from __future__ import annotations

from typing import Any, Callable

# Command flags, as in Redis's server.h CMD_* (names are what COMMAND INFO shows).
WRITE = 1 << 0
READONLY = 1 << 1
DENYOOM = 1 << 2
MODULE = 1 << 3
ADMIN = 1 << 4
PUBSUB = 1 << 5
NOSCRIPT = 1 << 6
BLOCKING = 1 << 8
LOADING = 1 << 9
STALE = 1 << 10
SKIP_MONITOR = 1 << 11
SKIP_SLOWLOG = 1 << 12
ASKING = 1 << 13
FAST = 1 << 14
NO_AUTH = 1 << 15
MAY_REPLICATE = 1 << 16
SENTINEL = 1 << 17
ONLY_SENTINEL = 1 << 18
NO_MANDATORY_KEYS = 1 << 19
PROTECTED = 1 << 20
MODULE_GETKEYS = 1 << 21
MODULE_NO_CLUSTER = 1 << 22
NO_ASYNC_LOADING = 1 << 23
NO_MULTI = 1 << 24
MOVABLE_KEYS = 1 << 25
ALLOW_BUSY = 1 << 26

FLAG_NAMES = [
    (WRITE, "write"),
    (READONLY, "readonly"),
    (DENYOOM, "denyoom"),
    (MODULE, "module"),
    (ADMIN, "admin"),
    (PUBSUB, "pubsub"),
    (NOSCRIPT, "noscript"),
    (BLOCKING, "blocking"),
    (LOADING, "loading"),
    (STALE, "stale"),
    (SKIP_MONITOR, "skip_monitor"),
    (SKIP_SLOWLOG, "skip_slowlog"),
    (ASKING, "asking"),
    (FAST, "fast"),
    (NO_AUTH, "no_auth"),
    (MAY_REPLICATE, "may_replicate"),
    (NO_MANDATORY_KEYS, "no_mandatory_keys"),
    (NO_ASYNC_LOADING, "no_async_loading"),
    (NO_MULTI, "no_multi"),
    (MOVABLE_KEYS, "movablekeys"),
    (ALLOW_BUSY, "allow_busy"),
]

CommandFunc = Callable[..., Any]


class CommandSpec:
    """One command: its function, its Redis metadata, and its INFO commandstats counters."""

    __slots__ = (
        "name",
        "fullname",
        "func",
        "arity",
        "flags",
        "first_key",
        "last_key",
        "step",
        "group",
        "parent",
        "subcommands",
        "calls",
        "nsec",
        "rejected_calls",
        "failed_calls",
    )

    def __init__(
        self,
        fullname: str,
        func: CommandFunc | None,
        arity: int,
        flags: int,
        keys: tuple[int, int, int],
        group: str,
    ) -> None:
        self.fullname = fullname
        self.name = fullname.split("|")[-1]
        self.func = func
        self.arity = arity
        self.flags = flags
        self.first_key, self.last_key, self.step = keys
        self.group = group
        self.parent: CommandSpec | None = None
        self.subcommands: dict[bytes, CommandSpec] | None = None
        self.calls = 0
        self.nsec = 0  # time spent, in nanoseconds (INFO shows microseconds)
        self.rejected_calls = 0
        self.failed_calls = 0

    def arity_ok(self, argc: int) -> bool:
        a = self.arity
        return argc == a if a > 0 else argc >= -a

    def flag_names(self) -> list[str]:
        return [n for f, n in FLAG_NAMES if self.flags & f]

    def key_positions(self, argv: list[bytes]) -> list[int]:
        """Indexes of the key arguments, from the legacy (first, last, step) triple."""
        if self.first_key <= 0:
            return []
        last = self.last_key
        if last < 0:
            last = len(argv) + last
        return list(range(self.first_key, min(last, len(argv) - 1) + 1, self.step or 1))

    @property
    def usec(self) -> int:
        return self.nsec // 1000

    def reset_stats(self) -> None:
        self.calls = self.nsec = self.rejected_calls = self.failed_calls = 0

    def __repr__(self) -> str:
        return f"<CommandSpec {self.fullname} arity={self.arity}>"


# The registry filled at import time by @command; ServerState builds its dispatch dict from it.
REGISTRY: dict[str, CommandSpec] = {}


def command(
    name: str,
    arity: int,
    flags: int = 0,
    keys: tuple[int, int, int] = (0, 0, 0),
    group: str = "generic",
) -> Callable[[CommandFunc], CommandFunc]:
    """Register ``func(client, argv) -> reply`` as command ``name`` (``parent|sub`` for a
    subcommand; the parent row must be registered first, with ``container()``)."""

    def register(func: CommandFunc) -> CommandFunc:
        spec = CommandSpec(name, func, arity, flags, keys, group)
        if "|" in name:
            parent_name, sub = name.split("|", 1)
            parent = REGISTRY[parent_name]
            spec.parent = parent
            assert parent.subcommands is not None, f"{parent_name} is not a container"
            parent.subcommands[sub.encode()] = spec
        else:
            REGISTRY[name] = spec
        return func

    return register


def container(name: str, arity: int = -2, flags: int = 0, group: str = "generic") -> CommandSpec:
    """Register a container command (CLIENT, CONFIG, ...) whose rows are its subcommands."""
    spec = CommandSpec(name, None, arity, flags, (0, 0, 0), group)
    spec.subcommands = {}
    REGISTRY[name] = spec
    return spec


def help_reply(name: str, lines: list[str]) -> list[Any]:
    """addReplyHelp: a header, the lines, and HELP's own entry, as status strings."""
    from ..resp import SimpleString

    out = [SimpleString(b"%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" % name.encode())]
    out.extend(SimpleString(ln.encode()) for ln in lines)
    out.append(SimpleString(b"HELP"))
    out.append(SimpleString(b"    Prints this help."))
    return out


def all_specs() -> list[CommandSpec]:
    """Every row, subcommands included."""
    out = []
    for spec in REGISTRY.values():
        out.append(spec)
        if spec.subcommands:
            out.extend(spec.subcommands.values())
    return out
