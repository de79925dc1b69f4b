"""The twistd plugin, ``python -m twistd_redis`` and embedding ``make_service`` in an Application.

Every child runs in a temporary directory: twistd writes twistd.pid (unless ``--pidfile=``) and
a dropin.cache next to the plugins, and neither belongs in the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import redis

from tests.helpers_proc import ServerProcess, free_port, ping

BIN = os.path.dirname(sys.executable)
TWISTD = os.path.join(BIN, "twistd") if os.path.exists(os.path.join(BIN, "twistd")) else shutil.which("twistd")

pytestmark = pytest.mark.skipif(TWISTD is None, reason="twistd not found next to the interpreter")


def assert_clean_twistd_exit(srv: ServerProcess) -> None:
    """twistd stops cleanly on SIGTERM, then re-raises the signal: exit status -15 (or 0)."""
    out = srv.output()
    assert srv.proc.returncode in (0, -15), out
    assert "Server Shut Down." in out, out
    assert "Traceback" not in out, out


def run(argv: list[str], cwd, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_twistd_help_lists_redis(tmp_path):
    p = run([TWISTD, "--help"], tmp_path)
    assert p.returncode == 0, p.stderr
    lines = [ln.split() for ln in p.stdout.decode().splitlines()]
    assert any(ln and ln[0] == "redis" for ln in lines), p.stdout.decode()


def test_twistd_redis_help_lists_options(tmp_path):
    p = run([TWISTD, "redis", "--help"], tmp_path)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    for opt in ("--port", "--bind", "--config", "--listen", "--requirepass"):
        assert opt in out


def test_twistd_serves_ping(tmp_path):
    port = free_port()
    with ServerProcess([TWISTD, "-n", "--pidfile=", "redis", "--port", str(port)], port=port, cwd=tmp_path) as srv:
        c = redis.Redis(host="127.0.0.1", port=port)
        assert c.ping() is True
        assert c.set("k", "v") and c.get("k") == b"v"
        c.close()
        assert not (tmp_path / "twistd.pid").exists()
    assert_clean_twistd_exit(srv)


def test_twistd_writes_pidfile_where_told(tmp_path):
    port = free_port()
    pidfile = tmp_path / "redis.pid"
    with ServerProcess([TWISTD, "-n", f"--pidfile={pidfile}", "redis", "--port", str(port)], port=port,
                       cwd=tmp_path) as srv:
        assert int(pidfile.read_text().strip()) == srv.proc.pid
    assert not pidfile.exists()


@pytest.mark.parametrize("args", [["--no-such-option"], ["--port", "notaport"], ["--maxmemory-policy", "bogus"]])
def test_twistd_bad_option_is_a_usage_error(tmp_path, args):
    p = run([TWISTD, "-n", "--pidfile=", "redis", *args], tmp_path)
    out = (p.stdout + p.stderr).decode()
    assert p.returncode != 0
    assert "Traceback" not in out, out
    assert "--help" in out or "sage" in out, out


def test_twistd_port_in_use_exits_nonzero(tmp_path, ours):
    p = run([TWISTD, "-n", "--pidfile=", "redis", "--port", str(ours.port)], tmp_path, timeout=30)
    assert p.returncode != 0
    assert ping(ours.port)


def test_twistd_config_file_and_flag_override(tmp_path):
    file_port, port = free_port(), free_port()
    conf = tmp_path / "redis.conf"
    conf.write_text(textwrap.dedent(f"""\
        # a redis.conf
        port {file_port}
        maxmemory-policy allkeys-lru
        requirepass fromfile
        databases 4
        """))
    argv = [TWISTD, "-n", "--pidfile=", "redis", "--config", str(conf), "--port", str(port),
            "--requirepass", "fromflag"]
    with ServerProcess(argv, port=port, cwd=tmp_path):
        assert not ping(file_port)
        c = redis.Redis(host="127.0.0.1", port=port, password="fromflag", protocol=2)
        assert c.ping() is True
        assert c.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
        assert c.config_get("databases") == {"databases": "4"}
        with pytest.raises(redis.ResponseError, match="DB index is out of range"):
            c.execute_command("SELECT", 4)
        c.close()
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=port, password="fromfile", protocol=2).ping()


def test_twistd_missing_config_file(tmp_path):
    p = run([TWISTD, "-n", "--pidfile=", "redis", "--config", str(tmp_path / "nope.conf")], tmp_path)
    out = (p.stdout + p.stderr).decode()
    assert p.returncode != 0
    assert "Traceback" not in out, out
    assert "nope.conf" in out


def test_twistd_listen_unix_socket(tmp_path):
    sock = str(tmp_path / "x.sock")
    argv = [TWISTD, "-n", "--pidfile=", "redis", "--listen", f"unix:{sock}"]
    with ServerProcess(argv, unix=sock, cwd=tmp_path):
        c = redis.Redis(unix_socket_path=sock, protocol=2)
        assert c.ping() is True
        assert c.set("k", "v") is True
        assert c.get("k") == b"v"
        assert c.client_list()[0]["addr"].endswith(":0")
        c.close()


def test_python_m_twistd_redis(tmp_path):
    port = free_port()
    argv = [sys.executable, "-m", "twistd_redis", "--port", str(port), "--requirepass", "pw"]
    with ServerProcess(argv, port=port, cwd=tmp_path) as srv:
        c = redis.Redis(host="127.0.0.1", port=port, password="pw", protocol=2)
        assert c.ping() is True
        c.close()
    assert srv.proc.returncode == 0, srv.output()
    assert not (tmp_path / "twistd.pid").exists()


def test_python_m_twistd_redis_bad_option(tmp_path):
    p = run([sys.executable, "-m", "twistd_redis", "--no-such-option"], tmp_path)
    out = (p.stdout + p.stderr).decode()
    assert p.returncode != 0
    assert "Traceback" not in out, out
    assert "--help" in out


def test_python_m_twistd_redis_help(tmp_path):
    p = run([sys.executable, "-m", "twistd_redis", "--help"], tmp_path)
    assert p.returncode == 0
    assert "--port" in p.stdout.decode()


def test_embedding_in_application_with_twistd_y(tmp_path):
    port = free_port()
    app = tmp_path / "app.tac"
    app.write_text(textwrap.dedent(f"""\
        from twisted.application import service
        from twistd_redis import make_service

        application = service.Application("embedded-redis")
        make_service({{"port": {port}}}).setServiceParent(application)
        """))
    with ServerProcess([TWISTD, "-n", "--pidfile=", "-y", str(app)], port=port, cwd=tmp_path) as srv:
        c = redis.Redis(host="127.0.0.1", port=port, protocol=2)
        assert c.ping() is True
        assert c.incr("hits") == 1
        c.close()
    assert_clean_twistd_exit(srv)


def test_embedding_in_plain_python(tmp_path):
    port = free_port()
    script = tmp_path / "embed.py"
    script.write_text(textwrap.dedent(f"""\
        from twisted.internet import reactor
        from twistd_redis import make_service

        svc = make_service({{"port": {port}, "maxmemory": "10mb"}})
        svc.startService()
        reactor.addSystemEventTrigger("before", "shutdown", svc.stopService)
        reactor.run()
        """))
    with ServerProcess([sys.executable, str(script)], port=port, cwd=tmp_path):
        c = redis.Redis(host="127.0.0.1", port=port, protocol=2)
        assert c.ping() is True
        assert c.config_get("maxmemory") == {"maxmemory": str(10 * 1024 * 1024)}
        c.close()
