"""``python -m twistd_redis [options]``: the same service as ``twistd -n redis``, run on the
reactor directly, without twistd's daemon machinery (no pid file, logs to stdout)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from twisted.python import usage

    from .tap import Options, make_service

    opts = Options()
    try:
        opts.parseOptions(sys.argv[1:] if argv is None else argv)
    except usage.UsageError as e:
        print(f"{sys.argv[0]}: {e}", file=sys.stderr)
        print(f"{sys.argv[0]}: Try --help for usage details.", file=sys.stderr)
        return 1

    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver

    from .persistence.snapshot import StartupError

    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stdout)])
    try:
        svc = make_service(opts)  # loads the RDB / AOF before anything listens
    except StartupError as e:  # a corrupt or unreadable data file: refuse to serve
        print(f"twistd-redis: {e}", file=sys.stderr)
        return 1
    failed = []

    def start() -> None:
        try:
            svc.startService()
        except Exception as e:  # a port in use
            print(f"twistd-redis: {e}", file=sys.stderr)
            failed.append(e)
            reactor.stop()

    reactor.callWhenRunning(start)
    reactor.addSystemEventTrigger("before", "shutdown", svc.stopService)
    reactor.run()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
