"""twistd-redis: a Redis-compatible server on Twisted.

Public API::

    from twistd_redis import ServerState, RedisServerFactory, make_service
    service = make_service({"port": 6380})      # an IService for any Application
"""

__version__ = "0.1.0"

# Redis version we answer as (HELLO, INFO redis_version): the behaviour we match.
REDIS_VERSION = "7.0.15"


def __getattr__(name: str):  # lazy: importing the package must not import the reactor
    if name == "ServerState":
        from .state import ServerState

        return ServerState
    if name == "RedisServerFactory":
        from .protocol import RedisServerFactory

        return RedisServerFactory
    if name == "make_service":
        from .tap import make_service

        return make_service
    raise AttributeError(name)


__all__ = ["__version__", "REDIS_VERSION", "ServerState", "RedisServerFactory", "make_service"]
