"""shardgate in kernel mode: deep pipelines from many clients at once.

50 concurrent clients each send a pipeline of 1,000 mixed commands (local,
single-key, split across slots, errors at known positions) and check that
every reply comes back, in order, with the value that position expects.
Some clients speak RESP3, some send their pipeline in small random pieces
(requests cut anywhere). Run against a proxy with one worker, again with
two (SO_REUSEPORT: clients spread over both) and three backend connections
per node, and with backend.batch_hold 0; telemetry shows requests sharing
backend writes. Then, with one primary paused: a request waits for the
batch in flight on its connection (backend.batch_hold), or with
batch_hold 0 goes out beside it.

Cluster on 127.0.0.1:7300-7305 (sgtest.CLUSTER_HOST in DPDK mode; SG_TEST_BASE_PORT overrides).
"""
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest  # noqa: E402
from redis.crc import key_slot  # noqa: E402
from sgtest import NULL3, Resp, RespError, check, encode  # noqa: E402

BASE = int(os.environ.get("SG_TEST_BASE_PORT", "7300"))
CLIENTS = 50
DEPTH = 1000

WRONGTYPE = RespError("WRONGTYPE Operation against a key holding the wrong kind of value")


class Ctx:
    cl = None


def plan(tag, c, resp3):
    """Client c's pipeline: [(encoded command, expected reply)]."""
    nil = NULL3 if resp3 else None
    out = []
    ctr = 0
    llen = 0
    pk = lambda i: "%s:pk:%d:%d" % (tag, c, i)  # noqa: E731
    cnt = "%s:ctr:{%d}" % (tag, c)
    for i in range(DEPTH):
        kind = i % 10
        if i % 100 == 99:
            out.append((encode("NOSUCHCMD", i), RespError(
                "ERR unknown command 'NOSUCHCMD', with args beginning with: '%d' " % i)))
        elif i % 100 == 49:
            out.append((encode("GET"), RespError(
                "ERR wrong number of arguments for 'get' command")))
        elif kind == 0:
            ctr += 1
            out.append((encode("INCR", cnt), ctr))
        elif kind == 1:
            out.append((encode("SET", pk(i), "v-%d-%d" % (c, i)), "OK"))
        elif kind == 2:
            out.append((encode("GET", pk(i - 1)), b"v-%d-%d" % (c, i - 1)))
        elif kind == 3:
            older = b"v-%d-%d" % (c, i - 12) if i >= 12 else nil
            out.append((encode("MGET", pk(i - 2), pk(i - 12), "%s:none:%d:%d" % (tag, c, i), cnt),
                        [b"v-%d-%d" % (c, i - 2), older, nil, str(ctr).encode()]))
        elif kind == 4:
            llen += 1
            out.append((encode("LPUSH", "%s:l:%d" % (tag, c), i), llen))
        elif kind == 5:
            out.append((encode("LLEN", "%s:l:%d" % (tag, c)), llen))
        elif kind == 6:
            out.append((encode("LPUSH", pk(i - 5), "x"), WRONGTYPE))
        elif kind == 7:
            out.append((encode("HSET", "%s:h:%d" % (tag, c), "f%d" % i, i), 1))
        elif kind == 8:
            out.append((encode("PING"), "PONG"))
        elif (i // 10) % 2:
            out.append((encode("ECHO", "e-%d-%d" % (c, i)), b"e-%d-%d" % (c, i)))
        else:
            out.append((encode("EXISTS", pk(i - 8), cnt, "%s:none" % tag, pk(i - 8)), 3))
    return out


def client(port, tag, c, barrier, errors):
    resp3 = c % 5 == 1
    chunked = c % 5 == 2
    rng = random.Random(c)
    try:
        r = Resp(port, timeout=30)
        if resp3:
            check(r.cmd("HELLO", "3").get(b"proto") == 3, "HELLO 3")
        steps = plan(tag, c, resp3)
        data = b"".join(cmd for cmd, _ in steps)
        barrier.wait(timeout=30)

        def send():
            try:
                if not chunked:
                    r.send(data)
                    return
                off = 0
                while off < len(data):
                    n = rng.randint(1, 3000)
                    r.send(data[off:off + n])
                    off += n
            except OSError as e:
                errors.append("client %d: send: %s" % (c, e))

        t = threading.Thread(target=send)
        t.start()
        for i, (cmd, want) in enumerate(steps):
            got = r.read()
            if got != want:
                errors.append("client %d%s reply %d to %r: got %r, expected %r" %
                              (c, " (RESP3)" if resp3 else "", i, cmd[:60], got, want))
                break
        t.join()
        # the state the pipeline left behind
        if not errors:
            check(r.cmd("GET", "%s:ctr:{%d}" % (tag, c)) == b"%d" % (DEPTH // 10),
                  "client %d: final counter" % c)
            check(r.cmd("HLEN", "%s:h:%d" % (tag, c)) == DEPTH // 10, "client %d: HLEN" % c)
        r.close()
    except Exception as e:  # noqa: BLE001 - reported by the main thread
        errors.append("client %d: %s: %s" % (c, type(e).__name__, e))


def run_clients(port, tag):
    errors = []
    barrier = threading.Barrier(CLIENTS)
    threads = [threading.Thread(target=client, args=(port, tag, c, barrier, errors))
               for c in range(CLIENTS)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    hung = sum(t.is_alive() for t in threads)
    sgtest.log("   %d clients x %d commands in %.1f s" % (CLIENTS, DEPTH, time.time() - t0))
    check(hung == 0, "%d clients still waiting for replies after 120 s" % hung)
    check(not errors, "%d clients saw wrong replies; first: %s" % (len(errors), errors[:3]))


def pipelines_on(workers, tag, batch_hold=None, connections=None):
    backend = "" if batch_hold is None else "  batch_hold: %d\n" % batch_hold
    if connections is not None:
        # clients spread over several connections per node: each client's
        # requests must still stay on one of them, in order
        backend += "  connections: %d\n" % connections
    with sgtest.Proxy(Ctx.cl.seeds(), workers=workers, backend=backend) as px:
        run_clients(px.port, tag)
        # nothing left over in the proxy once every client is done
        check(px.wait_info("in_flight", 0) == 0, "requests still in flight")
        check(px.wait_info("clients", 1) == 1, "client connections left open")
        info = px.info()
        sent, batches, held = (int(info[k]) for k in
                               ("backend_requests", "backend_batches", "backend_held"))
        sgtest.log("   backends: %d requests in %d batches (%.1f per batch), %d held"
                   % (sent, batches, sent / max(batches, 1), held))
        # many clients' requests share each write to a backend
        check(0 < batches < sent / 2, "%d requests in %d batches" % (sent, batches))
        if batch_hold == 0:
            check(held == 0, "%d requests held with batch_hold 0" % held)
        px.stop(expect_rc=0)


def test_one_worker():
    pipelines_on(1, "w1")


def test_two_workers():
    pipelines_on(2, "w2", connections=3)


def test_no_batch_hold():
    pipelines_on(1, "nh", batch_hold=0)


def behind_a_stalled_batch(batch_hold):
    """Client A's GET is in flight to a paused primary; client B's GET for
    the same primary (same connection) then waits for A's batch, or with
    batch_hold 0 goes out at once. Both are answered after the pause."""
    ranges = Ctx.cl.slot_ranges()
    port = ranges[0][2]
    mine = [(a, b) for a, b, p in ranges if p == port]
    keys = [k for k in ("hb:%d" % i for i in range(100000))
            if any(a <= key_slot(k.encode()) <= b for a, b in mine)][:2]
    backend = "  connections: 1\n  batch_hold: %d\n" % batch_hold
    with sgtest.Proxy(Ctx.cl.seeds(), workers=1, backend=backend) as px:
        a, b = Resp(px.port), Resp(px.port)
        for k in keys:
            check(a.cmd("SET", k, k) == "OK", "SET %s" % k)
        held0 = int(px.info()["backend_held"])
        node = Ctx.cl.node(port)
        node.execute_command("CLIENT", "PAUSE", "3000", "ALL")
        try:
            a.send(encode("GET", keys[0]))
            sgtest.wait_for(lambda: int(px.info()["in_flight"]) == 1, 2, "A's GET in flight")
            b.send(encode("GET", keys[1]))
            if batch_hold:
                sgtest.wait_for(lambda: int(px.info()["backend_held"]) == held0 + 1, 2,
                                "B's GET held behind A's")
                check(int(px.info()["in_flight"]) == 1, "B's GET was sent while held")
            else:
                sgtest.wait_for(lambda: int(px.info()["in_flight"]) == 2, 2,
                                "B's GET in flight beside A's")
                check(int(px.info()["backend_held"]) == held0, "a request held with batch_hold 0")
        finally:
            node.execute_command("CLIENT", "UNPAUSE")
            sgtest.disconnect(node)
        check(a.read() == keys[0].encode(), "A's reply after the pause")
        check(b.read() == keys[1].encode(), "B's reply after the pause")
        a.close()
        b.close()


def test_held_behind_a_stalled_batch():
    behind_a_stalled_batch(32)


def test_not_held_without_batch_hold():
    behind_a_stalled_batch(0)


def main():
    with sgtest.Cluster(BASE) as cl:
        Ctx.cl = cl
        sgtest.run([
            ("50 clients x 1,000-command pipelines, 1 worker", test_one_worker),
            ("50 clients x 1,000-command pipelines, 2 workers, 3 connections per node",
             test_two_workers),
            ("the same, 1 worker, backend.batch_hold 0 (nothing held)", test_no_batch_hold),
            ("a request waits for its connection's batch in flight",
             test_held_behind_a_stalled_batch),
            ("with backend.batch_hold 0 it goes at once", test_not_held_without_batch_hold),
        ])


if __name__ == "__main__":
    sgtest.main(main)
