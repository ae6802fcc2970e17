#!/usr/bin/python3
"""A userspace link with faults, for io_tap_test.sh: relays Ethernet frames
between two interfaces of one namespace (AF_PACKET), dropping, delaying,
reordering, duplicating and corrupting them as a profile file says. It is
tc netem done in userspace, both directions, for kernels without sch_netem.

  io_relay.py IFACE_A IFACE_B PROFILE_FILE [--seconds S]

PROFILE_FILE holds "key=value" words, re-read whenever it changes:
  loss=P       drop a frame with probability P (1 = black hole)
  delay_ms=D   hold each frame D ms ...
  jitter_ms=J  ... plus or minus up to J ms (this alone reorders)
  reorder=P    send a frame at once, overtaking delayed ones (netem's
               "reorder"), probability P
  dup=P        send a frame twice
  corrupt=P    flip one bit after the Ethernet header
Missing keys are 0: an empty file is a clean wire. On SIGTERM (or after S
seconds, default 600) prints "relay frames=N dropped=N dup=N corrupt=N
reordered=N" and exits 0; SIGUSR1 prints the same line and goes on.
"""
import heapq
import os
import random
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def load(path, prev, mtime):
    try:
        m = os.stat(path).st_mtime_ns
    except OSError:
        return prev, mtime
    if m == mtime:
        return prev, mtime
    prof = {}
    with open(path) as f:
        for word in f.read().split():
            k, _, v = word.partition("=")
            prof[k] = float(v)
    return prof, m


def main():
    a, b, path = sys.argv[1:4]
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 600.0
    socks = {}
    for name in (a, b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                          socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setblocking(False)
        socks[name] = s
    peer = {socks[a]: socks[b], socks[b]: socks[a]}
    rng = random.Random(7)
    st = dict(frames=0, dropped=0, dup=0, corrupt=0, reordered=0)
    stop = []
    signal.signal(signal.SIGTERM, lambda *x: stop.append(1))
    # SIGUSR1: print the counters so far (scripts/dpdk-testnet.sh wire-stats)
    signal.signal(signal.SIGUSR1, lambda *x: print(
        "relay " + " ".join("%s=%d" % kv for kv in st.items()), flush=True))
    prof, mtime = load(path, {}, None)
    next_load = 0.0
    heap = []
    seq = 0
    end = time.monotonic() + seconds
    print("relay %s <-> %s ready" % (a, b))
    sys.stdout.flush()
    while not stop and time.monotonic() < end:
        now = time.monotonic()
        if now >= next_load:
            prof, mtime = load(path, prof, mtime)
            next_load = now + 0.05
        while heap and heap[0][0] <= now:
            _, _, out, frame = heapq.heappop(heap)
            try:
                out.send(frame)
            except OSError:
                st["dropped"] += 1
        timeout = 0.05
        if heap:
            timeout = max(0.0, min(timeout, heap[0][0] - now))
        try:
            ready, _, _ = select.select(list(peer), [], [], timeout)
        except InterruptedError:
            continue
        except (OSError, ValueError):
            break
        for s in ready:
            for _ in range(64):
                try:
                    frame, addr = s.recvfrom(65536)
                except BlockingIOError:
                    break
                except OSError:         # the interface went away
                    stop.append(1)
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                st["frames"] += 1
                if rng.random() < prof.get("loss", 0):
                    st["dropped"] += 1
                    continue
                copies = 2 if rng.random() < prof.get("dup", 0) else 1
                st["dup"] += copies - 1
                for _ in range(copies):
                    f = frame
                    if len(f) > 14 and rng.random() < prof.get("corrupt", 0):
                        i = rng.randrange(14, len(f))
                        f = f[:i] + bytes([f[i] ^ (1 << rng.randrange(8))]) + \
                            f[i + 1:]
                        st["corrupt"] += 1
                    d = prof.get("delay_ms", 0)
                    j = prof.get("jitter_ms", 0)
                    if rng.random() < prof.get("reorder", 0):
                        d = j = 0
                        st["reordered"] += 1
                    t = time.monotonic() + max(0.0, d + rng.uniform(-j, j)) / 1000
                    seq += 1
                    heapq.heappush(heap, (t, seq, peer[s], f))
    print("relay " + " ".join("%s=%d" % kv for kv in st.items()))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
