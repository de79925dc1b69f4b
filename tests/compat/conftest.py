"""Compat fixtures: a throwaway real redis-server and a twistd-redis, started alike, for the session."""

from __future__ import annotations

import os
import tempfile

import pytest

from tests.compat.differ import Differ
from tests.helpers_proc import REDIS_SERVER, ServerProcess

COMMON = ("--save", "", "--appendonly", "no", "--bind", "127.0.0.1")


@pytest.fixture(scope="session")
def servers():
    """(real redis-server, twistd-redis), both on free ports with the same settings.

    ``COMPAT_AGAINST=redis-server`` replaces twistd-redis by a second real server: every compat
    test must then pass, which shows the scripts compare only what is deterministic."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server): compat tests compare against it")
    with tempfile.TemporaryDirectory() as d:
        with ServerProcess.real(None, cwd=d) as real:  # adds the same COMMON settings
            if os.environ.get("COMPAT_AGAINST") == "redis-server":  # self-check: two real servers must agree
                second = ServerProcess.real(None, cwd=d)
            else:
                second = ServerProcess.ours(None, *COMMON, "--dir", d, cwd=d)
            with second as ours:
                yield real, ours


@pytest.fixture
def differ(servers):
    real, ours = servers
    return Differ(real.port, ours.port)


@pytest.fixture
def check(differ):
    """check(script): run the script on both servers (RESP2, then RESP3) and compare replies."""
    return differ.check
