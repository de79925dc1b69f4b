"""Replication: Redis's master/replica protocol, interoperable with real Redis 7.0 both ways.

A write is an event: ``ServerState.propagate`` hands its argv to every propagation target, and
while a backlog exists one target is ``master.feed_replicas``, which encodes it (with a SELECT
when the db changes), appends it to the backlog and writes it to every replica connection. No
locks, no threads: each replica is its connection (``Client`` with ``CLIENT_SLAVE`` and a
``ReplicaLink`` in ``client.repl``); waiting (WAIT) is a Deferred.

Module map:
  backlog.py   ``Replication`` (``state.repl``): replid / replid2 / master_repl_offset /
               second_repl_offset, the ring backlog (``ReplBacklog``) and its lifecycle, the
               sync stats, the replication cron; ``feed_stream(data)`` is the one place bytes
               enter the replication stream (backlog + offset + every online replica).
  master.py    the master side: ``ReplicaLink`` per replica connection (handshake fields, state
               wait_bgsave / send_bulk / online, ack offset and time, the stream buffered while
               its RDB is produced); SYNC / PSYNC (full resync with a forked child, disk or
               diskless ``$EOF:`` framing; partial resync with +CONTINUE); REPLCONF;
               ``feed_replicas``; PING every repl-ping-replica-period; replica output limits.
  replica.py   the replica side: ``MasterLink``, a client Protocol under ``ClientService`` with
               the handshake as an explicit ``ReplState`` enum (PING, AUTH, REPLCONF
               listening-port / capa, PSYNC), the RDB in both framings, the stream applied as
               the master client through ``ServerState.execute``, REPLCONF ACK every second,
               GETACK, reconnect with partial resync from the cached master, REPLICAOF.
  wait.py      WAIT (a Deferred fired by replica ACKs or its timeout), the good-replicas count
               behind min-replicas-to-write.
  info.py      INFO replication and ROLE, as Redis 7.0 prints them.

Offsets count bytes of the replication stream exactly as Redis does, so a real Redis replica can
PSYNC from us and we from it.
"""
