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
