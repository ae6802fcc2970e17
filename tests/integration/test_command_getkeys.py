#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""sg_command_keys and sg_cluster_slot against a real redis-server.

Starts a private redis-server (cluster mode, so CLUSTER KEYSLOT answers)
on a loopback port of its own, asks it COMMAND GETKEYS for ~120 sample
requests and CLUSTER KEYSLOT for 2000 keys, and compares with what
shardgate's tables say through tests/integration/command_getkeys:
with the built-in table, and with tables merged from this server's own
COMMAND reply in RESP2 and RESP3. Stops the server by its PID.

    test_command_getkeys.py PATH/TO/command_getkeys
"""
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis

PORT = int(os.environ.get("SG_COMMAND_TEST_PORT", "7195"))

# Requests whose keys the server finds (or refuses) and we must agree on.
SAMPLES = """
GET k
SET k v
SET k v GET
SET k v EX 10 NX
GETEX k PERSIST
GETDEL k
APPEND k v
INCR k
DECRBY k 3
STRLEN k
SETRANGE k 0 v
GETRANGE k 0 1
MGET a b c
MSET a 1 b 2 c 3
MSETNX a 1 b 2
DEL a b c
UNLINK a
EXISTS a b
TOUCH a b
EXPIRE k 10
PEXPIREAT k 1 NX
TTL k
TYPE k
RENAME a b
RENAMENX a b
COPY a b REPLACE
COPY a b DB 0
DUMP k
RESTORE k 0 payload REPLACE
OBJECT ENCODING k
OBJECT FREQ k
MEMORY USAGE k SAMPLES 5
LPUSH l a b
RPOP l 2
LRANGE l 0 -1
LMOVE a b LEFT RIGHT
RPOPLPUSH a b
LPOS l x RANK 1
LINSERT l BEFORE p x
BLPOP a b 0
BRPOP a 0
BRPOPLPUSH a b 0
BLMOVE a b LEFT LEFT 0
LMPOP 2 a b LEFT COUNT 2
BLMPOP 0 2 a b RIGHT
SADD s a b
SMEMBERS s
SMOVE a b m
SINTER a b c
SINTERSTORE d a b
SUNIONSTORE d a
SDIFFSTORE d a b c
SINTERCARD 2 a b LIMIT 1
SINTERCARD 3 a b c
SMISMEMBER s a b
HSET h f v f2 v2
HGETALL h
HMGET h a b
HSCAN h 0 MATCH x COUNT 10
HRANDFIELD h 2 WITHVALUES
ZADD z 1 a
ZRANGE z 0 -1 WITHSCORES
ZRANGESTORE d z 0 -1
ZUNIONSTORE d 2 a b WEIGHTS 1 2
ZINTERSTORE d 1 a AGGREGATE MAX
ZDIFFSTORE d 2 a b
ZUNION 2 a b WITHSCORES
ZINTER 3 a b c
ZDIFF 1 a
ZINTERCARD 2 a b LIMIT 5
ZMPOP 2 a b MIN COUNT 3
BZMPOP 0 1 a MAX
BZPOPMIN a b 0
BZPOPMAX a 0
ZRANGEBYSCORE z 0 1 LIMIT 0 1
ZRANDMEMBER z 1
PFADD p a b
PFCOUNT a b c
PFMERGE d a b
GEOADD g 1 2 m
GEORADIUS g 0 0 1 km
GEORADIUS g 0 0 1 km STORE d
GEORADIUS g 0 0 1 km STOREDIST d
GEORADIUS g 0 0 1 km WITHDIST STORE s STOREDIST t
GEORADIUSBYMEMBER g m 1 km STORE d
GEORADIUS_RO g 0 0 1 km
GEOSEARCH g FROMMEMBER m BYRADIUS 1 km
GEOSEARCHSTORE d g FROMMEMBER m BYRADIUS 1 km STOREDIST
BITOP AND d a b
BITOP NOT d a
BITCOUNT k 0 1
BITFIELD k GET u8 0
BITFIELD_RO k GET u8 0
BITPOS k 1
LCS a b LEN
XADD s * f v
XRANGE s - +
XLEN s
XREAD STREAMS a 0
XREAD COUNT 2 STREAMS a b 0 0
XREAD BLOCK 0 COUNT 1 STREAMS a b c 0 0 0
XREADGROUP GROUP g c STREAMS a 0
XREADGROUP GROUP g c COUNT 1 NOACK STREAMS a b > >
XGROUP CREATE s g $ MKSTREAM
XGROUP DESTROY s g
XINFO STREAM s FULL
XINFO GROUPS s
XACK s g 1-1
XCLAIM s g c 0 1-1
XAUTOCLAIM s g c 0 0
XPENDING s g
XTRIM s MAXLEN 10
XSETID s 1-1
EVAL s 0
EVAL s 2 a b c
EVAL_RO s 1 a
EVALSHA x 3 a b c d
EVALSHA_RO x 1 a
FCALL f 2 a b x
FCALL_RO f 0
SORT k
SORT k BY w GET x LIMIT 0 1 STORE d
SORT k STORE d1 STORE d2
SORT k GET # GET store
SORT_RO k BY w GET x
MIGRATE h 1 k 0 5
MIGRATE h 1 k 0 5 COPY REPLACE
MIGRATE h 1 "" 0 5 KEYS a b c
MIGRATE h 1 "" 0 5 COPY AUTH keys KEYS a
MIGRATE h 1 "" 0 5 AUTH2 u keys KEYS a b
WATCH a b
ZUNIONSTORE d x a
ZUNIONSTORE d 3 a b
LMPOP 5 a b LEFT
""".strip().splitlines()

# Where we answer differently from COMMAND GETKEYS, on purpose.
DEVIATIONS = {
    # shard channels: hashed like keys, so we return them (NOT_KEY)
    "SPUBLISH ch m": "OK 1",
    "SSUBSCRIBE a b": "OK 1 2",
    # numkeys 0: no keys from that spec, not an error; the destination
    # still decides the slot and the server reports the real error
    "ZUNIONSTORE d 0 a": "OK 1",
    "SINTERCARD 0 a": "OK",
    # a negative numkeys contradicts the spec (GETKEYS falls back to a
    # keyless answer for EVAL; running it fails on the server anyway)
    "EVAL s -1 a": "ERR EINVAL",
}


def start_server(workdir):
    exe = shutil.which("redis-server")
    proc = subprocess.Popen(
        [exe, "--port", str(PORT), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", workdir, "--cluster-enabled", "yes",
         "--cluster-config-file", os.path.join(workdir, "nodes.conf"),
         "--logfile", os.path.join(workdir, "log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis.Redis(host="127.0.0.1", port=PORT).ping():
                return proc
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    proc.terminate()
    proc.wait()
    sys.exit("redis-server did not start on port %d" % PORT)


def resp_end(buf, pos):
    eol = buf.find(b"\r\n", pos)
    if eol < 0:
        return None
    t, line, nxt = buf[pos:pos + 1], buf[pos + 1:eol], eol + 2
    if t in b"+-:_,#(":
        return nxt
    if t in b"$=!":
        n = int(line)
        if n < 0:
            return nxt
        return nxt + n + 2 if len(buf) >= nxt + n + 2 else None
    n = int(line) * (2 if t in b"%|" else 1)
    for _ in range(max(n, 0)):
        nxt = resp_end(buf, nxt)
        if nxt is None:
            return None
    return nxt


def raw_command(resp3):
    with socket.create_connection(("127.0.0.1", PORT)) as s:
        def ask(cmd):
            s.sendall(cmd)
            buf = b""
            while True:
                chunk = s.recv(1 << 16)
                if not chunk:
                    raise IOError("closed")
                buf += chunk
                if resp_end(buf, 0) is not None:
                    return buf
        if resp3:
            ask(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n")
        return ask(b"*1\r\n$7\r\nCOMMAND\r\n")


def split(sample):
    return ["" if w == '""' else w for w in sample.split(" ")]


def server_answer(conn, args):
    # A bare connection: redis-py would parse the reply as COMMAND's.
    try:
        conn.send_command("COMMAND", "GETKEYS", *args)
        keys = conn.read_response()
        return "OK", sorted(k.decode() for k in keys)
    except redis.exceptions.ResponseError as e:
        if "no key arguments" in str(e):
            return "OK", []
        return "ERR", str(e)


def run_tool(tool, lines, extra=()):
    out = subprocess.run([tool] + list(extra), input="\n".join(lines) + "\n",
                         capture_output=True, text=True, timeout=60,
                         check=True)
    return out.stdout.splitlines()


def main():
    tool = sys.argv[1]
    workdir = tempfile.mkdtemp(prefix="sg-getkeys-")
    proc = start_server(workdir)
    failures = []
    try:
        r = redis.Redis(host="127.0.0.1", port=PORT)
        for resp3 in (False, True):
            path = os.path.join(workdir, "command-resp%d" % (3 if resp3 else 2))
            with open(path, "wb") as f:
                f.write(raw_command(resp3))

        samples = SAMPLES + list(DEVIATIONS)
        requests = ["K\t" + "\t".join(split(s)) for s in samples]
        expected = {}
        conn = redis.connection.Connection(host="127.0.0.1", port=PORT)
        for s in samples:
            expected[s] = server_answer(conn, split(s))
        conn.disconnect()

        tables = {
            "built-in": [],
            "merged RESP2": ["--merge", os.path.join(workdir, "command-resp2")],
            "merged RESP3": ["--merge", os.path.join(workdir, "command-resp3")],
        }
        for tname, extra in tables.items():
            got = run_tool(tool, requests, extra)
            if len(got) != len(samples):
                failures.append("%s: %d answers for %d requests"
                                % (tname, len(got), len(samples)))
                continue
            for s, g in zip(samples, got):
                args = split(s)
                if s in DEVIATIONS:
                    if g != DEVIATIONS[s]:
                        failures.append("%s: %s: got %r, want %r"
                                        % (tname, s, g, DEVIATIONS[s]))
                    continue
                kind, want = expected[s]
                if kind == "ERR":
                    if not g.startswith("ERR"):
                        failures.append("%s: %s: server says %r, we %r"
                                        % (tname, s, want, g))
                    continue
                if not g.startswith("OK"):
                    failures.append("%s: %s: server keys %r, we %r"
                                    % (tname, s, want, g))
                    continue
                ours = sorted(args[int(i)] for i in g.split()[1:])
                if ours != want:
                    failures.append("%s: %s: server keys %r, ours %r"
                                    % (tname, s, want, ours))
        checked = len(samples)

        rnd = random.Random(1)
        alphabet = "ab{}x:"
        keys = ["{user1000}.following", "foo{}{bar}", "foo{{bar}}zap",
                "foo{bar}{zap}", "123456789", "{", "}", "{}", "a{b"]
        for _ in range(2000):
            n = rnd.randint(1, 24)
            keys.append("".join(rnd.choice(alphabet) for _ in range(n)))
        got = run_tool(tool, ["S\t" + k for k in keys])
        for k, g in zip(keys, got):
            want = r.execute_command("CLUSTER", "KEYSLOT", k)
            if int(g) != want:
                failures.append("slot of %r: server %d, ours %s"
                                % (k, want, g))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)

    for f in failures:
        print("FAIL:", f)
    print("%d requests x 3 tables and %d slots compared, %d failures"
          % (checked, len(keys), len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
