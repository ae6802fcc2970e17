"""shardgate in kernel mode: the commands the proxy answers or refuses itself.

HELLO 3 sessions (raw RESP3, byte for byte against a real node), cluster
emulation (CLUSTER INFO/MYID/KEYSLOT/COUNTKEYSINSLOT/GETKEYSINSLOT),
connection set-up (CLIENT SETNAME/GETNAME/ID/SETINFO, SELECT, PING, ECHO,
QUIT, RESET, READONLY/READWRITE, COMMAND COUNT/INFO/DOCS), refused
commands, unknown commands and wrong arity (the same text as a real node),
CROSSSLOT for multi-key commands that cannot be split.

Cluster on 127.0.0.1:7200-7205 (sgtest.CLUSTER_HOST in DPDK mode; SG_TEST_BASE_PORT overrides).
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest  # noqa: E402
from sgtest import NULL3, Resp, RespError, check, encode  # noqa: E402

from redis.crc import key_slot  # noqa: E402

BASE = int(os.environ.get("SG_TEST_BASE_PORT", "7200"))


class Ctx:
    cl = None
    px = None


def proxy():
    return Resp(Ctx.px.port)


def node_for(key):
    """A raw connection to the primary that owns `key`."""
    if isinstance(key, str):
        key = key.encode()
    return Ctx.cl.resp(Ctx.cl.owner_port(key_slot(key)))


def same_as_node(args, node_port=None, what=None):
    """Sends args to the proxy and to a real node; the replies must match."""
    a = proxy()
    b = Ctx.cl.resp(node_port)
    try:
        ra, rb = a.cmd(*args), b.cmd(*args)
    finally:
        a.close()
        b.close()
    check(ra == rb, "%s: proxy %r, redis-server %r" % (what or " ".join(map(str, args)), ra, rb))
    return ra


# ------------------------------------------------------------------ HELLO 3

def test_hello3_session():
    r = proxy()
    hello = r.cmd("HELLO", "3")
    check(isinstance(hello, dict), "HELLO 3 reply is not a RESP3 map: %r" % hello)
    check(hello.get(b"proto") == 3 and hello.get(b"server") in (b"redis", b"valkey") and
          hello.get(b"mode") == b"cluster" and hello.get(b"role") == b"master" and
          isinstance(hello.get(b"id"), int) and hello.get(b"version"),
          "HELLO 3 map %r" % hello)
    check(r.cmd("CLIENT", "ID") == hello[b"id"], "HELLO's id is not CLIENT ID")

    check(r.cmd("HSET", "h3:h", "f", "v", "g", "w") == 2, "HSET")
    r.send(encode("HGETALL", "h3:h"))
    raw = r.read_raw()
    check(raw.startswith(b"%2\r\n"), "HGETALL under RESP3 is not a map: %r" % raw)
    r.send(encode("GET", "h3:missing"))
    raw = r.read_raw()
    check(raw == b"_\r\n", "GET of a missing key under RESP3: %r, expected _\\r\\n" % raw)

    # the backend's RESP3 replies pass through byte for byte
    r.cmd("SADD", "h3:s", "a", "b", "c")
    r.cmd("ZADD", "h3:z", "1.5", "a", "2", "b")
    r.cmd("RPUSH", "h3:l", "x", "y")
    r.cmd("XADD", "h3:x", "1-1", "k", "v")
    cmds = [("HGETALL", "h3:h"), ("SMEMBERS", "h3:s"), ("ZRANGE", "h3:z", "0", "-1",
                                                           "WITHSCORES"),
            ("ZSCORE", "h3:z", "a"), ("ZSCORE", "h3:z", "nope"), ("LRANGE", "h3:l", "0", "-1"),
            ("HGET", "h3:h", "nope"), ("XINFO", "STREAM", "h3:x"), ("LPOP", "h3:nope"),
            ("SISMEMBER", "h3:s", "a"), ("OBJECT", "ENCODING", "h3:h"), ("TYPE", "h3:z"),
            ("GET", "h3:h")]
    for args in cmds:
        d = node_for(args[1] if args[0] not in ("OBJECT", "XINFO") else args[2])
        d.cmd("HELLO", "3")
        r.send(encode(*args))
        d.send(encode(*args))
        a, b = r.read_raw(), d.read_raw()
        d.close()
        check(a == b, "%s under RESP3: proxy %r, redis-server %r" % (" ".join(args), a, b))

    # a pipeline of local, forwarded and split commands, in order
    keys = ["h3:p:%d" % i for i in range(30)]
    batch = []
    want = []
    for i, k in enumerate(keys):
        batch.append(encode("SET", k, "v%d" % i))
        want.append("OK")
        batch.append(encode("PING"))
        want.append("PONG")
        batch.append(encode("GET", k))
        want.append(b"v%d" % i)
        batch.append(encode("MGET", k, "h3:p:absent:%d" % i, keys[0]))
        want.append([b"v%d" % i, NULL3, b"v0"])
        batch.append(encode("ECHO", "e%d" % i))
        want.append(b"e%d" % i)
        batch.append(encode("INCR", "h3:p:%d" % i))
        want.append(RespError("ERR value is not an integer or out of range"))
    r.send(b"".join(batch))
    got = [r.read() for _ in want]
    bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
    check(not bad, "RESP3 pipeline: first mismatches %r" % bad[:3])
    r.send(encode("MGET", "h3:p:absent:1", keys[1], keys[2]))
    raw = r.read_raw()
    check(raw == b"*3\r\n_\r\n$2\r\nv1\r\n$2\r\nv2\r\n", "MGET across slots under RESP3: %r" % raw)

    # CLUSTER SHARDS is a map per shard under RESP3
    r.send(encode("CLUSTER", "SHARDS"))
    raw = r.read_raw()
    check(raw.startswith(b"*1\r\n%2\r\n"), "CLUSTER SHARDS under RESP3: %r" % raw[:40])

    # HELLO 2 goes back to RESP2
    check(r.cmd("HELLO", "2").__class__ is list, "HELLO 2 reply is not an array")
    r.send(encode("GET", "h3:missing"))
    check(r.read_raw() == b"$-1\r\n", "GET of a missing key after HELLO 2")
    r.send(encode("HGETALL", "h3:h"))
    check(r.read_raw().startswith(b"*4\r\n"), "HGETALL after HELLO 2 is not an array")

    check(r.cmd("HELLO", "4") == RespError("NOPROTO unsupported protocol version"), "HELLO 4")
    hello = r.cmd("HELLO", "3", "SETNAME", "h3name")
    check(hello.get(b"proto") == 3, "HELLO 3 SETNAME")
    check(r.cmd("CLIENT", "GETNAME") == b"h3name", "name set by HELLO SETNAME")
    check(r.cmd("RESET") == "RESET", "RESET")
    r.send(encode("GET", "h3:missing"))
    check(r.read_raw() == b"$-1\r\n", "RESET did not return to RESP2")
    check(r.cmd("CLIENT", "GETNAME") is None, "RESET did not clear the name")
    r.close()


# -------------------------------------------------------- cluster emulation

def test_cluster_emulation():
    r = proxy()
    info = r.cmd("CLUSTER", "INFO").decode()
    fields = dict(line.split(":", 1) for line in info.split("\r\n") if ":" in line)
    check(fields.get("cluster_state") == "ok" and fields.get("cluster_size") == "1" and
          fields.get("cluster_slots_assigned") == "16384", "CLUSTER INFO %r" % fields)
    myid = r.cmd("CLUSTER", "MYID")
    check(isinstance(myid, bytes) and len(myid) == 40 and
          all(c in b"0123456789abcdef" for c in myid), "CLUSTER MYID %r" % myid)
    other = proxy()
    check(other.cmd("CLUSTER", "MYID") == myid, "CLUSTER MYID differs between connections")
    other.close()
    nodes = r.cmd("CLUSTER", "NODES").decode().strip().split("\n")
    check(len(nodes) == 1 and nodes[0].split()[0] == myid.decode() and
          "myself" in nodes[0].split()[2], "CLUSTER NODES %r" % nodes)
    slots = r.cmd("CLUSTER", "SLOTS")
    check(slots == [[0, 16383, [Ctx.px.host.encode(), Ctx.px.port, myid]]], "CLUSTER SLOTS %r" % slots)

    # KEYSLOT equals the real cluster's, for hashtags, binary and long keys
    rng = random.Random(7)
    keys = [b"", b"{}", b"{}x", b"a{}{b}", b"{user1000}.following", b"foo{bar}{zap}",
            b"x" * 5000, bytes(range(256)) * 20, b"{" + b"t" * 3000 + b"}tail"]
    keys += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))) for _ in range(200)]
    d = Ctx.cl.resp()
    r.send(b"".join(encode("CLUSTER", "KEYSLOT", k) for k in keys))
    d.send(b"".join(encode("CLUSTER", "KEYSLOT", k) for k in keys))
    for k in keys:
        a, b = r.read(), d.read()
        check(a == b, "CLUSTER KEYSLOT %r: proxy %r, redis-server %r" % (k[:40], a, b))

    # COUNTKEYSINSLOT / GETKEYSINSLOT are answered by the slot's owner
    tagged = ["{cks}%d" % i for i in range(25)]
    for k in tagged:
        r.cmd("SET", k, "1")
    slot = key_slot(b"{cks}")
    owner = Ctx.cl.resp(Ctx.cl.owner_port(slot))
    for s in (slot, (slot + 1) % 16384, 0, 16383):
        a = r.cmd("CLUSTER", "COUNTKEYSINSLOT", s)
        b = owner.cmd("CLUSTER", "COUNTKEYSINSLOT", s) if s == slot else None
        if s == slot:
            check(a == b == 25, "COUNTKEYSINSLOT %d: proxy %r, owner %r" % (s, a, b))
        else:
            own = Ctx.cl.resp(Ctx.cl.owner_port(s))
            b = own.cmd("CLUSTER", "COUNTKEYSINSLOT", s)
            own.close()
            check(a == b, "COUNTKEYSINSLOT %d: proxy %r, owner %r" % (s, a, b))
    got = r.cmd("CLUSTER", "GETKEYSINSLOT", slot, 100)
    check(sorted(got) == sorted(k.encode() for k in tagged), "GETKEYSINSLOT %r" % got)
    for bad in ("-1", "16384"):
        a = r.cmd("CLUSTER", "COUNTKEYSINSLOT", bad)
        b = d.cmd("CLUSTER", "COUNTKEYSINSLOT", bad)
        check(a == b, "COUNTKEYSINSLOT %s: proxy %r, redis-server %r" % (bad, a, b))
    check(isinstance(r.cmd("CLUSTER", "COUNTKEYSINSLOT", "abc"), RespError),
          "COUNTKEYSINSLOT abc is not an error")
    owner.close()
    d.close()
    r.close()


# ------------------------------------------------------ connection set-up

def test_client_commands():
    r = proxy()
    check(r.cmd("CLIENT", "GETNAME") is None, "GETNAME before SETNAME")
    check(r.cmd("CLIENT", "SETNAME", "itest-conn") == "OK", "CLIENT SETNAME")
    check(r.cmd("CLIENT", "GETNAME") == b"itest-conn", "CLIENT GETNAME")
    same_as_node(("CLIENT", "SETNAME", "a b"), what="CLIENT SETNAME with a space")
    check(r.cmd("CLIENT", "GETNAME") == b"itest-conn", "a refused SETNAME changed the name")
    ids = [r.cmd("CLIENT", "ID")]
    others = [proxy() for _ in range(3)]
    ids += [o.cmd("CLIENT", "ID") for o in others]
    check(all(isinstance(i, int) for i in ids) and len(set(ids)) == 4,
          "CLIENT ID of four connections %r" % ids)
    check(r.cmd("CLIENT", "ID") == ids[0], "CLIENT ID changed on one connection")
    check(r.cmd("CLIENT", "SETINFO", "LIB-NAME", "sgit-lib") == "OK" and
          r.cmd("CLIENT", "SETINFO", "LIB-VER", "1.2.3") == "OK", "CLIENT SETINFO")
    info = r.cmd("CLIENT", "INFO").decode()
    check("name=itest-conn" in info and "lib-name=sgit-lib" in info and "lib-ver=1.2.3" in info
          and "id=%d " % ids[0] in info, "CLIENT INFO %r" % info)
    check(isinstance(r.cmd("CLIENT", "SETINFO", "LIB-NAME", "a b"), RespError),
          "CLIENT SETINFO with a space accepted")
    check(isinstance(r.cmd("CLIENT", "SETINFO", "NOPE", "x"), RespError),
          "CLIENT SETINFO of an unknown attribute accepted")
    listing = r.cmd("CLIENT", "LIST").decode()
    for i in ids:
        check("id=%d " % i in listing, "CLIENT LIST lacks id %d: %r" % (i, listing[:300]))
    for o in others:
        o.close()
    # what CLIENT LIST says about another, idle connection
    idler = proxy()
    idler.cmd("CLIENT", "SETNAME", "idler")
    idler.cmd("GET", "cl:k")
    time.sleep(1.5)  # the idle time being measured
    line = [x for x in r.cmd("CLIENT", "LIST").decode().split("\n") if "name=idler" in x]
    check(len(line) == 1, "CLIENT LIST lacks the idle connection")
    fields = dict(kv.split("=", 1) for kv in line[0].split() if "=" in kv)
    check(int(fields["idle"]) >= 1 and int(fields["age"]) >= 1 and fields["cmd"] == "get",
          "CLIENT LIST of a connection idle for 1.5 s after GET: idle=%s age=%s cmd=%s" %
          (fields.get("idle"), fields.get("age"), fields.get("cmd")))
    idler.close()
    # pipelined listings: each has every connection (gathered from every
    # worker), or past 32 waiting on one worker, says so
    r.send(b"".join(encode("CLIENT", "LIST") for _ in range(40)))
    got = [r.read() for _ in range(40)]
    lists = [g for g in got if not isinstance(g, RespError)]
    check(len(lists) >= 32 and all(b"id=%d " % ids[0] in g for g in lists),
          "pipelined CLIENT LIST: %d listings of 40, first %r" % (len(lists), got[:1]))
    check(all("try again" in str(g) for g in got if isinstance(g, RespError)),
          "pipelined CLIENT LIST errors: %r" % [g for g in got if isinstance(g, RespError)][:2])
    r.close()


def test_select_ping_echo():
    r = proxy()
    check(r.cmd("SELECT", "0") == "OK", "SELECT 0")
    same_as_node(("SELECT", "1"), what="SELECT 1")
    check(r.cmd("PING") == "PONG", "PING")
    check(r.cmd("PING", "hi there") == b"hi there", "PING with a message")
    same_as_node(("PING", "a", "b"), what="PING with two arguments")
    big = os.urandom(200000)
    check(r.cmd("ECHO", big) == big, "ECHO of 200 KB of binary")
    check(r.cmd("ECHO", "") == b"", "ECHO of nothing")
    same_as_node(("ECHO",), what="ECHO without an argument")
    r.send(b"PING\r\nECHO inline\r\n")
    check(r.read() == "PONG" and r.read() == b"inline", "inline PING / ECHO")
    r.close()


def test_quit_and_reset():
    r = proxy()
    r.cmd("SET", "q:k", "v")
    # the replies before QUIT arrive, then the proxy closes; nothing after
    r.send(encode("GET", "q:k") + encode("QUIT") + encode("SET", "q:k", "after-quit"))
    check(r.read() == b"v" and r.read() == "OK", "GET then QUIT")
    rest, closed = r.read_until_closed(5)
    check(closed and rest == b"", "after QUIT: closed %s, got %r" % (closed, rest))
    r.close()
    c = proxy()
    check(c.cmd("GET", "q:k") == b"v", "a command after QUIT ran")

    check(c.cmd("CLIENT", "SETNAME", "before-reset") == "OK", "SETNAME")
    check(c.cmd("READONLY") == "OK" and c.cmd("HELLO", "3").get(b"proto") == 3, "setup")
    check(c.cmd("RESET") == "RESET", "RESET")
    check(c.cmd("CLIENT", "GETNAME") is None, "RESET kept the name")
    c.send(encode("GET", "q:none"))
    check(c.read_raw() == b"$-1\r\n", "RESET kept RESP3")
    check(c.cmd("GET", "q:k") == b"v", "GET after RESET")
    c.close()


def test_readonly_readwrite():
    r = proxy()
    r.cmd("SET", "ro:k", "v1")
    check(r.cmd("READONLY") == "OK", "READONLY")
    sgtest.wait_for(lambda: r.cmd("GET", "ro:k") == b"v1", 5, "GET under READONLY")
    err = r.cmd("SET", "ro:k", "v2")
    check(err == "OK", "SET under READONLY (writes still go to the primary): %r" % err)
    check(r.cmd("READWRITE") == "OK", "READWRITE")
    check(r.cmd("GET", "ro:k") == b"v2", "GET after READWRITE reads the primary")
    r.close()


def test_command_introspection():
    port = Ctx.cl.base
    count = same_as_node(("COMMAND", "COUNT"), port)
    check(isinstance(count, int) and count > 200, "COMMAND COUNT %r" % count)
    same_as_node(("COMMAND", "INFO", "get", "mset", "eval", "nosuchcmd"), port)
    docs = same_as_node(("COMMAND", "DOCS", "get"), port)
    check(isinstance(docs, list) and docs and docs[0] == b"get" and b"summary" in docs[1],
          "COMMAND DOCS get %r" % docs)
    keys = same_as_node(("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"), port)
    check(keys == [b"a", b"b"], "COMMAND GETKEYS %r" % keys)
    r = proxy()
    r.send(encode("COMMAND"))
    allc = r.read()
    check(isinstance(allc, list) and len(allc) == count, "COMMAND lists %d, COUNT says %d" %
          (len(allc), count))
    r.close()


# -------------------------------------------------------------- refusals

REFUSED = [
    ("SHUTDOWN", "NOSAVE"), ("DEBUG", "SLEEP", "0"), ("MONITOR",), ("SAVE",), ("BGSAVE",),
    ("BGREWRITEAOF",), ("REPLICAOF", "NO", "ONE"), ("SLAVEOF", "NO", "ONE"), ("FAILOVER",),
    ("CONFIG", "SET", "maxmemory", "1"), ("CONFIG", "REWRITE"), ("CONFIG", "RESETSTAT"),
    ("SWAPDB", "0", "1"), ("MOVE", "k", "1"), ("CLIENT", "PAUSE", "1000"),
    ("ACL", "SETUSER", "eve", "on"), ("MODULE", "LOAD", "/nonexistent.so"),
    ("SCRIPT", "DEBUG", "YES"), ("SYNC",), ("PSYNC", "?", "-1"),
    ("MIGRATE", "127.0.0.1", "1", "k", "0", "10"), ("SLOWLOG", "RESET"),
]


def test_refused_commands():
    r = proxy()
    for args in REFUSED:
        e = r.cmd(*args)
        name = " ".join(args[:2]) if args[0] in ("CONFIG", "CLIENT", "ACL", "MODULE", "SCRIPT",
                                                 "SLOWLOG") else args[0]
        check(isinstance(e, RespError) and e.startswith("ERR ") and name in e.upper(),
              "%s through the proxy: %r (expected an error naming %s)" % (" ".join(args), e, name))
    # nothing was shut down, paused or reconfigured
    check(r.cmd("SET", "ref:k", "v") == "OK" and r.cmd("GET", "ref:k") == b"v",
          "the proxy stopped serving after refusals")
    for port in Ctx.cl.ports:
        n = Ctx.cl.node(port)
        check(n.ping(), "node %d is down after SHUTDOWN through the proxy" % port)
        check(n.config_get("maxmemory")["maxmemory"] == "0", "CONFIG SET reached %d" % port)
        n.close()
    r.close()


UNKNOWN = [
    ("FOOBAR",), ("FOOBAR", "a", "b"), ("FOOBAR", "a", "b", "c", "d", "e", "f"),
    ("foobar", "x" * 200, "y"), ("foobar", "z" * 5000), ("foobar", "x" * 100, "y" * 100),
    ("GETT", "k"),
    ("CLUSTER", "FOO"), ("CONFIG", "FOO", "bar"), ("CLIENT", "NOPE"), ("OBJECT", "NOPE", "k"),
    ("GET",), ("SET", "k"), ("HSET", "k", "f"), ("CLIENT", "SETNAME"), ("ECHO", "a", "b"),
    ("MGET",), ("DEL",), ("EXISTS",), ("CLUSTER", "KEYSLOT"), ("SELECT",), ("XADD", "s", "*"),
    ("GET", "a", "b"), ("CLUSTER",), ("COMMAND", "FOO"),
]


def test_unknown_and_arity_errors():
    d = Ctx.cl.resp()
    r = proxy()
    bad = []
    for args in UNKNOWN:
        a, b = r.cmd(*args), d.cmd(*args)
        check(isinstance(b, RespError), "test bug: %r is not an error on redis-server" % (args,))
        if a != b:
            bad.append("%s: proxy %r, redis-server %r" % (" ".join(args)[:40], a[:200], b[:200]))
    # inline form too
    for line in (b"FOOBAR a b\r\n", b"GET\r\n", b"nosuch\r\n"):
        r.send(line)
        d.send(line)
        a, b = r.read(), d.read()
        if a != b:
            bad.append("inline %r: proxy %r, redis-server %r" % (line, a, b))
    check(r.cmd("PING") == "PONG", "the connection is unusable after errors")
    check(not bad, "%d error replies differ from redis-server's:\n  %s" %
          (len(bad), "\n  ".join(bad)))
    r.close()
    d.close()


def pair_on_two_slots(prefix):
    a = "%s:a" % prefix
    i = 0
    while True:
        b = "%s:b%d" % (prefix, i)
        if key_slot(b.encode()) != key_slot(a.encode()):
            return a, b
        i += 1


def test_crossslot():
    a, b = pair_on_two_slots("xs")
    r = proxy()
    r.cmd("SET", a, "1")
    r.cmd("SADD", a + ":s", "x")
    crosses = [("RENAME", a, b), ("RENAMENX", a, b), ("SINTER", a + ":s", b),
               ("SUNIONSTORE", a, b), ("SMOVE", a, b, "x"), ("MSETNX", a, "1", b, "2"),
               ("LMOVE", a, b, "LEFT", "LEFT"), ("RPOPLPUSH", a, b), ("COPY", a, b),
               ("ZUNIONSTORE", a, "1", b), ("PFMERGE", a, b), ("BITOP", "AND", a, b),
               ("SDIFF", a, b), ("ZINTERCARD", "2", a, b), ("EVAL", "return 1", "2", a, b),
               ("LCS", a, b), ("SINTERCARD", "2", a, b)]
    d = Ctx.cl.resp()
    for args in crosses:
        e = r.cmd(*args)
        want = d.cmd(*args)
        check(e == RespError("CROSSSLOT Keys in request don't hash to the same slot") and e == want,
              "%s across slots: proxy %r, redis-server %r" % (" ".join(args), e, want))
    d.close()
    check(r.cmd("GET", a) == b"1" and r.cmd("EXISTS", b) == 0,
          "a refused cross-slot command changed data")
    # the same commands within one slot work
    ta, tb = "{xs}a", "{xs}b"
    r.cmd("SET", ta, "1")
    check(r.cmd("MSETNX", "{xs}c", "1", "{xs}d", "2") == 1, "MSETNX in one slot")
    check(r.cmd("RENAME", ta, tb) == "OK" and r.cmd("GET", tb) == b"1", "RENAME in one slot")
    r.cmd("SADD", "{xs}s1", "a", "b")
    r.cmd("SADD", "{xs}s2", "b", "c")
    check(r.cmd("SINTER", "{xs}s1", "{xs}s2") == [b"b"], "SINTER in one slot")
    r.close()


def test_proxy_stops_cleanly():
    Ctx.px.stop(expect_rc=0)


def main():
    with sgtest.Cluster(BASE) as cl:
        Ctx.cl = cl
        with sgtest.Proxy(cl.seeds()) as px:
            Ctx.px = px
            sgtest.run([
                ("HELLO 3 session", test_hello3_session),
                ("cluster emulation", test_cluster_emulation),
                ("CLIENT SETNAME/GETNAME/ID/SETINFO/INFO/LIST", test_client_commands),
                ("SELECT, PING, ECHO", test_select_ping_echo),
                ("QUIT and RESET", test_quit_and_reset),
                ("READONLY / READWRITE", test_readonly_readwrite),
                ("COMMAND COUNT/INFO/DOCS/GETKEYS", test_command_introspection),
                ("refused commands name themselves", test_refused_commands),
                ("unknown commands and arity = redis-server", test_unknown_and_arity_errors),
                ("CROSSSLOT", test_crossslot),
                ("SIGTERM: exit 0", test_proxy_stops_cleanly),
            ])


if __name__ == "__main__":
    sgtest.main(main)
