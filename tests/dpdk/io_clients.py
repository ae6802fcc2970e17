#!/usr/bin/python3
"""Kernel-side clients for io_tap_test.sh (run inside the test namespace).

  io_clients.py echo --host H --port P [--conns N] [--min-bytes B]
                [--max-bytes B] [--chunk-max B] [--seed S] [--timeout S]
      N concurrent connections; each sends its own random bytes in writes
      of random size while reading the echo, then closes once every byte
      came back. One line per connection:
        client LPORT sent=N crc=XXXXXXXX recv=N rcrc=XXXXXXXX ok=1|0 err=E
      then "SUMMARY ok=N failed=N seconds=T". Exit 0 when all are ok.

  io_clients.py stream --host H --port P [--conns N] [--seconds S]
                [--read-after S] [--rcvbuf B] [--sndbuf B] ...
      N connections writing continuously for S seconds and reading (from
      --read-after seconds on: before that they only write, as a client
      that stopped reading), then draining the echo and closing (same
      lines). A connection that fails reports err=NAME and t=SECONDS
      since the start. --rcvbuf/--sndbuf set SO_RCVBUF/SO_SNDBUF.

  io_clients.py hold --host H --port P --conns N
      N connections, one byte echoed on each, then idle until SIGTERM;
      prints "HELD N" once all are established.

  io_clients.py telemetry SOCKET COMMAND
      One DPDK telemetry query; prints the JSON reply.

  io_clients.py match SERVER_OUT CLIENT_OUT
      Checks every ok client line against the server's line for the same
      port ("conn W IP:PORT bytes=N crc=X status=S"): what the server
      received must be what the client sent, byte count and CRC-32.
      Prints "MATCH n" or the mismatches; exit 0 when all match.

Bounded: every mode has a deadline (--timeout, default 120 s).
"""
import argparse
import errno
import json
import os
import random
import selectors
import signal
import socket
import sys
import time
import zlib


class Conn:
    def __init__(self, idx, data, chunk_max, rng):
        self.idx = idx
        self.data = data            # bytes to send (echo mode) or None
        self.sent = 0
        self.recv = 0
        self.crc = 0
        self.rcrc = 0
        self.err = ""
        self.t_err = 0.0
        self.done = False
        self.rng = rng
        self.chunk_max = chunk_max
        self.sock = None
        self.lport = 0


def open_conn(c, host, port, sel, args):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if args.rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    if args.sndbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, args.sndbuf)
    s.setblocking(False)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    c.sock = s
    ev = selectors.EVENT_WRITE
    if args.read_after <= 0:
        ev |= selectors.EVENT_READ
    sel.register(s, ev, c)


def fail(c, sel, e, t0):
    c.err = errno.errorcode.get(e, str(e)) if isinstance(e, int) else str(e)
    c.t_err = time.monotonic() - t0
    c.done = True
    try:
        sel.unregister(c.sock)
    except (KeyError, ValueError):
        pass
    c.sock.close()


def report(conns, t0):
    ok = 0
    for c in conns:
        good = (not c.err and c.recv == c.sent and c.rcrc == c.crc and c.sent > 0)
        ok += good
        print("client %d sent=%d crc=%08x recv=%d rcrc=%08x ok=%d err=%s t=%.1f"
              % (c.lport, c.sent, c.crc, c.recv, c.rcrc, good, c.err or "-",
                 c.t_err))
    print("SUMMARY ok=%d failed=%d seconds=%.1f"
          % (ok, len(conns) - ok, time.monotonic() - t0))
    sys.stdout.flush()
    return ok == len(conns)


def run(args, stream):
    sel = selectors.DefaultSelector()
    conns = []
    block = random.Random(args.seed).randbytes(1 << 20)
    for i in range(args.conns):
        rng = random.Random(args.seed * 100003 + i)
        data = None
        if not stream:
            n = rng.randint(args.min_bytes, args.max_bytes)
            off = rng.randrange(0, len(block))
            data = (block[off:] + block)[:n] if n <= len(block) else \
                rng.randbytes(n)
        c = Conn(i, data, args.chunk_max, rng)
        open_conn(c, args.host, args.port, sel, args)
        conns.append(c)
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    write_until = t0 + args.seconds
    read_from = t0 + args.read_after
    live = len(conns)
    reading = args.read_after <= 0
    while live > 0 and time.monotonic() < deadline:
        events = sel.select(timeout=0.2)
        now = time.monotonic()
        if not reading and now >= read_from:
            reading = True
            for c in conns:
                if not c.done:
                    sel.modify(c.sock, selectors.EVENT_READ |
                               selectors.EVENT_WRITE, c)
        for key, mask in events:
            c = key.data
            if c.done:
                continue
            s = c.sock
            if mask & selectors.EVENT_WRITE:
                if c.lport == 0:
                    e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if e != 0:
                        fail(c, sel, e, t0)
                        live -= 1
                        continue
                    c.lport = s.getsockname()[1]
                want = c.rng.randint(1, c.chunk_max)
                if stream:
                    off = c.sent % len(block)
                    chunk = block[off:off + want] if now < write_until else b""
                else:
                    chunk = c.data[c.sent:c.sent + want]
                if chunk:
                    try:
                        n = s.send(chunk)
                    except BlockingIOError:
                        n = 0
                    except OSError as e:
                        fail(c, sel, e.errno, t0)
                        live -= 1
                        continue
                    c.crc = zlib.crc32(chunk[:n], c.crc)
                    c.sent += n
                else:
                    sel.modify(s, selectors.EVENT_READ, c)
            if mask & selectors.EVENT_READ:
                try:
                    b = s.recv(262144)
                except BlockingIOError:
                    continue
                except OSError as e:
                    fail(c, sel, e.errno, t0)
                    live -= 1
                    continue
                if not b:
                    fail(c, sel, "EOF", t0)
                    live -= 1
                    continue
                c.rcrc = zlib.crc32(b, c.rcrc)
                c.recv += len(b)
            finished = (c.recv >= c.sent and
                        (c.sent == len(c.data) if not stream
                         else now >= write_until))
            if finished and c.sent > 0:
                c.done = True
                sel.unregister(s)
                s.close()
                live -= 1
    for c in conns:
        if not c.done:
            c.err = c.err or "TIMEOUT"
            c.t_err = time.monotonic() - t0
    return 0 if report(conns, t0) else 1


def hold(args):
    socks = []
    deadline = time.monotonic() + args.timeout
    for i in range(args.conns):
        s = socket.create_connection((args.host, args.port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(b"x")
        if s.recv(1) != b"x":
            print("no echo on connection %d" % i)
            return 1
        socks.append(s)
        if time.monotonic() > deadline:
            return 1
    print("HELD %d" % len(socks))
    sys.stdout.flush()
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    while not stop and time.monotonic() < deadline:
        time.sleep(0.1)
    for s in socks:
        s.close()
    return 0


def telemetry(path, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(path)
    json.loads(s.recv(16384).decode())      # greeting
    s.send(cmd.encode())
    reply = json.loads(s.recv(65536).decode())
    print(json.dumps(reply.get(cmd.split(",")[0], reply)))
    return 0


def match(server_out, client_out):
    srv = {}
    for line in open(server_out):
        f = line.split()
        if len(f) == 6 and f[0] == "conn":
            port = int(f[2].rsplit(":", 1)[1])
            srv[port] = (int(f[3].split("=")[1]), f[4].split("=")[1],
                         int(f[5].split("=")[1]))
    bad = n = 0
    for line in open(client_out):
        f = line.split()
        if not f or f[0] != "client" or "ok=1" not in f:
            continue
        n += 1
        port = int(f[1])
        sent = int(f[2].split("=")[1])
        crc = f[3].split("=")[1]
        got = srv.get(port)
        if got is None or got[0] != sent or got[1] != crc or got[2] != 0:
            bad += 1
            print("MISMATCH client %d sent=%d crc=%s server=%s"
                  % (port, sent, crc, got))
    print("MATCH %d of %d" % (n - bad, n))
    return 0 if bad == 0 and n > 0 else 1


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "telemetry":
        return telemetry(sys.argv[2], sys.argv[3])
    if len(sys.argv) >= 2 and sys.argv[1] == "match":
        return match(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["echo", "stream", "hold"])
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--min-bytes", type=int, default=1)
    ap.add_argument("--max-bytes", type=int, default=65536)
    ap.add_argument("--chunk-max", type=int, default=16384)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--read-after", type=float, default=0)
    ap.add_argument("--rcvbuf", type=int, default=0)
    ap.add_argument("--sndbuf", type=int, default=0)
    args = ap.parse_args()
    if args.mode == "hold":
        return hold(args)
    return run(args, args.mode == "stream")


if __name__ == "__main__":
    sys.exit(main())
