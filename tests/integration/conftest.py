"""Integration fixtures: one twistd-redis child process per session, real clients against it."""

from __future__ import annotations

import os

import pytest
import redis

from tests.helpers_proc import ServerProcess


@pytest.fixture(scope="session")
def ours(tmp_path_factory):
    """A twistd-redis server (``python -m twistd_redis --port P``) for the whole session.

    ``INTEGRATION_AGAINST=redis-server`` runs the same tests against a real redis-server instead:
    that is how the tests themselves are checked against the spec."""
    # run from a private folder: the child imports the INSTALLED package (as users get it, so a
    # packaging mistake fails here) and any file it writes (dump.rdb) stays out of the checkout
    d = str(tmp_path_factory.mktemp("ours"))
    if os.environ.get("INTEGRATION_AGAINST") == "redis-server":
        srv = ServerProcess.real(None, cwd=d)
    else:
        srv = ServerProcess.ours(None, "--dir", d, cwd=d)
    with srv:
        yield srv


@pytest.fixture
def port(ours):
    return ours.port


def _client(port: int, protocol: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, protocol=protocol, socket_timeout=30)


@pytest.fixture
def r(ours):
    """redis-py speaking RESP2, on an empty server."""
    c = _client(ours.port, 2)
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def r3(ours):
    """redis-py speaking RESP3 (it sends HELLO 3 on connect), on an empty server."""
    c = _client(ours.port, 3)
    c.flushall()
    yield c
    c.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def rr(ours, request):
    """redis-py in both protocol versions."""
    c = _client(ours.port, request.param)
    c.flushall()
    yield c
    c.close()


def requires(client: redis.Redis, *commands: str) -> None:
    """Skip, naming them, while our server lacks ``commands`` (they arrive with later issues);
    the test runs by itself once COMMAND INFO knows them. (Asked over a raw connection:
    redis-py's COMMAND INFO parser fails on the null entry of an unknown command.)"""
    from tests.helpers_proc import RawConn

    missing = []
    with RawConn(client.connection_pool.connection_kwargs["port"]) as c:
        for name in commands:
            if c.call("COMMAND", "INFO", name).startswith((b"*1\r\n$-1", b"*1\r\n*-1", b"*1\r\n_")):
                missing.append(name.upper())
    if missing:
        pytest.skip(f"our server does not implement {', '.join(missing)} yet")
