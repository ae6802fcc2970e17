"""shardgate in kernel mode: clean shutdown on SIGTERM.

With idle clients, clients in the middle of deep pipelines, a client that
does not read its replies, a half-sent request and requests stuck on a
backend that does not answer (a primary paused with CLIENT PAUSE), SIGTERM
makes the proxy exit with status 0 within SHUTDOWN_S seconds; every reply a
client got before the close is the right one, in order; no process is left
behind, and a new proxy on the same port and runtime prefix starts at once.

Cluster on 127.0.0.1:7700-7705 (sgtest.CLUSTER_HOST in DPDK mode; SG_TEST_BASE_PORT overrides).
"""
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest  # noqa: E402
from sgtest import Resp, check, encode  # noqa: E402

from redis.crc import key_slot  # noqa: E402

BASE = int(os.environ.get("SG_TEST_BASE_PORT", "7700"))
# the proxy drains for at most 3 s, then closes everything
SHUTDOWN_S = 6.0
STALLED_CLIENTS = 6


class Ctx:
    cl = None


class Busy(threading.Thread):
    """Sends pipelines of 300 commands and checks every reply, until the
    proxy closes the connection."""

    def __init__(self, port, n):
        super().__init__(daemon=True)
        self.port, self.n = port, n
        self.replies = 0
        self.errors = []
        self.closed = False

    def run(self):
        try:
            r = Resp(self.port, timeout=20)
        except OSError as e:
            self.errors.append("connect: %s" % e)
            return
        i = 0
        try:
            while True:
                batch, want = [], []
                for j in range(100):
                    k = "sd:%d:%d" % (self.n, (i + j) % 50)
                    v = b"v%d" % (i + j)
                    batch += [encode("SET", k, v), encode("GET", k),
                              encode("MGET", k, "sd:none", k)]
                    want += ["OK", v, [v, None, v]]
                i += 100
                try:
                    r.send(b"".join(batch))
                except OSError:
                    self.closed = True
                    return
                for w in want:
                    got = r.read()
                    if got != w:
                        self.errors.append("reply %d: %r, expected %r" % (self.replies, got, w))
                        return
                    self.replies += 1
        except (ConnectionError, OSError):
            self.closed = True  # the proxy went away: the expected end
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.errors.append("%s: %s" % (type(e).__name__, e))
        finally:
            r.close()


def sigterm_and_wait(px):
    pid = px.pid
    kids = px.descendants()
    t0 = time.time()
    px.proc.send_signal(signal.SIGTERM)
    try:
        rc = px.proc.wait(timeout=30)
    except Exception:  # noqa: BLE001
        px.proc.kill()
        px.proc.wait()
        sgtest.fail("shardgate did not exit within 30 s of SIGTERM")
    took = time.time() - t0
    sgtest.log("   exited %d in %.2f s" % (rc, took))
    out = px.output()
    px.proc = None
    px.outf.close()
    px.remove_runtime_dir()
    check(rc == 0, "exit status %d after SIGTERM: %s" % (rc, out[-2000:]))
    px.check_output()
    check(took <= SHUTDOWN_S, "took %.1f s to exit after SIGTERM (limit %.0f s)" %
          (took, SHUTDOWN_S))
    check(not sgtest.pid_alive(pid), "process %d still there" % pid)
    left = [k for k in kids if sgtest.pid_alive(k)]
    check(not left, "processes left behind: %r" % left)
    return took


def refused(port):
    try:
        socket.create_connection((sgtest.PROXY_HOST, port), timeout=2).close()
        return False
    except OSError:
        return True


def restart_serves(px):
    """A new proxy on the same port and runtime prefix starts and serves."""
    check(refused(px.port), "port %d still accepts connections" % px.port)
    px.start()
    c = px.client()
    check(c.set("sd:restart", "1") and c.get("sd:restart") == b"1", "the restarted proxy")
    sgtest.disconnect(c)
    px.stop(expect_rc=0)


# One backend connection per node: execution order across a node's
# connections is test_proxy_pipeline's subject, and a reorder there would
# break the busy clients' checks before the shutdown is reached.
ONE_CONN = "  connections: 1\n"


def test_sigterm_with_traffic():
    with sgtest.Proxy(Ctx.cl.seeds(), backend=ONE_CONN) as px:
        idle = [Resp(px.port) for _ in range(10)]
        for r in idle:
            check(r.cmd("PING") == "PONG", "idle client")
        busy = [Busy(px.port, n) for n in range(10)]
        for b in busy:
            b.start()
        sgtest.wait_for(lambda: all(b.replies > 600 for b in busy) or
                        any(b.errors for b in busy), 30, "every busy client to be served")
        errs = [e for b in busy for e in b.errors]
        check(not errs, "busy clients got wrong replies before the SIGTERM: %r" % errs[:3])
        # a client that does not read 30 MB of replies, and half a request
        r = Resp(px.port)
        r.cmd("SET", "sd:big", b"b" * (1 << 20))
        slow = socket.create_connection((px.host, px.port))
        slow.sendall(encode("GET", "sd:big") * 30)
        half = socket.create_connection((px.host, px.port))
        half.sendall(b"*3\r\n$3\r\nSET\r\n$5\r\nsd:hx\r\n$100\r\nabc")
        r.close()
        n = px.wait_info("clients", 23)  # 10 idle, 10 busy, slow, half, the asker
        check(n == 23, "INFO clients %d, expected 23" % n)
        sigterm_and_wait(px)
        for b in busy:
            b.join(10)
        check(not any(b.is_alive() for b in busy), "busy clients still waiting after the exit")
        errs = [e for b in busy for e in b.errors]
        check(not errs, "busy clients got wrong replies: %r" % errs[:3])
        check(all(b.closed for b in busy), "a busy client was not closed")
        for s in idle:
            data, closed = s.read_until_closed(2)
            check(closed and data == b"", "idle client: %r, closed %s" % (data, closed))
            s.close()
        slow.close()
        half.close()
        restart_serves(px)


def test_sigterm_with_a_stalled_backend():
    with sgtest.Proxy(Ctx.cl.seeds(), backend=ONE_CONN) as px:
        # requests that the backend will not answer in time: one primary
        # paused for 6 s (longer than the proxy's drain)
        ranges = Ctx.cl.slot_ranges()
        port = ranges[0][2]
        mine = [(a, b) for a, b, p in ranges if p == port]
        key = next(k for k in ("sd:stall:%d" % i for i in range(100000))
                   if any(a <= key_slot(k.encode()) <= b for a, b in mine))
        # several stalled clients: with more than one worker, some land on
        # a worker whose frames leave through another worker's queue
        # (DPDK mode, one queue), which must outlive their close
        stalled = [Resp(px.port) for _ in range(STALLED_CLIENTS)]
        check(stalled[0].cmd("SET", key, "v") == "OK", "SET before the pause")
        node = Ctx.cl.node(port)
        node.execute_command("CLIENT", "PAUSE", "6000", "ALL")
        try:
            for r in stalled:
                r.send(b"".join(encode("GET", key) for _ in range(100)))
            other = Resp(px.port)
            check(other.cmd("PING") == "PONG", "the proxy while a backend stalls")
            sgtest.wait_for(lambda: int(px.info()["in_flight"]) >= 100 * len(stalled), 5,
                            "the requests to be in flight")
            sigterm_and_wait(px)
            for i, r in enumerate(stalled):
                data, closed = r.read_until_closed(3)
                check(closed, "stalled client %d of %d was not closed" % (i + 1, len(stalled)))
                check(all(line in (b"", b"$1", b"v") or line.startswith(b"-")
                          for line in data.split(b"\r\n")),
                      "replies before the close: %r" % data[:200])
                r.close()
            other.close()
        finally:
            node.execute_command("CLIENT", "UNPAUSE")
            sgtest.disconnect(node)
        restart_serves(px)


def main():
    with sgtest.Cluster(BASE) as cl:
        Ctx.cl = cl
        sgtest.run([
            ("SIGTERM with idle, busy, slow and half-sent clients", test_sigterm_with_traffic),
            ("SIGTERM with requests stuck on a paused primary", test_sigterm_with_a_stalled_backend),
        ])


if __name__ == "__main__":
    sgtest.main(main)
