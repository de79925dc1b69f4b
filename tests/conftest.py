import pytest

from tests.unit.harness import FakeServer


@pytest.fixture
def server():
    srv = FakeServer()
    yield srv
    srv.stop()


@pytest.fixture
def conn(server):
    return server.connect()


@pytest.fixture
def events(server):
    """Keyspace notifications as (event, key, dbid), recorded without pub/sub."""
    out = []
    server.state.notify_flags = "KEA"
    server.state.keyspace_notifier = lambda t, ev, key, dbid: out.append((ev, key, dbid))
    return out


@pytest.fixture
def seen(server):
    """Every argv handed to propagate() (what the AOF and replicas would get), in order."""
    out: list[list[bytes]] = []
    server.state.propagation_targets.append(lambda dbid, argv: out.append(list(argv)))
    return out
