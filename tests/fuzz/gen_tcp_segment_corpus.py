#!/usr/bin/env python3
# Writes the seed corpus of fuzz_tcp_segment (record format: the comment
# at the top of fuzz_tcp_segment.c). Run from anywhere; rewrites
# corpus/tcp_segment/.
import os
import struct

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
T_ACC, T_ACT, T_LISTEN, T_CLOSED = 0, 1, 2, 3
REL, GOOD, KEEP = 4, 8, 16
A_TIME, A_PAUSE, A_WRITE, A_SHUT, A_CLOSE, A_ABORT, A_CUT = (
    1 << 5, 2 << 5, 3 << 5, 4 << 5, 5 << 5, 6 << 5, 7 << 5)


def ts(val, ecr=0):
    return b"\x01\x01\x08\x0a" + struct.pack(">II", val, ecr)


def tcp(seq, ack, flags, wnd=4096, opts=b"", payload=b""):
    opts += b"\x01" * (-len(opts) % 4)
    hdr = struct.pack(">HHIIBBHHH", 0, 0, seq & 0xffffffff,
                      ack & 0xffffffff, (20 + len(opts)) // 4 << 4, flags,
                      wnd, 0, 0)
    return hdr + opts + payload


def rec(op, arg, seg):
    return bytes([op, arg]) + struct.pack(">H", len(seg)) + seg


seeds = {
    "data_in_order": rec(T_ACC | REL, 0, tcp(0, 0, ACK | PSH, opts=ts(10),
                                            payload=b"*1\r\n$4\r\nPING\r\n")),
    "data_then_fin": rec(T_ACC | REL, 0, tcp(0, 0, ACK, opts=ts(10),
                                             payload=b"x" * 100))
    + rec(T_ACC | REL | A_TIME, 10, tcp(100, 0, ACK | FIN, opts=ts(11))),
    "rst_exact": rec(T_ACC | REL, 0, tcp(0, 0, RST)),
    "rst_in_window": rec(T_ACC | REL, 0, tcp(500, 0, RST)),
    "syn_established": rec(T_ACC | REL, 0, tcp(777, 0, SYN, opts=ts(12))),
    "ooo_then_fill": rec(T_ACC | REL, 0, tcp(1000, 0, ACK, opts=ts(13),
                                             payload=b"b" * 500))
    + rec(T_ACC | REL, 0, tcp(0, 0, ACK, opts=ts(14), payload=b"a" * 1000)),
    "syn_flood": b"".join(
        rec(T_LISTEN, i, tcp(i * 1000, 0, SYN, opts=b"\x02\x04\x05\xb4"
                             + ts(i + 1) + b"\x01\x03\x03\x05"))
        for i in range(8)),
    "active_data_ack": rec(T_ACT | REL | A_WRITE, 20, tcp(0, 0, ACK,
                                                         payload=b"+OK\r\n"))
    + rec(T_ACT | REL, 0, tcp(5, 740, ACK)),
    "zero_window": rec(T_ACC | REL | A_WRITE, 200, tcp(0, 0, ACK, wnd=0,
                                                       opts=ts(20)))
    + rec(T_ACC | REL | A_TIME, 100, tcp(0, 0, ACK, wnd=0, opts=ts(21)))
    + rec(T_ACC | REL | A_TIME, 200, tcp(0, 0, ACK, wnd=2000, opts=ts(22))),
    "keepalive_idle": rec(T_ACC | A_TIME, 255, b"")
    + rec(T_ACC | A_TIME, 255, b"") + rec(T_ACC | A_TIME, 255, b""),
    "bad_checksum": rec(T_ACC | REL | KEEP, 0, tcp(0, 0, ACK,
                                                  payload=b"zz")),
    "chain_cut": rec(T_ACC | REL | A_CUT, 23, tcp(0, 0, ACK | PSH,
                                                  opts=ts(30),
                                                  payload=b"c" * 300)),
    "close_paths": rec(T_ACC | REL | A_SHUT, 0, tcp(0, 0, ACK, opts=ts(31)))
    + rec(T_ACT | REL | A_CLOSE, 0, tcp(0, 0, ACK | FIN))
    + rec(T_ACC | REL | A_TIME, 250, tcp(0, 1, ACK | FIN, opts=ts(32))),
    "abort_pause": rec(T_ACC | REL | A_PAUSE, 0, tcp(0, 0, ACK, opts=ts(40),
                                                     payload=b"p" * 50))
    + rec(T_ACT | REL | A_ABORT, 0, tcp(0, 0, ACK)),
    "closed_port": rec(T_CLOSED, 0, tcp(5, 0, SYN)),
    "stray_ack_cookie": rec(T_LISTEN, 3, tcp(1, 12345, ACK, opts=ts(50))),
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus",
                   "tcp_segment")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {out}")
