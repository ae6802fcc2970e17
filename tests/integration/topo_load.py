"""A checking load generator for the topology-change scenarios.

N client connections (threads, one raw RESP socket each, no reconnects and
no retries: what the proxy returns is what the client sees) run a mixed
SET / GET / INCR / HSET / HGET / MGET-across-slots load, each on keys of its
own, so the value a key must hold is known exactly:

    key state = the set of values it may hold now
      SET/HSET/INCR acknowledged            -> {the new value}
      write failed "outcome is unknown"     -> old candidates + new candidates
      write failed with any other error     -> a test failure (recorded)
      GET/HGET/MGET reply                   -> must be one of the candidates;
                                               then the set is {that value}

Every operation's start time and latency are recorded, every error reply
with its text, every value that disagrees with the model, and whether each
connection stayed up. After the load stops, `verify` reads every key
straight from the cluster and compares it with the model.

Run alone to measure what it can drive:
    /usr/bin/python3 topo_load.py PORT [SECONDS] [CLIENTS]
"""
import random
import socket
import sys
import threading
import time

UNKNOWN_OUTCOME = "outcome is unknown"
SLOW_S = 1.0

N_STRINGS = 12
N_TAGGED = 4        # strings sharing one hash tag: same-slot MGETs, and a
                    # slot that `fill` can make slow to migrate
N_COUNTERS = 4
N_HASHES = 4
N_FIELDS = 2
MGET_KEYS = 4

# Relative weights of the operations (writes 50 %, reads 50 %).
OPS = [("set", 20), ("get", 15), ("incr", 10), ("hset", 10), ("hget", 10),
       ("mget", 15), ("tset", 10), ("tmget", 10)]


class ConnLost(Exception):
    pass


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = b"%d" % a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class ErrorReply(str):
    pass


class Conn:
    """One blocking RESP2 connection; raises ConnLost when it goes away."""

    def __init__(self, port, timeout, host="127.0.0.1"):
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def _fill(self):
        try:
            chunk = self.s.recv(65536)
        except socket.timeout as e:
            raise ConnLost("no reply within the client timeout") from e
        except OSError as e:
            raise ConnLost("recv: %s" % e) from e
        if not chunk:
            raise ConnLost("closed by shardgate")
        if self.pos > 0:
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def _read(self):
        line = self._line()
        t = line[:1]
        if t == b"+":
            return line[1:]
        if t == b"-":
            return ErrorReply(line[1:].decode(errors="replace"))
        if t == b":":
            return int(line[1:])
        if t == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) - self.pos < n + 2:
                self._fill()
            data = bytes(self.buf[self.pos:self.pos + n])
            self.pos += n + 2
            return data
        if t == b"*":
            n = int(line[1:])
            if n < 0:
                return None
            return [self._read() for _ in range(n)]
        raise ConnLost("unexpected reply type %r" % line[:40])

    def call(self, *args):
        try:
            self.s.sendall(encode(args))
        except OSError as e:
            raise ConnLost("send: %s" % e) from e
        return self._read()


class Client(threading.Thread):
    """One client connection and the model of the keys it owns."""

    def __init__(self, load, index):
        super().__init__(name="load-%d" % index, daemon=True)
        self.load = load
        self.index = index
        self.rng = random.Random(load.seed * 1000 + index)
        p = "%s:c%d" % (load.prefix, index)
        self.strings = ["%s:s%d" % (p, i) for i in range(N_STRINGS)]
        self.counters = ["%s:n%d" % (p, i) for i in range(N_COUNTERS)]
        self.hashes = ["%s:h%d" % (p, i) for i in range(N_HASHES)]
        self.tag = "{%s:t%d}" % (load.prefix, index)
        self.tagged = ["%s:g%d" % (self.tag, i) for i in range(N_TAGGED)]
        # candidates: key -> set of values it may hold (None: absent)
        self.model = {k: {None} for k in self.strings + self.counters + self.tagged}
        for h in self.hashes:
            for f in range(N_FIELDS):
                self.model[(h, b"f%d" % f)] = {None}
        self.seq = 0
        self.ops = 0
        self.lat = []           # (start, seconds) per completed operation
        self.errors = []        # (time, op, key, message): not allowed
        self.unknown = []       # (time, op, key, message): allowed where told
        self.mismatches = []    # (time, op, key, got, candidates)
        self.slow = []          # (start, seconds, op, key) over SLOW_S
        self.dropped = None     # why the connection went away
        self.conn = None
        self.opnames = [o for o, w in OPS for _ in range(w)]

    def connect(self):
        self.conn = Conn(self.load.port, self.load.timeout, self.load.host)

    def value(self):
        self.seq += 1
        pad = b"x" * self.rng.choice((0, 0, 0, 16, 100, 600))
        return b"c%d:%d:" % (self.index, self.seq) + pad

    def check(self, op, key, got):
        cands = self.model[key]
        if got not in cands:
            self.mismatches.append((time.time(), op, key, got, sorted(map(repr, cands))))
        self.model[key] = {got}

    def write_failed(self, op, key, reply, new):
        """new: candidate values if the write was applied."""
        msg = str(reply)
        if UNKNOWN_OUTCOME in msg:
            self.unknown.append((time.time(), op, key, msg))
            self.model[key] = self.model[key] | new
        else:
            self.errors.append((time.time(), op, key, msg))
            # we cannot tell what happened: accept both from here on
            self.model[key] = self.model[key] | new

    def one(self):
        """Runs one random operation; returns (op, first key)."""
        op = self.rng.choice(self.opnames)
        c = self.conn
        if op in ("set", "tset"):
            k = self.rng.choice(self.strings if op == "set" else self.tagged)
            v = self.value()
            r = c.call("SET", k, v)
            if r == b"OK":
                self.model[k] = {v}
            else:
                self.write_failed(op, k, r, {v})
        elif op == "get":
            k = self.rng.choice(self.strings)
            r = c.call("GET", k)
            if isinstance(r, ErrorReply):
                self.errors.append((time.time(), op, k, str(r)))
            else:
                self.check(op, k, r)
        elif op == "incr":
            k = self.rng.choice(self.counters)
            r = c.call("INCR", k)
            old = self.model[k]
            if isinstance(r, int):
                prev = None if r == 1 else b"%d" % (r - 1)
                if prev not in old:
                    self.mismatches.append((time.time(), op, k, b"%d" % r,
                                            sorted(map(repr, old))))
                self.model[k] = {b"%d" % r}
            else:
                new = {b"%d" % (int(x or 0) + 1) for x in old}
                self.write_failed(op, k, r, new)
        elif op == "hset":
            h = self.rng.choice(self.hashes)
            f = b"f%d" % self.rng.randrange(N_FIELDS)
            v = self.value()
            r = c.call("HSET", h, f, v)
            key = (h, f)
            if isinstance(r, int):
                # 1: the field was new; 0: it held a value
                ok = (None in self.model[key]) if r == 1 else \
                    any(x is not None for x in self.model[key])
                if not ok:
                    self.mismatches.append((time.time(), op, key, r,
                                            sorted(map(repr, self.model[key]))))
                self.model[key] = {v}
            else:
                self.write_failed(op, key, r, {v})
        elif op == "hget":
            h = self.rng.choice(self.hashes)
            f = b"f%d" % self.rng.randrange(N_FIELDS)
            r = c.call("HGET", h, f)
            if isinstance(r, ErrorReply):
                self.errors.append((time.time(), op, h, str(r)))
            else:
                self.check(op, (h, f), r)
        else:
            keys = self.rng.sample(self.strings + self.tagged, MGET_KEYS) \
                if op == "mget" else self.tagged
            r = c.call("MGET", *keys)
            if isinstance(r, ErrorReply):
                self.errors.append((time.time(), op, keys[0], str(r)))
            elif not isinstance(r, list) or len(r) != len(keys):
                self.errors.append((time.time(), op, keys[0], "bad MGET reply %r" % (r,)))
            else:
                for k, v in zip(keys, r):
                    self.check(op, k, v)
            k = keys
        return op, k if op not in ("hset", "hget") else (h, f)

    def run(self):
        stop = self.load.stop_ev
        lat = self.lat
        pace = self.load.pace
        try:
            while not stop.is_set():
                t0 = time.monotonic()
                op, key = self.one()
                t1 = time.monotonic()
                lat.append((t0, t1 - t0))
                if t1 - t0 > SLOW_S:
                    self.slow.append((t0, t1 - t0, op, key))
                self.ops += 1
                if pace:
                    time.sleep(pace)
        except ConnLost as e:
            self.dropped = str(e)
        except Exception as e:  # a bug in the checker itself: be loud
            self.dropped = "client crashed: %r" % (e,)


class Load:
    def __init__(self, port, clients=50, prefix="topo", seed=1, timeout=30.0, pace=0.0,
                 host="127.0.0.1"):
        self.port = port
        self.host = host
        self.prefix = prefix
        self.seed = seed
        self.timeout = timeout
        self.pace = pace
        self.stop_ev = threading.Event()
        self.clients = [Client(self, i) for i in range(clients)]

    def start(self):
        for c in self.clients:
            c.connect()
        for c in self.clients:
            c.start()

    def stop(self):
        """Stops issuing operations; the connections stay open."""
        self.stop_ev.set()
        for c in self.clients:
            c.join(timeout=self.timeout + 5)
            if c.is_alive():
                raise AssertionError("load client %d did not stop" % c.index)

    def close(self):
        for c in self.clients:
            if c.conn is not None:
                c.conn.close()

    # ---- results ----

    def fill(self, cluster_client, per_tag, size=64):
        """Writes per_tag keys next to each client's tagged keys (straight to
        the cluster), so that moving those slots takes many MIGRATE round
        trips while the clients use them: ASK and TRYAGAIN under load."""
        self.filled = per_tag
        for c in self.clients:
            pipe = cluster_client.pipeline()
            for n in range(per_tag):
                pipe.set("%s:fill:%d" % (c.tag, n), b"%d:" % n + b"f" * size)
            pipe.execute()

    def check_fill(self, cluster_client):
        """Returns the number of filler keys that are missing or wrong."""
        bad = 0
        for c in self.clients:
            keys = ["%s:fill:%d" % (c.tag, n) for n in range(getattr(self, "filled", 0))]
            if not keys:
                continue
            vals = cluster_client.mget_nonatomic(keys)
            bad += sum(1 for n, v in enumerate(vals)
                       if v is None or not v.startswith(b"%d:" % n))
        return bad

    def ops(self):
        return sum(c.ops for c in self.clients)

    def errors(self):
        return [e for c in self.clients for e in c.errors]

    def unknown(self):
        return [e for c in self.clients for e in c.unknown]

    def mismatches(self):
        return [m for c in self.clients for m in c.mismatches]

    def slow(self):
        return sorted(x for c in self.clients for x in c.slow)

    def dropped(self):
        return [(c.index, c.dropped) for c in self.clients if c.dropped is not None]

    def latencies(self, t_from=None, t_to=None):
        """Latencies (s) of operations that started in [t_from, t_to]."""
        out = []
        for c in self.clients:
            for t0, dt in c.lat:
                if (t_from is None or t0 >= t_from) and (t_to is None or t0 <= t_to):
                    out.append(dt)
        out.sort()
        return out

    def model(self):
        m = {}
        for c in self.clients:
            m.update(c.model)
        return m


def quantile(sorted_values, q):
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, int(q * len(sorted_values)))
    return sorted_values[i]


def verify(load, cluster_client):
    """Reads every key of the load straight from the cluster. Returns a
    list of (key, value in the cluster, values the model allows)."""
    bad = []
    for key, cands in load.model().items():
        if isinstance(key, tuple):
            got = cluster_client.hget(key[0], key[1])
        else:
            got = cluster_client.get(key)
        if got not in cands:
            bad.append((key, got, sorted(map(repr, cands))))
    return bad


def main():
    port = int(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    load = Load(port, clients=clients, prefix="topo-bench-%d" % int(time.time()))
    load.start()
    t0 = time.monotonic()
    time.sleep(seconds)
    load.stop()
    t = time.monotonic() - t0
    lat = load.latencies()
    print("clients=%d ops=%d ops/s=%.0f p50=%.2fms p99=%.2fms max=%.2fms errors=%d "
          "unknown=%d mismatches=%d dropped=%d" % (
              clients, load.ops(), load.ops() / t, quantile(lat, 0.5) * 1e3,
              quantile(lat, 0.99) * 1e3, lat[-1] * 1e3 if lat else 0,
              len(load.errors()), len(load.unknown()), len(load.mismatches()),
              len(load.dropped())))
    load.close()


if __name__ == "__main__":
    main()
