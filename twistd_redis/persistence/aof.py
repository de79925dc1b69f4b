"""The append-only file in Redis 7.0's multi-part layout (aof.c), byte-compatible with it.

Layout: ``dir/appenddirname/`` holds ``appendonly.aof.manifest`` naming one BASE file (an RDB
with ``aof-use-rdb-preamble yes``: ``appendonly.aof.N.base.rdb``; else commands:
``.base.aof``), the INCR files written since (``appendonly.aof.N.incr.aof``) and, briefly, HISTORY
files a rewrite replaced (deleted right after unless ``aof-disable-auto-gc``).

Feed: ``AppendOnlyFile.feed`` is a ``state.propagation_targets`` entry while the AOF is on; it
appends RESP commands (with a SELECT whenever the db changes) to ``state.aof_buf``. The buffer is
written - one ``write()`` per batch - by ``flush_before_reply`` (RedisProtocol._write calls it
before any reply leaves, as Redis's beforeSleep flushes before handleClientsWithPendingWrites) and
by the server cron; ``appendfsync always`` fsyncs there too, ``everysec`` fsyncs from the cron at
most once a second, ``no`` leaves it to the kernel.

Rewrite (BGREWRITEAOF, auto-aof-rewrite-*, CONFIG SET appendonly yes): a new INCR file is opened
and recorded in the manifest first, so writes made during the rewrite land there; a forked child
(child.py) writes the new BASE as ``temp-rewriteaof-bg-PID.aof``; when it ends well the parent
renames it into the directory, moves the replaced BASE and INCR files to HISTORY, persists the
manifest and deletes the history. Turning the AOF on at run time writes into
``temp-appendonly.aof.incr`` until the first rewrite is done (AOF_WAIT_REWRITE).

Load (``load_append_only_files``): manifest, BASE (an RDB when it starts with ``REDIS``, else
commands), INCRs; commands run through ``state.execute`` on a fake client (no replies, no gates,
MULTI/EXEC honoured). A legacy single ``appendonly.aof`` (maybe with an RDB preamble) is migrated
into the directory first. A truncated last command is cut off with ``aof-load-truncated yes``;
any other damage refuses the start.
"""

from __future__ import annotations

import errno as _errno
import logging
import os
import signal
from typing import Any, BinaryIO, Callable

from ..client import CLIENT_DENY_BLOCKING, CLIENT_MULTI, Client
from ..errors import RedisError
from ..resp import format_double
from .snapshot import _fsync_dir

log = logging.getLogger("twistd_redis")

AOF_OFF, AOF_ON, AOF_WAIT_REWRITE = 0, 1, 2
# loadSingleAppendOnlyFile / loadAppendOnlyFiles results
AOF_OK, AOF_NOT_EXIST, AOF_EMPTY, AOF_OPEN_ERR, AOF_FAILED, AOF_TRUNCATED = range(6)

TYPE_BASE, TYPE_HIST, TYPE_INCR = "b", "h", "i"
BASE_FILE_SUFFIX = ".base"
INCR_FILE_SUFFIX = ".incr"
RDB_FORMAT_SUFFIX = ".rdb"
AOF_FORMAT_SUFFIX = ".aof"
MANIFEST_NAME_SUFFIX = ".manifest"
TEMP_FILE_NAME_PREFIX = "temp-"
MANIFEST_MAX_LINE = 1024
AOF_ANNOTATION_LINE_MAX_LEN = 1024
AOF_REWRITE_ITEMS_PER_CMD = 64
AOF_REWRITE_LIMITE_THRESHOLD = 3
AOF_REWRITE_LIMITE_MAX_MINUTES = 60
AOF_WRITE_LOG_ERROR_RATE = 30
CLIENT_ID_AOF = (1 << 64) - 1


class AofLoadError(RuntimeError):
    """The AOF cannot be loaded: the server must not start (Redis exits 1)."""


def _startup_error(msg: str) -> Exception:
    """snapshot.StartupError when the startup path provides it, else AofLoadError."""
    try:
        from .snapshot import StartupError  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - snapshot.py lands separately
        return AofLoadError(msg)
    return StartupError(msg)


# ---------------------------------------------------------------------------------- manifest


def _needs_repr(s: str) -> bool:
    """sdsneedsrepr: the name holds a quote, backslash, control, space or unprintable byte."""
    for ch in s.encode("utf-8", "surrogateescape"):
        if ch in (92, 34) or ch < 33 or ch > 126:
            return True
    return False


def _repr(s: str) -> str:
    from ..config import conf_repr

    return conf_repr(s)


class AofInfo:
    __slots__ = ("file_name", "file_seq", "file_type")

    def __init__(self, file_name: str, file_seq: int, file_type: str) -> None:
        self.file_name = file_name
        self.file_seq = file_seq
        self.file_type = file_type

    def dup(self) -> "AofInfo":
        return AofInfo(self.file_name, self.file_seq, self.file_type)

    def format(self) -> str:
        """aofInfoFormat: ``file NAME seq N type T\\n`` (NAME quoted as sdscatrepr if needed)."""
        name = _repr(self.file_name) if _needs_repr(self.file_name) else self.file_name
        return f"file {name} seq {self.file_seq} type {self.file_type}\n"

    def __repr__(self) -> str:
        return f"<AofInfo {self.file_name} seq={self.file_seq} type={self.file_type}>"


class Manifest:
    """aofManifest: one base, history files, incr files, and the sequence counters."""

    def __init__(self) -> None:
        self.base: AofInfo | None = None
        self.incrs: list[AofInfo] = []
        self.history: list[AofInfo] = []
        self.curr_base_file_seq = 0
        self.curr_incr_file_seq = 0
        self.dirty = False

    def dup(self) -> "Manifest":
        m = Manifest()
        m.base = self.base.dup() if self.base else None
        m.incrs = [a.dup() for a in self.incrs]
        m.history = [a.dup() for a in self.history]
        m.curr_base_file_seq = self.curr_base_file_seq
        m.curr_incr_file_seq = self.curr_incr_file_seq
        m.dirty = self.dirty
        return m

    def to_string(self) -> str:
        """getAofManifestAsString: base first, then history, then incr files."""
        out = []
        if self.base:
            out.append(self.base.format())
        out.extend(a.format() for a in self.history)
        out.extend(a.format() for a in self.incrs)
        return "".join(out)

    def new_base_name(self, filename: str, preamble: bool) -> str:
        """getNewBaseFileNameAndMarkPreAsHistory."""
        if self.base:
            self.base.file_type = TYPE_HIST
            self.history.insert(0, self.base)
        self.curr_base_file_seq += 1
        suffix = RDB_FORMAT_SUFFIX if preamble else AOF_FORMAT_SUFFIX
        name = f"{filename}.{self.curr_base_file_seq}{BASE_FILE_SUFFIX}{suffix}"
        self.base = AofInfo(name, self.curr_base_file_seq, TYPE_BASE)
        self.dirty = True
        return name

    def new_incr_name(self, filename: str) -> str:
        """getNewIncrAofName."""
        self.curr_incr_file_seq += 1
        name = f"{filename}.{self.curr_incr_file_seq}{INCR_FILE_SUFFIX}{AOF_FORMAT_SUFFIX}"
        self.incrs.append(AofInfo(name, self.curr_incr_file_seq, TYPE_INCR))
        self.dirty = True
        return name

    def last_incr_name(self, filename: str) -> str:
        """getLastIncrAofName: the last incr file, or a new one."""
        if not self.incrs:
            return self.new_incr_name(filename)
        return self.incrs[-1].file_name

    def mark_rewritten_incrs_as_history(self, keep_last: bool) -> None:
        """markRewrittenIncrAofAsHistory: every incr file (but the one being written when the
        AOF is on) becomes history, newest first at the head of the history list."""
        if not self.incrs:
            return
        keep = self.incrs[-1:] if keep_last else []
        rest = self.incrs[:-1] if keep_last else self.incrs
        for ai in reversed(rest):
            h = ai.dup()
            h.file_type = TYPE_HIST
            self.history.insert(0, h)
        self.incrs = keep
        self.dirty = True

    @classmethod
    def parse(cls, data: bytes) -> "Manifest":
        """aofLoadManifestFromFile; raises ValueError(log text) with Redis's messages."""
        from ..resp import split_args

        am = cls()
        maxseq = 0
        lines = data.split(b"\n")
        # fgets: a last chunk without "\n" is still a line; an empty one is not
        if lines and lines[-1] == b"":
            lines.pop()
        else:
            lines[-1] = lines[-1] + b"\0"  # marks "no newline" for the check below
        if not lines:
            raise ValueError("Found an empty AOF manifest")
        for linenum, raw in enumerate(lines, 1):
            no_newline = raw.endswith(b"\0")
            if no_newline:
                raw = raw[:-1]
            if raw[:1] == b"#":
                continue
            if no_newline or len(raw) + 1 > MANIFEST_MAX_LINE:
                raise ValueError("The AOF manifest file contains too long line", linenum, raw)
            line = raw.strip(b" \t\r\n")
            if not line:
                raise ValueError("Invalid AOF manifest file format", linenum, line)
            argv = split_args(line)
            if argv is None or len(argv) < 6 or len(argv) % 2:
                raise ValueError("Invalid AOF manifest file format", linenum, line)
            name: str | None = None
            seq = 0
            ftype = ""
            for i in range(0, len(argv), 2):
                k = argv[i].lower()
                v = argv[i + 1]
                if k == b"file":
                    name = v.decode("utf-8", "surrogateescape")
                    if "/" in name:
                        raise ValueError("File can't be a path, just a filename", linenum, line)
                elif k == b"seq":
                    seq = _atoll(v)
                elif k == b"type":
                    ftype = chr(v[0]) if v else ""
            if not name or not seq or not ftype:
                raise ValueError("Invalid AOF manifest file format", linenum, line)
            ai = AofInfo(name, seq, ftype)
            if ftype == TYPE_BASE:
                if am.base:
                    raise ValueError("Found duplicate base file information", linenum, line)
                am.base = ai
                am.curr_base_file_seq = seq
            elif ftype == TYPE_HIST:
                am.history.append(ai)
            elif ftype == TYPE_INCR:
                if seq <= maxseq:
                    raise ValueError("Found a non-monotonic sequence number", linenum, line)
                am.incrs.append(ai)
                am.curr_incr_file_seq = seq
                maxseq = seq
            else:
                raise ValueError("Unknown AOF file type", linenum, line)
        return am


def _atoll(b: bytes) -> int:
    """C atoi/atoll/strtol: optional blanks and sign, then digits; 0 when none."""
    i, n = 0, len(b)
    while i < n and b[i] in b" \t\n\v\f\r":
        i += 1
    j = i
    if j < n and b[j] in b"+-":
        j += 1
    k = j
    while k < n and 48 <= b[k] <= 57:
        k += 1
    if k == j:
        return 0
    return int(b[i:k])


# ---------------------------------------------------------------------------------- encoding


def cat_command(argv: list[bytes]) -> bytes:
    """catAppendOnlyGenericCommand: a RESP multibulk."""
    parts = [b"*%d\r\n" % len(argv)]
    for a in argv:
        if type(a) is int:  # defensive: argvs should be bytes
            a = b"%d" % a
        parts.append(b"$%d\r\n" % len(a))
        parts.append(a)
        parts.append(b"\r\n")
    return b"".join(parts)


def select_command(dbid: int) -> bytes:
    s = b"%d" % dbid
    return b"*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n" % (len(s), s)


def _bulk(b: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(b), b)


def rewrite_commands(state: Any, out: BinaryIO) -> None:
    """rewriteAppendOnlyFileRio: commands that rebuild every db (variadic, at most 64 items per
    command), each key's TTL as PEXPIREAT."""
    from ..datatypes.hash import RedisHash
    from ..datatypes.list import RedisList
    from ..datatypes.set import RedisSet
    from ..datatypes.zset import RedisZSet

    w = out.write
    from ..scripting.functions import aof_rewrite_functions

    aof_rewrite_functions(state, w)  # rewriteFunctions: the libraries come first
    for db in state.dbs:
        if not db.data:
            continue
        w(select_command(db.id))
        expires = db.expires
        for key, o in db.data.items():
            kb = _bulk(bytes(key))
            t = type(o)
            if t is bytes or t is bytearray or isinstance(o, (bytes, bytearray)):
                w(b"*3\r\n$3\r\nSET\r\n" + kb + _bulk(bytes(o)))
            elif isinstance(o, RedisList):
                _variadic(w, b"RPUSH", kb, [_bulk(bytes(e)) for e in o], 1)
            elif isinstance(o, RedisSet):
                _variadic(w, b"SADD", kb, [_bulk(bytes(e)) for e in o], 1)
            elif isinstance(o, RedisZSet):
                _variadic(w, b"ZADD", kb, [_bulk(format_double(s)) + _bulk(bytes(m)) for s, m in o], 2)
            elif isinstance(o, RedisHash):
                _variadic(w, b"HMSET", kb, [_bulk(bytes(f)) + _bulk(bytes(v)) for f, v in o.items()], 2)
            else:
                _rewrite_other(w, kb, o)
            when = expires.get(key) if expires else None
            if when is not None:
                w(b"*3\r\n$9\r\nPEXPIREAT\r\n" + kb + _bulk(b"%d" % when))


def _variadic(w: Callable[[bytes], Any], name: bytes, kb: bytes, items: list[bytes], width: int) -> None:
    n = len(items)
    for i in range(0, n, AOF_REWRITE_ITEMS_PER_CMD):
        chunk = items[i : i + AOF_REWRITE_ITEMS_PER_CMD]
        w(b"*%d\r\n" % (2 + len(chunk) * width) + _bulk(name) + kb + b"".join(chunk))


def _rewrite_other(w: Callable[[bytes], Any], kb: bytes, o: Any) -> None:
    """rewriteStreamObject: XADD per entry (XADD MAXLEN 0 for an empty stream), XSETID with
    ENTRIESADDED/MAXDELETEDID, XGROUP CREATE ... ENTRIESREAD per group, then per consumer an
    XCLAIM ... JUSTID FORCE per pending entry, or XGROUP CREATECONSUMER when it has none."""
    from ..datatypes.stream import RedisStream, format_id

    if not isinstance(o, RedisStream):
        raise TypeError(f"can't rewrite a value of type {type(o).__name__} as commands")
    if len(o.entries):
        for sid, fields in o.entries.items():
            w(b"*%d\r\n$4\r\nXADD\r\n" % (3 + len(fields)) + kb + _bulk(format_id(sid)))
            w(b"".join(_bulk(bytes(f)) for f in fields))
    else:
        w(b"*7\r\n$4\r\nXADD\r\n" + kb + _bulk(b"MAXLEN") + _bulk(b"0") + _bulk(b"0-1") + _bulk(b"x") + _bulk(b"y"))
    w(
        b"*7\r\n$6\r\nXSETID\r\n"
        + kb
        + _bulk(format_id(o.last_id))
        + _bulk(b"ENTRIESADDED")
        + _bulk(b"%d" % o.entries_added)
        + _bulk(b"MAXDELETEDID")
        + _bulk(format_id(o.max_deleted_entry_id))
    )
    for gname, cg in o.groups.items():
        w(
            b"*7\r\n$6\r\nXGROUP\r\n$6\r\nCREATE\r\n"
            + kb
            + _bulk(gname)
            + _bulk(format_id(cg.last_id))
            + _bulk(b"ENTRIESREAD")
            + _bulk(b"%d" % cg.entries_read)
        )
        for cname, consumer in cg.consumers.items():
            if not consumer.pel:
                w(b"*5\r\n$6\r\nXGROUP\r\n$14\r\nCREATECONSUMER\r\n" + kb + _bulk(gname) + _bulk(cname))
                continue
            for sid, nack in consumer.pel.items():
                w(
                    b"*12\r\n$6\r\nXCLAIM\r\n"
                    + kb
                    + _bulk(gname)
                    + _bulk(cname)
                    + _bulk(b"0")
                    + _bulk(format_id(sid))
                    + _bulk(b"TIME")
                    + _bulk(b"%d" % nack.delivery_time)
                    + _bulk(b"RETRYCOUNT")
                    + _bulk(b"%d" % nack.delivery_count)
                    + _bulk(b"JUSTID")
                    + _bulk(b"FORCE")
                )


def write_base_rdb(state: Any, out: BinaryIO) -> None:
    """The RDB-format BASE file (rdbSaveRio with RDBFLAGS_AOF_PREAMBLE: aux aof-base 1)."""
    from . import snapshot  # type: ignore[attr-defined]

    snapshot.write_rdb(state, out, aof_base=True)


# ---------------------------------------------------------------------------------- the file


class AppendOnlyFile:
    """Redis's server.aof_* state: one per ServerState (``state.aof``)."""

    def __init__(self, state: Any) -> None:
        self.state = state
        cfg = state.config
        state.aof_buf = []  # chunks waiting for write(); RedisProtocol._write flushes them first
        self.manifest: Manifest | None = None
        self.fd = -1
        self.status = AOF_ON if cfg["appendonly"] else AOF_OFF
        self.selected_db = -1
        self.loading = False  # feeding is off while the AOF itself is replayed
        self.current_size = 0
        self.rewrite_base_size = 0
        self.last_incr_size = 0
        self.fsync_offset = 0
        self.last_fsync = int(state.clock.seconds())
        self.cur_timestamp = 0
        self.rewrite_scheduled = False
        self.rewrite_time_start = -1.0
        self.rewrite_time_last = -1
        self.rewrites = 0
        self.consecutive_failures = 0
        self.lastbgrewrite_ok = True
        self.last_write_ok = True
        self.last_write_errno = 0
        self.last_write_error_log = 0.0
        self.delayed_fsync = 0
        self.opened = False
        self._killing = False
        self._last_error_flush = 0.0
        self._next_delay_minutes = 0
        self._next_rewrite_time = 0.0
        self._denied: RedisError | None = None
        self.load_error: str | None = None
        self.fsync_policy = cfg["appendfsync"]
        cfg.on_change("appendfsync", self._set_fsync)
        cfg.on_change("appendonly", self._config_appendonly)
        if self.status != AOF_OFF:
            state.propagation_targets.append(self.feed)
        state.shutdown_hooks.append(self.on_shutdown)

    # ------------------------------------------------------------ paths and config

    @property
    def dirname(self) -> str:
        return os.path.join(self.state.config["dir"], self.state.config["appenddirname"])

    @property
    def filename(self) -> str:
        return self.state.config["appendfilename"]

    def path(self, name: str) -> str:
        return os.path.join(self.dirname, name)

    def _set_fsync(self, v: str) -> None:
        self.fsync_policy = v

    def _config_appendonly(self, on: bool) -> None:
        from ..config import ConfigError

        if on and self.status == AOF_OFF:
            if not self.start():
                raise ConfigError("Unable to turn on AOF. Check server logs.")
        elif not on and self.status != AOF_OFF:
            self.stop()

    def _unixtime(self) -> int:
        return int(self.state.clock.seconds())

    # ------------------------------------------------------------ feed and flush

    def feed(self, dbid: int, argv: list[bytes]) -> None:
        """feedAppendOnlyFile: a propagation target."""
        if self.loading:
            return
        parts: list[bytes] = []
        if self.state.config["aof-timestamp-enabled"]:
            now = self._unixtime()
            if self.cur_timestamp < now:
                self.cur_timestamp = now
                parts.append(b"#TS:%d\r\n" % now)
        if dbid != self.selected_db:
            parts.append(select_command(dbid))
            self.selected_db = dbid
        parts.append(cat_command(argv))
        if self.status == AOF_ON or (self.status == AOF_WAIT_REWRITE and self._aof_child_active()):
            self.state.aof_buf.extend(parts)

    def flush_before_reply(self) -> None:
        """beforeSleep's flushAppendOnlyFile(0), called by RedisProtocol._write before output
        goes out: no reply acknowledges a write that is not in the file (fsynced with
        appendfsync always)."""
        self.flush(False, in_cron=False)

    def flush(self, force: bool = False, in_cron: bool = True) -> None:
        """flushAppendOnlyFile: one write() of the buffer; fsync per appendfsync."""
        state = self.state
        if self.fd < 0:
            return
        now = self._unixtime()
        if not state.aof_buf:
            if (
                in_cron
                and self.fsync_policy == "everysec"
                and self.fsync_offset != self.current_size
                and now > self.last_fsync
            ):
                self._try_fsync(now)
            return
        data = b"".join(state.aof_buf)
        state.aof_buf = []
        nwritten = 0
        err = 0
        mv = memoryview(data)
        while nwritten < len(data):
            try:
                n = os.write(self.fd, mv[nwritten:])
            except InterruptedError:
                continue
            except OSError as e:
                err = e.errno or _errno.EIO
                break
            if n <= 0:  # pragma: no cover
                err = _errno.ENOSPC
                break
            nwritten += n
        if nwritten != len(data):
            can_log = now - self.last_write_error_log > AOF_WRITE_LOG_ERROR_RATE
            if can_log:
                self.last_write_error_log = now
            if nwritten == 0:
                if can_log:
                    log.warning("Error writing to the AOF file: %s", os.strerror(err))
                self.last_write_errno = err
            else:
                if can_log:
                    log.warning(
                        "Short write while writing to the AOF file: (nwritten=%d, expected=%d)",
                        nwritten,
                        len(data),
                    )
                try:
                    os.ftruncate(self.fd, self.last_incr_size)
                    nwritten = 0
                except OSError as e:
                    if can_log:
                        log.warning(
                            "Could not remove short write from the append-only file.  Redis may refuse "
                            "to load the AOF the next time it starts.  ftruncate: %s",
                            os.strerror(e.errno or 0),
                        )
                self.last_write_errno = _errno.ENOSPC
            if self.fsync_policy == "always":
                log.warning("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...")
                self._fatal_exit()
                return
            self.last_write_ok = False
            self._update_denied()
            if nwritten > 0:
                self.current_size += nwritten
                self.last_incr_size += nwritten
            state.aof_buf = [data[nwritten:]]
            return
        if not self.last_write_ok:
            log.warning("AOF write error looks solved, Redis can write again.")
            self.last_write_ok = True
            self._update_denied()
        self.current_size += nwritten
        self.last_incr_size += nwritten
        if self.fsync_policy == "always" or in_cron:
            self._try_fsync(now)

    def _try_fsync(self, now: int) -> None:
        if self.state.config["no-appendfsync-on-rewrite"] and self._any_child_active():
            return
        if self.fsync_policy == "always":
            try:
                _fsync(self.fd)
            except OSError as e:
                log.warning(
                    "Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. Exiting...",
                    os.strerror(e.errno or 0),
                )
                self._fatal_exit()
                return
            self.fsync_offset = self.current_size
            self.last_fsync = now
        elif self.fsync_policy == "everysec" and now > self.last_fsync:
            try:
                _fsync(self.fd)
                self.fsync_offset = self.current_size
            except OSError as e:  # aof_bio_fsync_status: reported as a write error
                self.last_write_errno = e.errno or _errno.EIO
                self.last_write_ok = False
                self._update_denied()
            self.last_fsync = now

    def _fatal_exit(self) -> None:  # pragma: no cover - replaced in tests
        os._exit(1)

    def _update_denied(self) -> None:
        """writeCommandsDeniedByDiskError for the AOF: -MISCONF while the last write failed."""
        state = self.state
        if not self.last_write_ok and self.status != AOF_OFF:
            self._denied = RedisError("MISCONF Errors writing to the AOF file: %s" % os.strerror(self.last_write_errno))
            state.set_disk_error("aof", self._denied)
        elif self._denied is not None:
            state.set_disk_error("aof", None)
            self._denied = None

    # ------------------------------------------------------------ children

    def _any_child_active(self) -> bool:
        from .child import active_child

        return active_child(self.state) is not None

    def _aof_child_active(self) -> bool:
        from .child import active_child

        info = active_child(self.state)
        return info is not None and info.kind == "aof"

    # ------------------------------------------------------------ cron

    def cron(self) -> None:
        """The AOF parts of serverCron (and of beforeSleep for writes no reply followed)."""
        from .child import active_child, check_children

        state = self.state
        info = active_child(state)
        if info is not None and info.kind == "aof":
            check_children(state)
            info = active_child(state)
        if info is None and self.rewrite_scheduled and not self._rewrite_limited():
            self.rewrite_background()
        elif (
            self.status == AOF_ON
            and info is None
            and state.config["auto-aof-rewrite-percentage"]
            and self.current_size > state.config["auto-aof-rewrite-min-size"]
        ):
            base = self.rewrite_base_size or 1
            growth = (self.current_size * 100 // base) - 100
            if growth >= state.config["auto-aof-rewrite-percentage"] and not self._rewrite_limited():
                log.info("Starting automatic rewriting of AOF on %d%% growth", growth)
                self.rewrite_background()
        if self.status != AOF_OFF and self.fd >= 0:
            if not self.last_write_ok:
                now = state.clock.seconds()
                if now - self._last_error_flush >= 1.0:
                    self._last_error_flush = now
                    self.flush(False)
            else:
                self.flush(False)

    def _rewrite_limited(self) -> bool:
        """aofRewriteLimited: after 3 failures in a row, wait 1, 2, 4 ... 60 minutes."""
        if self.consecutive_failures < AOF_REWRITE_LIMITE_THRESHOLD:
            self._next_delay_minutes = 0
            self._next_rewrite_time = 0.0
            return False
        now = self.state.clock.seconds()
        if self._next_rewrite_time:
            if now < self._next_rewrite_time:
                return True
            self._next_rewrite_time = 0.0
            return False
        self._next_delay_minutes = min(
            AOF_REWRITE_LIMITE_MAX_MINUTES, 1 if not self._next_delay_minutes else self._next_delay_minutes * 2
        )
        self._next_rewrite_time = now + self._next_delay_minutes * 60
        log.warning(
            "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in %d minutes",
            self._next_delay_minutes,
        )
        return True

    # ------------------------------------------------------------ manifest on disk

    def load_manifest_from_disk(self) -> None:
        """aofLoadManifestFromDisk (a bad manifest refuses the start)."""
        self.manifest = Manifest()
        if not os.path.isdir(self.dirname):
            return
        mpath = self.path(self.filename + MANIFEST_NAME_SUFFIX)
        if not os.path.exists(mpath):
            return
        try:
            with open(mpath, "rb") as f:
                data = f.read()
        except OSError as e:
            msg = "Fatal error: can't open the AOF manifest file %s for reading: %s" % (mpath, e.strerror)
            log.warning(msg)
            raise _startup_error(msg) from None
        try:
            self.manifest = Manifest.parse(data)
        except ValueError as e:
            log.warning("\n*** FATAL AOF MANIFEST FILE ERROR ***\n")
            if len(e.args) > 1:
                log.warning("Reading the manifest file, at line %d\n", e.args[1])
                log.warning(">>> '%s'\n", e.args[2].decode("utf-8", "replace"))
            log.warning("%s\n", e.args[0])
            raise _startup_error(f"Bad AOF manifest {mpath}: {e.args[0]}") from None

    def persist_manifest(self, am: Manifest) -> bool:
        """persistAofManifest / writeAofManifestFile: temp file, fsync, rename, fsync dir."""
        if not am.dirty:
            return True
        name = self.filename + MANIFEST_NAME_SUFFIX
        tmp_name = TEMP_FILE_NAME_PREFIX + name
        tmp = self.path(tmp_name)
        data = am.to_string().encode("utf-8", "surrogateescape")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
        except OSError as e:
            log.warning("Can't open the AOF manifest file %s: %s", tmp_name, e.strerror)
            return False
        try:
            try:
                _write_all(fd, data)
            except OSError as e:
                log.warning("Error trying to write the temporary AOF manifest file %s: %s", tmp_name, e.strerror)
                return False
            try:
                _fsync(fd)
            except OSError as e:
                log.warning("Fail to fsync the temp AOF file %s: %s.", tmp_name, e.strerror)
                return False
            try:
                os.rename(tmp, self.path(name))
            except OSError as e:
                log.warning(
                    "Error trying to rename the temporary AOF manifest file %s into %s: %s", tmp_name, name, e.strerror
                )
                return False
            _fsync_dir(self.dirname)
        finally:
            os.close(fd)
        am.dirty = False
        return True

    def del_history_files(self) -> bool:
        """aofDelHistoryFiles."""
        am = self.manifest
        if am is None or self.state.config["aof-disable-auto-gc"] or not am.history:
            return True
        for ai in am.history:
            log.info("Removing the history file %s in the background", ai.file_name)
            _unlink(self.path(ai.file_name))
        am.history = []
        am.dirty = True
        return self.persist_manifest(am)

    def _dir_create(self) -> bool:
        try:
            os.makedirs(self.dirname, exist_ok=True)
            return True
        except OSError as e:
            log.warning("Can't open or create append-only dir %s: %s", self.state.config["appenddirname"], e.strerror)
            return False

    # ------------------------------------------------------------ start / stop

    def open_on_server_start(self) -> None:
        """aofOpenIfNeededOnServerStart: a BASE for an empty start, the last INCR opened for
        appending, the manifest persisted. Idempotent; raises a startup error on failure."""
        if self.status != AOF_ON or self.opened:
            return
        self.opened = True
        if self.manifest is None:
            self.load_manifest_from_disk()
        am = self.manifest
        assert am is not None
        if not self._dir_create():
            raise _startup_error("Can't open or create append-only dir %s" % self.dirname)
        had_incrs = bool(am.incrs)
        if am.base is None and not am.incrs:
            base_name = am.new_base_name(self.filename, self.state.config["aof-use-rdb-preamble"])
            if not rewrite_append_only_file(self.state, self.path(base_name)):
                raise _startup_error("Can't create the AOF base file %s" % base_name)
            log.info("Creating AOF base file %s on server start", base_name)
        name = am.last_incr_name(self.filename)
        try:
            self.fd = os.open(self.path(name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as e:
            msg = "Can't open the append-only file %s: %s" % (name, e.strerror)
            log.warning(msg)
            raise _startup_error(msg) from None
        if not self.persist_manifest(am):
            raise _startup_error("Can't persist the AOF manifest")
        self.last_incr_size = _size(self.path(name))
        if had_incrs:
            log.info("Opening AOF incr file %s on server start", name)
        else:
            log.info("Creating AOF incr file %s on server start", name)
        self.del_history_files()

    def start(self) -> bool:
        """startAppendOnly (CONFIG SET appendonly yes): a rewrite first (AOF_WAIT_REWRITE)."""
        from .child import active_child, kill_child

        state = self.state
        self.status = AOF_WAIT_REWRITE
        if self.feed not in state.propagation_targets:
            state.propagation_targets.append(self.feed)
        if self.manifest is None:
            self.load_manifest_from_disk()
        info = active_child(state)
        if info is not None and info.kind != "aof":
            self.rewrite_scheduled = True
            log.warning(
                "AOF was enabled but there is already another background operation. An AOF background was "
                "scheduled to start when possible."
            )
        elif state.exec_nesting:
            self.rewrite_scheduled = True
            log.warning("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.")
        else:
            if info is not None:
                log.warning(
                    "AOF was enabled but there is already an AOF rewriting in background. Stopping background "
                    "AOF and starting a rewrite now."
                )
                self._kill_child(kill_child)
            if not self.rewrite_background():
                self.status = AOF_OFF
                self._remove_target()
                log.warning(
                    "Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. "
                    "Check the above logs for more info about the error."
                )
                return False
        self.opened = True
        self.last_fsync = self._unixtime()
        if not self.last_write_ok:
            log.warning("AOF reopen, just ignore the last error.")
            self.last_write_ok = True
        self._update_denied()
        return True

    def stop(self) -> None:
        """stopAppendOnly (CONFIG SET appendonly no)."""
        from .child import kill_child

        self.flush(True)
        if self.fd >= 0:
            try:
                _fsync(self.fd)
                self.fsync_offset = self.current_size
                self.last_fsync = self._unixtime()
            except OSError as e:
                log.warning("Fail to fsync the AOF file: %s", e.strerror)
            os.close(self.fd)
        self.fd = -1
        self.selected_db = -1
        self.status = AOF_OFF
        self.rewrite_scheduled = False
        self.last_incr_size = 0
        self._remove_target()
        if self._aof_child_active():
            self._kill_child(kill_child)
        self.state.aof_buf = []
        self.last_write_ok = True
        self._update_denied()

    def _remove_target(self) -> None:
        targets = self.state.propagation_targets
        if self.feed in targets:
            targets.remove(self.feed)

    def _kill_child(self, kill_child: Callable[[Any], Any]) -> None:
        """killAppendOnlyChild."""
        from .child import active_child

        info = active_child(self.state)
        if info is None or info.kind != "aof":
            return
        log.info("Killing running AOF rewrite child: %d", info.pid)
        self._killing = True
        try:
            kill_child(self.state)
        finally:
            self._killing = False
        self._remove_temp_files(info.pid)
        self.rewrite_time_start = -1.0

    def on_shutdown(self) -> None:
        """prepareForShutdown: kill a rewrite child, write and fsync what is buffered."""
        from .child import kill_child

        if self._aof_child_active():
            self._kill_child(kill_child)
        if self.status != AOF_OFF and self.fd >= 0:
            self.flush(True)
            try:
                log.info("Calling fsync() on the AOF file.")
                _fsync(self.fd)
            except OSError:
                pass

    # ------------------------------------------------------------ rewrite

    def open_new_incr_for_append(self) -> bool:
        """openNewIncrAofForAppend."""
        if self.status == AOF_OFF:
            return True
        temp_am = None
        if self.status == AOF_WAIT_REWRITE:
            new_name = TEMP_FILE_NAME_PREFIX + self.filename + INCR_FILE_SUFFIX
        else:
            assert self.manifest is not None
            temp_am = self.manifest.dup()
            new_name = temp_am.new_incr_name(self.filename)
        try:
            newfd = os.open(self.path(new_name), os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
        except OSError as e:
            log.warning("Can't open the append-only file %s: %s", new_name, e.strerror)
            return False
        if temp_am is not None and not self.persist_manifest(temp_am):
            os.close(newfd)
            return False
        log.info("Creating AOF incr file %s on background rewrite", new_name)
        if self.fd >= 0:
            try:  # aof_background_fsync_and_close
                _fsync(self.fd)
            except OSError:
                pass
            os.close(self.fd)
            self.fsync_offset = self.current_size
            self.last_fsync = self._unixtime()
        self.fd = newfd
        self.last_incr_size = 0
        if temp_am is not None:
            self.manifest = temp_am
        return True

    def rewrite_background(self) -> bool:
        """rewriteAppendOnlyFileBackground: new INCR file, then fork the child writing the BASE."""
        from .child import active_child, start_child

        state = self.state
        if active_child(state) is not None:
            return False
        if not self._dir_create():
            self.lastbgrewrite_ok = False
            return False
        if self.manifest is None:
            self.load_manifest_from_disk()
        self.selected_db = -1
        self.flush(True)
        if not self.open_new_incr_for_append():
            self.lastbgrewrite_ok = False
            return False
        self.rewrites += 1
        directory = state.config["dir"]

        def work() -> None:
            tmpfile = os.path.join(directory, "temp-rewriteaof-bg-%d.aof" % os.getpid())
            if not rewrite_append_only_file(state, tmpfile):
                raise OSError("rewrite failed")
            log.info("Successfully created the temporary AOF base file %s", os.path.basename(tmpfile))

        try:
            pid = start_child(state, "aof", work, self._rewrite_done)
        except OSError as e:
            self.lastbgrewrite_ok = False
            log.warning("Can't rewrite append only file in background: fork: %s", e.strerror)
            return False
        log.info("Background append only file rewriting started by pid %d", pid)
        self.rewrite_scheduled = False
        self.rewrite_time_start = state.clock.seconds()
        return True

    def _remove_temp_files(self, pid: int) -> None:
        d = self.state.config["dir"]
        _unlink(os.path.join(d, "temp-rewriteaof-bg-%d.aof" % pid))
        _unlink(os.path.join(d, "temp-rewriteaof-%d.aof" % pid))

    def _rewrite_done(self, ok: bool) -> None:
        """backgroundRewriteDoneHandler."""
        state = self.state
        info = getattr(state, "last_child", None)
        pid = info.pid if info is not None else 0
        bysignal = info.bysignal if info is not None else 0
        if self._killing:
            return
        if ok:
            self._rewrite_succeeded(pid)
        elif not bysignal:
            self.lastbgrewrite_ok = False
            self.consecutive_failures += 1
            log.warning("Background AOF rewrite terminated with error")
        else:
            if bysignal != signal.SIGUSR1:
                self.lastbgrewrite_ok = False
                self.consecutive_failures += 1
            log.warning("Background AOF rewrite terminated by signal %d", bysignal)
        # cleanup
        self._remove_temp_files(pid)
        if self.status == AOF_WAIT_REWRITE:
            state.aof_buf = []
            temp_incr = TEMP_FILE_NAME_PREFIX + self.filename + INCR_FILE_SUFFIX
            log.info("Removing the temp incr aof file %s in the background", temp_incr)
            _unlink(self.path(temp_incr))
        now = state.clock.seconds()
        if self.rewrite_time_start >= 0:
            self.rewrite_time_last = int(now - self.rewrite_time_start)
        self.rewrite_time_start = -1.0
        if self.status == AOF_WAIT_REWRITE:
            self.rewrite_scheduled = True

    def _rewrite_succeeded(self, pid: int) -> None:
        log.info("Background AOF rewrite terminated with success")
        tmpfile = os.path.join(self.state.config["dir"], "temp-rewriteaof-bg-%d.aof" % pid)
        assert self.manifest is not None
        temp_am = self.manifest.dup()
        new_base = temp_am.new_base_name(self.filename, self.state.config["aof-use-rdb-preamble"])
        new_base_path = self.path(new_base)
        try:
            os.rename(tmpfile, new_base_path)
        except OSError as e:
            log.warning(
                "Error trying to rename the temporary AOF base file %s into %s: %s",
                os.path.basename(tmpfile),
                new_base,
                e.strerror,
            )
            self.lastbgrewrite_ok = False
            self.consecutive_failures += 1
            return
        log.info("Successfully renamed the temporary AOF base file %s into %s", os.path.basename(tmpfile), new_base)
        new_incr_path = None
        if self.status == AOF_WAIT_REWRITE:
            temp_incr = TEMP_FILE_NAME_PREFIX + self.filename + INCR_FILE_SUFFIX
            new_incr = temp_am.new_incr_name(self.filename)
            new_incr_path = self.path(new_incr)
            try:
                os.rename(self.path(temp_incr), new_incr_path)
            except OSError as e:
                log.warning(
                    "Error trying to rename the temporary AOF incr file %s into %s: %s", temp_incr, new_incr, e.strerror
                )
                _unlink(new_base_path)
                self.lastbgrewrite_ok = False
                self.consecutive_failures += 1
                return
            log.info("Successfully renamed the temporary AOF incr file %s into %s", temp_incr, new_incr)
        temp_am.mark_rewritten_incrs_as_history(keep_last=self.fd >= 0)
        if not self.persist_manifest(temp_am):
            _unlink(new_base_path)
            if new_incr_path:
                _unlink(new_incr_path)
            self.lastbgrewrite_ok = False
            self.consecutive_failures += 1
            return
        self.manifest = temp_am
        if self.fd >= 0:
            self.selected_db = -1
            self.current_size = _size(new_base_path) + self.last_incr_size
            self.rewrite_base_size = self.current_size
            self.fsync_offset = self.current_size
            self.last_fsync = self._unixtime()
        self.del_history_files()
        self.lastbgrewrite_ok = True
        self.consecutive_failures = 0
        log.info("Background AOF rewrite finished successfully")
        if self.status == AOF_WAIT_REWRITE:
            self.status = AOF_ON

    # ------------------------------------------------------------ INFO

    def info_fields(self) -> list[str]:
        """The aof_* lines of INFO persistence (before module_fork_*) and the extra ones shown
        while the AOF is enabled (after them)."""
        now = self.state.clock.seconds()
        cur = -1 if self.rewrite_time_start < 0 else int(now - self.rewrite_time_start)
        return [
            f"aof_enabled:{int(self.status != AOF_OFF)}",
            f"aof_rewrite_in_progress:{int(self._aof_child_active())}",
            f"aof_rewrite_scheduled:{int(self.rewrite_scheduled)}",
            f"aof_last_rewrite_time_sec:{self.rewrite_time_last}",
            f"aof_current_rewrite_time_sec:{cur}",
            f"aof_last_bgrewrite_status:{'ok' if self.lastbgrewrite_ok else 'err'}",
            f"aof_rewrites:{self.rewrites}",
            f"aof_rewrites_consecutive_failures:{self.consecutive_failures}",
            f"aof_last_write_status:{'ok' if self.last_write_ok else 'err'}",
            "aof_last_cow_size:0",
        ]

    def info_enabled_fields(self) -> list[str]:
        if not self.state.config["appendonly"]:
            return []
        return [
            f"aof_current_size:{self.current_size}",
            f"aof_base_size:{self.rewrite_base_size}",
            f"aof_pending_rewrite:{int(self.rewrite_scheduled)}",
            f"aof_buffer_length:{sum(len(b) for b in self.state.aof_buf)}",
            "aof_pending_bio_fsync:0",
            f"aof_delayed_fsync:{self.delayed_fsync}",
        ]


# ---------------------------------------------------------------------------------- rewrite


def rewrite_append_only_file(state: Any, filename: str) -> bool:
    """rewriteAppendOnlyFile: the whole dataset into ``filename`` (temp file, fsync, rename),
    as an RDB (aof-use-rdb-preamble yes) or as commands."""
    tmp = os.path.join(state.config["dir"], "temp-rewriteaof-%d.aof" % os.getpid())
    try:
        with open(tmp, "wb") as f:
            if state.config["aof-use-rdb-preamble"]:
                write_base_rdb(state, f)
            else:
                rewrite_commands(state, f)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        log.warning("Write error writing append only file on disk: %s", e.strerror)
        _unlink(tmp)
        return False
    try:
        os.rename(tmp, filename)
    except OSError as e:
        log.warning("Error moving temp append only file on the final destination: %s", e.strerror)
        _unlink(tmp)
        return False
    return True


# ---------------------------------------------------------------------------------- loading


def create_aof_client(state: Any) -> Client:
    """createAOFClient: a client with no connection that never blocks."""
    c = Client(state, None, CLIENT_ID_AOF, "", "")
    c.flags = CLIENT_DENY_BLOCKING
    return c


def _load_rdb_part(state: Any, data: bytes) -> int:
    """Load the RDB at the head of ``data`` into the state (rdbLoadRio with
    RDBFLAGS_AOF_PREAMBLE: expired keys are kept); returns the offset where it ends (the
    commands of an old-style preamble AOF start there)."""
    from . import rdb, snapshot
    from .crc64 import crc64

    snapshot.load_rdb(state, data, aof_preamble=True)
    # The usual BASE file is the RDB alone: EOF opcode + its CRC64 at the very end.
    if len(data) >= 9 and data[-9] == 0xFF:
        crc = int.from_bytes(data[-8:], "little")
        if crc and crc64(memoryview(data)[:-8]) == crc:
            return len(data)
    for ev in rdb.load(data, checksum=False):
        if ev[0] == "end":
            return ev[1]
    raise rdb.RdbError("no end of the RDB preamble")  # pragma: no cover


def load_single_append_only_file(state: Any, name: str) -> int:
    """loadSingleAppendOnlyFile: replay one file; AOF_OK, AOF_TRUNCATED, AOF_EMPTY,
    AOF_NOT_EXIST, AOF_OPEN_ERR or AOF_FAILED (the reason logged)."""
    aof: AppendOnlyFile = state.aof
    path = aof.path(name)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError as e:
        log.warning("The append log file %s doesn't exist: %s", name, e.strerror)
        return AOF_NOT_EXIST
    except OSError as e:
        _fail(aof, "Fatal error: can't open the append log file %s for reading: %s" % (name, e.strerror))
        return AOF_OPEN_ERR
    if not data:
        return AOF_EMPTY
    truncated_ok = state.config["aof-load-truncated"]
    fake = create_aof_client(state)
    pos = 0
    valid_up_to = 0
    valid_before_multi = 0
    aof.loading = True
    try:
        if data[:5] == b"REDIS":
            old_style = name == aof.filename
            log.info(
                "Reading RDB preamble from AOF file..." if old_style else "Reading RDB base file on AOF loading..."
            )
            try:
                pos = _load_rdb_part(state, data)
            except Exception as e:  # RdbError, or a value the loader refused
                log.warning("%s", e)
                if old_style:
                    return _fail(
                        aof, "Error reading the RDB preamble of the AOF file %s, AOF loading aborted: %s" % (name, e)
                    )
                return _fail(aof, "Error reading the RDB base file %s, AOF loading aborted: %s" % (name, e))
            valid_up_to = pos
            if old_style:
                log.info("Reading the remaining AOF tail...")
        n = len(data)
        state_execute = state.execute
        while True:
            line, pos = _fgets(data, pos)
            if line is None:
                break  # EOF
            if line[:1] == b"#":
                continue
            if line[:1] != b"*":
                return _fmterr(aof, name)
            if len(line) == 1:
                return _uxeof(state, aof, name, path, valid_up_to, truncated_ok)
            argc = _atoll(line[1:])
            if argc < 1:
                return _fmterr(aof, name)
            argv: list[bytes] = []
            for _ in range(argc):
                line, pos = _fgets(data, pos)
                if line is None:
                    return _uxeof(state, aof, name, path, valid_up_to, truncated_ok)
                if line[:1] != b"$":
                    return _fmterr(aof, name)
                ln = _atoll(line[1:])
                if ln < 0:
                    return _fmterr(aof, name)
                if pos + ln > n:
                    return _uxeof(state, aof, name, path, valid_up_to, truncated_ok)
                argv.append(data[pos : pos + ln])
                pos += ln
                if pos + 2 > n:  # the CRLF after the argument
                    return _uxeof(state, aof, name, path, valid_up_to, truncated_ok)
                pos += 2
            spec = state.lookup_command(argv)
            if isinstance(spec, RedisError):
                if spec.message.startswith(("ERR unknown command", "ERR unknown subcommand")):
                    return _fail(
                        aof,
                        "Unknown command '%s' reading the append only file %s"
                        % (argv[0].decode("utf-8", "replace"), name),
                    )
                spec = None
            fullname = spec.fullname if spec is not None else ""
            if fullname == "multi":
                valid_before_multi = valid_up_to
            if fake.flags & CLIENT_MULTI and fullname != "exec" and spec is not None:
                state.queue_multi(fake, spec, argv)
            else:
                state_execute(fake, argv, False)
            if truncated_ok:
                valid_up_to = pos
        if fake.flags & CLIENT_MULTI:
            log.warning("Revert incomplete MULTI/EXEC transaction in AOF file %s", name)
            return _uxeof(state, aof, name, path, valid_before_multi, truncated_ok)
        return AOF_OK
    finally:
        aof.loading = False
        state.discard_transaction(fake)


def _fgets(data: bytes, pos: int) -> tuple[bytes | None, int]:
    """fgets with a 1024-byte buffer: up to and including "\\n", at most 1023 bytes; None at
    EOF (a last line without "\\n" is still returned)."""
    if pos >= len(data):
        return None, pos
    end = data.find(b"\n", pos, pos + AOF_ANNOTATION_LINE_MAX_LEN - 1)
    if end < 0:
        end = min(len(data), pos + AOF_ANNOTATION_LINE_MAX_LEN - 1)
    else:
        end += 1
    return data[pos:end], end


def _fail(aof: "AppendOnlyFile", msg: str) -> int:
    """Log Redis's message and keep it for the startup error."""
    log.warning("%s", msg)
    aof.load_error = msg
    return AOF_FAILED


def _fmterr(aof: "AppendOnlyFile", name: str) -> int:
    return _fail(
        aof,
        "Bad file format reading the append only file %s: make a backup of your AOF file, then use "
        "./redis-check-aof --fix <filename.manifest>" % name,
    )


def _uxeof(state: Any, aof: AppendOnlyFile, name: str, path: str, valid_up_to: int, truncated_ok: bool) -> int:
    """Unexpected end of file: truncate to the last whole command with aof-load-truncated."""
    if truncated_ok:
        log.warning("!!! Warning: short read while loading the AOF file %s!!!", name)
        log.warning("!!! Truncating the AOF %s at offset %d !!!", name, valid_up_to)
        try:
            os.truncate(path, valid_up_to)
        except OSError as e:
            log.warning("Error truncating the AOF file %s: %s", name, e.strerror)
        else:
            log.warning("AOF %s loaded anyway because aof-load-truncated is enabled", name)
            return AOF_TRUNCATED
    return _fail(
        aof,
        "Unexpected end of file reading the append only file %s. You can: 1) Make a backup of your AOF file, "
        "then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the "
        "'aof-load-truncated' configuration option to yes and restart the server." % name,
    )


def _aof_upgrade_prepare(aof: AppendOnlyFile, am: Manifest) -> None:
    """aofUpgradePrepare: move a pre-7.0 single-file AOF into the directory as its BASE."""
    if not aof._dir_create():
        raise _startup_error("Can't open or create append-only dir %s" % aof.dirname)
    am.base = AofInfo(aof.filename, 1, TYPE_BASE)
    am.curr_base_file_seq = 1
    am.dirty = True
    if not aof.persist_manifest(am):
        raise _startup_error("Can't persist the AOF manifest")
    src = os.path.join(aof.state.config["dir"], aof.filename)
    try:
        os.rename(src, aof.path(aof.filename))
    except OSError as e:
        msg = "Error trying to move the old AOF file %s into dir %s: %s" % (
            aof.filename,
            aof.state.config["appenddirname"],
            e.strerror,
        )
        log.warning(msg)
        raise _startup_error(msg) from None
    log.info(
        "Successfully migrated an old-style AOF file (%s) into the AOF directory (%s).",
        aof.filename,
        aof.state.config["appenddirname"],
    )


def load_append_only_files(state: Any) -> int:
    """loadAppendOnlyFiles + aofOpenIfNeededOnServerStart + aofDelHistoryFiles, as Redis's
    startup runs them: returns the AOF_* status; raises the startup error when the files are
    damaged (Redis exits 1)."""
    import time as _time

    aof: AppendOnlyFile = state.aof
    aof.load_manifest_from_disk()
    am = aof.manifest
    assert am is not None
    legacy = os.path.join(state.config["dir"], aof.filename)
    if os.path.isfile(legacy):
        if (
            not os.path.isdir(aof.dirname)
            or (am.base is None and not am.incrs)
            or (
                am.base is not None
                and not am.incrs
                and am.base.file_name == aof.filename
                and not os.path.exists(aof.path(aof.filename))
            )
        ):
            _aof_upgrade_prepare(aof, am)
    ret = _load_files(state, aof, am, _time.perf_counter)
    if ret in (AOF_FAILED, AOF_OPEN_ERR):
        raise _startup_error(aof.load_error or "Fatal error loading the AOF files")
    aof.open_on_server_start()
    return ret


def _load_files(state: Any, aof: AppendOnlyFile, am: Manifest, timer: Callable[[], float]) -> int:
    aof.load_error = None
    files = ([am.base] if am.base else []) + list(am.incrs)
    if not files:
        return AOF_NOT_EXIST
    total = 0
    for ai in files:
        try:
            total += os.stat(aof.path(ai.file_name)).st_size
        except OSError as e:
            log.warning("Unable to obtain the AOF file %s length. stat: %s", ai.file_name, e.strerror)
            aof.load_error = "The AOF file %s listed in the manifest can't be read: %s" % (ai.file_name, e.strerror)
            return AOF_FAILED
    if total == 0:
        return AOF_EMPTY
    start_all = timer()
    was_loading = state.loading
    state.loading = True
    ret = AOF_OK
    base_size = 0
    try:
        for i, ai in enumerate(files):
            last = i == len(files) - 1
            is_base = ai is am.base
            if is_base:
                base_size = _size(aof.path(ai.file_name))
            t0 = timer()
            ret = load_single_append_only_file(state, ai.file_name)
            if ret == AOF_OK or (ret == AOF_TRUNCATED and last):
                log.info(
                    "DB loaded from %s file %s: %.3f seconds", "base" if is_base else "incr", ai.file_name, timer() - t0
                )
            if ret == AOF_EMPTY and not is_base:
                ret = AOF_OK
            if ret == AOF_TRUNCATED and not last:
                ret = AOF_FAILED
                log.warning("Fatal error: the truncated file is not the last file")
                aof.load_error = "Fatal error: the truncated file %s is not the last file" % ai.file_name
            if ret in (AOF_OPEN_ERR, AOF_FAILED):
                if aof.load_error is None:
                    aof.load_error = "Error loading the append only file %s" % ai.file_name
                return ret
    finally:
        state.loading = was_loading
    aof.current_size = total
    aof.rewrite_base_size = base_size
    aof.fsync_offset = total
    log.info("DB loaded from append only file: %.3f seconds", timer() - start_all)
    return ret


# ---------------------------------------------------------------------------------- helpers


def _fsync(fd: int) -> None:
    """redis_fsync: fdatasync on Linux."""
    if hasattr(os, "fdatasync"):
        os.fdatasync(fd)
    else:  # pragma: no cover
        os.fsync(fd)


def _write_all(fd: int, data: bytes) -> None:
    mv = memoryview(data)
    while mv:
        n = os.write(fd, mv)
        mv = mv[n:]


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
