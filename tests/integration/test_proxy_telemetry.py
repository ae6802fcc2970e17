"""shardgate's per-worker telemetry (<prefix>/workers).

A proxy with two workers serves a known number of commands from 20
clients (SO_REUSEPORT, or in DPDK mode the flow hash, spreads them over
both workers); the telemetry socket
must then report, per worker: its own lcore, the commands it handled (the
sum is exactly what the clients sent), busy cycles and cycles per request
for the workers that served them, and time accounting that covers the
core's wall-clock time (busy + idle + asleep cycles over an interval match
the interval). Kernel mode has no NIC queue: the link counters stay 0. In
DPDK mode (tests/dpdk/proxy_suite.sh) every worker receives frames, from
its queue or steered to it by the worker whose queue they reached, and the frames
sent are counted on the queue that sent them; the test network's port has
one queue, so packets are steered between the workers.

Cluster on 127.0.0.1:7800-7802 (sgtest.CLUSTER_HOST in DPDK mode; 3 primaries; SG_TEST_BASE_PORT overrides).
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgtest  # noqa: E402
from sgtest import Resp, check, encode  # noqa: E402

BASE = int(os.environ.get("SG_TEST_BASE_PORT", "7800"))
CLIENTS = 20
PIPELINE = 100


def workers(proxy):
    w = proxy.telemetry("/shardgate/workers")
    check(sorted(w) == ["0", "1"], "/shardgate/workers lists workers 0 and 1: %r" % (w,))
    return w


def total(w, key):
    return sum(v[key] for v in w.values())


def test_workers():
    with sgtest.Cluster(BASE, primaries=3, replicas=0) as cl, \
            sgtest.Proxy(cl.seeds(), workers=2) as px:
        before = workers(px)
        check(before["0"]["lcore"] != before["1"]["lcore"],
              "each worker reports its own lcore: %r" % (before,))
        t0 = time.time()
        conns = [Resp(px.port) for _ in range(CLIENTS)]
        for i, c in enumerate(conns):
            c.send(b"".join(encode("SET", "tm:%d:%d" % (i, j), "v%d" % j) if j % 2 == 0
                            else encode("GET", "tm:%d:%d" % (i, j - 1))
                            for j in range(PIPELINE)))
        for i, c in enumerate(conns):
            for j in range(PIPELINE):
                r = c.read()
                want = "OK" if j % 2 == 0 else b"v%d" % (j - 1)
                check(r == want, "client %d reply %d: %r, expected %r" % (i, j, r, want))
        for c in conns:
            c.close()
        # the idle loop runs at least every io.idle_sleep (1 ms)
        time.sleep(0.5)
        after = workers(px)
        wall = time.time() - t0

        sent = CLIENTS * PIPELINE
        got = total(after, "requests") - total(before, "requests")
        check(got == sent, "requests summed over workers grew by %d, clients sent %d" % (got, sent))
        served = [k for k in after if after[k]["requests"] > before[k]["requests"]]
        sgtest.log("requests per worker: %s" % {k: after[k]["requests"] - before[k]["requests"]
                                                for k in after})
        check(len(served) == 2, "both workers served clients (SO_REUSEPORT): %r" % (served,))
        for k in after:
            a, b = after[k], before[k]
            busy = a["busy_cycles"] - b["busy_cycles"]
            idle = a["idle_cycles"] - b["idle_cycles"]
            asleep = a["asleep_cycles"] - b["asleep_cycles"]
            hz = a["tsc_hz"]
            covered = (busy + idle + asleep) / hz / wall
            sgtest.log("worker %s: busy %.1f ms, idle %.1f ms, asleep %.1f ms of %.1f ms; "
                       "loops busy %d idle %d; %d cycles/request" % (
                           k, busy / hz * 1e3, idle / hz * 1e3, asleep / hz * 1e3, wall * 1e3,
                           a["loops_busy"] - b["loops_busy"], a["loops_idle"] - b["loops_idle"],
                           a["cycles_per_request"]))
            check(hz > 0 and busy > 0, "worker %s counted busy cycles" % k)
            check(0 < a["cycles_per_request"] < hz,
                  "worker %s: cycles per request %d is positive and under a second" %
                  (k, a["cycles_per_request"]))
            check(a["cycles_per_request"] == a["busy_cycles"] // a["requests"],
                  "worker %s: cycles_per_request is busy_cycles / requests" % k)
            check(0.8 < covered < 1.05,
                  "worker %s: busy + idle + asleep cycles cover %.0f %% of the %.2f s "
                  "between the two readings" % (k, covered * 100, wall))
            check(a["loops_busy"] > b["loops_busy"] and a["loops_idle"] > b["loops_idle"],
                  "worker %s counted busy and idle loop iterations" % k)
            check(a["client_bytes_in"] > b["client_bytes_in"],
                  "worker %s counted client bytes" % k)
            if sgtest.MODE == "kernel":
                for link in ("rx_packets", "tx_packets", "steered_in", "steered_out"):
                    check(a[link] == 0, "kernel mode has no NIC queue: %s is %d" % (link, a[link]))
                continue
            sgtest.log("worker %s: rx %d tx %d packets, steered in %d out %d" % (
                k, a["rx_packets"] - b["rx_packets"], a["tx_packets"] - b["tx_packets"],
                a["steered_in"] - b["steered_in"], a["steered_out"] - b["steered_out"]))
            check(a["rx_packets"] + a["steered_in"] > b["rx_packets"] + b["steered_in"],
                  "worker %s received frames, from its queue or steered to it" % k)
        if sgtest.MODE == "dpdk":
            # a worker without a TX queue of its own sends through the
            # worker that has one (lib/net), so only the sum is certain
            check(total(after, "tx_packets") - total(before, "tx_packets") >= sent // PIPELINE,
                  "the workers sent frames")
            moved_in = total(after, "steered_in") - total(before, "steered_in")
            moved_out = total(after, "steered_out") - total(before, "steered_out")
            check(moved_out >= moved_in > 0,
                  "one queue for two workers: packets steered between them (out %d, in %d)" %
                  (moved_out, moved_in))
        stats = px.telemetry("/shardgate/stats")
        check(stats["cycles_busy"] >= total(after, "busy_cycles") > 0,
              "/shardgate/stats sums the workers' busy cycles: %r" % stats.get("cycles_busy"))

if __name__ == "__main__":
    sgtest.main(lambda: sgtest.run([("workers", test_workers)]))
