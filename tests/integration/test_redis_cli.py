"""redis-cli as a subprocess against twistd-redis: the tool operators reach for first."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers_proc import REDIS_CLI

pytestmark = pytest.mark.skipif(REDIS_CLI is None, reason="redis-cli is not installed (apt-get install redis-tools)")


def cli(port: int, *args: str, stdin: bytes | None = None) -> str:
    p = subprocess.run(
        [REDIS_CLI, "-h", "127.0.0.1", "-p", str(port), *args],
        input=stdin,
        capture_output=True,
        timeout=30,
    )
    assert p.returncode == 0, p.stderr
    return p.stdout.decode()


@pytest.fixture
def port(ours):
    cli(ours.port, "FLUSHALL")
    return ours.port


def test_set_get(port):
    assert cli(port, "SET", "k", "v") == "OK\n"
    assert cli(port, "GET", "k") == "v\n"
    assert cli(port, "PING") == "PONG\n"


def test_no_raw_formatting(port):
    cli(port, "SET", "k", "v")
    assert cli(port, "--no-raw", "GET", "k") == '"v"\n'
    assert cli(port, "--no-raw", "GET", "missing") == "(nil)\n"
    assert cli(port, "--no-raw", "INCR", "n") == "(integer) 1\n"
    cli(port, "MSET", "a", "1", "b", "2")
    assert cli(port, "--no-raw", "MGET", "a", "b", "zz") == '1) "1"\n2) "2"\n3) (nil)\n'
    assert cli(port, "--no-raw", "GET", "n", "extra") == "(error) ERR wrong number of arguments for 'get' command\n"


def test_resp3_mode(port):
    cli(port, "SET", "k", "v")
    out = cli(port, "-3", "--no-raw", "HELLO", "3")
    assert '"server" => "redis"' in out
    assert '"proto" => (integer) 3' in out


def test_piped_inline_commands(port):
    script = b"SET a 1\nINCR a\nSET \"sp ace\" 'quoted value'\nGET \"sp ace\"\nGET a\n"
    out = cli(port, stdin=script)
    assert out == "OK\n2\nOK\nquoted value\n2\n"


def test_pipe_mode_mass_insert(port):
    payload = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nx\r\n" % (len(k), k)
                       for k in (b"key:%d" % i for i in range(2000)))
    p = subprocess.run([REDIS_CLI, "-p", str(port), "--pipe"], input=payload, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert b"errors: 0, replies: 2000" in p.stdout
    assert cli(port, "DBSIZE") == "2000\n"


def test_scan_and_info(port):
    cli(port, "MSET", *[x for i in range(30) for x in (f"s:{i}", "1")])
    keys = cli(port, "--scan", "--pattern", "s:*").split()
    assert sorted(keys) == sorted(f"s:{i}" for i in range(30))
    info = cli(port, "INFO", "server")
    assert "redis_version:7.0.15" in info
