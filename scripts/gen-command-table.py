#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generates shardgate's built-in command table.

    /usr/bin/python3 scripts/gen-command-table.py [--port 7190]
        [--record DIR] [--report]

Starts a private redis-server (7.0) on a loopback port of its own, reads
COMMAND (arity, flags, key specs, tips, subcommands) and COMMAND DOCS
(group and version of each command, and a cross-check of the subcommand
list), stops the server by its PID, merges scripts/command-overlay.yaml
(Valkey 8 additions and our routing policy) and writes

    lib/command/sg_command_ids.h     enum sg_command_id
    lib/command/command_table.inc    the table and its hash index

Both are committed; the build never runs this script. With --record DIR it
also stores the raw COMMAND reply bytes, RESP2 and RESP3 (after HELLO 3),
as DIR/command-resp2.bin and DIR/command-resp3.bin for the unit tests and
the fuzz corpus. --report prints where our routing deviates from the
server's request/response policy tips.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis
import yaml
from redis.connection import Connection, PythonParser

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CMD_FLAGS = {
    "write": "SG_CMD_F_WRITE",
    "readonly": "SG_CMD_F_READONLY",
    "denyoom": "SG_CMD_F_DENYOOM",
    "admin": "SG_CMD_F_ADMIN",
    "pubsub": "SG_CMD_F_PUBSUB",
    "noscript": "SG_CMD_F_NOSCRIPT",
    "blocking": "SG_CMD_F_BLOCKING",
    "loading": "SG_CMD_F_LOADING",
    "stale": "SG_CMD_F_STALE",
    "skip_monitor": "SG_CMD_F_SKIP_MONITOR",
    "skip_slowlog": "SG_CMD_F_SKIP_SLOWLOG",
    "asking": "SG_CMD_F_ASKING",
    "fast": "SG_CMD_F_FAST",
    "no_auth": "SG_CMD_F_NO_AUTH",
    "may_replicate": "SG_CMD_F_MAY_REPLICATE",
    "no_mandatory_keys": "SG_CMD_F_NO_MANDATORY_KEYS",
    "no_multi": "SG_CMD_F_NO_MULTI",
    "movablekeys": "SG_CMD_F_MOVABLE_KEYS",
    "allow_busy": "SG_CMD_F_ALLOW_BUSY",
}
# Server flags we do not keep (no routing meaning for a proxy).
IGNORED_FLAGS = {"no_async_loading", "module", "sentinel", "only_sentinel"}

KS_WRITE = {"RW", "OW", "RM", "insert", "delete", "update"}
KS_KNOWN = KS_WRITE | {"RO", "access", "incomplete", "not_key",
                       "variable_flags"}

ROUTES = ["key", "split", "fanout", "any", "proxy", "pin", "refuse"]
MERGES = ["none", "by_key", "sum", "all_ok", "concat", "first", "agree",
          "and", "or", "min", "max", "special"]
RESPONSE_MERGE = {
    "all_succeeded": "all_ok",
    "one_succeeded": "first",
    "agg_sum": "sum",
    "agg_min": "min",
    "agg_max": "max",
    "agg_logical_and": "and",
    "agg_logical_or": "or",
    "special": "special",
}
MAX_KEYSPECS = 4
INDEX_SEED = 2166136261


# ---------------------------------------------------------------- server

def start_server(port, workdir):
    exe = shutil.which("redis-server")
    if exe is None:
        sys.exit("redis-server not found (scripts/install-deps.sh)")
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", workdir,
         "--daemonize", "no", "--logfile", os.path.join(workdir, "log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis.Redis(host="127.0.0.1", port=port).ping():
                return proc
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
        if proc.poll() is not None:
            break
    stop_server(proc)
    sys.exit("redis-server did not start on port %d" % port)


def stop_server(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def dec(x):
    if isinstance(x, bytes):
        return x.decode()
    if isinstance(x, list):
        return [dec(y) for y in x]
    return x


def query(port, *args):
    # The hiredis reader stops at 7 levels of nesting; COMMAND has 8.
    conn = Connection(host="127.0.0.1", port=port, parser_class=PythonParser)
    try:
        conn.send_command(*args)
        return dec(conn.read_response())
    finally:
        conn.disconnect()


def resp_end(buf, pos):
    """End offset of the RESP value at pos, or None when incomplete."""
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
    if t in b"*~>%|":
        n = int(line)
        if t in b"%|":
            n *= 2
        for _ in range(max(n, 0)):
            nxt = resp_end(buf, nxt)
            if nxt is None:
                return None
        return nxt
    raise ValueError("bad RESP type %r" % t)


def raw_reply(sock, cmd):
    sock.sendall(cmd)
    buf = b""
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            raise IOError("connection closed")
        buf += chunk
        end = resp_end(buf, 0)
        if end is not None:
            assert end == len(buf)
            return buf


def record(port, outdir):
    os.makedirs(outdir, exist_ok=True)
    with socket.create_connection(("127.0.0.1", port)) as s:
        r2 = raw_reply(s, b"*1\r\n$7\r\nCOMMAND\r\n")
        raw_reply(s, b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n")
        r3 = raw_reply(s, b"*1\r\n$7\r\nCOMMAND\r\n")
    for name, data in (("command-resp2.bin", r2), ("command-resp3.bin", r3)):
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
        print("recorded %s (%d bytes)" % (name, len(data)))


# ---------------------------------------------------------------- model

def pairs(lst):
    return dict(zip(lst[0::2], lst[1::2]))


def keyspec_from_reply(ks):
    k = pairs(ks)
    bs, fk = pairs(k["begin_search"]), pairs(k["find_keys"])
    spec = {"flags": set(k["flags"])}
    unknown = set(k["flags"]) - KS_KNOWN
    assert not unknown, unknown
    if bs["type"] == "index":
        spec["begin"] = {"index": pairs(bs["spec"])["index"]}
    elif bs["type"] == "keyword":
        b = pairs(bs["spec"])
        spec["begin"] = {"keyword": b["keyword"], "startfrom": b["startfrom"]}
    else:
        spec["begin"] = None
    if fk["type"] == "range":
        f = pairs(fk["spec"])
        spec["find"] = {"range": [f["lastkey"], f["keystep"], f["limit"]]}
    elif fk["type"] == "keynum":
        f = pairs(fk["spec"])
        spec["find"] = {"keynum": [f["keynumidx"], f["firstkey"],
                                   f["keystep"]]}
    else:
        spec["find"] = None
    return spec


def command_from_reply(c):
    cmd = {
        "name": c[0],
        "arity": c[1],
        "flags": set(c[2]),
        "tips": list(c[7]),
        "keyspecs": [keyspec_from_reply(ks) for ks in c[8]],
        "subs": {},
        "since": None,
        "group": None,
        "origin": "redis 7.0",
    }
    for s in c[9]:
        sub = command_from_reply(s)
        cmd["subs"][sub["name"]] = sub
    return cmd


def command_from_overlay(e):
    specs = []
    for ks in e.get("key_specs", []):
        specs.append({"flags": set(ks.get("flags", [])),
                      "begin": ks.get("begin"), "find": ks.get("find")})
    return {
        "name": e["name"],
        "arity": e["arity"],
        "flags": set(e.get("flags", [])),
        "tips": list(e.get("tips", [])),
        "keyspecs": specs,
        "subs": {},
        "since": e.get("since"),
        "group": e.get("group"),
        "origin": "overlay",
    }


def tip(cmd, prefix):
    for t in cmd["tips"]:
        if t.startswith(prefix + ":"):
            return t.split(":", 1)[1]
    return None


def default_route(cmd):
    req = tip(cmd, "request_policy")
    resp = tip(cmd, "response_policy")
    if req in ("all_shards", "all_nodes"):
        return "fanout", RESPONSE_MERGE.get(resp, "concat")
    if req == "special":
        return "fanout", "special"
    if req == "multi_shard":
        return "split", RESPONSE_MERGE.get(resp, "by_key")
    if cmd["keyspecs"]:
        return "key", "none"
    return "any", "none"


def apply_routes(cmds, routes):
    allc = {}
    for c in cmds.values():
        allc[c["name"]] = c
        for s in c["subs"].values():
            allc[s["name"]] = s
    for c in allc.values():
        c["route"], c["merge"] = default_route(c)
        c["default"] = (c["route"], c["merge"])
        c["reason"] = None
    for name, r in routes.items():
        if name not in allc:
            sys.exit("overlay routes: unknown command %r" % name)
        c = allc[name]
        if isinstance(r, str):
            r = {"route": r}
        c["route"] = r["route"]
        c["merge"] = r.get("merge", "none")
        c["reason"] = r.get("reason")
        if c["route"] not in ROUTES or c["merge"] not in MERGES:
            sys.exit("overlay routes: bad route/merge for %r" % name)
        if (c["route"] == "refuse") != (c["reason"] is not None):
            sys.exit("overlay routes: %r: reason iff refuse" % name)
        if c["route"] in ("split", "fanout") and c["merge"] == "none":
            sys.exit("overlay routes: %r: split/fanout needs a merge" % name)
        if c["route"] == "split" and not c["keyspecs"]:
            sys.exit("overlay routes: %r: split without keys" % name)
    return allc


# ---------------------------------------------------------------- output

def c_ident(name):
    ident = "SG_CMD_" + name.upper().replace("|", "_").replace("-", "_")
    assert all(ch.isalnum() or ch == "_" for ch in ident), name
    return ident


def c_str(s):
    assert all(0x20 <= ord(ch) < 0x7F and ch not in '"\\' for ch in s), s
    return '"%s"' % s


def c_str_wrapped(s, indent, width=60):
    """A long string literal as adjacent literals, one per line."""
    words, lines, cur = s.split(" "), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur + " ")
            cur = w
        else:
            cur = cur + " " + w if cur else w
    lines.append(cur)
    return ("\n" + indent).join(c_str(l) for l in lines)


def fnv1a(name):
    h = INDEX_SEED
    for b in name.lower().encode():
        h ^= b
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def keyspec_c(ks):
    f = []
    if ks["flags"] & KS_WRITE:
        f.append("SG_KS_F_WRITE")
    if "incomplete" in ks["flags"] or ks["begin"] is None or \
            ks["find"] is None:
        f.append("SG_KS_F_INCOMPLETE")
    if "not_key" in ks["flags"]:
        f.append("SG_KS_F_NOT_KEY")
    parts = []
    b, fk = ks["begin"], ks["find"]
    if b is None or fk is None:
        parts.append(".begin = SG_KS_BEGIN_NONE, .find = SG_KS_FIND_NONE")
    else:
        if "index" in b:
            parts.append(".begin = SG_KS_BEGIN_INDEX, .index = %d"
                         % b["index"])
        else:
            parts.append(".begin = SG_KS_BEGIN_KEYWORD,\n"
                         "\t\t\t\t.keyword = %s, .index = %d"
                         % (c_str(b["keyword"].lower()), b["startfrom"]))
        if "range" in fk:
            last, step, limit = fk["range"]
            parts.append(".find = SG_KS_FIND_RANGE, .lastkey = %d,\n"
                         "\t\t\t\t.keystep = %d, .limit = %d"
                         % (last, step, limit))
        else:
            idx, first, step = fk["keynum"]
            parts.append(".find = SG_KS_FIND_KEYNUM, .keynumidx = %d,\n"
                         "\t\t\t\t.firstkey = %d, .keystep = %d"
                         % (idx, first, step))
    parts.append(".flags = %s" % (" | ".join(f) if f else "0"))
    return "{\n\t\t\t\t" + ",\n\t\t\t\t".join(parts) + "\n\t\t\t}"


def entry_c(c, parent_ref, subs_ref, nsubs):
    flags = [CMD_FLAGS[f] for f in sorted(c["flags"]) if f in CMD_FLAGS]
    unknown = c["flags"] - set(CMD_FLAGS) - IGNORED_FLAGS
    assert not unknown, (c["name"], unknown)
    if "nondeterministic_output" in c["tips"]:
        flags.append("SG_CMD_F_NONDETERMINISTIC")
    if nsubs:
        flags.append("SG_CMD_F_CONTAINER")
    if len(c["keyspecs"]) > MAX_KEYSPECS:
        sys.exit("%s: too many key specs" % c["name"])
    lines = ["\t{",
             "\t\t.name = %s," % c_str(c["name"]),
             "\t\t.id = %s," % c_ident(c["name"]),
             "\t\t.arity = %d," % c["arity"],
             "\t\t.flags = %s," % (" |\n\t\t\t ".join(flags) if flags
                                   else "0"),
             "\t\t.route = SG_ROUTE_%s," % c["route"].upper(),
             "\t\t.merge = SG_MERGE_%s," % c["merge"].upper(),
             "\t\t.nkeyspecs = %d," % len(c["keyspecs"])]
    if c["keyspecs"]:
        lines.append("\t\t.keyspecs = {")
        for ks in c["keyspecs"]:
            lines.append("\t\t\t" + keyspec_c(ks) + ",")
        lines.append("\t\t},")
    if c["reason"]:
        lines.append("\t\t.refuse_reason = %s,"
                     % c_str_wrapped(c["reason"], "\t\t\t"))
    if parent_ref:
        lines.append("\t\t.parent = %s," % parent_ref)
    if nsubs:
        lines.append("\t\t.subs = %s," % subs_ref)
        lines.append("\t\t.nsubs = %d," % nsubs)
    lines.append("\t},")
    return lines


def comment(c):
    bits = [c["origin"]]
    if c["group"]:
        bits.append(c["group"])
    if c["since"]:
        bits.append("since " + c["since"])
    if (c["route"], c["merge"]) != c["default"]:
        bits.append("default %s/%s" % c["default"])
    return "\t/* %s: %s */" % (c["name"], ", ".join(bits))


def build_index(names):
    size = 1
    while size < 2 * len(names):
        size *= 2
    slots = [0] * size
    for i, n in enumerate(names):
        h = fnv1a(n) & (size - 1)
        while slots[h]:
            h = (h + 1) & (size - 1)
        slots[h] = i + 1
    return slots


def write_outputs(cmds, server_version):
    top = sorted(cmds)
    ids = []
    for n in top:
        ids.append(n)
        ids.extend(sorted(cmds[n]["subs"]))
    idents = [c_ident(n) for n in ids]
    assert len(set(idents)) == len(idents)
    assert len(ids) < 65535

    src = "redis-server %s and scripts/command-overlay.yaml" % server_version
    h = ["/* SPDX-License-Identifier: BSD-3-Clause */",
         "/* Generated by scripts/gen-command-table.py from",
         " * %s: do not edit. */" % src,
         "#ifndef SG_COMMAND_IDS_H",
         "#define SG_COMMAND_IDS_H",
         "",
         "enum sg_command_id {",
         "\tSG_CMD_UNKNOWN = 0,"]
    for ident in idents:
        h.append("\t%s," % ident)
    h += ["\tSG_CMD_ID_COUNT",
          "};",
          "",
          "#endif /* SG_COMMAND_IDS_H */",
          ""]

    out = ["/* SPDX-License-Identifier: BSD-3-Clause */",
           "/*",
           " * Generated by scripts/gen-command-table.py from",
           " * %s: do not edit." % src,
           " *",
           " * builtin_cmds: every top-level command, sorted by name;",
           " * builtin_subs_<container>: its subcommands, sorted by name;",
           " * builtin_index: open addressing over builtin_cmds by",
           " * command_hash() of the lower-case name (0 = empty, else",
           " * position + 1), linear probing;",
           " * builtin_by_id: enum sg_command_id -> entry.",
           " */",
           "#define BUILTIN_NCMDS %d" % len(top),
           "",
           "static const struct sg_command builtin_cmds[BUILTIN_NCMDS];"]
    pos = {n: i for i, n in enumerate(top)}
    for n in top:
        if cmds[n]["subs"]:
            out.append("static const struct sg_command builtin_subs_%s[%d];"
                       % (n.replace("-", "_"), len(cmds[n]["subs"])))
    out.append("")
    for n in top:
        subs = cmds[n]["subs"]
        if not subs:
            continue
        sym = "builtin_subs_%s" % n.replace("-", "_")
        out.append("static const struct sg_command %s[%d] = {"
                   % (sym, len(subs)))
        for sn in sorted(subs):
            out.append(comment(subs[sn]))
            out += entry_c(subs[sn], "&builtin_cmds[%d]" % pos[n], None, 0)
        out += ["};", ""]
    out.append("static const struct sg_command builtin_cmds[BUILTIN_NCMDS]"
               " = {")
    for n in top:
        c = cmds[n]
        nsubs = len(c["subs"])
        out.append(comment(c))
        out += entry_c(c, None, "builtin_subs_%s" % n.replace("-", "_"),
                       nsubs)
    out += ["};", ""]

    slots = build_index(top)
    out.append("#define BUILTIN_INDEX_SIZE %d" % len(slots))
    out.append("static const uint16_t builtin_index[BUILTIN_INDEX_SIZE]"
               " = {")
    for i in range(0, len(slots), 12):
        out.append("\t" + ", ".join(str(v) for v in slots[i:i + 12]) + ",")
    out += ["};", ""]

    out.append("static const struct sg_command *const "
               "builtin_by_id[SG_CMD_ID_COUNT] = {")
    out.append("\t[SG_CMD_UNKNOWN] = NULL,")
    for n in top:
        out.append("\t[%s] = &builtin_cmds[%d]," % (c_ident(n), pos[n]))
        sym = "builtin_subs_%s" % n.replace("-", "_")
        for j, sn in enumerate(sorted(cmds[n]["subs"])):
            out.append("\t[%s] = &%s[%d]," % (c_ident(sn), sym, j))
    out += ["};", ""]

    with open(os.path.join(ROOT, "lib/command/sg_command_ids.h"), "w") as f:
        f.write("\n".join(h))
    with open(os.path.join(ROOT, "lib/command/command_table.inc"), "w") as f:
        f.write("\n".join(out))
    print("wrote %d commands, %d subcommands" %
          (len(top), len(ids) - len(top)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=7190)
    ap.add_argument("--record", metavar="DIR")
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args()
    if not 7190 <= args.port <= 7199:
        sys.exit("use a port in 7190-7199")

    workdir = tempfile.mkdtemp(prefix="sg-gen-")
    proc = start_server(args.port, workdir)
    try:
        version = query(args.port, "INFO", "server")
        version = [l.split(":", 1)[1] for l in version.splitlines()
                   if l.startswith("redis_version:")][0]
        reply = query(args.port, "COMMAND")
        docs = query(args.port, "COMMAND", "DOCS")
        if args.record:
            record(args.port, args.record)
    finally:
        stop_server(proc)
        shutil.rmtree(workdir, ignore_errors=True)

    cmds = {}
    for c in reply:
        cmd = command_from_reply(c)
        cmds[cmd["name"]] = cmd
    docs = pairs(docs)
    for name, d in docs.items():
        d = pairs(d)
        c = cmds[name]
        c["since"], c["group"] = d.get("since"), d.get("group")
        subdocs = pairs(d.get("subcommands", []))
        if set(subdocs) != set(c["subs"]):
            sys.exit("%s: COMMAND and COMMAND DOCS disagree on subcommands"
                     % name)
        for sn, sd in subdocs.items():
            sd = pairs(sd)
            c["subs"][sn]["since"] = sd.get("since")
            c["subs"][sn]["group"] = sd.get("group")

    with open(os.path.join(ROOT, "scripts/command-overlay.yaml")) as f:
        overlay = yaml.safe_load(f)
    for e in overlay.get("extra_commands", []):
        cmd = command_from_overlay(e)
        if "|" in cmd["name"]:
            parent = cmd["name"].split("|")[0]
            if cmd["name"] in cmds[parent]["subs"]:
                sys.exit("overlay: %s already exists" % cmd["name"])
            cmds[parent]["subs"][cmd["name"]] = cmd
        else:
            if cmd["name"] in cmds:
                sys.exit("overlay: %s already exists" % cmd["name"])
            cmds[cmd["name"]] = cmd
    allc = apply_routes(cmds, overlay.get("routes", {}))

    if args.report:
        for n in sorted(allc):
            c = allc[n]
            if c["default"][0] in ("fanout", "split") and \
                    (c["route"], c["merge"]) != c["default"]:
                print("%-24s tips give %s/%s, we use %s/%s"
                      % ((n,) + c["default"] + (c["route"], c["merge"])))
    write_outputs(cmds, version)


if __name__ == "__main__":
    main()
