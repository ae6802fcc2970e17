"""shardgate in kernel mode: malformed and abusive clients.

Bad RESP, oversized arguments, 1M-argument arrays, binary garbage, half a
request then a disconnect, clients that vanish with requests in flight or
stop reading: each gets the protocol error and a close, or is dropped
cleanly; a healthy client keeps being served the whole time; afterwards
INFO's client gauge is back to its baseline and the proxy's RSS is within
RSS_TOLERANCE_KB of what it was after a warm-up of well-behaved traffic.

Cluster on 127.0.0.1:7400-7405 (sgtest.CLUSTER_HOST in DPDK mode; SG_TEST_BASE_PORT overrides). The proxy
runs with limits.max_bulk 1mb so that oversized arguments can be sent for
real, limits.output_limit 16mb, backend.connections 1, and the harness's pool of 8192 2 KB mbufs;
everything else is the default (max_args 1048576, max_request 513mb).
"""
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest  # noqa: E402
from sgtest import Resp, RespError, check, encode  # noqa: E402

BASE = int(os.environ.get("SG_TEST_BASE_PORT", "7400"))
MAX_BULK = 1 << 20
MAX_ARGS = 1048576
ROUNDS = int(os.environ.get("SG_IT_ROUNDS", "3"))
# What RSS may gain over the abuse rounds: allocator slack. The warm-up has
# already made the whole mbuf pool resident. Three times as much under ASan
# (its quarantine and allocator caches).
RSS_TOLERANCE_KB = 16 * 1024


# Freed memory goes back to the system at once (jemalloc without decay;
# ASan with a small quarantine), so RSS follows what the proxy holds.
MEMORY_ENV = {
    "MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0",
    "ASAN_OPTIONS": ":".join(x for x in (os.environ.get("ASAN_OPTIONS"),
                                         "quarantine_size_mb=16") if x),
}


class Ctx:
    cl = None
    px = None
    healthy = None


class Healthy(threading.Thread):
    """A well-behaved client doing SET/GET/INCR in a loop, checking every
    reply, for as long as the abuse goes on."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.ops = 0
        self.errors = []
        self.stop = threading.Event()

    def run(self):
        try:
            r = Resp(self.port, timeout=10)
            i = 0
            while not self.stop.is_set():
                k = "healthy:%d" % (i % 500)
                v = b"value-%d" % i
                r.send(encode("SET", k, v) + encode("GET", k) + encode("INCR", "healthy:n") +
                       encode("MGET", k, "healthy:n"))
                got = [r.read() for _ in range(4)]
                if got[0] != "OK" or got[1] != v or got[2] != i + 1 or \
                        got[3] != [v, str(i + 1).encode()]:
                    self.errors.append("op %d: %r" % (i, got))
                    return
                i += 1
                self.ops = i
            r.close()
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.errors.append("%s: %s" % (type(e).__name__, e))

    def check_progress(self, what):
        """The healthy client is still being answered."""
        check(not self.errors, "healthy client failed during %s: %s" % (what, self.errors))
        start = self.ops
        sgtest.wait_for(lambda: self.ops >= start + 20 or self.errors, 10,
                        "the healthy client to be served after %s" % what)
        check(not self.errors, "healthy client failed during %s: %s" % (what, self.errors))


def connect():
    return socket.create_connection((Ctx.px.host, Ctx.px.port), timeout=10)


def send_all_lenient(s, data):
    """Sends what the proxy takes; it may close before everything is sent."""
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def read_until_closed(s, timeout=5.0, until=None):
    """Reads until the proxy closes (returns (bytes, True)), the bytes end
    with `until`, or timeout s pass (both return (bytes, False))."""
    out = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if until is not None and out.endswith(until):
            return out, False
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return out, False
        except ConnectionResetError:
            return out, True
        if not chunk:
            return out, True
        out += chunk
    return out, False


def expect_error_and_close(data, error_prefix, what, before=b""):
    """The proxy answers `before` (the replies to the valid requests that
    precede the bad bytes), then one protocol error, then closes."""
    s = connect()
    t = threading.Thread(target=send_all_lenient, args=(s, data))
    t.start()
    out, closed = read_until_closed(s, 10)
    t.join()
    s.close()
    check(out.startswith(before), "%s: replies before the error %r, expected %r" %
          (what, out[:200], before))
    rest = out[len(before):]
    check(rest.startswith(b"-" + error_prefix) and rest.endswith(b"\r\n") and
          rest.count(b"\r\n") == 1,
          "%s: got %r, expected one -%s... line" % (what, rest[:200], error_prefix.decode()))
    check(closed, "%s: the proxy did not close the connection after the error" % what)


def abrupt_close(s, reset):
    if reset:  # RST instead of FIN
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


# ---------------------------------------------------------------- the abuse

BAD_RESP = [
    (b"*1\r\n$x\r\n", b"ERR Protocol error: invalid bulk length"),
    (b"*abc\r\n", b"ERR Protocol error: invalid multibulk length"),
    (b"*1\r\n:5\r\n", b"ERR Protocol error: expected '$', got ':'"),
    (b"*2\r\n$3\r\nGET\r\n$3\r\nabcdef\r\n", b"ERR Protocol error"),
    (b"*1\r\n$-1\r\n", b"ERR Protocol error: invalid bulk length"),
    (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + b"9" * 30 + b"\r\n", b"ERR Protocol error"),
    (b'SET "abc\r\n', b"ERR Protocol error: unbalanced quotes in request"),
    (b"*" + b"1" * 25 + b"\r\n", b"ERR Protocol error"),
]


def bad_resp():
    for data, err in BAD_RESP:
        expect_error_and_close(data, err, "bad RESP %r" % data[:30])
    # valid requests before the bad bytes are answered, in order, first
    expect_error_and_close(
        b"PING\r\n" + encode("SET", "ab:k", "v") + encode("GET", "ab:k") +
        encode("MGET", "ab:k", "ab:other") + b"*1\r\n$x\r\n" + encode("PING"),
        b"ERR Protocol error: invalid bulk length", "valid requests then bad RESP",
        before=b"+PONG\r\n+OK\r\n$1\r\nv\r\n*2\r\n$1\r\nv\r\n$-1\r\n")


def oversized():
    expect_error_and_close(b"*2\r\n$4\r\nECHO\r\n$600000000\r\n",
                           b"ERR Protocol error: invalid bulk length", "a 600 MB bulk header")
    expect_error_and_close(b"*2\r\n$4\r\nECHO\r\n$%d\r\n" % (MAX_BULK + 1) +
                           b"a" * (MAX_BULK + 1) + b"\r\n",
                           b"ERR Protocol error: invalid bulk length",
                           "an argument 1 byte over limits.max_bulk, sent in full")
    expect_error_and_close(b"a" * (100 << 10), b"ERR Protocol error: too big inline request",
                           "100 KB of inline command without a newline")
    expect_error_and_close(b"*%d\r\n" % (MAX_ARGS + 1),
                           b"ERR Protocol error: invalid multibulk length",
                           "an array of max_args + 1")
    # at the limit it is served
    r = Resp(Ctx.px.port)
    big = os.urandom(MAX_BULK)
    check(r.cmd("SET", "ab:big", big) == "OK" and r.cmd("GET", "ab:big") == big,
          "an argument of exactly limits.max_bulk")
    r.close()


def million_args_broken():
    # a million-argument DEL whose 300,001st argument is malformed: the
    # arguments parsed so far are dropped with the connection
    body = b"".join(b"$%d\r\nab:m:%d\r\n" % (len(b"ab:m:%d" % i), i) for i in range(300000))
    expect_error_and_close(b"*%d\r\n$3\r\nDEL\r\n" % MAX_ARGS + body + b"$zz\r\n",
                           b"ERR Protocol error: invalid bulk length",
                           "a 1M-argument array broken after 300,000 arguments")
    # and one cut off there by a disconnect
    for reset in (False, True):
        s = connect()
        s.sendall(b"*%d\r\n$3\r\nDEL\r\n" % MAX_ARGS + body)
        abrupt_close(s, reset)


GARBAGE_BYTES = bytes(range(0x80, 0x100)) + b"0123456789!#%&()+,-./:;<=>?@[]^_`{|}~*$"


def binary_garbage(rng):
    for n in range(4):
        data = bytes(rng.choice(GARBAGE_BYTES) for _ in range(rng.randrange(100, 20000)))
        data = data.replace(b"_", b"\r\n")  # some line ends
        s = connect()
        send_all_lenient(s, data + b"\r\n" + encode("PING"))
        out, closed = read_until_closed(s, 5, until=b"+PONG\r\n")
        s.close()
        # whatever came back is RESP errors, ending in PONG if still open
        lines = out.split(b"\r\n")
        check(lines[-1] == b"", "garbage %d: a partial reply %r" % (n, out[-100:]))
        lines = lines[:-1]
        if not closed:
            check(lines and lines[-1] == b"+PONG",
                  "garbage %d: the connection stayed open but PING got %r" % (n, out[-200:]))
            lines = lines[:-1]
        else:
            check(lines and lines[-1].startswith(b"-ERR Protocol error"),
                  "garbage %d: closed without a protocol error: %r" % (n, out[-200:]))
        check(all(x.startswith(b"-") for x in lines),
              "garbage %d: non-error replies to garbage: %r" % (n, lines[:5]))
    # NUL bytes: ignored like redis-server does, or refused
    s = connect()
    send_all_lenient(s, b"\x00" * 10000 + b"\r\n" + encode("PING"))
    out, closed = read_until_closed(s, 5, until=b"+PONG\r\n")
    s.close()
    check(out.endswith(b"+PONG\r\n") or (closed and out.startswith(b"-ERR Protocol error")),
          "10,000 NUL bytes then PING: %r (closed %s)" % (out[:200], closed))


def half_requests():
    halves = [b"*", b"*3\r\n", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nab",
              b"*2\r\n$3\r\nGET\r\n", b"GET ab:k", b"*3\r\n$3\r\nSET\r\n$6\r\nab:big\r\n$%d\r\n"
              % MAX_BULK + b"x" * (MAX_BULK // 2), b"*%d\r\n" % MAX_ARGS,
              encode("MGET", *["ab:h:%d" % i for i in range(5000)])[:-3]]
    for data in halves:
        for reset in (False, True):
            s = connect()
            s.sendall(data)
            abrupt_close(s, reset)


def vanish_in_flight():
    keys = ["ab:v:%d" % i for i in range(300)]
    for reset in (False, True):
        s = connect()
        batch = b"".join(encode("GET", k) for k in keys) + encode("MGET", *keys) + \
            encode("DEL", *keys[:50]) + encode("EXISTS", *keys) + b"PING\r\n" * 100
        s.sendall(batch * 5)
        abrupt_close(s, reset)


def stop_reading():
    # replies the client never reads: 60 x 1 MB, past the proxy's
    # output_pause (1 MB: it stops reading the client) and output_limit
    # (16 MB here: it closes the client)
    r = Resp(Ctx.px.port)
    r.cmd("SET", "ab:1mb", b"z" * MAX_BULK)
    r.close()
    before = int(Ctx.px.info()["errors_output_limit"])
    hogs = [connect() for _ in range(2)]
    for s in hogs:
        send_all_lenient(s, encode("GET", "ab:1mb") * 60)
    sgtest.wait_for(lambda: int(Ctx.px.info()["errors_output_limit"]) >= before + 2, 10,
                    "the proxy to drop two clients over limits.output_limit")
    for s in hogs:
        data, closed = read_until_closed(s, 10)
        check(closed and len(data) < 60 * MAX_BULK,
              "a client over output_limit got %d bytes, closed %s" % (len(data), closed))
        s.close()
    # and clients that go away with their output pending
    for reset in (False, True):
        s = connect()
        send_all_lenient(s, encode("GET", "ab:1mb") * 60)
        time.sleep(0.2)  # let the proxy fill its output; nothing to poll for
        abrupt_close(s, reset)


def abuse_round(rng):
    for name, fn in (("bad RESP", bad_resp), ("oversized arguments", oversized),
                     ("1M-argument arrays", million_args_broken),
                     ("binary garbage", lambda: binary_garbage(rng)),
                     ("half requests then disconnect", half_requests),
                     ("disconnect with requests in flight", vanish_in_flight),
                     ("clients that stop reading", stop_reading)):
        t0 = time.time()
        fn()
        Ctx.healthy.check_progress(name)
        sgtest.log("   %s: %.1f s" % (name, time.time() - t0))


def churn():
    """Moves 2 x 128 MB through the proxy in 1 MB values."""
    r = Resp(Ctx.px.port, timeout=30)
    value = b"c" * MAX_BULK
    for i in range(16):
        r.send(b"".join(encode("SET", "ab:churn:%d" % j, value) for j in range(8)))
        check([r.read() for _ in range(8)] == ["OK"] * 8, "churn SETs")
        r.send(b"".join(encode("GET", "ab:churn:%d" % j) for j in range(8)))
        check([r.read() for _ in range(8)] == [value] * 8, "churn GETs")
    r.close()


def settle(base_clients, what):
    px = Ctx.px
    got = px.wait_info("clients", base_clients, timeout=15)
    check(got == base_clients, "after %s INFO clients is %d, baseline %d" %
          (what, got, base_clients))
    check(px.wait_info("in_flight", 0) == 0, "after %s requests are still in flight" % what)
    check(px.wait_info("parked_now", 0) == 0, "after %s requests are still parked" % what)


# ------------------------------------------------------------------ tests

def test_abuse_keeps_everyone_else_served():
    px = Ctx.px
    base_clients = px.clients_gauge()  # the healthy client + the asker
    check(base_clients == 2, "baseline INFO clients %d, expected 2" % base_clients)
    rng = random.Random(42)
    # warm-up with well-behaved traffic only: enough to cycle every mbuf of
    # the pool (its pages become resident only when first used) and to let
    # the allocator reach its working size
    churn()
    churn()
    settle(base_clients, "the warm-up")
    rss0 = px.rss_kb()
    sgtest.log("   RSS after the warm-up: %d kB" % rss0)
    protocol0 = int(px.info()["errors_protocol"])
    rss = []
    for i in range(ROUNDS):
        abuse_round(rng)
        settle(base_clients, "abuse round %d" % (i + 1))
        rss.append(px.rss_kb())
        sgtest.log("   RSS after abuse round %d: %d kB" % (i + 1, rss[-1]))
    errors = int(px.info()["errors_protocol"]) - protocol0
    check(errors >= ROUNDS * (len(BAD_RESP) + 5), "INFO errors_protocol grew by %d only" % errors)
    tol = RSS_TOLERANCE_KB * (3 if sgtest.is_asan() else 1)
    check(rss[-1] <= rss0 + tol,
          "RSS grew from %d kB after the warm-up to %s kB after %d rounds of abuse and "
          "disconnects (tolerance %d kB)" % (rss0, rss, ROUNDS, tol))


def test_million_argument_command():
    # a valid command of max_args arguments (13 MB, more than the proxy's
    # mbuf pool holds): served, or refused with an error, never left
    # without an answer; and once its client is gone everyone is served
    n = MAX_ARGS - 1
    body = b"".join(b"$%d\r\nab:mm:%d\r\n" % (len(b"ab:mm:%d" % i), i) for i in range(n))
    problems = []
    for cmd in (b"EXISTS", b"DEL"):
        r = Resp(Ctx.px.port, timeout=30)
        t0 = time.time()
        t = threading.Thread(target=send_all_lenient,
                             args=(r.s, b"*%d\r\n$%d\r\n%s\r\n" % (n + 1, len(cmd), cmd) + body))
        t.start()
        try:
            got = r.read()
        except (socket.timeout, TimeoutError):
            got = "no reply within 30 s"
        sgtest.log("   %s of %d keys: %r in %.1f s" % (cmd.decode(), n, got, time.time() - t0))
        if got != 0 and not isinstance(got, RespError):
            problems.append("%s of %d keys: %r (expected 0 or an error)" % (cmd.decode(), n, got))
        elif got == 0 and r.cmd("PING") != "PONG":
            problems.append("the connection after %s is unusable" % cmd.decode())
        r.close()
        t.join(30)
        try:
            c = Resp(Ctx.px.port, timeout=10)
            pong = c.cmd("PING")
            c.close()
        except OSError as e:
            pong = "%s: %s" % (type(e).__name__, e)
        if pong != "PONG":
            problems.append("with that client gone, a new client's PING got %r" % pong)
            break
        if Ctx.healthy.errors:
            problems.append("the healthy client failed: %s" % Ctx.healthy.errors)
            break
    check(not problems, "; ".join(problems))
    Ctx.healthy.check_progress("million-argument commands")


def test_proxy_stops_cleanly():
    # (the healthy client's failures were reported by the test they broke)
    Ctx.healthy.stop.set()
    Ctx.healthy.join(15)
    Ctx.px.stop(expect_rc=0)


def main():
    with sgtest.Cluster(BASE) as cl:
        Ctx.cl = cl
        # One backend connection per node: execution order across a node's
        # connections is test_proxy_pipeline's subject, and a reorder there
        # would hide what this file looks for.
        with sgtest.Proxy(cl.seeds(), extra="limits:\n  max_bulk: 1mb\n  output_limit: 16mb\n",
                          backend="  connections: 1\n", env=MEMORY_ENV) as px:
            Ctx.px = px
            Ctx.healthy = Healthy(px.port)
            Ctx.healthy.start()
            sgtest.wait_for(lambda: Ctx.healthy.ops > 0 or Ctx.healthy.errors, 10,
                            "the healthy client's first replies")
            try:
                sgtest.run([
                    ("abuse: errors or clean closes, others served, memory back",
                     test_abuse_keeps_everyone_else_served),
                    ("a command of a million arguments gets an answer",
                     test_million_argument_command),
                    ("SIGTERM: exit 0", test_proxy_stops_cleanly),
                ])
            finally:
                Ctx.healthy.stop.set()


if __name__ == "__main__":
    sgtest.main(main)
