"""One forked child at a time: BGSAVE and BGREWRITEAOF (Redis's redisFork / checkChildrenDone).

``start_child(state, kind, work, done)`` forks; the child runs ``work()`` and leaves with
``os._exit(0)`` (``os._exit(1)`` when work raises). It never returns into the reactor, never
writes to a client socket and never runs a Twisted callback: everything it needs was captured by
``work`` before the fork (copy-on-write gives it the dataset as it was at that instant).

The parent reaps from the server cron with ``check_children(state)`` (``waitpid(WNOHANG)``) and
calls ``done(ok)``; ``ok`` is True only for a clean ``exit 0``. How the child ended is kept on the
ChildInfo passed around as ``state.last_child`` (``exitcode``, ``bysignal``) for a done callback
that needs it (Redis treats a child killed with SIGUSR1 - our own ``kill_child`` - as a
deliberate stop, not as a failed save).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any

log = logging.getLogger("twistd_redis")


class ChildInfo:
    """The running (or last) child: its pid, what it does ("rdb" | "aof"), when it started
    (seconds on the state's clock) and, once reaped, how it ended."""

    __slots__ = ("bysignal", "done", "exitcode", "kind", "pid", "start_time")

    def __init__(self, pid: int, kind: str, start_time: float, done: Callable[[bool], None]) -> None:
        self.pid = pid
        self.kind = kind
        self.start_time = start_time
        self.done = done
        self.exitcode: int | None = None
        self.bysignal = 0

    def __repr__(self) -> str:
        return f"<ChildInfo {self.kind} pid={self.pid}>"


def active_child(state: Any) -> ChildInfo | None:
    """The child running now, or None (hasActiveChildProcess)."""
    return getattr(state, "child_info", None)


def start_child(state: Any, kind: str, work: Callable[[], None], done: Callable[[bool], None]) -> int:
    """Fork a child that runs ``work()``; ``done(ok)`` runs in the parent when it is reaped.
    Raises RuntimeError when a child is already active, OSError when fork fails."""
    if active_child(state) is not None:
        raise RuntimeError("a child process is already active")
    # flush Python-level buffers so the child does not write the parent's pending output twice
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # pragma: no cover
            pass
    pid = os.fork()
    if pid == 0:  # the child: never return from here
        code = 1
        try:
            _child_setup(kind)
            work()
            code = 0
        except BaseException:
            try:
                traceback.print_exc()
                sys.stderr.flush()
            except BaseException:  # pragma: no cover
                pass
        finally:
            os._exit(code)
    info = ChildInfo(pid, kind, state.clock.seconds(), done)
    state.child_info = info
    return pid


def _child_setup(kind: str) -> None:
    """In the child right after fork: default signal handlers (the parent's Twisted handlers
    would try to stop a reactor that does not run here), and a title for ps as Redis's
    redis-rdb-bgsave / redis-aof-rewrite."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGCHLD):
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (ValueError, OSError):  # pragma: no cover
            pass
    try:  # best effort, optional
        import setproctitle  # type: ignore[import-not-found]

        setproctitle.setproctitle("redis-rdb-bgsave" if kind == "rdb" else "redis-aof-rewrite")
    except Exception:
        pass


def check_children(state: Any) -> ChildInfo | None:
    """checkChildrenDone: reap the child if it has exited (never blocks) and run its done
    callback. Returns the reaped ChildInfo, or None when nothing ended."""
    info = active_child(state)
    if info is None:
        return None
    try:
        pid, status = os.waitpid(info.pid, os.WNOHANG)
    except ChildProcessError:
        # somebody else reaped it (should not happen): report it as failed
        pid, status = info.pid, 1 << 8
    if pid == 0:
        return None
    _finish(state, info, status)
    return info


def _finish(state: Any, info: ChildInfo, status: int) -> None:
    if os.WIFSIGNALED(status):
        info.bysignal = os.WTERMSIG(status)
        info.exitcode = -1
    else:
        info.exitcode = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    state.child_info = None
    state.last_child = info
    ok = info.bysignal == 0 and info.exitcode == 0
    try:
        info.done(ok)
    except Exception:
        log.exception("child %s done callback failed", info.kind)


def kill_child(state: Any, wait: bool = True) -> ChildInfo | None:
    """Stop the active child with SIGUSR1 (Redis's killRDBChild / killAppendOnlyChild), reap
    it (blocking: it dies at once) and run its done callback with ok=False. Returns its info."""
    info = active_child(state)
    if info is None:
        return None
    try:
        os.kill(info.pid, signal.SIGUSR1)
    except ProcessLookupError:
        pass
    if not wait:
        return info
    try:
        _, status = os.waitpid(info.pid, 0)
    except ChildProcessError:
        status = signal.SIGUSR1
    _finish(state, info, status)
    return info


def wait_child(state: Any, timeout: float | None = None) -> ChildInfo | None:
    """Block until the active child ends and reap it (tests and shutdown paths). With a
    timeout, polls; returns None if it is still running when the time is up."""
    import time

    info = active_child(state)
    if info is None:
        return None
    if timeout is None:
        try:
            _, status = os.waitpid(info.pid, 0)
        except ChildProcessError:
            status = 1 << 8
        _finish(state, info, status)
        return info
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = check_children(state)
        if r is not None:
            return r
        time.sleep(0.005)
    return None
