"""shardgate in kernel mode against a real 3+3 cluster: data through the proxy.

10,000 keys written and read with redis-cli, redis-py's plain client and
redis-py's RedisCluster seeded with the proxy's address; every data type
round-trips (checked through the proxy and straight on the cluster);
scripts and functions reach every shard; multi-key commands across slots
give what redis-py's RedisCluster gives straight on the cluster; CLUSTER
SLOTS/SHARDS/NODES parse in redis-py's cluster client.

Cluster on 127.0.0.1:7100-7105 (sgtest.CLUSTER_HOST in DPDK mode; SG_TEST_BASE_PORT overrides), proxy on a
free port.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest  # noqa: E402
from sgtest import check  # noqa: E402

import redis  # noqa: E402
from redis.cluster import RedisCluster  # noqa: E402
from redis.crc import key_slot  # noqa: E402

BASE = int(os.environ.get("SG_TEST_BASE_PORT", "7100"))
N = 10000


class Ctx:
    cl = None
    px = None


def proxy_client():
    return Ctx.px.client()


def direct():
    return Ctx.cl.client()


def keys_on_every_shard(prefix, per_shard=3):
    """Keys whose slots fall on each primary, per_shard of each."""
    ranges = Ctx.cl.slot_ranges()
    out = {port: [] for _, _, port in ranges}
    i = 0
    while any(len(v) < per_shard for v in out.values()):
        k = "%s:%d" % (prefix, i)
        slot = key_slot(k.encode())
        port = next(p for a, b, p in ranges if a <= slot <= b)
        if len(out[port]) < per_shard:
            out[port].append(k)
        i += 1
    check(len(out) == 3, "expected 3 primaries, got %r" % out.keys())
    return [k for v in out.values() for k in v]


def value(prefix, i):
    return "%s-value-%05d-%s" % (prefix, i, "x" * (i % 37))


def check_direct(prefix, keys):
    """Every key is on the real cluster with the value written."""
    got = direct().mget_nonatomic(keys)
    for i, (k, v) in enumerate(zip(keys, got)):
        check(v == value(prefix, i).encode(),
              "direct read of %s: %r, expected %r" % (k, v, value(prefix, i)))


# ---------------------------------------------------------------- 10,000 keys

def test_redis_cli_10k():
    keys = ["cli:%05d" % i for i in range(N)]
    proto = b"".join(sgtest.encode("SET", k, value("cli", i)) for i, k in enumerate(keys))
    r = subprocess.run(["redis-cli", "-h", Ctx.px.host, "-p", str(Ctx.px.port), "--pipe"],
                       input=proto, capture_output=True, timeout=120)
    out = r.stdout.decode(errors="replace")
    check(r.returncode == 0 and "errors: 0, replies: %d" % N in out,
          "redis-cli --pipe through the proxy: rc %d: %s %s" % (r.returncode, out, r.stderr))

    # read back one GET per line (a round trip each), plus keys never written
    lines = ["GET %s" % k for k in keys] + ["GET cli:missing:%d" % i for i in range(10)]
    r = subprocess.run(["redis-cli", "-h", Ctx.px.host, "-p", str(Ctx.px.port)],
                       input="\n".join(lines) + "\n", capture_output=True, text=True,
                       timeout=120)
    got = r.stdout.split("\n")
    want = [value("cli", i) for i in range(N)] + [""] * 10
    check(r.returncode == 0, "redis-cli GETs: rc %d %s" % (r.returncode, r.stderr))
    bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w]
    check(len(got) >= len(want) and not bad,
          "redis-cli GET through the proxy: %d lines, first mismatches %r" % (len(got), bad[:3]))

    # redis-cli in cluster mode follows no redirect: the proxy owns every slot
    r = subprocess.run(["redis-cli", "-c", "-h", Ctx.px.host, "-p", str(Ctx.px.port)],
                       input="\n".join("GET %s" % k for k in keys[:200]) + "\n",
                       capture_output=True, text=True, timeout=60)
    check(r.stdout.split("\n")[:200] == want[:200],
          "redis-cli -c GET through the proxy: %r" % r.stdout[:300])
    check_direct("cli", keys)


def test_redis_py_plain_10k():
    p = proxy_client()
    keys = ["py:%05d" % i for i in range(N)]
    for start in range(0, N, 1000):
        pipe = p.pipeline(transaction=False)
        for i in range(start, start + 1000):
            pipe.set(keys[i], value("py", i))
        res = pipe.execute()
        check(res == [True] * 1000, "pipelined SETs %d..: %r" % (start, res[:5]))
    for start in range(0, N, 1000):
        pipe = p.pipeline(transaction=False)
        for i in range(start, start + 1000):
            pipe.get(keys[i])
        res = pipe.execute()
        want = [value("py", i).encode() for i in range(start, start + 1000)]
        check(res == want, "pipelined GETs %d..: first differing %r" %
              (start, next(((a, b) for a, b in zip(res, want) if a != b), None)))
    # one MGET of every key: split across all 16384-slot owners and merged
    got = p.mget(keys)
    check(got == [value("py", i).encode() for i in range(N)],
          "MGET of %d keys through the proxy differs" % N)
    check(p.exists(*keys) == N, "EXISTS of %d keys" % N)
    check_direct("py", keys)
    p.close()


def test_redis_cluster_client_10k():
    rc = RedisCluster(host=Ctx.px.host, port=Ctx.px.port, socket_timeout=10)
    nodes = [(n.host, n.port) for n in rc.get_nodes()]
    check(nodes == [(Ctx.px.host, Ctx.px.port)],
          "RedisCluster seeded with the proxy sees %r, expected the proxy alone" % nodes)
    keys = ["rc:%05d" % i for i in range(N)]
    for start in range(0, N, 1000):
        pipe = rc.pipeline()
        for i in range(start, start + 1000):
            pipe.set(keys[i], value("rc", i))
        res = pipe.execute()
        check(res == [True] * 1000, "ClusterPipeline SETs %d..: %r" % (start, res[:5]))
    got = rc.mget_nonatomic(keys)
    check(got == [value("rc", i).encode() for i in range(N)],
          "RedisCluster mget_nonatomic through the proxy differs")
    for i in range(0, N, 97):
        check(rc.get(keys[i]) == value("rc", i).encode(), "RedisCluster GET %s" % keys[i])
    check(rc.exists(*keys[:500]) == 500, "RedisCluster EXISTS through the proxy")
    check_direct("rc", keys)
    check(rc.delete(*keys) == N, "RedisCluster DEL of %d keys through the proxy" % N)
    check(direct().exists(*keys) == 0, "keys deleted through the proxy still exist")
    rc.close()


# --------------------------------------------------------------- data types

def same_both_ways(what, fn):
    """fn(client) read through the proxy and straight on the cluster."""
    a = fn(proxy_client())
    b = fn(direct())
    check(a == b, "%s: proxy %r, direct %r" % (what, a, b))
    return a


def test_strings():
    p = proxy_client()
    binary = bytes(range(256)) * 3 + b"\r\n*1\r\n$4\r\nPING\r\n\x00"
    check(p.set("t:bin", binary) is True, "SET binary")
    check(same_both_ways("GET binary", lambda c: c.get("t:bin")) == binary, "binary value")
    big = os.urandom(3 << 20)
    check(p.set("t:big", big), "SET 3 MB")
    check(same_both_ways("GET 3 MB", lambda c: c.get("t:big")) == big, "3 MB value")
    check(p.append("t:s", "abc") == 3 and p.append("t:s", "def") == 6, "APPEND")
    check(p.setrange("t:s", 2, "XY") == 6, "SETRANGE")
    check(p.getrange("t:s", 1, 3) == b"bXY", "GETRANGE")
    check(p.strlen("t:s") == 6, "STRLEN")
    check(p.incrby("t:n", 40) == 40 and p.incr("t:n") == 41 and p.decr("t:n") == 40, "INCR")
    check(abs(p.incrbyfloat("t:f", 2.5) - 2.5) < 1e-9, "INCRBYFLOAT")
    check(p.getset("t:s", "new") == b"abXYef", "GETSET")
    check(p.set("t:nx", "1", nx=True) is True and p.set("t:nx", "2", nx=True) is None, "SET NX")
    check(p.getdel("t:nx") == b"1" and p.get("t:nx") is None, "GETDEL")
    check(p.get("t:never-written") is None, "GET missing key")
    check(same_both_ways("TYPE", lambda c: c.type("t:s")) == b"string", "TYPE string")
    p.close()


def test_hashes():
    p = proxy_client()
    fields = {("f%d" % i).encode(): ("v%d" % i).encode() for i in range(300)}
    check(p.hset("t:h", mapping=fields) == 300, "HSET 300 fields")
    check(same_both_ways("HGETALL", lambda c: c.hgetall("t:h")) == fields, "HGETALL")
    check(p.hincrby("t:h", "ctr", 5) == 5 and p.hincrby("t:h", "ctr", -2) == 3, "HINCRBY")
    check(p.hmget("t:h", "f1", "nope", "f299") == [b"v1", None, b"v299"], "HMGET")
    check(p.hdel("t:h", "f1", "f2", "nope") == 2, "HDEL")
    check(same_both_ways("HLEN", lambda c: c.hlen("t:h")) == 299, "HLEN")
    check(p.hexists("t:h", "f3") and not p.hexists("t:h", "f1"), "HEXISTS")
    check(sorted(p.hkeys("t:h"))[:2] == [b"ctr", b"f0"], "HKEYS")
    p.close()


def test_lists():
    p = proxy_client()
    check(p.rpush("t:l", *range(100)) == 100, "RPUSH")
    check(p.lpush("t:l", "head") == 101, "LPUSH")
    want = [b"head"] + [str(i).encode() for i in range(100)]
    check(same_both_ways("LRANGE", lambda c: c.lrange("t:l", 0, -1)) == want, "LRANGE")
    check(p.lindex("t:l", 5) == b"4" and p.llen("t:l") == 101, "LINDEX/LLEN")
    check(p.lpop("t:l") == b"head" and p.rpop("t:l", 2) == [b"99", b"98"], "LPOP/RPOP")
    check(p.lmove("{t:l}a", "{t:l}b") is None, "LMOVE of an empty list (same slot)")
    p.rpush("{t:l}a", "x", "y")
    check(p.lmove("{t:l}a", "{t:l}b", "LEFT", "RIGHT") == b"x", "LMOVE same slot")
    check(same_both_ways("LRANGE b", lambda c: c.lrange("{t:l}b", 0, -1)) == [b"x"], "LMOVE dst")
    check(p.lpos("t:l", "50") == 50, "LPOS")
    p.close()


def test_sets():
    p = proxy_client()
    check(p.sadd("{t:s}1", *"abcdef") == 6 and p.sadd("{t:s}2", *"defgh") == 5, "SADD")
    check(same_both_ways("SMEMBERS", lambda c: c.smembers("{t:s}1")) == set(b"abcdef"[i:i + 1]
                                                                            for i in range(6)),
          "SMEMBERS")
    check(p.sinter("{t:s}1", "{t:s}2") == {b"d", b"e", b"f"}, "SINTER same slot")
    check(p.sunionstore("{t:s}u", "{t:s}1", "{t:s}2") == 8, "SUNIONSTORE same slot")
    check(p.sismember("{t:s}1", "a") and not p.sismember("{t:s}1", "z"), "SISMEMBER")
    check(p.smismember("{t:s}1", "a", "z") == [1, 0], "SMISMEMBER")
    check(same_both_ways("SCARD", lambda c: c.scard("{t:s}u")) == 8, "SCARD")
    check(p.srem("{t:s}1", "a", "zz") == 1, "SREM")
    p.close()


def test_sorted_sets():
    p = proxy_client()
    check(p.zadd("t:z", {"a": 1, "b": 2.5, "c": -3, "d": 1e10}) == 4, "ZADD")
    want = [(b"c", -3.0), (b"a", 1.0), (b"b", 2.5), (b"d", 1e10)]
    check(same_both_ways("ZRANGE", lambda c: c.zrange("t:z", 0, -1, withscores=True)) == want,
          "ZRANGE WITHSCORES")
    check(p.zincrby("t:z", 10, "a") == 11.0, "ZINCRBY")
    check(p.zrangebyscore("t:z", 0, 20) == [b"b", b"a"], "ZRANGEBYSCORE")
    check(p.zrank("t:z", "a") == 2 and p.zscore("t:z", "c") == -3.0, "ZRANK/ZSCORE")
    check(p.zcard("t:z") == 4 and p.zcount("t:z", "-inf", "+inf") == 4, "ZCARD/ZCOUNT")
    check(p.zpopmin("t:z") == [(b"c", -3.0)], "ZPOPMIN")
    p.close()


def test_streams():
    p = proxy_client()
    ids = [p.xadd("t:x", {"n": str(i)}, id="1-%d" % (i + 1)) for i in range(20)]
    check(ids == [("1-%d" % (i + 1)).encode() for i in range(20)], "XADD ids %r" % ids[:3])
    check(p.xlen("t:x") == 20, "XLEN")
    got = same_both_ways("XRANGE", lambda c: c.xrange("t:x", "-", "+", count=3))
    check(got == [(b"1-1", {b"n": b"0"}), (b"1-2", {b"n": b"1"}), (b"1-3", {b"n": b"2"})],
          "XRANGE %r" % got)
    check(p.xgroup_create("t:x", "g", id="0"), "XGROUP CREATE")
    got = p.xreadgroup("g", "c1", {"t:x": ">"}, count=2)
    check(got == [[b"t:x", [(b"1-1", {b"n": b"0"}), (b"1-2", {b"n": b"1"})]]],
          "XREADGROUP %r" % got)
    check(p.xack("t:x", "g", "1-1", "1-2") == 2, "XACK")
    check(p.xpending("t:x", "g")["pending"] == 0, "XPENDING")
    check(p.xtrim("t:x", maxlen=5, approximate=False) == 15, "XTRIM")
    p.close()


def test_hyperloglog():
    p = proxy_client()
    check(p.pfadd("{t:hll}a", *["a%d" % i for i in range(1000)]) == 1, "PFADD")
    p.pfadd("{t:hll}b", *["b%d" % i for i in range(1000)])
    n = same_both_ways("PFCOUNT", lambda c: c.pfcount("{t:hll}a"))
    check(950 <= n <= 1050, "PFCOUNT %d" % n)
    check(p.pfmerge("{t:hll}m", "{t:hll}a", "{t:hll}b"), "PFMERGE same slot")
    n = p.pfcount("{t:hll}m")
    check(1900 <= n <= 2100, "PFCOUNT merged %d" % n)
    p.close()


def test_bitmaps():
    p = proxy_client()
    for bit in (1, 7, 100, 1000):
        p.setbit("{t:b}1", bit, 1)
    check(p.getbit("{t:b}1", 7) == 1 and p.getbit("{t:b}1", 8) == 0, "GETBIT")
    check(same_both_ways("BITCOUNT", lambda c: c.bitcount("{t:b}1")) == 4, "BITCOUNT")
    check(p.bitpos("{t:b}1", 1) == 1, "BITPOS")
    p.setbit("{t:b}2", 7, 1)
    check(p.bitop("AND", "{t:b}and", "{t:b}1", "{t:b}2") == 126, "BITOP")
    check(p.bitcount("{t:b}and") == 1, "BITOP result")
    check(p.bitfield("{t:b}f").set("u8", 0, 200).get("u8", 0).execute() == [0, 200], "BITFIELD")
    p.close()


def test_geo():
    p = proxy_client()
    check(p.geoadd("t:g", [13.361389, 38.115556, "Palermo", 15.087269, 37.502669,
                           "Catania"]) == 2, "GEOADD")
    d = same_both_ways("GEODIST", lambda c: c.geodist("t:g", "Palermo", "Catania", "km"))
    check(abs(d - 166.2742) < 0.01, "GEODIST %r" % d)
    got = p.geosearch("t:g", longitude=15, latitude=37, radius=200, unit="km", sort="ASC")
    check(got == [b"Catania", b"Palermo"], "GEOSEARCH %r" % got)
    pos = p.geopos("t:g", "Palermo", "Nowhere")
    check(abs(pos[0][0] - 13.361389) < 1e-5 and pos[1] is None, "GEOPOS %r" % pos)
    p.close()


def test_expiry():
    p = proxy_client()
    check(p.set("t:e1", "v", px=300), "SET PX")
    t = p.pttl("t:e1")
    check(0 < t <= 300, "PTTL %d" % t)
    sgtest.wait_for(lambda: p.exists("t:e1") == 0, 5, "t:e1 to expire")
    check(direct().exists("t:e1") == 0, "expired key still on the cluster")
    p.set("t:e2", "v")
    check(p.ttl("t:e2") == -1 and p.ttl("t:never") == -2, "TTL without expiry / missing")
    check(p.expire("t:e2", 100) and 90 <= p.ttl("t:e2") <= 100, "EXPIRE/TTL")
    check(90 <= direct().ttl("t:e2") <= 100, "TTL straight on the cluster")
    check(p.persist("t:e2") and p.ttl("t:e2") == -1, "PERSIST")
    at = int(time.time()) + 1000
    check(p.expireat("t:e2", at) and p.expiretime("t:e2") == at, "EXPIREAT/EXPIRETIME")
    check(p.getex("t:e2", persist=True) == b"v" and p.ttl("t:e2") == -1, "GETEX PERSIST")
    p.close()


def test_scripts():
    p = proxy_client()
    keys = keys_on_every_shard("t:lua")
    body = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])"
    for k in keys:
        check(p.eval(body, 1, k, "ev-" + k) == ("ev-" + k).encode(), "EVAL on %s" % k)
        check(direct().get(k) == ("ev-" + k).encode(), "EVAL's write on the cluster")
    check(p.eval("return {1, 'two', ARGV[1]}", 0, "x") == [1, b"two", b"x"], "EVAL numkeys 0")
    sha = p.script_load("return {KEYS[1], redis.call('GET', KEYS[1])}")
    # SCRIPT LOAD fans out: every primary knows the script
    for port in Ctx.cl.primary_ports():
        check(Ctx.cl.node(port).script_exists(sha) == [True],
              "SCRIPT LOAD through the proxy did not reach primary %d" % port)
    check(p.script_exists(sha, "0" * 40) == [True, False], "SCRIPT EXISTS fan-out")
    for k in keys:
        check(p.evalsha(sha, 1, k) == [k.encode(), ("ev-" + k).encode()], "EVALSHA on %s" % k)
    check(p.eval_ro("return redis.call('GET', KEYS[1])", 1, keys[0]) ==
          ("ev-" + keys[0]).encode(), "EVAL_RO")
    try:
        p.eval("return 1", 2, keys[0], keys[-1])
        sgtest.fail("EVAL with keys on two shards succeeded")
    except redis.ResponseError as e:
        check(str(e).startswith("CROSSSLOT"), "EVAL across slots: %s" % e)
    check(p.script_flush() is True, "SCRIPT FLUSH")
    check(p.script_exists(sha) == [False], "SCRIPT EXISTS after SCRIPT FLUSH")
    for port in Ctx.cl.primary_ports():
        check(Ctx.cl.node(port).script_exists(sha) == [False],
              "SCRIPT FLUSH did not reach primary %d" % port)
    try:
        p.evalsha(sha, 1, keys[0])
        sgtest.fail("EVALSHA after SCRIPT FLUSH succeeded")
    except redis.exceptions.NoScriptError:
        pass
    p.close()


LIB = """#!lua name=sgitlib
redis.register_function('sgit_set', function(keys, args)
  redis.call('SET', keys[1], args[1]); return redis.call('GET', keys[1]) end)
redis.register_function{function_name='sgit_get', flags={'no-writes'},
  callback=function(keys, args) return redis.call('GET', keys[1]) end}
"""


def test_functions():
    p = proxy_client()
    check(p.function_load(LIB, replace=True) == b"sgitlib", "FUNCTION LOAD")
    for port in Ctx.cl.primary_ports():
        libs = Ctx.cl.node(port).function_list(library="sgitlib")
        check(len(libs) == 1, "FUNCTION LOAD did not reach primary %d: %r" % (port, libs))
    for k in keys_on_every_shard("t:fn"):
        check(p.fcall("sgit_set", 1, k, "fn-" + k) == ("fn-" + k).encode(), "FCALL on %s" % k)
        check(p.fcall_ro("sgit_get", 1, k) == ("fn-" + k).encode(), "FCALL_RO on %s" % k)
        check(direct().get(k) == ("fn-" + k).encode(), "FCALL's write on the cluster")
    check(p.function_delete("sgitlib") is True, "FUNCTION DELETE")
    for port in Ctx.cl.primary_ports():
        check(Ctx.cl.node(port).function_list(library="sgitlib") == [],
              "FUNCTION DELETE did not reach primary %d" % port)
    p.close()


# ------------------------------------------------- multi-key across slots

def multikey_script(c, cluster):
    """The same operations through `c`; cluster: c is a RedisCluster."""
    out = []
    keys = ["mk:%d" % i for i in range(200)]
    mset = c.mset_nonatomic if cluster else c.mset
    mget = c.mget_nonatomic if cluster else c.mget
    out.append(("MSET", mset({k: "v%d" % i for i, k in enumerate(keys[:150])})))
    probe = keys[::-1] + keys[:20] + ["mk:absent:%d" % i for i in range(30)]
    out.append(("MGET", mget(probe)))
    out.append(("EXISTS", c.exists(*probe)))
    out.append(("TOUCH", c.touch(*probe)))
    out.append(("DEL", c.delete(*keys[::3], "mk:absent:1", keys[0])))
    out.append(("MGET after DEL", mget(keys)))
    out.append(("UNLINK", c.unlink(*keys[1::3], "mk:absent:2")))
    out.append(("EXISTS after UNLINK", c.exists(*keys)))
    out.append(("MSET overwrite", mset({k: "w" for k in keys[100:180]})))
    out.append(("MGET final", mget(keys)))
    out.append(("DEL rest", c.delete(*keys)))
    out.append(("EXISTS none", c.exists(*keys)))
    return out


def test_multikey_same_as_direct():
    ref = multikey_script(direct(), True)
    p = proxy_client()
    got = multikey_script(p, False)
    for (name, a), (_, b) in zip(got, ref):
        if name.startswith("MSET"):
            a, b = bool(a), all(b)
        check(a == b, "%s across slots: proxy %r, direct RedisCluster %r" %
              (name, a if not isinstance(a, list) else a[:8],
               b if not isinstance(b, list) else b[:8]))
    # and RedisCluster seeded with the proxy gives the same again
    rc = RedisCluster(host=Ctx.px.host, port=Ctx.px.port, socket_timeout=10)
    got = multikey_script(rc, True)
    for (name, a), (_, b) in zip(got, ref):
        check(a == b, "%s through RedisCluster on the proxy: %r vs %r" % (name, a, b))
    rc.close()
    p.close()


# ------------------------------------------------------- topology as seen

def test_cluster_topology_parses():
    port, host = Ctx.px.port, Ctx.px.host
    rc = RedisCluster(host=host, port=port, socket_timeout=10)
    slots = rc.cluster_slots()
    check(slots == {(0, 16383): {"primary": (host, port), "replicas": []}},
          "CLUSTER SLOTS parsed by redis-py: %r" % slots)
    nodes = rc.cluster_nodes()
    check(list(nodes) == ["%s:%d" % (host, port)], "CLUSTER NODES keys %r" % list(nodes))
    n = nodes["%s:%d" % (host, port)]
    myid = rc.cluster_myid(rc.get_default_node())
    myid = myid.decode() if isinstance(myid, bytes) else myid
    check(n["node_id"] == myid and len(myid) == 40, "CLUSTER NODES id %r vs MYID %r" %
          (n["node_id"], myid))
    check("master" in n["flags"] and n["connected"] and n["slots"] == [["0", "16383"]],
          "CLUSTER NODES entry %r" % n)
    shards = rc.cluster_shards()
    check(len(shards) == 1, "CLUSTER SHARDS: %r" % shards)
    sh = shards[0]
    check(sh["slots"] == [(0, 16383)] and len(sh["nodes"]) == 1, "CLUSTER SHARDS %r" % sh)
    node = sh["nodes"][0]
    check(node[b"port"] == port and node[b"ip"] == host.encode() and node[b"role"] == b"master"
          and node[b"health"] == b"online" and node[b"id"].decode() == myid,
          "CLUSTER SHARDS node %r" % node)
    rc.close()


def test_proxy_stops_cleanly():
    Ctx.px.stop(expect_rc=0)


def main():
    with sgtest.Cluster(BASE) as cl:
        Ctx.cl = cl
        px = sgtest.Proxy(cl.seeds())
        with px:
            Ctx.px = px
            sgtest.run([
                ("redis-cli: 10,000 keys", test_redis_cli_10k),
                ("redis-py plain: 10,000 keys", test_redis_py_plain_10k),
                ("redis-py RedisCluster on the proxy: 10,000 keys", test_redis_cluster_client_10k),
                ("strings", test_strings),
                ("hashes", test_hashes),
                ("lists", test_lists),
                ("sets", test_sets),
                ("sorted sets", test_sorted_sets),
                ("streams", test_streams),
                ("HyperLogLog", test_hyperloglog),
                ("bitmaps", test_bitmaps),
                ("geo", test_geo),
                ("expiry", test_expiry),
                ("scripts", test_scripts),
                ("functions", test_functions),
                ("multi-key across slots = direct", test_multikey_same_as_direct),
                ("CLUSTER SLOTS/NODES/SHARDS in redis-py", test_cluster_topology_parses),
                ("SIGTERM: exit 0", test_proxy_stops_cleanly),
            ])


if __name__ == "__main__":
    sgtest.main(main)
