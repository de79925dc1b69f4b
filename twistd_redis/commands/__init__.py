"""Command modules. Importing this package registers every command in ``table.REGISTRY``."""

from . import client_cmd, connection, hashes, introspection, keys, server, sets, sort, strings  # noqa: F401
