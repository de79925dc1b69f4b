"""RDB snapshots on the server side: SAVE, BGSAVE, save points, LASTSAVE, the load at startup,
DEBUG RELOAD and the final save of SHUTDOWN / SIGTERM (Redis's rdb.c server half + the save
parts of server.c).

The format lives in ``rdb.py`` (bytes <-> values); this module applies it to a ServerState:

  write_rdb(state, out)         every database through rdb.save, with Redis 7.0's aux fields
  rdb_save(state, path=None)    rdbSave: temp-<pid>.rdb in ``dir``, fsync, rename over the target
  load_rdb(state, data)         rdbLoad: apply a whole file, dropping keys already expired
  load_on_startup(state)        loadDataFromDisk: AOF when appendonly is yes, else dir/dbfilename;
                                a corrupt file raises StartupError (file name and byte offset)
  SnapshotManager               ``state.persistence``: lastsave, the last BGSAVE's status and
                                time, the save points, rdb_saves, BGSAVE SCHEDULE, the -MISCONF
                                gate, and ``cron()`` (checkChildrenDone + the save points check)

Counters follow Redis 7.0.15 exactly: ``rdb_saves`` grows on SAVE and on every BGSAVE attempt
(not on the saves of SHUTDOWN, DEBUG RELOAD or FLUSHALL); a successful save resets ``dirty``
(a BGSAVE subtracts what was dirty when it forked); a failed SAVE answers a bare ``-ERR`` and
leaves ``rdb_last_bgsave_status`` alone; a failed BGSAVE sets it to ``err``, which denies writes
with -MISCONF while save points are configured and stop-writes-on-bgsave-error is yes.
"""

from __future__ import annotations

import io
import os
import signal
import time
from typing import Any

from ..errors import RedisError
from ..serverlog import ServerLog
from . import child

log = ServerLog("twistd_redis.persistence")

CONFIG_BGSAVE_RETRY_DELAY = 5  # seconds between save-point retries after a failed BGSAVE

MISCONF_RDB = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
    "Commands that may modify the data set are disabled, because this instance is configured to report "
    "errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check "
    "the Redis logs for details about the RDB error."
)

REDIS_VERSION = "7.0.15"


class StartupError(Exception):
    """The dataset on disk cannot be loaded: the server must not start (the message names the
    file and, for a corrupt file, the byte offset)."""


class SaveError(Exception):
    """rdb_save failed (already logged as Redis logs it)."""


# ------------------------------------------------------------------ writing


def _aux_fields(state: Any) -> dict[bytes, bytes]:
    """rdbSaveInfoAuxFields, in Redis 7.0's order (no replication fields: a master without a
    backlog saves none)."""
    aux = {
        b"redis-ver": REDIS_VERSION.encode(),
        b"redis-bits": b"64",
        b"ctime": b"%d" % int(state.clock.seconds()),
        b"used-mem": b"%d" % state.used_memory(),
    }
    aof_base = getattr(state, "_rdb_aof_base", False)
    # rdbPopulateSaveInfo: a master with a backlog (or a replica with its master client) saves
    # repl-stream-db / repl-id / repl-offset; an AOF preamble never does
    repl = getattr(state, "repl", None)
    if repl is not None and not aof_base:
        stream_db = None
        if repl.masterhost is None and repl.backlog is not None:
            stream_db = 0 if repl.slaveseldb == -1 else repl.slaveseldb
        elif repl.masterhost is not None:
            mc = getattr(repl.link, "master_client", None)
            if mc is not None:
                stream_db = mc.db.id
        if stream_db is not None:
            aux[b"repl-stream-db"] = b"%d" % stream_db
            aux[b"repl-id"] = repl.replid.encode()
            aux[b"repl-offset"] = b"%d" % repl.master_repl_offset
    aux[b"aof-base"] = b"1" if aof_base else b"0"
    return aux


def write_rdb(state: Any, out: Any, *, aof_base: bool = False) -> None:
    """Write every non-empty database of ``state`` to ``out`` (an object with .write(bytes))
    as a whole RDB v10 file. ``aof_base`` sets the aof-base aux field (an AOF base file)."""
    from . import rdb

    aux = _aux_fields(state)
    if aof_base:
        aux[b"aof-base"] = b"1"
        for k in (b"repl-stream-db", b"repl-id", b"repl-offset"):
            aux.pop(k, None)
    dbs = [(db.id, db.data, db.expires) for db in state.dbs if db.data]
    cfg = state.config
    from ..scripting.functions import function_codes

    rdb.save(
        out,
        dbs,
        aux,
        compress=bool(cfg["rdbcompression"]),
        checksum=bool(cfg["rdbchecksum"]),
        functions=function_codes(state),
    )


def _fsync_dir(path: str) -> None:
    """fsync a directory so a rename in it is durable (best effort, as Redis's fsyncFileDir)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def rdb_filename(state: Any) -> str:
    mgr = getattr(state, "persistence", None)
    cfg = mgr.config if mgr is not None else state.config
    return os.path.join(cfg["dir"], cfg["dbfilename"])


def rdb_save(state: Any, path: str | None = None) -> None:
    """rdbSave: write temp-<pid>.rdb in ``dir``, fsync it, rename it over ``path`` (default
    dir/dbfilename), fsync the directory. Logs like Redis and raises SaveError on failure;
    it changes no counter (the callers do: SAVE, BGSAVE's child, SHUTDOWN...)."""
    target = path or rdb_filename(state)
    d = os.path.dirname(os.path.abspath(target))
    tmpname = "temp-%d.rdb" % os.getpid()
    tmp = os.path.join(d, tmpname)
    try:
        f = open(tmp, "wb")
    except OSError as e:
        log.warning(
            "Failed opening the temp RDB file %s (in server root dir %s) for saving: %s", tmpname, d, e.strerror
        )
        raise SaveError(str(e)) from None
    try:
        with f:
            buf = io.BufferedWriter(f, 1 << 16)  # type: ignore[arg-type]
            write_rdb(state, buf)
            buf.flush()
            os.fsync(f.fileno())
            buf.detach()
    except Exception as e:
        msg = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        log.warning("Write error saving DB on disk: %s", msg)
        _unlink(tmp)
        raise SaveError(msg) from None
    try:
        os.rename(tmp, target)
    except OSError as e:
        log.warning(
            "Error moving temp DB file %s on the final destination %s (in server root dir %s): %s",
            tmpname,
            os.path.basename(target),
            d,
            e.strerror,
        )
        _unlink(tmp)
        raise SaveError(e.strerror or str(e)) from None
    _fsync_dir(os.path.dirname(os.path.abspath(target)))
    log.info("DB saved on disk")


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def remove_temp_file(state: Any, pid: int) -> None:
    """rdbRemoveTempFile: the temp file a killed child left behind."""
    _unlink(os.path.join(os.path.dirname(rdb_filename(state)), "temp-%d.rdb" % pid))


# ------------------------------------------------------------------ loading


def load_limits(state: Any) -> dict[str, int]:
    """The listpack/intset thresholds a load converts against (this server's config)."""
    from . import rdb

    return {name: state.config[name] for name in rdb.DEFAULT_LIMITS}


def load_rdb(state: Any, data: bytes, *, replace: bool = True, aof_preamble: bool = False) -> int:
    """rdbLoad: apply a whole RDB file to ``state``'s databases; returns the keys loaded.

    Keys already expired are skipped, as a master does (not for an AOF preamble); their number
    goes to ``rdb_last_load_keys_expired``. A key that exists already replaces the old value
    when ``replace`` (DEBUG RELOAD MERGE), else the load fails as Redis's duplicated key
    check. Raises rdb.RdbError on a corrupt file (the databases may then hold part of it: the
    caller empties them)."""
    from . import rdb

    now = state.now_ms()
    # a replica keeps expired keys (its master's DEL comes); at startup replicaof is only config
    master = not state.is_replica() and not state.config["replicaof"]
    ndbs = len(state.dbs)
    loaded = expired = 0
    mgr = getattr(state, "persistence", None)
    repl_aux: dict[bytes, bytes] = {}
    was_loading = state.loading
    state.loading = True
    lruclock = state.lruclock
    try:
        for ev in rdb.load(data, checksum=bool(state.config["rdbchecksum"]), limits=load_limits(state)):
            kind = ev[0]
            if kind == "key":
                _, dbid, key, value, expire, lru_idle, _lfu = ev
                if dbid >= ndbs:
                    raise rdb.RdbError(
                        "FATAL: Data file was created with a Redis server configured to handle more than "
                        "%d databases" % ndbs
                    )
                db = state.dbs[dbid]
                if expire is not None and expire < now and master and not aof_preamble:
                    expired += 1
                    continue
                if key in db.data:
                    if not replace:
                        raise rdb.RdbError(
                            "RDB has duplicated key '%s' in DB %d" % (key.decode("utf-8", "replace"), dbid)
                        )
                    db.delete(key)
                db.data[key] = value
                if expire is not None:
                    db.expires[key] = expire
                if lru_idle:
                    db.access[key] = (lruclock - lru_idle) & ((1 << 24) - 1)
                if _lfu is not None and hasattr(db, "lfu"):
                    db.lfu[key] = (((state.mstime // 60000) & 65535) << 8) | _lfu
                loaded += 1
            elif kind == "db":
                dbid = ev[1]
                if dbid >= ndbs:
                    raise rdb.RdbError(
                        "FATAL: Data file was created with a Redis server configured to handle more than "
                        "%d databases" % ndbs
                    )
            elif kind == "aux":
                key, val = ev[1], ev[2]
                if key == b"redis-ver":
                    log.info("Loading RDB produced by version %s", val.decode("utf-8", "replace"))
                elif key == b"ctime":
                    try:
                        age = int(state.clock.seconds()) - int(val)
                        log.info("RDB age %d seconds", max(age, 0))
                    except ValueError:
                        pass
                elif key in (b"repl-id", b"repl-offset", b"repl-stream-db"):
                    repl_aux[key] = val
                elif key == b"used-mem":
                    try:
                        log.info("RDB memory usage when created %.2f Mb", int(val) / (1024 * 1024))
                    except ValueError:
                        pass
            elif kind == "function":
                from ..scripting.functions import rdb_load_function

                rdb_load_function(state, ev[1], replace)  # RDBFLAGS_ALLOW_DUP: a library may replace one
    finally:
        state.loading = was_loading
    if mgr is not None:
        mgr.keys_loaded = loaded
        mgr.keys_expired = expired
        mgr.loaded_repl_aux = repl_aux
    log.info("Done loading RDB, keys loaded: %d, keys expired: %d.", loaded, expired)
    return loaded


def _empty_all(state: Any) -> None:
    for db in state.dbs:
        db.flush()


def load_on_startup(state: Any) -> None:
    """loadDataFromDisk: the AOF when appendonly is yes, else dir/dbfilename when it exists.
    Raises StartupError (nothing half-loaded stays in memory) when the file is corrupt or
    unreadable."""
    from . import rdb

    start = time.monotonic()
    if state.config["appendonly"]:
        from . import aof  # helper "aof"'s module, imported only when needed

        try:
            aof.load_append_only_files(state)
        except rdb.RdbError as e:
            _empty_all(state)
            raise StartupError("Bad RDB preamble in the append only file: %s" % e) from None
        return
    path = rdb_filename(state)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return
    except OSError as e:
        raise StartupError("Fatal error loading the DB (%s): %s. Exiting." % (path, e.strerror)) from None
    try:
        load_rdb(state, data)
    except rdb.RdbError as e:
        _empty_all(state)
        raise StartupError("Bad RDB file %s: %s" % (path, e)) from None
    state.dirty = 0
    log.info("DB loaded from disk: %.3f seconds", time.monotonic() - start)
    aux = getattr(state.persistence, "loaded_repl_aux", None) or {}
    try:
        replid = aux[b"repl-id"].decode("ascii")
        offset = int(aux[b"repl-offset"])
        stream_db = int(aux[b"repl-stream-db"])
    except (KeyError, ValueError, UnicodeDecodeError):
        return
    if len(replid) == 40 and offset != -1 and stream_db != -1:
        # the history this file belongs to: a replica continues it with PSYNC, a master keeps
        # it as replid2 so its replicas can (Redis 7.0's loadDataFromDisk)
        state.repl.restore_from_rdb(replid, offset, stream_db, replica=bool(state.config["replicaof"]))


# ------------------------------------------------------------------ the manager


class SnapshotManager:
    """``state.persistence``: the RDB side of Redis's server struct (lastsave, lastbgsave_status,
    lastbgsave_try, dirty_before_bgsave, rdb_save_time_*, saveparams, stat_rdb_saves,
    rdb_bgsave_scheduled) and the operations that move them."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.lastsave = int(state.clock.seconds())
        self.lastbgsave_try = 0
        self.lastbgsave_ok = True
        self.dirty_before_bgsave = 0
        self.save_time_start = -1
        self.save_time_last = -1
        self.rdb_saves = 0
        self.bgsave_scheduled = False
        self.keys_loaded = 0
        self.keys_expired = 0
        self.misconf = RedisError(MISCONF_RDB)
        # the config this manager listens to (a test may swap state.config afterwards)
        self.config = cfg = state.config
        self.save_params: list[tuple[int, int]] = cfg.save_params()
        cfg.on_change("save", self._save_changed)
        cfg.on_change("stop-writes-on-bgsave-error", lambda v: self.update_write_denied())
        state.shutdown_hooks.append(self.shutdown_hook)

    def _save_changed(self, value: Any) -> None:
        self.save_params = self.config.save_params()
        self.update_write_denied()

    # ------------------------------------------------------------ status

    def rdb_child(self) -> child.ChildInfo | None:
        info = child.active_child(self.state)
        return info if info is not None and info.kind == "rdb" else None

    def now(self) -> int:
        return int(self.state.clock.seconds())

    def update_write_denied(self) -> None:
        """writeCommandsDeniedByDiskError for the RDB side: deny while the last BGSAVE failed,
        save points are set and stop-writes-on-bgsave-error is yes."""
        st = self.state
        deny = not self.lastbgsave_ok and bool(self.save_params) and bool(self.config["stop-writes-on-bgsave-error"])
        st.set_disk_error("rdb", self.misconf if deny else None)

    def _saved(self) -> None:
        st = self.state
        st.dirty = 0
        self.lastsave = self.now()
        self.lastbgsave_ok = True
        self.update_write_denied()

    # ------------------------------------------------------------ saving

    def save(self) -> bool:
        """rdbSave in the foreground (SAVE, SHUTDOWN, DEBUG RELOAD, FLUSHALL): True on success;
        dirty resets, lastsave moves, the last bgsave status becomes ok."""
        try:
            rdb_save(self.state)
        except SaveError:
            return False
        self._saved()
        return True

    def bgsave(self) -> bool:
        """rdbSaveBackground: fork a child writing dir/dbfilename. False when a child is active
        or fork fails."""
        st = self.state
        if child.active_child(st) is not None:
            return False
        self.rdb_saves += 1
        self.dirty_before_bgsave = st.dirty
        self.lastbgsave_try = self.now()

        def work() -> None:
            try:
                rdb_save(st)
            except SaveError:
                os._exit(1)

        try:
            pid = child.start_child(st, "rdb", work, self._bgsave_done)
        except OSError as e:
            self.lastbgsave_ok = False
            log.warning("Can't save in background: fork: %s", e.strerror)
            self.update_write_denied()
            return False
        log.info("Background saving started by pid %d", pid)
        self.save_time_start = self.now()
        return True

    def _bgsave_done(self, ok: bool) -> None:
        """backgroundSaveDoneHandlerDisk."""
        st = self.state
        info = getattr(st, "last_child", None)
        if ok:
            log.info("Background saving terminated with success")
            st.dirty = st.dirty - self.dirty_before_bgsave
            self.lastsave = self.now()
            self.lastbgsave_ok = True
        elif info is None or not info.bysignal:
            log.warning("Background saving error")
            self.lastbgsave_ok = False
        else:
            log.warning("Background saving terminated by signal %d", info.bysignal)
            remove_temp_file(st, info.pid)
            # SIGUSR1 is our own kill: not an error condition
            if info.bysignal != signal.SIGUSR1:
                self.lastbgsave_ok = False
        start = int(info.start_time) if info is not None else self.save_time_start
        self.save_time_last = self.now() - start if start >= 0 else -1
        self.save_time_start = -1
        self.update_write_denied()

    def kill_rdb_child(self) -> None:
        """killRDBChild (FLUSHALL, SHUTDOWN, DEBUG RELOAD): stop a running BGSAVE."""
        info = self.rdb_child()
        if info is not None:
            child.kill_child(self.state)

    # ------------------------------------------------------------ cron

    def cron(self) -> None:
        """The persistence part of serverCron: reap a finished child; with none running, start
        a BGSAVE when a save point is reached (waiting CONFIG_BGSAVE_RETRY_DELAY after a
        failure); then a scheduled BGSAVE."""
        st = self.state
        now = self.now()
        if child.active_child(st) is not None:
            child.check_children(st)
        else:
            retry_ok = self.lastbgsave_ok or now - self.lastbgsave_try > CONFIG_BGSAVE_RETRY_DELAY
            for seconds, changes in self.save_params:
                if st.dirty >= changes and now - self.lastsave > seconds and retry_ok:
                    log.info("%d changes in %d seconds. Saving...", changes, seconds)
                    self.bgsave()
                    break
        if (
            self.bgsave_scheduled
            and child.active_child(st) is None
            and (self.lastbgsave_ok or now - self.lastbgsave_try > CONFIG_BGSAVE_RETRY_DELAY)
        ):
            if self.bgsave():
                self.bgsave_scheduled = False

    # ------------------------------------------------------------ shutdown

    def shutdown_hook(self) -> None:
        """prepareForShutdown's RDB part. SHUTDOWN sets ``state.shutdown_flags``; without them
        (SIGTERM: twistd stopping the reactor runs stopService, the service no longer running)
        shutdown-on-sigterm decides.
        Kills a running BGSAVE, then saves when save points are set (or SAVE) unless NOSAVE.
        A failed save raises the SHUTDOWN error unless FORCE (SIGTERM only logs it)."""
        st = self.state
        # stopService marks the service stopped before it runs the hooks; SHUTDOWN runs them
        # while it is still running
        sigterm = not st.running
        flags = getattr(st, "shutdown_flags", None)
        if sigterm or flags is None:
            words = str(self.config["shutdown-on-sigterm"]).split()
            flags = {w: True for w in words}
        save, nosave, force = flags.get("save"), flags.get("nosave"), flags.get("force")
        info = self.rdb_child()
        if info is not None:
            log.warning("There is a child saving an .rdb. Killing it!")
            child.kill_child(st)
            remove_temp_file(st, info.pid)
        if (self.save_params and not nosave) or save:
            log.info("Saving the final RDB snapshot before exiting.")
            if not self.save():
                if force:
                    log.warning("Error trying to save the DB. Exit anyway.")
                elif sigterm:
                    log.warning("Error trying to save the DB, can't exit.")
                    log.warning(
                        "SIGTERM received but errors trying to shut down the server, check the logs for more information"
                    )
                else:
                    log.warning("Error trying to save the DB, can't exit.")
                    log.warning("Errors trying to shut down the server. Check the logs for more information.")
                    raise RedisError("ERR Errors trying to SHUTDOWN. Check logs.")

    # ------------------------------------------------------------ FLUSHALL, DEBUG RELOAD

    def flushall_save(self) -> None:
        """flushAllDataAndResetRDB's part after emptying: kill a running BGSAVE and, with save
        points set, save the (empty) dataset. As Redis 7.0.15, the save resets dirty to 0 (the
        command's propagation is forced by the caller) and rdb_saves does not count it."""
        self.kill_rdb_child()
        if self.save_params:
            self.save()

    def debug_reload(self, opts: list[bytes]) -> Any:
        """DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty, load the file back."""
        from . import rdb

        merge, flush, save = False, True, True
        for o in opts:
            lo = o.lower()
            if lo == b"merge":
                merge = True
            elif lo == b"noflush":
                flush = False
            elif lo == b"nosave":
                save = False
            else:
                raise RedisError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
        st = self.state
        if save:
            if self.rdb_child() is not None:
                self.kill_rdb_child()
            if not self.save():
                raise RedisError("ERR")
        if flush:
            st.flushall()
            from ..scripting.functions import clear_functions

            clear_functions(st)  # emptyData(-1, EMPTYDB_NO_FLAGS): the libraries go too
        try:
            with open(rdb_filename(st), "rb") as f:
                data = f.read()
            load_rdb(st, data, replace=merge)
        except (OSError, rdb.RdbError) as e:
            log.warning("Error loading the RDB dump for DEBUG RELOAD: %s", e)
            raise RedisError("ERR Error trying to load the RDB dump") from None
        log.warning("DB reloaded by DEBUG RELOAD")
        return True

    # ------------------------------------------------------------ INFO

    def info_fields(self) -> dict[str, Any]:
        info = self.rdb_child()
        now = self.now()
        return {
            "rdb_bgsave_in_progress": int(info is not None),
            "rdb_last_save_time": self.lastsave,
            "rdb_last_bgsave_status": "ok" if self.lastbgsave_ok else "err",
            "rdb_last_bgsave_time_sec": self.save_time_last,
            "rdb_current_bgsave_time_sec": (now - int(info.start_time)) if info is not None else -1,
            "rdb_saves": self.rdb_saves,
            "rdb_last_load_keys_expired": self.keys_expired,
            "rdb_last_load_keys_loaded": self.keys_loaded,
        }


def persistence_cron(state: Any) -> None:
    """Called from ServerState.server_cron."""
    mgr = getattr(state, "persistence", None)
    if mgr is not None:
        mgr.cron()
    else:  # pragma: no cover
        child.check_children(state)
