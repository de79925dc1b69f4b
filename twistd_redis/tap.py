"""twistd plugin options and service construction: ``twistd -n redis [options]``.

Options mirror redis-server's: ``--port``, ``--bind``, ``--dir``, ``--requirepass`` ... and any
config directive as ``--name value``; ``--config FILE`` reads a redis.conf (flags given on the
command line override it); ``--listen`` takes Twisted endpoint strings and may repeat.
"""

from __future__ import annotations

import sys
from typing import Any, Mapping

from twisted.application import service, strports
from twisted.python import usage

from .config import Config, ConfigError, apply_directives, load_config_file

DEFAULT_PORT = 6379


class Options(usage.Options):
    synopsis = "[options]"
    longdesc = (
        "Run a Redis-compatible server. Every redis.conf directive may be given as --name value "
        "(e.g. --port 6380 --requirepass s3cret --maxmemory 100mb)."
    )
    optParameters = [
        ["config", "c", None, "A redis.conf-format file; command-line options override it."],
        ["port", "p", None, "TCP port to listen on (default 6379; 0 = no TCP listener)."],
        ["bind", "b", None, "Addresses to bind, space separated (default 127.0.0.1)."],
        ["dir", None, None, "Working directory for RDB/AOF files."],
        ["dbfilename", None, None, "RDB file name."],
        ["requirepass", None, None, "Require AUTH with this password."],
        ["databases", None, None, "Number of databases."],
        ["unixsocket", None, None, "Also listen on this unix socket path."],
    ]
    compData = usage.Completions()

    def __init__(self) -> None:
        usage.Options.__init__(self)
        self["listen"] = []
        self["directives"] = []

    def opt_listen(self, desc: str) -> None:
        """A Twisted endpoint string to listen on, e.g. tcp:6379:interface=127.0.0.1 or
        unix:/tmp/redis.sock (repeatable; replaces --port/--bind)."""
        self["listen"].append(desc)

    def parseOptions(self, options: list[str] | None = None) -> None:
        if options is None:
            options = sys.argv[1:]
        known = {o[0] for o in self.optParameters} | {"listen", "help", "version"}
        rest: list[str] = []
        probe = Config()
        i = 0
        while i < len(options):
            a = options[i]
            if a.startswith("--") and len(a) > 2:
                name, eq, val = a[2:].partition("=")
                if name not in known and probe.lookup(name) is not None:
                    if not eq:
                        # a directive takes the following words up to the next --option
                        vals = []
                        while i + 1 < len(options) and not options[i + 1].startswith("--"):
                            i += 1
                            vals.append(options[i])
                        if not vals:
                            raise usage.UsageError(f"option --{name} requires a value")
                        val = " ".join(vals)
                    self["directives"].append((name, [val]))
                    i += 1
                    continue
            rest.append(a)
            i += 1
        usage.Options.parseOptions(self, rest)

    def postOptions(self) -> None:
        try:
            self["configobj"] = build_config(self)
        except ConfigError as e:
            raise usage.UsageError(str(e))


def build_config(opts: Mapping[str, Any]) -> Config:
    """A Config from parsed options: the file first, then every flag in order."""
    cfg = Config()
    directives: list[tuple[str, list[str]]] = []
    for name in ("port", "bind", "dir", "dbfilename", "requirepass", "databases", "unixsocket"):
        v = opts.get(name)
        if v is not None:
            directives.append((name, [str(v)]))
    directives.extend(opts.get("directives", []))
    if opts.get("config"):
        try:
            load_config_file(cfg, opts["config"])
        except OSError as e:
            raise ConfigError(f"can't open config file '{opts['config']}': {e.strerror}")
    try:
        apply_directives(cfg, directives)
    except ConfigError as e:
        raise ConfigError(f"bad option: {e}")
    return cfg


def _bind_descriptions(cfg: Config) -> list[str]:
    port = cfg["port"]
    descs = []
    if port:
        for addr in cfg["bind"].split():
            optional = addr.startswith("-")
            addr = addr.lstrip("-")
            if optional and addr in ("::1", "::"):
                continue  # IPv6 is optional in Redis's default bind; we skip it
            if addr == "*":
                addr = "0.0.0.0"
            iface = addr.replace(":", "\\:")
            descs.append(f"tcp:{port}:interface={iface}")
    if cfg["unixsocket"]:
        descs.append("unix:" + cfg["unixsocket"].replace(":", "\\:"))
    return descs


def make_service(options: Any = None, clock: Any = None) -> service.MultiService:
    """An IService running a server: give it parsed Options, a Config, a dict of directives
    (``{"port": 6380}``) or None for the defaults. Add it to any Application."""
    from .protocol import RedisServerFactory
    from .state import ServerState

    if isinstance(options, Config):
        cfg = options
        listen: list[str] = []
    elif isinstance(options, usage.Options):
        cfg = options.get("configobj") or build_config(options)
        listen = list(options.get("listen", []))
    else:
        opts = dict(options or {})
        listen = list(opts.pop("listen", []))
        cfg = Config()
        apply_directives(cfg, [(k.replace("_", "-"), [str(v)]) for k, v in opts.items()])
    top = service.MultiService()
    state = ServerState(cfg, clock=clock)
    # loadDataFromDisk before any listener exists: a corrupt file raises StartupError
    from .persistence.snapshot import load_on_startup

    load_on_startup(state)
    state.setServiceParent(top)
    factory = RedisServerFactory(state)
    for desc in listen or _bind_descriptions(cfg):
        svc = strports.service(desc, factory)
        svc.setServiceParent(top)
        state.listening_ports.append(svc)
    top.state = state  # type: ignore[attr-defined]
    top.factory = factory  # type: ignore[attr-defined]
    return top


def makeService(options: Options) -> service.MultiService:
    """The twistd entry point. A dataset that cannot be loaded stops twistd with exit code 1
    and one clear line (the file and the offset), never a half-loaded server."""
    from .persistence.snapshot import StartupError

    try:
        return make_service(options)
    except StartupError as e:
        sys.stderr.write(f"twistd-redis: {e}\n")
        sys.stderr.flush()
        raise SystemExit(1)
