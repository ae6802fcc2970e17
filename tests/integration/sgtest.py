"""Shared fixtures for shardgate's integration tests.

Every test starts its own real Redis Cluster (scripts/cluster.sh, loopback
ports of its own) and its own shardgate process, talks to them with real
clients, and stops exactly what it started. Run with Debian's python3
(/usr/bin/python3), which has python3-redis.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("SG_SOURCE_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SG_BUILD_ROOT") or os.path.join(SRC, "build")
SHARDGATE = os.path.join(BUILD, "app", "shardgate", "shardgate")
CLUSTER_SH = os.path.join(SRC, "scripts", "cluster.sh")

# Where the tests run. Kernel mode (the default): everything on loopback.
# DPDK mode (tests/dpdk/proxy_suite.sh sets these and runs the test inside
# the namespace of scripts/dpdk-testnet.sh): the cluster and the clients are
# on the kernel side of the veth (198.18.0.1), shardgate drives the other
# end with its own TCP/IP stack (198.18.0.2).
MODE = os.environ.get("SG_TEST_MODE", "kernel")
CLUSTER_HOST = os.environ.get("SG_TEST_CLUSTER_HOST", "127.0.0.1")
PROXY_HOST = os.environ.get("SG_TEST_PROXY_HOST", "127.0.0.1")
# the default worker count of a Proxy that does not ask for one
WORKERS = int(os.environ.get("SG_TEST_WORKERS", "1"))
DPDK_PORT = os.environ.get("SG_TEST_DPDK_PORT", "")
DPDK_CIDR = os.environ.get("SG_TEST_DPDK_CIDR", "")
if MODE not in ("kernel", "dpdk"):
    raise SystemExit("SG_TEST_MODE: kernel or dpdk, got %r" % MODE)
if MODE == "dpdk" and not (DPDK_PORT and DPDK_CIDR):
    raise SystemExit("SG_TEST_MODE=dpdk needs SG_TEST_DPDK_PORT and SG_TEST_DPDK_CIDR")


def host_id(host=None):
    """A node's address as shardgate's telemetry spells it in a key
    (/shardgate/nodes: 127_0_0_1_7000)."""
    return (host or CLUSTER_HOST).replace(".", "_")


def log(*args):
    print(*args, flush=True)


def fail(msg):
    raise AssertionError(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


class Cluster:
    """A 3+3 redis-server cluster on CLUSTER_HOST:base..base+5."""

    def __init__(self, base_port, node_timeout=2000, primaries=3, replicas=1):
        self.base = base_port
        self.dir = tempfile.mkdtemp(prefix="sg-it-cluster-")
        self.env = dict(os.environ,
                        SG_CLUSTER_BASE_PORT=str(base_port),
                        SG_CLUSTER_HOST=CLUSTER_HOST,
                        SG_CLUSTER_DIR=os.path.join(self.dir, "run"),
                        SG_CLUSTER_NODE_TIMEOUT=str(node_timeout),
                        SG_CLUSTER_PRIMARIES=str(primaries),
                        SG_CLUSTER_REPLICAS=str(replicas))
        self.ports = [base_port + i for i in range(primaries * (1 + replicas))]

    def sh(self, *args, check_rc=True):
        r = subprocess.run([CLUSTER_SH, *args], env=self.env, capture_output=True,
                           text=True, timeout=120)
        if check_rc and r.returncode != 0:
            fail("cluster.sh %s failed: %s %s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def __enter__(self):
        self.sh("start")
        return self

    def __exit__(self, *exc):
        self.sh("stop", check_rc=False)
        subprocess.run(["rm", "-rf", self.dir])

    def seeds(self):
        return ["%s:%d" % (CLUSTER_HOST, p) for p in self.ports[:3]]

    def slot_ranges(self):
        """[(first, last, primary_port), ...] from CLUSTER SLOTS of the
        first node."""
        import redis
        r = redis.Redis(host=CLUSTER_HOST, port=self.base, socket_timeout=10)
        try:
            rows = r.execute_command("CLUSTER", "SLOTS")
        finally:
            r.close()
        return sorted((int(row[0]), int(row[1]), int(row[2][1])) for row in rows)

    def primary_ports(self):
        return sorted({p for _, _, p in self.slot_ranges()})

    def owner_port(self, slot):
        for first, last, port in self.slot_ranges():
            if first <= slot <= last:
                return port
        fail("slot %d has no owner" % slot)

    def resp(self, port=None, timeout=10):
        """A raw RESP connection to one node (default the first)."""
        return Resp(port or self.base, host=CLUSTER_HOST, timeout=timeout)

    def node(self, port):
        """A plain redis-py client to one node."""
        import redis
        return redis.Redis(host=CLUSTER_HOST, port=port, socket_timeout=10)

    def client(self):
        """redis-py's cluster client straight to the cluster (the reference)."""
        from redis.cluster import RedisCluster
        return RedisCluster(host=CLUSTER_HOST, port=self.base, decode_responses=False)


def is_asan():
    """True when the shardgate under test is an AddressSanitizer build."""
    with open(SHARDGATE, "rb") as f:
        return b"__asan_init" in f.read()


def disconnect(client):
    """Really closes a redis-py client's sockets (redis-py 4.3's close()
    only returns the connection to its pool, which keeps it open)."""
    client.close()
    client.connection_pool.disconnect()


def descendants(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def pid_alive(pid):
    """True while /proc/PID exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(cond, timeout, what, step=0.05):
    """Polls cond() until it is true; fails naming `what` after timeout s."""
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.time() > deadline:
            fail("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(step)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Proxy:
    """A shardgate process in front of `seeds`: kernel mode on 127.0.0.1, or
    (SG_TEST_MODE=dpdk) DPDK mode on the test network."""

    def __init__(self, seeds, port=None, workers=None, extra="", backend="", env=None,
                 mbufs=32768, memory="512mb", cluster="  refresh_interval: 1s\n"):
        """workers: None takes SG_TEST_WORKERS (default 1);
        extra: YAML appended at the top level (e.g. a limits: section);
        backend: lines added under backend: (indented by two spaces);
        cluster: the lines of the cluster: section;
        env: extra environment variables for the process."""
        self.port = port or free_port()
        self.host = PROXY_HOST
        self.workers = WORKERS if workers is None else workers
        self.dir = tempfile.mkdtemp(prefix="sg-it-proxy-")
        self.prefix = "sgit-%d-%d" % (os.getpid(), self.port)
        self.conf = os.path.join(self.dir, "shardgate.yaml")
        with open(self.conf, "w") as f:
            f.write("listen:\n  - address: %s\n    port: %d\n" % (self.host, self.port))
            f.write(self.io_section(memory, mbufs))
            f.write("backend:\n  seeds: [%s]\n" % ", ".join('"%s"' % s for s in seeds))
            f.write(backend)
            f.write("cluster:\n" + cluster)
            f.write(extra)
        self.proc = None
        self.env = dict(os.environ, **(env or {}))
        self.out = os.path.join(self.dir, "out.log")

    def io_section(self, memory, mbufs):
        io = ("io:\n  mode: %s\n  workers: %d\n  file_prefix: %s\n"
              "  memory: %s\n  mbufs: %d\n" % (MODE, self.workers, self.prefix, memory, mbufs))
        if MODE == "dpdk":
            # the worker lcores follow the main lcore 0; EAL maps lcore ids
            # past the CPU count onto the CPUs (runtime.c), so 2 workers
            # run on a 1-CPU machine too
            io += ("  port: %s\n  address: %s\n  huge_pages: false\n" %
                   (DPDK_PORT, DPDK_CIDR))
        return io

    def __enter__(self):
        self.start()
        return self

    def start(self):
        self.outf = open(self.out, "w")
        self.proc = subprocess.Popen([SHARDGATE, "--config", self.conf], env=self.env,
                                     stdout=self.outf, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail("shardgate exited early (%d): %s" % (self.proc.returncode, self.output()))
            c = self.client()
            try:
                if c.ping():
                    # wait for the topology too: a GET must succeed
                    c.get("sg-ready-probe")
                    return
            except Exception:
                pass
            finally:
                disconnect(c)
            time.sleep(0.1)
        fail("shardgate did not become ready: " + self.output())

    def output(self, tail=4000):
        try:
            with open(self.out, errors="replace") as f:
                return f.read()[-tail:]
        except OSError:
            return ""

    def runtime_dir(self):
        """EAL's runtime directory of this proxy (its telemetry socket)."""
        root = "/var/run/dpdk" if os.geteuid() == 0 else os.path.join(
            os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")
        return os.path.join(root, self.prefix)

    def remove_runtime_dir(self):
        """EAL leaves its runtime directory behind; ours is unique."""
        subprocess.run(["rm", "-rf", self.runtime_dir()])

    def check_output(self):
        """Fails if the proxy's output holds a sanitizer report (UBSan may
        report and carry on with exit status 0)."""
        out = self.output(tail=1 << 24)
        for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if bad in out:
                at = out.index(bad)
                fail("shardgate reported '%s': %s" % (bad, out[max(0, at - 200):at + 3000]))

    def stop(self, expect_rc=0):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                fail("shardgate did not stop within 20 s of SIGTERM")
        rc = self.proc.returncode
        self.proc = None
        self.outf.close()
        self.remove_runtime_dir()
        if expect_rc is not None and rc != expect_rc:
            fail("shardgate exited with %d: %s" % (rc, self.output()))
        self.check_output()

    def __exit__(self, *exc):
        try:
            self.stop(expect_rc=0 if exc[0] is None else None)
        finally:
            subprocess.run(["rm", "-rf", self.dir])

    def telemetry(self, cmd):
        """One DPDK telemetry command on the proxy's socket, decoded
        (what dpdk-telemetry.py prints under the command's name)."""
        import json
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            s.settimeout(5)
            s.connect(os.path.join(self.runtime_dir(), "dpdk_telemetry.v2"))
            s.recv(16384)
            s.send(cmd.encode())
            return json.loads(s.recv(1 << 20).decode())[cmd]
        finally:
            s.close()

    def client(self, **kw):
        import redis
        return redis.Redis(host=self.host, port=self.port, socket_timeout=10, **kw)

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def info(self, section="shardgate"):
        c = self.client()
        try:
            return c.info(section)
        finally:
            disconnect(c)

    @property
    def pid(self):
        return self.proc.pid

    def clients_gauge(self):
        """INFO's count of open client connections (the asker included)."""
        return int(self.info("shardgate")["clients"])

    def wait_info(self, key, want, timeout=10.0):
        """Polls INFO shardgate until `key` equals `want` (the asking
        connection counts itself in `clients`). Returns the last value."""
        deadline = time.time() + timeout
        while True:
            v = int(self.info("shardgate")[key])
            if v == want or time.time() > deadline:
                return v
            time.sleep(0.05)

    def descendants(self):
        """PIDs of every process below the proxy (it should start none)."""
        return descendants(self.proc.pid)


# ---- a minimal RESP client for what redis-py cannot do (RESP3, raw bytes) ----

class Null3:
    """RESP3's null (`_`), distinct from RESP2's null bulk (None)."""
    def __repr__(self):
        return "NULL3"

    def __eq__(self, other):
        return isinstance(other, Null3)

    def __hash__(self):
        return 0


NULL3 = Null3()


class RespSet(list):
    """A RESP3 set (`~`), in wire order."""


class RespPush(list):
    """A RESP3 push (`>`)."""


class Resp:
    """A raw RESP client: one socket, replies read one at a time.

    read() decodes a reply; read_raw() returns its exact bytes. RESP3 types
    stay distinguishable: maps are dicts, sets RespSet, nulls NULL3 (RESP2's
    null bulk/array is None), doubles float, booleans bool, verbatim bytes.
    """

    def __init__(self, port, host=None, timeout=10):
        host = host or PROXY_HOST
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.raw = None

    def close(self):
        self.s.close()

    def send(self, data):
        self.s.sendall(data)

    def cmd(self, *args):
        self.send(encode(*args))
        return self.read()

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        if self.raw is not None:
            self.raw.append(line + b"\r\n")
        return line

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        if self.raw is not None:
            self.raw.append(data + b"\r\n")
        return data

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+",):
            return rest.decode()
        if t == b"-":
            return RespError(rest.decode())
        if t == b":":
            return int(rest)
        if t in (b"$", b"=", b"!"):
            n = int(rest)
            if n < 0:
                return None
            data = self._bytes(n)
            return RespError(data.decode()) if t == b"!" else data
        if t in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return None
            items = [self.read() for _ in range(n)]
            return {b"*": list, b"~": RespSet, b">": RespPush}[t](items)
        if t in (b"%", b"|"):
            n = int(rest)
            m = {}
            for _ in range(n):
                k = self.read()
                m[_hashable(k)] = self.read()
            if t == b"|":   # attribute: the reply follows it
                return self.read()
            return m
        if t == b"_":
            return NULL3
        if t == b"(":
            return int(rest)
        if t == b"#":
            return rest == b"t"
        if t == b",":
            return float(rest)
        fail("unexpected RESP type %r" % line)

    def read_raw(self):
        """One reply's exact bytes."""
        self.raw = []
        try:
            self.read()
            return b"".join(self.raw)
        finally:
            self.raw = None

    def read_until_closed(self, timeout=5.0):
        """Everything the server sends until it closes the connection
        (returns (bytes, True)) or `timeout` passes (returns (bytes, False))."""
        out = self.buf
        self.buf = b""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                return out, False
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                return out, False
            except ConnectionResetError:
                return out, True
            if not chunk:
                return out, True
            out += chunk


def _hashable(k):
    if isinstance(k, list):
        return tuple(_hashable(x) for x in k)
    if isinstance(k, dict):
        return tuple(sorted((a, _hashable(b)) for a, b in k.items()))
    return k


class RespError(str):
    pass


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def run(tests):
    """Runs named test functions in order. A failure is reported and the
    next test runs (each test sets up what it needs), so one proxy bug does
    not hide the others; raises AssertionError at the end if any failed."""
    import traceback
    failed = []
    for name, fn in tests:
        t0 = time.time()
        log("--- %s" % name)
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failed.append(name)
            log("FAIL %s (%.1f s): %s: %s" % (name, time.time() - t0,
                                             type(e).__name__, e))
            traceback.print_exc(file=sys.stdout)
            sys.stdout.flush()
            continue
        log("ok  %s (%.1f s)" % (name, time.time() - t0))
    if failed:
        log("FAILED: %d of %d tests: %s" % (len(failed), len(tests), ", ".join(failed)))
        raise AssertionError("%d tests failed" % len(failed))
    log("PASS: %d tests" % len(tests))


def main(fn):
    """Runs fn() and exits 0, or 1 after printing why it failed."""
    try:
        fn()
    except AssertionError as e:
        log("FAIL: %s" % e)
        sys.exit(1)
    sys.exit(0)
