"""Command modules. Importing this package registers every command in ``table.REGISTRY``."""

from . import aof, client_cmd, connection, dump, functions, hashes, introspection, keys, lists, persistence, pubsub, replicaof, replication, scripting, server, sets, sort, stream_groups, stream_info, stream_pel, streams, strings, transactions, wait, zset_ops, zsets  # noqa: F401
