"""ServerLog: Redis-style log lines (printf-style, like serverLog) through Twisted's logger, so
twistd and ``python -m twistd_redis`` print them with their own format."""

from __future__ import annotations

from typing import Any


class ServerLog:
    def __init__(self, namespace: str) -> None:
        from twisted.logger import Logger

        self._log = Logger(namespace=namespace)

    @staticmethod
    def _text(fmt: str, args: tuple) -> str:
        msg = fmt % args if args else fmt
        return msg.replace("{", "{{").replace("}", "}}")  # Twisted formats {fields}

    def info(self, fmt: str, *args: Any) -> None:
        self._log.info(self._text(fmt, args))

    def warning(self, fmt: str, *args: Any) -> None:
        self._log.warn(self._text(fmt, args))

    def exception(self, fmt: str, *args: Any) -> None:
        self._log.failure(self._text(fmt, args))
