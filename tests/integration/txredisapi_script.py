"""Run by test_txredisapi.py in a child process: txredisapi on a real reactor against PORT.

Prints one JSON object with what the client saw, then stops the reactor. (The pytest session
itself runs no reactor: the unit tests use none, and mixing reactor styles in one session breaks.)
"""

import json
import sys

import txredisapi
from twisted.internet import defer, reactor


@defer.inlineCallbacks
def main(port):
    out = {}
    conn = yield txredisapi.Connection("127.0.0.1", port, reconnect=False)
    try:
        yield conn.flushdb()
        out["ping"] = yield conn.ping()
        out["set"] = yield conn.set("k", "v")
        out["get"] = yield conn.get("k")
        out["incr"] = yield conn.incr("n")
        out["incrby"] = yield conn.incrby("n", 41)
        out["mset"] = yield conn.mset({"a": "1", "b": "2"})
        out["mget"] = yield conn.mget(["a", "b", "zz"])
        out["expire"] = yield conn.expire("k", 100)
        out["ttl"] = yield conn.ttl("k")
        out["exists"] = yield conn.exists("k")
        out["delete"] = yield conn.delete(["a", "b"])
        out["type"] = yield conn.type("k")
        try:
            yield conn.execute_command("GET", "a", "b")
        except txredisapi.ResponseError as e:
            out["error"] = str(e)
        # many commands in flight at once on one connection: replies come back in order
        results = yield defer.gatherResults([conn.incr("counter") for _ in range(500)])
        out["pipelined"] = results == list(range(1, 501))
        pool = yield txredisapi.ConnectionPool("127.0.0.1", port, poolsize=5, reconnect=False)
        try:
            values = yield defer.gatherResults([pool.set(f"p{i}", i) for i in range(50)])
            out["pool"] = values.count("OK")
        finally:
            yield pool.disconnect()
    finally:
        yield conn.disconnect()
    print(json.dumps(out))


def run(port):
    failure = []

    def done(result):
        if isinstance(result, Exception) or hasattr(result, "getTraceback"):
            failure.append(result)
            print(result.getTraceback(), file=sys.stderr)
        reactor.stop()

    reactor.callWhenRunning(lambda: main(port).addBoth(done))
    reactor.callLater(30, reactor.stop)
    reactor.run()
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(run(int(sys.argv[1])))
