"""Topology changes under load through shardgate: nothing the clients see.

Issue: "Invisible topology changes: resharding, scale-out/in and failover
under load with zero client errors". Six scenarios share one local cluster
(3 primaries + 3 replicas on 127.0.0.1:8000-8005, extra nodes on 8006+;
198.18.0.1 when tests/dpdk/proxy_suite.sh runs it against DPDK mode),
each with a fresh shardgate (so its counters and hold histogram belong to
that scenario alone) and a continuous load of 50 checking clients
(topo_load.py):

  1 reshard       2,000 slots move between primaries (redis-cli --cluster reshard)
  2 scale-out     a new primary and its replica join (add-node), then rebalance
  3 scale-in      every slot leaves a primary (rebalance weight 0), del-node
  4 failover      CLUSTER FAILOVER on a replica (planned)
  5 crash         kill -9 of a primary; its replica takes over; the old
                  primary is restarted with its nodes.conf and rejoins as a replica
  6 conn kills    CLIENT KILL TYPE normal on every primary, three rounds; then
                  a primary restarted on the same port (AOF with fsync always,
                  so the restart itself loses nothing acknowledged)

Each scenario starts from a healthy cluster (cluster_state:ok everywhere,
every node agrees on the slots, every replica in sync) and asserts:
  - no error reply reached a client, except "outcome is unknown" for writes
    in flight on a backend connection that died (scenarios 5 and 6 only);
  - no client connection was dropped;
  - every GET/HGET/MGET returned the last acknowledged value (or, after an
    unknown outcome, one of the candidates), online and again straight from
    the cluster after the load stopped; INCR results prove no write was
    applied twice;
  - shardgate's telemetry (INFO and the DPDK telemetry socket) agrees with
    what the clients saw.
and prints one summary line: errors, unknown outcomes, p99 / max latency of
the operations that started during the change, the longest hold.

Run: /usr/bin/python3 topology_scenarios.py (meson test topology-scenarios).
  SG_TOPO_SCENARIOS=1,5    a subset
  SG_BUILD_ROOT=build-asan the sanitizer build of shardgate (reports fail)
  SG_TOPO_WORKERS=2        shardgate workers (default 1)
  SG_TOPO_PACE=0           clients without a pause between operations
  SG_TOPO_VERBOSE=1        shardgate's log after each scenario
Every failed assertion is listed, and the run goes on with the next scenario
while the cluster can still be made healthy.
"""
import gc
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest  # noqa: E402
import topo_load  # noqa: E402
from sgtest import log  # noqa: E402

BASE = 8000
EXTRA_PRIMARY = 8006
EXTRA_REPLICA = 8007
CLIENTS = 50
# cluster-node-timeout: a primary is declared failed after this long, so a
# crash costs about node_timeout + an election (~0.5-1 s) + our refresh.
NODE_TIMEOUT_MS = 1500
# cluster.hold_ms: how long a request may wait for its slot to get a
# reachable primary again. It must outlast the whole unplanned failover
# (node timeout 1.5 s + failure report propagation + election + a topology
# refresh, about 3-5 s on a loaded 2-core machine), with room to spare, or
# parked requests would fail with CLUSTERDOWN instead of being served.
HOLD_MS = 10000
RESHARD_SLOTS = 2000
# Keys per MIGRATE while slots move: small, so that a slot holding a
# client's hash tag and its ballast stays half-moved for a while (ASK,
# TRYAGAIN for same-slot MGETs) while the clients use it.
MIGRATE_BATCH = 2
WARMUP_S = 2.0
SETTLE_S = 2.5
# the cluster's address (sgtest.CLUSTER_HOST: loopback, or the kernel's end
# of the DPDK test network)
HOST = sgtest.CLUSTER_HOST


def addr(port):
    return "%s:%d" % (HOST, port)


def node_key(port):
    """A node's key in /shardgate/nodes."""
    return "%s_%d" % (sgtest.host_id(HOST), port)


class Failures(Exception):
    pass


# ---------------------------------------------------------------- cluster

def rcli(port, *args, timeout=60, check_rc=True):
    r = subprocess.run(["redis-cli", "-h", HOST, "-p", str(port), *map(str, args)],
                       capture_output=True, text=True, timeout=timeout)
    if check_rc and r.returncode != 0:
        sgtest.fail("redis-cli -p %d %s: rc %d %s %s" % (
            port, " ".join(map(str, args)), r.returncode, r.stdout[-2000:], r.stderr[-2000:]))
    return r.stdout


def cluster_tool(*args, timeout=300):
    """redis-cli --cluster ...; fails with its output on a non-zero exit."""
    cmd = ["redis-cli", "--cluster", *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        sgtest.fail("%s: rc %d\n%s\n%s" % (" ".join(cmd), r.returncode,
                                          r.stdout[-3000:], r.stderr[-2000:]))
    return r.stdout


def kv(text):
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def nodes_view(port):
    """CLUSTER NODES as seen by `port`: list of dicts."""
    out = []
    for line in rcli(port, "cluster", "nodes").splitlines():
        f = line.split()
        if len(f) < 8:
            continue
        addr = f[1].split("@")[0].split(",")[0]
        slots = 0
        ranges = []
        migrating = False
        for s in f[8:]:
            if s.startswith("["):
                migrating = True
                continue
            a, _, b = s.partition("-")
            ranges.append((int(a), int(b or a)))
            slots += ranges[-1][1] - ranges[-1][0] + 1
        out.append(dict(id=f[0], port=int(addr.rsplit(":", 1)[1]) if ":" in addr else 0,
                        flags=set(f[2].split(",")), master=f[3], link=f[7],
                        slots=slots, ranges=ranges, migrating=migrating))
    return out


def slot_owners(port):
    """slot -> port of the primary serving it, as `port` sees it."""
    owner = {}
    for n in nodes_view(port):
        for a, b in n["ranges"]:
            for s in range(a, b + 1):
                owner[s] = n["port"]
    return owner


def node_id(port):
    return rcli(port, "cluster", "myid").strip()


class Topo:
    """What the test knows of the shared cluster: which ports are members."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.members = set(cluster.ports)
        self.fixes = 0      # redis-cli --cluster fix runs (wait_healthy)

    def health_problems(self):
        problems = []
        views = {}
        for p in sorted(self.members):
            try:
                info = kv(rcli(p, "cluster", "info", timeout=10))
                views[p] = nodes_view(p)
                repl = kv(rcli(p, "info", "replication", timeout=10))
            except Exception as e:  # a node restarting: not healthy yet
                problems.append("%d: %s" % (p, e))
                continue
            if info.get("cluster_state") != "ok":
                problems.append("%d: cluster_state %s" % (p, info.get("cluster_state")))
            if info.get("cluster_slots_ok") != "16384":
                problems.append("%d: slots_ok %s" % (p, info.get("cluster_slots_ok")))
            if int(info.get("cluster_known_nodes", 0)) != len(self.members):
                problems.append("%d: knows %s nodes, want %d" % (
                    p, info.get("cluster_known_nodes"), len(self.members)))
            for n in views[p]:
                bad = n["flags"] & {"fail", "fail?", "handshake", "noaddr"}
                if bad or n["link"] != "connected":
                    problems.append("%d sees %d %s %s" % (p, n["port"], ",".join(n["flags"]),
                                                         n["link"]))
                if n["migrating"]:
                    problems.append("%d: slots still migrating on %d" % (p, n["port"]))
                if n["port"] not in self.members:
                    problems.append("%d still knows %d" % (p, n["port"]))
            if repl.get("role") == "slave":
                if repl.get("master_link_status") != "up" or \
                        repl.get("master_sync_in_progress") != "0":
                    problems.append("%d: replica not in sync" % p)
        # every node agrees on who serves how many slots
        sigs = {p: sorted((n["port"], n["slots"]) for n in v if n["slots"])
                for p, v in views.items()}
        if len(set(map(tuple, sigs.values()))) > 1:
            problems.append("nodes disagree about the slots: %s" % sigs)
        return problems

    def wait_healthy(self, timeout=90, fix_after=20):
        """Waits until health_problems() is empty.

        Now and then redis-server 7.0 leaves a freshly promoted primary
        without one of its slots in its own view, while every other node
        gives it that slot (cluster_slots_ok 16383 on that node alone),
        after its old primary was killed and restarted. Nothing in the
        cluster repairs that, so once only slot-coverage problems have
        lasted fix_after seconds, this does what an operator would: on
        that node, CLUSTER ADDSLOTS for the slots every other node already
        gives it (repair_own_view). redis-cli --cluster fix cannot do it:
        it tries the slot on a random node, which refuses a slot it sees
        as busy. Repairs are logged and counted (self.fixes, printed in
        the summary); the scenario's assertions about what the clients saw
        are unchanged."""
        deadline = time.time() + timeout
        slots_only_since = None
        problems = []
        while time.time() < deadline:
            problems = self.health_problems()
            if not problems:
                return
            slots_only = all("slots_ok" in p or "disagree about the slots" in p
                             for p in problems)
            if not slots_only:
                slots_only_since = None
            elif slots_only_since is None:
                slots_only_since = time.time()
            elif time.time() - slots_only_since > fix_after:
                log("  the cluster did not converge by itself (%s)" % problems[:3])
                self.fixes += 1
                self.repair_own_view()
                slots_only_since = None
            time.sleep(0.25)
        sgtest.fail("cluster not healthy after %d s: %s" % (timeout, problems[:8]))

    def repair_own_view(self):
        """For each member whose own view lacks slots that every other member
        attributes to it, CLUSTER ADDSLOTS them there (they are unassigned
        in its view, so it accepts), then CLUSTER BUMPEPOCH so its claim
        wins; if no such node exists, falls back to redis-cli --cluster fix."""
        owners = {p: slot_owners(p) for p in sorted(self.members)}
        repaired = False
        for p in sorted(self.members):
            others = [o for q, o in owners.items() if q != p]
            if not others:
                continue
            missing = [s for s in range(16384)
                       if s not in owners[p] and all(o.get(s) == p for o in others)]
            if missing:
                log("  node %d lacks its own slots %s..., CLUSTER ADDSLOTS there"
                    % (p, missing[:8]))
                rcli(p, "cluster", "addslots", *missing)
                rcli(p, "cluster", "bumpepoch")
                repaired = True
        if not repaired:
            log("  no node lacks only its own slots; redis-cli --cluster fix")
            cluster_tool("fix", addr(self.any_member()), "--cluster-yes")

    def any_member(self):
        return min(self.members)

    def primaries(self):
        """{port: {"id", "slots", "replicas": [ports]}} from one member's view."""
        view = nodes_view(self.any_member())
        by_id = {n["id"]: n for n in view}
        out = {}
        for n in view:
            if "master" in n["flags"] and n["slots"] > 0:
                out[n["port"]] = dict(id=n["id"], slots=n["slots"], replicas=[])
        for n in view:
            if "slave" in n["flags"] and n["master"] in by_id:
                mp = by_id[n["master"]]["port"]
                if mp in out:
                    out[mp]["replicas"].append(n["port"])
        return out

    def cluster_client(self):
        from redis.cluster import RedisCluster
        return RedisCluster(host=HOST, port=self.any_member(),
                            decode_responses=False, socket_timeout=10)


# ------------------------------------------------------------ shardgate

class TopoProxy(sgtest.Proxy):
    """shardgate for the scenarios: sgtest.Proxy with our cluster settings."""

    def __init__(self, seeds):
        super().__init__(
            seeds, workers=int(os.environ.get("SG_TOPO_WORKERS", sgtest.WORKERS)),
            memory="256mb", mbufs=8192,
            cluster="  refresh_interval: 1s\n"
                    "  # outlasts an unplanned failover with cluster-node-timeout\n"
                    "  # %d ms (see HOLD_MS in topology_scenarios.py)\n"
                    "  hold_ms: %d\n" % (NODE_TIMEOUT_MS, HOLD_MS))

    def start(self):
        super().start()
        # sgtest.Proxy's readiness probe is a redis.Redis whose close() only
        # returns the socket to its pool: collect it now, or its connection
        # closes in the middle of the load and counts as a closed client
        gc.collect()


class Monitor:
    """One client connection of its own to shardgate for INFO, kept open for
    the whole scenario so that it does not count as a closed client."""

    def __init__(self, proxy):
        self.conn = topo_load.Conn(proxy.port, 10, proxy.host)
        self.calls = 0

    def snap(self):
        self.calls += 1
        text = self.conn.call("INFO", "all")
        if not isinstance(text, bytes):
            sgtest.fail("INFO through shardgate failed: %r" % (text,))
        out = {}
        for k, v in kv(text.decode()).items():
            if "=" in v:
                out[k] = {a: int(b) for a, b in (x.split("=") for x in v.split(","))}
            else:
                try:
                    out[k] = int(v)
                except ValueError:
                    out[k] = v
        return out

    def close(self):
        self.conn.close()


def delta(a, b, key):
    return b[key] - a[key]


# ------------------------------------------------------------ scenarios

class Scenario:
    allow_unknown = False
    ballast = 0         # filler keys per client hash tag (slow migrations)
    moves_slots = False     # MOVED/ASK must have been handled
    new_topology = True     # shardgate's topology_version must grow
    num = 0
    name = ""

    def __init__(self, topo):
        self.topo = topo
        self.notes = {}

    def setup(self):
        """Before the load starts (not part of the change)."""

    def change(self, px, mon):
        raise NotImplementedError

    def checks(self, px, base, end, fails):
        """Scenario-specific assertions; append failure texts to fails."""

    def cleanup(self):
        """After the scenario, pass or fail."""


class Reshard(Scenario):
    num, name = 1, "reshard"
    moves_slots = True
    ballast = 300

    def change(self, px, mon):
        prims = self.topo.primaries()
        src = max(prims, key=lambda p: prims[p]["slots"])
        dst = min((p for p in prims if p != src), key=lambda p: prims[p]["slots"])
        self.notes.update(src=src, dst=dst, dst_before=prims[dst]["slots"])
        cluster_tool("reshard", addr(self.topo.any_member()),
                     "--cluster-from", prims[src]["id"], "--cluster-to", prims[dst]["id"],
                     "--cluster-slots", RESHARD_SLOTS, "--cluster-yes",
                     "--cluster-pipeline", MIGRATE_BATCH)
        self.topo.wait_healthy()

    def checks(self, px, base, end, fails):
        dst_now = self.topo.primaries()[self.notes["dst"]]["slots"]
        if dst_now - self.notes["dst_before"] != RESHARD_SLOTS:
            fails.append("destination gained %d slots, not %d" % (
                dst_now - self.notes["dst_before"], RESHARD_SLOTS))
        nodes = px.telemetry("/shardgate/nodes")
        seen = nodes.get(node_key(self.notes["dst"]), {}).get("slots")
        if seen != dst_now:
            fails.append("/shardgate/nodes gives %d %s slots, the cluster %d" % (
                self.notes["dst"], seen, dst_now))


def ensure_extra_pair(topo):
    """Adds 8006 (primary) and 8007 (its replica) to the cluster."""
    topo.cluster.sh("start-node", str(EXTRA_PRIMARY))
    topo.cluster.sh("start-node", str(EXTRA_REPLICA))
    seed = addr(topo.any_member())
    cluster_tool("add-node", addr(EXTRA_PRIMARY), seed)
    topo.members.add(EXTRA_PRIMARY)
    topo.wait_healthy()
    cluster_tool("add-node", addr(EXTRA_REPLICA), seed, "--cluster-slave",
                 "--cluster-master-id", node_id(EXTRA_PRIMARY))
    topo.members.add(EXTRA_REPLICA)
    topo.wait_healthy()
    cluster_tool("rebalance", seed, "--cluster-use-empty-masters",
                 "--cluster-pipeline", MIGRATE_BATCH)
    topo.wait_healthy()


CLIENT_CMDS = ("set", "get", "incr", "hset", "hget", "mget")


def client_calls(port):
    stats = kv(rcli(port, "info", "commandstats"))
    total = 0
    for c in CLIENT_CMDS:
        v = stats.get("cmdstat_%s" % c)
        if v:
            total += int(v.split(",")[0].split("=")[1])
    return total


class ScaleOut(Scenario):
    num, name = 2, "scale-out"
    moves_slots = True
    ballast = 300

    def change(self, px, mon):
        ensure_extra_pair(self.topo)
        self.notes["calls_after"] = client_calls(EXTRA_PRIMARY)

    def checks(self, px, base, end, fails):
        prims = self.topo.primaries()
        if EXTRA_PRIMARY not in prims:
            fails.append("%d serves no slots after rebalance" % EXTRA_PRIMARY)
            return
        if prims[EXTRA_PRIMARY]["replicas"] != [EXTRA_REPLICA]:
            fails.append("%d is not the replica of %d" % (EXTRA_REPLICA, EXTRA_PRIMARY))
        served = client_calls(EXTRA_PRIMARY) - self.notes["calls_after"]
        self.notes["new_node_calls"] = served
        if served <= 0:
            fails.append("the new primary %d got no client commands after the rebalance"
                         % EXTRA_PRIMARY)
        n = px.telemetry("/shardgate/nodes").get(node_key(EXTRA_PRIMARY))
        if n is None or n["role"] != "primary" or n["slots"] != prims[EXTRA_PRIMARY]["slots"] \
                or n["connections"] == 0:
            fails.append("/shardgate/nodes does not show %d serving: %s" % (EXTRA_PRIMARY, n))


class ScaleIn(Scenario):
    num, name = 3, "scale-in"
    moves_slots = True
    ballast = 300

    def setup(self):
        if EXTRA_PRIMARY not in self.topo.members:
            ensure_extra_pair(self.topo)

    def change(self, px, mon):
        seed = addr(min(self.topo.members - {EXTRA_PRIMARY, EXTRA_REPLICA}))
        cluster_tool("rebalance", seed, "--cluster-weight", "%s=0" % node_id(EXTRA_PRIMARY),
                     "--cluster-pipeline", MIGRATE_BATCH)
        self.topo.wait_healthy()
        left = [n for n in nodes_view(BASE) if n["port"] == EXTRA_PRIMARY][0]["slots"]
        if left:
            sgtest.fail("%d still serves %d slots after rebalance with weight 0"
                        % (EXTRA_PRIMARY, left))
        cluster_tool("del-node", seed, node_id(EXTRA_REPLICA))
        cluster_tool("del-node", seed, node_id(EXTRA_PRIMARY))
        self.removed = True
        self.cleanup()
        self.topo.wait_healthy()

    removed = False

    def cleanup(self):
        # only nodes the cluster has let go; a half-done scale-in keeps them
        if not self.removed:
            return
        for p in (EXTRA_REPLICA, EXTRA_PRIMARY):
            if p in self.topo.members:
                self.topo.cluster.sh("stop-node", str(p), check_rc=False)
                self.topo.members.discard(p)

    def checks(self, px, base, end, fails):
        time.sleep(0.1)
        nodes = px.telemetry("/shardgate/nodes")
        for p in (EXTRA_PRIMARY, EXTRA_REPLICA):
            if node_key(p) in nodes:
                fails.append("/shardgate/nodes still lists %d after del-node: %s" % (
                    p, nodes[node_key(p)]))


def pick_primary(topo):
    prims = {p: v for p, v in topo.primaries().items() if v["replicas"]}
    p = min(prims)
    return p, prims[p]["replicas"][0]


def wait_role(topo, port, role, timeout=30):
    """Every member other than `port`'s dead self sees `port` in `role`."""
    flag = "master" if role == "primary" else "slave"
    deadline = time.time() + timeout
    while time.time() < deadline:
        ok = True
        for m in topo.members:
            try:
                v = [n for n in nodes_view(m) if n["port"] == port]
            except AssertionError:
                continue  # that member is the one down
            if not v or flag not in v[0]["flags"]:
                ok = False
                break
        if ok:
            return
        time.sleep(0.05)
    sgtest.fail("%d did not become %s within %d s" % (port, role, timeout))


class PlannedFailover(Scenario):
    num, name = 4, "planned-failover"

    def change(self, px, mon):
        p, r = pick_primary(self.topo)
        self.notes.update(old=p, new=r)
        out = rcli(r, "cluster", "failover").strip()
        if out != "OK":
            sgtest.fail("CLUSTER FAILOVER on %d: %s" % (r, out))
        wait_role(self.topo, r, "primary")
        self.topo.wait_healthy()

    def checks(self, px, base, end, fails):
        if self.notes["new"] not in self.topo.primaries():
            fails.append("%d did not take over" % self.notes["new"])


class Crash(Scenario):
    num, name = 5, "unplanned-failover"
    allow_unknown = True

    def change(self, px, mon):
        p, r = pick_primary(self.topo)
        self.notes.update(old=p, new=r)
        t0 = time.monotonic()
        self.topo.cluster.sh("kill-node", str(p))
        self.topo.members.discard(p)
        wait_role(self.topo, r, "primary")
        self.notes["failover_s"] = round(time.monotonic() - t0, 2)
        # the replica's promotion is seen; now the old primary comes back
        # with its node ID and rejoins as a replica of the new primary
        self.topo.cluster.sh("restart-node", str(p))
        self.topo.members.add(p)
        wait_role(self.topo, p, "replica")
        self.topo.wait_healthy()

    def checks(self, px, base, end, fails):
        if delta(base, end, "parked") == 0:
            fails.append("nothing was parked while %d was down" % self.notes["old"])
        if end["hold"]["count"] == 0:
            fails.append("INFO latency shows no hold while %d was down" % self.notes["old"])
        # Requests for the dead primary's slots wait for the failover (here
        # failover_s); the longest hold must say so, not a fraction of it.
        worst = self.notes["client_max_s"]
        if worst > 1.0 and end["hold"]["max_us"] / 1e6 < worst / 2:
            fails.append("the longest hold is %.3f s but clients waited up to %.3f s for "
                         "the failover" % (end["hold"]["max_us"] / 1e6, worst))
        hold = px.telemetry("/shardgate/latency")["hold"]
        if hold["count"] != end["hold"]["count"] or hold["max_us"] != end["hold"]["max_us"]:
            fails.append("/shardgate/latency hold %s disagrees with INFO %s" % (hold, end["hold"]))
        prims = self.topo.primaries()
        if self.notes["new"] not in prims or self.notes["old"] not in prims[self.notes["new"]]["replicas"]:
            fails.append("%d did not rejoin as the replica of %d" % (self.notes["old"],
                                                                     self.notes["new"]))


class ConnKills(Scenario):
    num, name = 6, "conn-kills+restart"
    new_topology = False
    allow_unknown = True
    ROUNDS = 3

    def setup(self):
        # The restarted primary must come back with what it acknowledged:
        # the cluster runs without persistence, so this one node gets an AOF
        # fsynced before every reply (written into its redis.conf so the
        # restart loads it).
        self.port, _ = pick_primary(self.topo)
        rcli(self.port, "config", "set", "appendonly", "yes")
        rcli(self.port, "config", "set", "appendfsync", "always")
        deadline = time.time() + 30
        while time.time() < deadline:
            i = kv(rcli(self.port, "info", "persistence"))
            if i.get("aof_enabled") == "1" and i.get("aof_rewrite_in_progress") == "0" \
                    and i.get("aof_rewrite_scheduled") == "0":
                break
            time.sleep(0.1)
        else:
            sgtest.fail("AOF on %d did not start" % self.port)
        rcli(self.port, "config", "rewrite")

    def change(self, px, mon):
        killed = 0
        for _ in range(self.ROUNDS):
            for p in self.topo.primaries():
                killed += int(rcli(p, "client", "kill", "type", "normal").strip() or 0)
            time.sleep(0.7)
        self.notes["killed"] = killed
        self.topo.cluster.sh("restart-node", str(self.port))
        deadline = time.time() + 30
        while time.time() < deadline:
            r = subprocess.run(["redis-cli", "-h", HOST, "-p", str(self.port), "ping"],
                               capture_output=True, text=True)
            if r.stdout.strip() == "PONG":
                break
            time.sleep(0.05)
        self.topo.wait_healthy()

    def cleanup(self):
        try:
            rcli(self.port, "config", "set", "appendonly", "no")
            rcli(self.port, "config", "rewrite")
        except Exception:
            pass

    def checks(self, px, base, end, fails):
        if self.notes["killed"] == 0:
            fails.append("CLIENT KILL found no shardgate connection to kill")
        if delta(base, end, "backend_disconnects") == 0:
            fails.append("shardgate counted no lost backend connection")


SCENARIOS = [Reshard, ScaleOut, ScaleIn, PlannedFailover, Crash, ConnKills]


# ------------------------------------------------------------ the runner

# what an ASan/UBSan build of shardgate prints (SG_BUILD_ROOT=build-asan)
SANITIZER_MARKS = ("runtime error:", "AddressSanitizer", "LeakSanitizer")


def ms(x):
    return "%.1f" % (x * 1e3)


def common_checks(sc, ops, errors, unknown, dropped, mism, bad, lat, base, end,
                  stats, want_cmds, fails):
    """What every scenario asserts: the clients saw nothing but counted
    unknown outcomes, and shardgate's figures agree with them."""
    # what the clients saw
    if errors:
        fails.append("%d error replies reached clients, e.g. %s" % (len(errors), errors[:5]))
    if unknown and not sc.allow_unknown:
        fails.append("%d unknown-outcome errors in a scenario that must have none, e.g. %s"
                     % (len(unknown), unknown[:3]))
    if dropped:
        fails.append("%d client connections dropped: %s" % (len(dropped), dropped[:5]))
    if mism:
        fails.append("%d reads disagreed with the acknowledged writes, e.g. %s"
                     % (len(mism), mism[:5]))
    if bad:
        fails.append("%d keys in the cluster differ from the last acknowledged value, "
                     "e.g. %s" % (len(bad), bad[:5]))
    if ops < 1000:
        fails.append("the load ran only %d operations" % ops)
    # what shardgate says
    d_unknown = delta(base, end, "errors_unknown_outcome")
    if d_unknown != len(unknown):
        fails.append("errors_unknown_outcome grew by %d, clients saw %d"
                     % (d_unknown, len(unknown)))
    for k in ("clients_closed", "errors_unavailable", "errors_backend",
              "parked_timeouts", "errors_protocol", "errors_output_limit"):
        if delta(base, end, k) != 0:
            fails.append("%s grew by %d" % (k, delta(base, end, k)))
    if delta(base, end, "clients_accepted") != CLIENTS:
        fails.append("clients_accepted grew by %d, not %d"
                     % (delta(base, end, "clients_accepted"), CLIENTS))
    if end["clients"] != CLIENTS + 1:
        fails.append("clients gauge %d, want %d" % (end["clients"], CLIENTS + 1))
    # every command counted once: the load's and the monitor's INFOs
    if delta(base, end, "commands") != want_cmds:
        fails.append("commands grew by %d, clients sent %d"
                     % (delta(base, end, "commands"), want_cmds))
    for k in ("errors_unknown_outcome", "clients_closed", "parked", "redirects_moved",
              "redirects_ask", "parked_timeouts"):
        if stats.get(k) != end[k]:
            fails.append("/shardgate/stats %s=%s but INFO says %s" % (k, stats.get(k), end[k]))
    if sc.moves_slots and delta(base, end, "redirects_moved") + \
            delta(base, end, "redirects_ask") == 0:
        fails.append("slots moved under load but no MOVED/ASK was counted")
    if sc.new_topology and end["topology_version"] <= base["topology_version"]:
        fails.append("topology_version did not grow (%d)" % end["topology_version"])
    # the proxy's own latency histograms must see the stalls clients saw
    client_max = lat[-1] if lat else 0
    proxy_max = max(end["latency_%s" % k]["max_us"] for k in ("read", "write")) / 1e6
    sc.notes["shardgate_max_ms"] = round(proxy_max * 1e3, 1)
    if client_max > 1.0 and proxy_max < client_max / 2:
        fails.append("INFO latency max is %.3f s but clients waited up to %.3f s"
                     % (proxy_max, client_max))
    return client_max


def run_scenario(topo, cls, results):
    sc = cls(topo)
    fails = []
    topo.wait_healthy()
    sc.setup()
    topo.wait_healthy()
    px = TopoProxy([addr(p) for p in sorted(topo.members)[:3]])
    px.start()
    load = None
    mon = None
    try:
        mon = Monitor(px)
        # the readiness probe's close may still be on its way: start from a
        # proxy whose only client is the monitor
        deadline = time.time() + 5
        base = mon.snap()
        while base["clients"] != 1 and time.time() < deadline:
            time.sleep(0.05)
            base = mon.snap()
        base_calls = mon.calls
        load = topo_load.Load(px.port, clients=CLIENTS, host=px.host,
                              prefix="t%d-%d" % (sc.num, int(time.time())), seed=sc.num,
                              pace=float(os.environ.get("SG_TOPO_PACE", "0.002")))
        tag_slots = {}
        if sc.ballast:
            cc = topo.cluster_client()
            load.fill(cc, sc.ballast)
            tag_slots = {c.tag: cc.keyslot(c.tag) for c in load.clients}
            cc.close()
        owners = slot_owners(topo.any_member())
        load.start()
        time.sleep(WARMUP_S)
        t0 = time.monotonic()
        try:
            sc.change(px, mon)
        except Exception as e:
            fails.append("the change itself failed: %s" % e)
        t1 = time.monotonic()
        time.sleep(SETTLE_S)
        load.stop()
        end = mon.snap()     # clients still connected: clients_closed must be 0
        stats = px.telemetry("/shardgate/stats")
        ops = load.ops()
        errors, unknown = load.errors(), load.unknown()
        dropped, mism = load.dropped(), load.mismatches()
        lat = load.latencies(t0, t1)
        load.close()
        cc = topo.cluster_client()
        bad = topo_load.verify(load, cc)
        fill_bad = load.check_fill(cc)
        cc.close()
        if tag_slots:
            now = slot_owners(topo.any_member())
            sc.notes["busy_slots_moved"] = sum(1 for s in tag_slots.values()
                                               if owners.get(s) != now.get(s))
        if fill_bad:
            fails.append("%d filler keys are missing or wrong after the change" % fill_bad)

        want_cmds = ops + (mon.calls - base_calls)
        client_max = common_checks(sc, ops, errors, unknown, dropped, mism, bad, lat,
                                   base, end, stats, want_cmds, fails)
        sc.notes["client_max_s"] = round(client_max, 3)
        sc.checks(px, base, end, fails)
        del sc.notes["client_max_s"]

        line = ("SCENARIO %d %-18s ops=%d errors=%d unknown_outcome=%d dropped=%d "
                "mismatches=%d lost=%d change=%.1fs p99_change=%sms max_change=%sms "
                "hold_max=%sms hold_count=%d parked=%d moved=%d ask=%d tryagain=%d "
                "reconnect_retries=%d backend_disconnects=%d topology_version=%d->%d%s" % (
                    sc.num, sc.name, ops, len(errors), len(unknown), len(dropped), len(mism),
                    len(bad), t1 - t0, ms(topo_load.quantile(lat, 0.99)),
                    ms(lat[-1] if lat else 0), "%.1f" % (end["hold"]["max_us"] / 1e3),
                    end["hold"]["count"], delta(base, end, "parked"),
                    delta(base, end, "redirects_moved"), delta(base, end, "redirects_ask"),
                    delta(base, end, "retries_tryagain"), delta(base, end, "retries_reconnect"),
                    delta(base, end, "backend_disconnects"), base["topology_version"],
                    end["topology_version"],
                    "".join(" %s=%s" % kvp for kvp in sorted(sc.notes.items()))))
        log(line)
        slow = load.slow()
        if slow:
            log("  %d operations took over %.0f s, e.g. %s" % (
                len(slow), topo_load.SLOW_S, ["+%.2fs %.2fs %s %s" % (a - t0, b, c, d)
                                            for a, b, c, d in slow[:6]]))
        results.append((sc.num, sc.name, line, fails))
        if os.environ.get("SG_TOPO_VERBOSE"):
            log("  shardgate log:\n" + "\n".join(px.output().splitlines()[-40:]))
        if fails:
            for f in fails:
                log("  FAIL: %s" % f)
            log("  shardgate log (tail):\n" + "\n".join(px.output().splitlines()[-25:]))
    finally:
        if load is not None:
            load.stop_ev.set()
            load.close()
        if mon is not None:
            mon.close()
        try:
            px.stop(expect_rc=0)
            with open(px.out, errors="replace") as f:
                found = [line for line in f if any(m in line for m in SANITIZER_MARKS)]
            if found:
                sgtest.fail("the sanitizers reported: %s" % "".join(found[:10]))
        except AssertionError as e:
            results.append((sc.num, sc.name, "shardgate exit", [str(e)]))
            log("  FAIL: %s" % e)
        finally:
            subprocess.run(["rm", "-rf", px.dir])
            sc.cleanup()


def main():
    # meson's timeout sends SIGTERM: unwind, so the cluster and shardgate stop
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    want = os.environ.get("SG_TOPO_SCENARIOS")
    chosen = [c for c in SCENARIOS if not want or str(c.num) in want.split(",")]
    results = []
    t_start = time.time()
    with sgtest.Cluster(BASE, node_timeout=NODE_TIMEOUT_MS) as cluster:
        topo = Topo(cluster)
        for cls in chosen:
            log("--- scenario %d: %s" % (cls.num, cls.name))
            t0 = time.time()
            try:
                run_scenario(topo, cls, results)
            except Exception as e:
                results.append((cls.num, cls.name, "aborted", [str(e)]))
                log("  FAIL (aborted): %s" % e)
            log("    (%.1f s)" % (time.time() - t0))
            try:
                topo.wait_healthy()
            except AssertionError as e:
                log("the cluster cannot be made healthy; stopping: %s" % e)
                break
    failed = [r for r in results if r[3]]
    log("=== summary (%.0f s; redis-cli --cluster fix needed %d times)" % (
        time.time() - t_start, topo.fixes))
    for num, name, line, fails in results:
        log("%s %s" % ("FAIL" if fails else "ok  ", line))
    if failed or len({r[0] for r in results}) < len(chosen):
        log("FAILED: %s" % ", ".join("%d %s" % (r[0], r[1]) for r in failed))
        sys.exit(1)
    log("PASS: %d scenarios" % len(chosen))


if __name__ == "__main__":
    main()
