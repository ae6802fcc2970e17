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


def log(*args):
    print(*args, flush=True)


def fail(msg):
    raise AssertionError(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


class Cluster:
    """A 3+3 redis-server cluster on 127.0.0.1:base..base+5."""

    def __init__(self, base_port, node_timeout=2000, primaries=3, replicas=1):
        self.base = base_port
        self.dir = tempfile.mkdtemp(prefix="sg-it-cluster-")
        self.env = dict(os.environ,
                        SG_CLUSTER_BASE_PORT=str(base_port),
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
        return ["127.0.0.1:%d" % p for p in self.ports[:3]]

    def client(self):
        """redis-py's cluster client straight to the cluster (the reference)."""
        from redis.cluster import RedisCluster
        return RedisCluster(host="127.0.0.1", port=self.base, decode_responses=False)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Proxy:
    """A shardgate process in kernel mode in front of `seeds`."""

    def __init__(self, seeds, port=None, workers=1, extra=""):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="sg-it-proxy-")
        self.prefix = "sgit-%d-%d" % (os.getpid(), self.port)
        self.conf = os.path.join(self.dir, "shardgate.yaml")
        with open(self.conf, "w") as f:
            f.write("listen:\n  - address: 127.0.0.1\n    port: %d\n" % self.port)
            f.write("io:\n  mode: kernel\n  workers: %d\n  file_prefix: %s\n"
                    "  memory: 256mb\n  mbufs: 8192\n" % (workers, self.prefix))
            f.write("backend:\n  seeds: [%s]\n" % ", ".join('"%s"' % s for s in seeds))
            f.write("cluster:\n  refresh_interval: 1s\n")
            f.write(extra)
        self.proc = None
        self.out = os.path.join(self.dir, "out.log")

    def __enter__(self):
        self.start()
        return self

    def start(self):
        self.outf = open(self.out, "w")
        self.proc = subprocess.Popen([SHARDGATE, "--config", self.conf],
                                     stdout=self.outf, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail("shardgate exited early (%d): %s" % (self.proc.returncode, self.output()))
            try:
                c = self.client()
                if c.ping():
                    # wait for the topology too: a GET must succeed
                    c.get("sg-ready-probe")
                    # close the probe's socket now, not at garbage collection
                    # (it would count as a client closing mid-test)
                    c.connection_pool.disconnect()
                    return
            except Exception:
                pass
            time.sleep(0.1)
        fail("shardgate did not become ready: " + self.output())

    def output(self):
        try:
            with open(self.out) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

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
        if expect_rc is not None and rc != expect_rc:
            fail("shardgate exited with %d: %s" % (rc, self.output()))

    def __exit__(self, *exc):
        try:
            self.stop(expect_rc=0 if exc[0] is None else None)
        finally:
            subprocess.run(["rm", "-rf", self.dir])

    def client(self, **kw):
        import redis
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10, **kw)

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def info(self, section="shardgate"):
        return self.client().info(section)


# ---- a minimal RESP client for what redis-py cannot do (RESP3, raw bytes) ----

class Resp:
    def __init__(self, port, host="127.0.0.1", timeout=10):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

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
        return line

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
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
            return [self.read() for _ in range(n)]
        if t == b"%":
            n = int(rest)
            return {self.read(): self.read() for _ in range(n)}
        if t == b"_":
            return None
        if t == b"#":
            return rest == b"t"
        if t == b",":
            return float(rest)
        fail("unexpected RESP type %r" % line)


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
    """Runs named test functions in order; exits non-zero on the first failure."""
    for name, fn in tests:
        t0 = time.time()
        log("--- %s" % name)
        fn()
        log("ok  %s (%.1f s)" % (name, time.time() - t0))
    log("PASS: %d tests" % len(tests))
