"""Client: one connection's server-side state. A client *is* its connection: replicas,
subscribers, blocked and MULTI clients are these objects, never addresses or announced ports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from .resp import encode2, encode3

if TYPE_CHECKING:  # pragma: no cover
    from .keyspace import Database
    from .state import ServerState

# Client flags (Redis's CLIENT_*), the ones CLIENT LIST shows as letters.
CLIENT_SLAVE = 1 << 0  # S
CLIENT_MASTER = 1 << 1  # M
CLIENT_MONITOR = 1 << 2  # O
CLIENT_MULTI = 1 << 3  # x
CLIENT_BLOCKED = 1 << 4  # b
CLIENT_DIRTY_CAS = 1 << 5  # d
CLIENT_CLOSE_AFTER_REPLY = 1 << 6  # c
CLIENT_UNBLOCKED = 1 << 7  # u
CLIENT_SCRIPT = 1 << 8  # the client scripts run their commands as (Redis's lua client)
CLIENT_PUBSUB = 1 << 18  # P
CLIENT_READONLY = 1 << 17  # r
CLIENT_NO_EVICT = 1 << 43  # e
CLIENT_UNIX_SOCKET = 1 << 11  # U
CLIENT_DIRTY_EXEC = 1 << 12  # a command was rejected while queuing: EXEC answers EXECABORT
CLIENT_TRACKING = 1 << 31  # t
# Internal bits, not shown by CLIENT LIST. Every special state is a flag so that the command path
# tests one attribute (``if c.flags:``) before taking the slow road.
CLIENT_NEEDS_AUTH = 1 << 50
# Inside MULTI/EXEC or a script: blocking commands answer their timeout reply at once.
CLIENT_DENY_BLOCKING = 1 << 41
CLIENT_REPLY_OFF = 1 << 51
CLIENT_REPLY_SKIP_NEXT = 1 << 52
CLIENT_REPLY_SKIP = 1 << 53
CLIENT_REPLY_MASK = CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP_NEXT | CLIENT_REPLY_SKIP
# Flags the protocol must look at after a reply: reply modes and close-after-reply.
CLIENT_AFTER_REPLY_MASK = CLIENT_REPLY_MASK | CLIENT_CLOSE_AFTER_REPLY

# Modules owning per-client state append ``hook(state, client)`` here: RESET runs the first list
# before its generic reset, a disconnect runs the second (ServerState.reset_client/disconnect).
CLIENT_RESET_HOOKS: list[Callable[[Any, "Client"], None]] = []
CLIENT_DISCONNECT_HOOKS: list[Callable[[Any, "Client"], None]] = []

REPLY_ON, REPLY_OFF, REPLY_SKIP_NEXT, REPLY_SKIP = 0, 1, 2, 3
_REPLY_FLAGS = {REPLY_ON: 0, REPLY_OFF: CLIENT_REPLY_OFF, REPLY_SKIP_NEXT: CLIENT_REPLY_SKIP_NEXT, REPLY_SKIP: CLIENT_REPLY_SKIP}


class Client:
    """Server-side state of one connection. ``conn`` is the RedisProtocol it speaks through
    (or None for an internal client such as the AOF loader)."""

    __slots__ = (
        "id",
        "state",
        "conn",
        "db",
        "name",
        "resp",
        "encode",
        "flags",
        "ctime",
        "last_interaction",
        "lib_name",
        "lib_ver",
        "addr",
        "laddr",
        "last_cmd",
        "user",
        "multi_queue",
        "watched_keys",
        "pubsub_channels",
        "pubsub_patterns",
        "pubsub_shard_channels",
        "waiting",
        "argv_len_sum",
        "woff",
        "repl",
        "__weakref__",
    )

    def __init__(self, state: "ServerState", conn: Any, id: int, addr: str = "", laddr: str = "") -> None:
        self.id = id
        self.state = state
        self.conn = conn
        self.db: "Database" = state.dbs[0]
        self.name: bytes | None = None
        self.resp = 2
        self.encode: Callable[[Any], bytes] = encode2
        self.flags = CLIENT_NEEDS_AUTH if state.requirepass else 0
        self.ctime = state.clock.seconds()
        self.last_interaction = self.ctime
        self.lib_name: bytes | None = None
        self.lib_ver: bytes | None = None
        self.addr = addr
        self.laddr = laddr
        self.last_cmd = "NULL"
        self.user = "default"
        self.multi_queue: list | None = None  # the argvs queued between MULTI and EXEC
        # (db id, key) -> whether the key was already logically expired when WATCHed
        self.watched_keys: dict[tuple[int, bytes], bool] | None = None
        self.pubsub_channels: set[bytes] = set()
        self.pubsub_patterns: set[bytes] = set()
        self.pubsub_shard_channels: set[bytes] = set()
        self.waiting: Any = None  # the Deferred this client is blocked on
        self.argv_len_sum = 0
        self.woff = 0  # replication offset after this client's last write (WAIT)
        self.repl: Any = None  # ReplicaLink of a replica connection (replication/master.py)

    # ------------------------------------------------------------ flag-backed state

    @property
    def authenticated(self) -> bool:
        return not self.flags & CLIENT_NEEDS_AUTH

    @authenticated.setter
    def authenticated(self, value: bool) -> None:
        if value:
            self.flags &= ~CLIENT_NEEDS_AUTH
        else:
            self.flags |= CLIENT_NEEDS_AUTH

    @property
    def reply_mode(self) -> int:
        f = self.flags
        if f & CLIENT_REPLY_OFF:
            return REPLY_OFF
        if f & CLIENT_REPLY_SKIP_NEXT:
            return REPLY_SKIP_NEXT
        if f & CLIENT_REPLY_SKIP:
            return REPLY_SKIP
        return REPLY_ON

    @reply_mode.setter
    def reply_mode(self, mode: int) -> None:
        self.flags = (self.flags & ~CLIENT_REPLY_MASK) | _REPLY_FLAGS[mode]

    # ------------------------------------------------------------ protocol version

    def set_resp(self, version: int) -> None:
        self.resp = version
        self.encode = encode3 if version == 3 else encode2

    def select(self, index: int) -> None:
        self.db = self.state.dbs[index]

    # ------------------------------------------------------------ out-of-band output

    def send(self, value: Any) -> None:
        """Write a reply value outside the request/reply flow (push, MONITOR line), in order
        with the replies of a batch being processed."""
        if self.conn is not None:
            self.conn.send_raw(self.encode(value))

    def close_after_reply(self) -> None:
        self.flags |= CLIENT_CLOSE_AFTER_REPLY

    def kill(self) -> None:
        """Close the connection now (CLIENT KILL, limits)."""
        if self.conn is not None:
            self.conn.close_now()

    # ------------------------------------------------------------ CLIENT LIST / INFO

    def flag_letters(self) -> str:
        f = self.flags
        s = ""
        if f & CLIENT_MONITOR:  # Redis marks monitors as replicas and shows O in S's place
            s += "O"
        elif f & CLIENT_SLAVE:
            s += "S"
        if f & CLIENT_MASTER:
            s += "M"
        if f & CLIENT_PUBSUB:
            s += "P"
        if f & CLIENT_MULTI:
            s += "x"
        if f & CLIENT_BLOCKED or self.waiting is not None:
            s += "b"
        if f & CLIENT_TRACKING:
            s += "t"
        if f & CLIENT_DIRTY_CAS:
            s += "d"
        if f & CLIENT_CLOSE_AFTER_REPLY:
            s += "c"
        if f & CLIENT_UNBLOCKED:
            s += "u"
        if f & CLIENT_UNIX_SOCKET:
            s += "U"
        if f & CLIENT_READONLY:
            s += "r"
        if f & CLIENT_NO_EVICT:
            s += "e"
        return s or "N"

    def info_line(self) -> str:
        """One CLIENT LIST line, fields and order as Redis 7.0's catClientInfoString."""
        now = self.state.clock.seconds()
        conn = self.conn
        qbuf = conn.query_buffer_len() if conn is not None else 0
        obl, oll, omem, writing = conn.output_stats() if conn is not None else (0, 0, 0, 0)
        fd = conn.fileno() if conn is not None else -1
        events = "r" + ("w" if writing else "")
        name = (self.name or b"").decode("utf-8", "replace")
        multi = len(self.multi_queue) if self.multi_queue is not None else -1
        watch = len(self.watched_keys) if self.watched_keys else 0
        return (
            f"id={self.id} addr={self.addr} laddr={self.laddr} fd={fd} name={name} "
            f"age={int(now - self.ctime)} idle={int(now - self.last_interaction)} "
            f"flags={self.flag_letters()} db={self.db.id} sub={len(self.pubsub_channels)} "
            f"psub={len(self.pubsub_patterns)} ssub={len(self.pubsub_shard_channels)} "
            f"multi={multi} watch={watch} qbuf={qbuf} qbuf-free={max(0, 32768 - qbuf) if qbuf else 0} "
            f"argv-mem={self.argv_len_sum} multi-mem=0 rbs=1024 rbp=0 obl={obl} oll={oll} "
            f"omem={omem} tot-mem={omem + qbuf + 1024 + self.argv_len_sum} events={events} "
            f"cmd={self.last_cmd} user={self.user} redir=-1 resp={self.resp} "
            f"lib-name={(self.lib_name or b'').decode('utf-8', 'replace')} "
            f"lib-ver={(self.lib_ver or b'').decode('utf-8', 'replace')}"
        )

    def __repr__(self) -> str:
        return f"<Client id={self.id} addr={self.addr}>"
