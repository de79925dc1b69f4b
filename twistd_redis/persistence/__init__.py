"""Persistence: Redis-format RDB and AOF files, both ways compatible with real Redis 7.0.

Two layers, kept apart on purpose:

The format layer knows bytes and values, never the server:
  crc64.py       crc64(data, crc=0): Redis's CRC-64 (Jones polynomial, reflected), C speed
  lzf.py         compress(data) -> bytes | None, decompress(data, outlen) -> bytes (LZF, as liblzf)
  encodings.py   the compact encodings inside RDB values: ziplist, intset, zipmap decoders (with
                 Redis's integrity checks) - pure functions over bytes
  listpack.py    listpack_decode(buf) -> list[bytes | int], listpack_encode(items) -> bytes
  rdb.py         RdbReader / RdbWriter (lengths, strings, LZF, doubles, ms times), read_value /
                 write_value for every type, whole-file save() / load() with aux fields,
                 SELECTDB, RESIZEDB, expiries, CRC64; dump_payload / restore_payload (DUMP/RESTORE)
  rdb_stream.py  the stream types (RDB_TYPE_STREAM_LISTPACKS 1/2/3): read_stream / write_stream

The server layer applies those files to a ServerState:
  child.py       one forked child at a time (BGSAVE, BGREWRITEAOF), reaped from the server cron
  snapshot.py    SAVE / BGSAVE / save points / LASTSAVE / startup load / SHUTDOWN and SIGTERM saves
  aof.py         the multi-part append-only file: manifest, base + incr files, fsync policies,
                 BGREWRITEAOF, load on startup; fed only by ServerState.propagate's targets

Paths are never relative to the process's cwd: every file lives under ``config["dir"]``
(``os.path.join``), so several servers can run in one process (tests) without ``chdir``.
"""
