"""The config table and redis.conf parsing; CONFIG GET/SET/RESETSTAT/REWRITE live in
commands/server.py and read this module.

Each ``Param`` row carries the name (and alias), a type that parses and formats values the way
Redis's config.c does (yes/no booleans, memory units like ``512mb``, enums, strings), the
default, whether CONFIG SET may change it at run time, and bounds. ``Config.set`` validates and
applies; listeners registered with ``on_change`` let the owner (ServerState) react live.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from .errors import RedisError

_MEM_UNITS = {"": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}
_MEM_RE = re.compile(r"^(-?\d+)([a-z]*)$")
LLONG_MAX = 2**63 - 1


class ConfigError(ValueError):
    """A bad value; the text is Redis's reason (``argument must be a memory value``)."""


def parse_memory(s: str) -> int:
    m = _MEM_RE.match(s.lower())
    if not m or m.group(2) not in _MEM_UNITS:
        raise ConfigError("argument must be a memory value")
    return int(m.group(1)) * _MEM_UNITS[m.group(2)]


def format_memory(v: int) -> str:
    """CONFIG GET shows memory values in plain bytes (Redis 7); REWRITE uses units."""
    return str(v)


class Param:
    __slots__ = ("name", "alias", "kind", "default", "mutable", "lo", "hi", "choices", "multi", "sensitive")

    def __init__(
        self,
        name: str,
        kind: str,
        default: Any,
        mutable: bool = True,
        lo: int = -LLONG_MAX - 1,
        hi: int = LLONG_MAX,
        choices: Iterable[str] = (),
        alias: str | None = None,
        multi: bool = False,
        sensitive: bool = False,
    ) -> None:
        self.name = name
        self.kind = kind  # bool | int | memory | string | enum | flags | special
        self.default = default
        self.mutable = mutable
        self.lo = lo
        self.hi = hi
        self.choices = tuple(choices)
        self.alias = alias
        self.multi = multi  # an enum that takes several words (e.g. "save", "oom-score-adj")
        self.sensitive = sensitive

    def parse(self, raw: str) -> Any:
        k = self.kind
        if k == "bool":
            low = raw.lower()
            if low == "yes":
                return True
            if low == "no":
                return False
            raise ConfigError("argument must be 'yes' or 'no'")
        if k in ("int", "memory"):
            try:
                v = parse_memory(raw) if k == "memory" else int(raw, 10)
            except (ConfigError, ValueError):
                raise ConfigError(
                    "argument must be a memory value" if k == "memory" else "argument couldn't be parsed into an integer"
                )
            if not (self.lo <= v <= self.hi):
                raise ConfigError(f"argument must be between {self.lo} and {self.hi} inclusive")
            return v
        if k == "enum":
            low = raw.lower()
            if low not in self.choices:
                raise ConfigError("argument(s) must be one of the following: " + ", ".join(self.choices))
            return low
        return raw

    def format(self, v: Any) -> str:
        k = self.kind
        if k == "bool":
            return "yes" if v else "no"
        if k in ("int", "memory"):
            return str(v)
        return str(v)


# name, kind, default, extra. The defaults are Redis 7.0's (CONFIG GET * on a fresh server).
PARAMS: list[Param] = [
    Param("bind", "string", "127.0.0.1 -::1"),
    Param("port", "int", 6379, lo=0, hi=65535),
    Param("unixsocket", "string", "", mutable=False),
    Param("unixsocketperm", "int", 0, mutable=False),
    Param("timeout", "int", 0, lo=0, hi=2**31 - 1),
    Param("tcp-keepalive", "int", 300, lo=0, hi=2**31 - 1),
    Param("tcp-backlog", "int", 511, mutable=False),
    Param("protected-mode", "bool", True),
    Param("databases", "int", 16, mutable=False, lo=1, hi=2**31 - 1),
    Param("dir", "string", "."),
    Param("dbfilename", "string", "dump.rdb"),
    Param("requirepass", "string", "", sensitive=True),
    Param("masterauth", "string", "", sensitive=True),
    Param("masteruser", "string", ""),
    Param("logfile", "string", "", mutable=False),
    Param("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning", "nothing")),
    Param("daemonize", "bool", False, mutable=False),
    Param("pidfile", "string", "", mutable=False),
    Param("hz", "int", 10, lo=0, hi=2**31 - 1),
    Param("dynamic-hz", "bool", True),
    Param("maxclients", "int", 10000, lo=1, hi=2**32 - 1),
    Param("maxmemory", "memory", 0, lo=0),
    Param(
        "maxmemory-policy",
        "enum",
        "noeviction",
        choices=(
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ),
    ),
    Param("maxmemory-samples", "int", 5, lo=1, hi=64),
    Param("proto-max-bulk-len", "memory", 512 * 1024 * 1024, lo=1024 * 1024),
    Param("client-query-buffer-limit", "memory", 1024 * 1024 * 1024, lo=1024 * 1024, hi=2**32 * 1024),
    Param("slowlog-log-slower-than", "int", 10000),
    Param("slowlog-max-len", "int", 128, lo=0, hi=2**63 - 1),
    Param("latency-monitor-threshold", "int", 0, lo=0),
    Param("notify-keyspace-events", "string", ""),
    Param("appendonly", "bool", False),
    Param("appendfilename", "string", "appendonly.aof", mutable=False),
    Param("appenddirname", "string", "appendonlydir", mutable=False),
    Param("appendfsync", "enum", "everysec", choices=("always", "everysec", "no")),
    Param("save", "string", "3600 1 300 100 60 10000"),
    Param("rdbcompression", "bool", True),
    Param("rdbchecksum", "bool", True),
    Param("replica-read-only", "bool", True, alias="slave-read-only"),
    Param("replica-serve-stale-data", "bool", True, alias="slave-serve-stale-data"),
    Param("replicaof", "string", "", mutable=False, alias="slaveof"),
    Param("repl-backlog-size", "memory", 1024 * 1024, lo=1),
    Param("repl-backlog-ttl", "int", 3600, lo=0),
    Param("repl-ping-replica-period", "int", 10, lo=1, alias="repl-ping-slave-period"),
    Param("repl-timeout", "int", 60, lo=1),
    Param("repl-diskless-sync", "bool", True),
    Param("min-replicas-to-write", "int", 0, lo=0, alias="min-slaves-to-write"),
    Param("min-replicas-max-lag", "int", 10, lo=0, alias="min-slaves-max-lag"),
    Param("lua-time-limit", "int", 5000, alias="busy-reply-threshold"),
    Param("list-max-listpack-size", "int", -2, alias="list-max-ziplist-size"),
    Param("list-compress-depth", "int", 0, lo=0),
    Param("hash-max-listpack-entries", "int", 128, lo=0, alias="hash-max-ziplist-entries"),
    Param("hash-max-listpack-value", "int", 64, lo=0, alias="hash-max-ziplist-value"),
    Param("set-max-intset-entries", "int", 512, lo=0),
    Param("zset-max-listpack-entries", "int", 128, lo=0, alias="zset-max-ziplist-entries"),
    Param("zset-max-listpack-value", "int", 64, lo=0, alias="zset-max-ziplist-value"),
    Param("activerehashing", "bool", True),
    Param("active-expire-effort", "int", 1, lo=1, hi=10),
    Param("lfu-log-factor", "int", 10, lo=0),
    Param("lfu-decay-time", "int", 1, lo=0),
    Param("lazyfree-lazy-user-del", "bool", False),
    Param("lazyfree-lazy-user-flush", "bool", False),
    Param("lazyfree-lazy-expire", "bool", False),
    Param("lazyfree-lazy-server-del", "bool", False),
    Param("io-threads", "int", 1, mutable=False, lo=1, hi=128),
    Param("enable-debug-command", "enum", "no", mutable=False, choices=("no", "yes", "local")),
    Param("enable-protected-configs", "enum", "no", mutable=False, choices=("no", "yes", "local")),
    Param("client-output-buffer-limit", "string", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
]


class Config:
    """Current values, by canonical name. ``get_value(name)`` reads; ``set(name, raw)`` parses,
    validates and notifies listeners; ``matching(pattern)`` serves CONFIG GET's globs."""

    def __init__(self, params: list[Param] | None = None) -> None:
        self.params: dict[str, Param] = {}
        self.aliases: dict[str, str] = {}
        for p in params or PARAMS:
            self.params[p.name] = p
            if p.alias:
                self.aliases[p.alias] = p.name
        self.values: dict[str, Any] = {p.name: p.default for p in self.params.values()}
        self.listeners: dict[str, list[Callable[[Any], None]]] = {}
        self.config_file: str | None = None

    def lookup(self, name: str) -> Param | None:
        name = name.lower()
        name = self.aliases.get(name, name)
        return self.params.get(name)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get_value(self, name: str) -> Any:
        return self.values[name]

    def format(self, name: str) -> str:
        return self.params[name].format(self.values[name])

    def set(self, name: str, raw: str, startup: bool = False) -> None:
        """Parse and store a value. Raises ConfigError (bad value) or KeyError (unknown)."""
        p = self.lookup(name)
        if p is None:
            raise KeyError(name)
        if not startup and not p.mutable:
            raise ConfigError("can't set immutable config")
        value = p.parse(raw)
        old = self.values[p.name]
        self.values[p.name] = value
        if value != old or startup:
            for fn in self.listeners.get(p.name, ()):
                try:
                    fn(value)
                except ConfigError:
                    self.values[p.name] = old
                    raise

    def on_change(self, name: str, fn: Callable[[Any], None]) -> None:
        self.listeners.setdefault(name, []).append(fn)

    def names(self) -> list[str]:
        return list(self.params)


# ---------------------------------------------------------------- redis.conf files


def split_config_line(line: str) -> list[str] | None:
    """A redis.conf line split like sdssplitargs; None for blank lines and comments."""
    from .resp import split_args

    line = line.strip()
    if not line or line.startswith("#"):
        return None
    parts = split_args(line.encode())
    if parts is None:
        raise ConfigError("Unbalanced quotes in configuration line")
    return [p.decode("utf-8", "surrogateescape") for p in parts]


def parse_config_text(text: str) -> list[tuple[str, list[str]]]:
    """Directives in file order: ``[(name, args), ...]``; ``include`` is left to the caller."""
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        try:
            parts = split_config_line(line)
        except ConfigError as e:
            raise ConfigError(f"line {lineno}: {e}")
        if parts:
            out.append((parts[0].lower(), parts[1:]))
    return out


def load_config_file(config: Config, path: str) -> None:
    """Apply a redis.conf file to ``config`` (startup: immutable params may be set)."""
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    config.config_file = path
    apply_directives(config, parse_config_text(text))


def apply_directives(config: Config, directives: list[tuple[str, list[str]]]) -> None:
    for name, args in directives:
        if name == "include":
            for inc in args:
                load_config_file(config, inc)
            continue
        p = config.lookup(name)
        if p is None:
            raise ConfigError(f"Bad directive or wrong number of arguments: '{name}'")
        if p.name == "save" and config.values.get("_save_seen") is None:
            config.values["_save_seen"] = True
            config.set("save", " ".join(args) if args != [""] else "", startup=True)
        elif p.name == "save":
            joined = (config.values["save"] + " " + " ".join(args)).strip()
            config.set("save", joined, startup=True)
        else:
            config.set(name, " ".join(args), startup=True)
    config.values.pop("_save_seen", None)
