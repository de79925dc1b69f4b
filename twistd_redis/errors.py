"""The RedisError family: every error a command can answer, with Redis 7.0's texts verbatim.

A command raises one of these; the dispatcher writes ``-<message>``. The message includes its
prefix (``ERR``, ``WRONGTYPE``, ``NOAUTH`` ...), exactly as Redis sends it, so ``str(err)`` is
the wire text and INFO errorstats can count by prefix.
"""

from __future__ import annotations


class RedisError(Exception):
    """An error reply. ``message`` is the full text after the ``-``, prefix included."""

    def __init__(self, message: str = "ERR") -> None:
        super().__init__(message)
        self.message = message

    @property
    def prefix(self) -> str:
        return self.message.split(" ", 1)[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


def err(text: str) -> RedisError:
    """An ``ERR`` error with Redis's usual prefix."""
    return RedisError("ERR " + text)


class WrongTypeError(RedisError):
    def __init__(self) -> None:
        super().__init__("WRONGTYPE Operation against a key holding the wrong kind of value")


class ProtocolError(RedisError):
    """A malformed request: answered, then the connection is closed (as Redis does)."""

    def __init__(self, what: str) -> None:
        super().__init__("ERR Protocol error: " + what)


class NoAuthError(RedisError):
    def __init__(self) -> None:
        super().__init__("NOAUTH Authentication required.")


# Texts used by many commands, copied from Redis's server.c shared objects.
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
NO_SUCH_KEY = "ERR no such key"
OUT_OF_RANGE = "ERR index out of range"
INVALID_DB = "ERR DB index is out of range"
INVALID_EXPIRE = "ERR invalid expire time in '%s' command"


def syntax_error() -> RedisError:
    return RedisError(SYNTAX)


def not_integer() -> RedisError:
    return RedisError(NOT_INTEGER)


def not_float() -> RedisError:
    return RedisError(NOT_FLOAT)


def wrong_arity(fullname: str) -> RedisError:
    return RedisError(f"ERR wrong number of arguments for '{fullname}' command")


def unknown_subcommand(sub: bytes, container: str) -> RedisError:
    return RedisError(
        "ERR unknown subcommand '%.128s'. Try %s HELP." % (sub.decode("utf-8", "replace"), container.upper())
    )


def unknown_command(argv: list[bytes]) -> RedisError:
    """Redis 7's text: each argument quoted and followed by a space, until 128 chars are shown.
    Redis formats with ``%s`` on C strings, so each argument ends at its first NUL byte."""
    args = ""
    for a in argv[1:]:
        if len(args) >= 128:
            break
        args += "'%s' " % a.split(b"\0", 1)[0].decode("utf-8", "replace")[: 128 - len(args)]
    name = argv[0].split(b"\0", 1)[0].decode("utf-8", "replace")[:128]
    text = f"ERR unknown command '{name}', with args beginning with: {args}"
    # Redis replaces newlines in error replies so the protocol stays intact.
    return RedisError(text.replace("\r", " ").replace("\n", " "))
