/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sg_command.h: what shardgate knows about each command.
 *
 * For a proxy the command metadata is the routing table: which arguments
 * are keys, whether the command writes, and how to split a request and
 * merge the replies when its keys live on several shards. The built-in
 * table covers every command of Redis 7.0 and Valkey 8 with their
 * subcommands ("client|setname"); a backend's own COMMAND reply can be
 * merged in at run time so module and newer commands route by the key
 * specs the server declares.
 *
 * Lookups are case-insensitive and allocation-free. A table is immutable
 * once built: a refreshed table is a new object (published by the caller,
 * e.g. through RCU).
 *
 * libc and lib/common only.
 */
#ifndef SG_COMMAND_H
#define SG_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Command flags, as the servers declare them (COMMAND INFO), plus ours. */
#define SG_CMD_F_WRITE		(1ull << 0)
#define SG_CMD_F_READONLY	(1ull << 1)
#define SG_CMD_F_DENYOOM	(1ull << 2)
#define SG_CMD_F_ADMIN		(1ull << 3)
#define SG_CMD_F_PUBSUB		(1ull << 4)
#define SG_CMD_F_NOSCRIPT	(1ull << 5)
#define SG_CMD_F_BLOCKING	(1ull << 6)
#define SG_CMD_F_LOADING	(1ull << 7)
#define SG_CMD_F_STALE		(1ull << 8)
#define SG_CMD_F_SKIP_MONITOR	(1ull << 9)
#define SG_CMD_F_SKIP_SLOWLOG	(1ull << 10)
#define SG_CMD_F_ASKING		(1ull << 11)
#define SG_CMD_F_FAST		(1ull << 12)
#define SG_CMD_F_NO_AUTH	(1ull << 13)
#define SG_CMD_F_MAY_REPLICATE	(1ull << 14)
#define SG_CMD_F_NO_MANDATORY_KEYS (1ull << 15)
#define SG_CMD_F_NO_MULTI	(1ull << 16)
#define SG_CMD_F_MOVABLE_KEYS	(1ull << 17)
#define SG_CMD_F_ALLOW_BUSY	(1ull << 18)
#define SG_CMD_F_NONDETERMINISTIC (1ull << 19)	/* tip: nondeterministic_output */
#define SG_CMD_F_CONTAINER	(1ull << 20)	/* has subcommands */
#define SG_CMD_F_DYNAMIC	(1ull << 21)	/* learnt from a backend's COMMAND */

/* How the proxy routes a command. */
enum sg_command_route {
	SG_ROUTE_KEY = 0,	/* all keys in one slot: its owner; else CROSSSLOT */
	SG_ROUTE_SPLIT,		/* keys may span slots: one part per slot, merged */
	SG_ROUTE_FANOUT,	/* every primary, replies merged */
	SG_ROUTE_ANY,		/* no key: any primary */
	SG_ROUTE_PROXY,		/* answered by the proxy itself */
	SG_ROUTE_PIN,		/* pins the session to a dedicated connection */
	SG_ROUTE_REFUSE,	/* refused: see `refuse_reason` */
};

/* How the parts' replies become one (SPLIT and FANOUT). */
enum sg_command_merge {
	SG_MERGE_NONE = 0,
	SG_MERGE_BY_KEY,	/* MGET: one element per key, request order */
	SG_MERGE_SUM,		/* integers added (DEL, EXISTS, DBSIZE...) */
	SG_MERGE_ALL_OK,	/* every part OK -> OK; else the first error */
	SG_MERGE_CONCAT,	/* arrays concatenated (KEYS) */
	SG_MERGE_FIRST,		/* any one reply (SCRIPT LOAD: same everywhere) */
	SG_MERGE_AGREE,		/* all replies must be equal, else an error */
	SG_MERGE_AND,		/* element-wise logical AND of integer arrays */
	SG_MERGE_OR,		/* element-wise logical OR */
	SG_MERGE_MIN,
	SG_MERGE_MAX,
	SG_MERGE_SPECIAL,	/* the proxy has code for it (SCAN, INFO...) */
};

/* Where to start looking for keys (a Redis 7 key spec's begin_search). */
enum sg_command_ks_begin {
	SG_KS_BEGIN_NONE = 0,
	SG_KS_BEGIN_INDEX,	/* at argument `index` */
	SG_KS_BEGIN_KEYWORD,	/* after `keyword`, searching from `index`
				 * (negative: from the end, backwards) */
};

/* How to find the keys from there (find_keys). */
enum sg_command_ks_find {
	SG_KS_FIND_NONE = 0,
	SG_KS_FIND_RANGE,	/* lastkey (relative, -1 = last arg), keystep,
				 * limit (0 = none; else 1/limit of what is left) */
	SG_KS_FIND_KEYNUM,	/* count at keynumidx (relative), keys from
				 * firstkey (relative), every keystep */
};

struct sg_command_keyspec {
	uint8_t begin;		/* enum sg_command_ks_begin */
	uint8_t find;		/* enum sg_command_ks_find */
	uint8_t flags;		/* SG_KS_F_* */
	int32_t index;
	const char *keyword;	/* lower case */
	int32_t lastkey;	/* RANGE */
	int32_t keystep;	/* RANGE and KEYNUM */
	int32_t limit;		/* RANGE */
	int32_t keynumidx;	/* KEYNUM */
	int32_t firstkey;	/* KEYNUM */
};

#define SG_KS_F_WRITE		0x01	/* the key is written (RW, OW, RM...) */
#define SG_KS_F_INCOMPLETE	0x02	/* may not find every key */
#define SG_KS_F_NOT_KEY		0x04	/* not a key but hashed like one: the
					 * shard channel of SPUBLISH/SSUBSCRIBE */

#define SG_COMMAND_MAX_KEYSPECS 4

/* Limits on what sg_command_table_merge accepts from a backend. */
#define SG_COMMAND_NAME_MAX	64	/* bytes in a name, "container|sub" */
#define SG_COMMAND_MAX_COMMANDS	4096	/* top-level commands in a reply */
#define SG_COMMAND_MAX_SUBS	256	/* subcommands of one container */
#define SG_COMMAND_MAX_REPLY	(16u << 20)	/* bytes of a COMMAND reply */
#define SG_COMMAND_MAX_ARGPOS	(1 << 20)	/* any index in a key spec */

struct sg_command {
	const char *name;	/* lower case: "get", "client|setname" */
	uint16_t id;		/* enum sg_command_id for built-ins */
	int32_t arity;		/* > 0 exact, < 0 at least -arity (name included) */
	uint64_t flags;		/* SG_CMD_F_* */
	uint8_t route;		/* enum sg_command_route */
	uint8_t merge;		/* enum sg_command_merge */
	uint8_t nkeyspecs;
	struct sg_command_keyspec keyspecs[SG_COMMAND_MAX_KEYSPECS];
	const char *refuse_reason;	/* ROUTE_REFUSE: the words after "ERR " */
	const struct sg_command *parent;	/* for subcommands */
	const struct sg_command *subs;	/* CONTAINER: its subcommands */
	uint16_t nsubs;
};

/*
 * enum sg_command_id: one value per built-in command and subcommand,
 * SG_CMD_<NAME> and SG_CMD_<CONTAINER>_<SUB> ("client|setname" ->
 * SG_CMD_CLIENT_SETNAME), generated with the table; SG_CMD_UNKNOWN (0)
 * for commands learnt at run time.
 */
#include "sg_command_ids.h"

struct sg_command_table;

/* The built-in table: a static object, never freed. */
const struct sg_command_table *sg_command_builtin(void);

/*
 * A new table: the built-in commands, with the commands of a backend's
 * COMMAND reply (the raw RESP2 or RESP3 reply bytes) merged in. A command
 * the reply describes replaces the built-in one's arity, flags and key
 * specs but keeps its routing policy; an unknown one is added with the
 * routing its key specs imply (keys -> KEY, none -> ANY; a command the
 * server flags "blocking" -> PIN, so that it never holds up a shared
 * backend connection), SG_CMD_F_DYNAMIC set and id SG_CMD_UNKNOWN. A
 * subcommand the reply adds to a built-in container is added the same
 * way; built-in commands the reply does not mention stay as they are.
 * Both RESP2 (flat name/value arrays) and RESP3 (maps, sets) forms are
 * read, as is the pre-7.0 shape without key specs (first/last/step).
 * Every count and length is checked against the SG_COMMAND_* limits.
 * Returns 0 and *out, or -EINVAL with a message in `err` (NUL-terminated,
 * `errlen` bytes at most) when the reply is malformed, -ENOMEM.
 */
int sg_command_table_merge(const char *reply, size_t len,
			   struct sg_command_table **out, char *err,
			   size_t errlen);
void sg_command_table_free(struct sg_command_table *t);

/* The entry for a built-in command or subcommand id in `t` (the merged
 * copy for a merged table), or NULL for SG_CMD_UNKNOWN or out of range. */
const struct sg_command *sg_command_by_id(const struct sg_command_table *t,
					  unsigned id);

/* Number of top-level commands in `t` (for COMMAND COUNT). */
size_t sg_command_table_count(const struct sg_command_table *t);
/* The i-th top-level command, for iteration (COMMAND, COMMAND LIST), in
 * name order; NULL when i is out of range. */
const struct sg_command *sg_command_table_at(const struct sg_command_table *t,
					     size_t i);

/* The command called `name` (any case), or NULL. No allocation, no
 * scan: one hash of the name and a probe or two in an open-addressing
 * index. */
const struct sg_command *sg_command_lookup(const struct sg_command_table *t,
					   const char *name, size_t len);

/* The subcommand `name` ("setname", without the container) of container
 * `c` (any case), or NULL. Binary search over the sorted subcommands. */
const struct sg_command *sg_command_lookup_sub(const struct sg_command *c,
					       const char *name, size_t len);

/* The command a request runs: its first argument, and for containers
 * the subcommand in its second. Returns NULL when unknown; *container
 * (when not NULL) is set to the container when only the subcommand is
 * unknown, so the caller can say which. */
const struct sg_command *sg_command_find(const struct sg_command_table *t,
					 const struct sg_arg *argv,
					 uint32_t argc,
					 const struct sg_command **container);

/* True when argc (the name included) satisfies the command's arity: equal
 * to a positive arity, at least -arity for a negative one; an arity of 0
 * (a module that declared none) accepts any argc > 0. */
bool sg_command_arity_ok(const struct sg_command *c, uint32_t argc);

/*
 * Finds the key arguments of a request for `c`, by its key specs.
 * Writes their indexes into argv (ascending, each once) to keys[] and
 * returns how many (0 for keyless commands). Returns -EINVAL when the
 * arguments contradict the spec (numkeys not a number, negative, or
 * past the end), -E2BIG when there are more than `max` keys. Arguments
 * with a NULL ptr are never read here except through their length.
 *
 * The key specs are followed the way the server follows them (Redis
 * getKeysUsingKeySpecs), with these choices:
 *  - NOT_KEY arguments (shard channels) are included: they choose the
 *    slot like keys do;
 *  - a keyword that is absent, a numkeys of 0, or a "to the end" range
 *    with nothing left all give no keys from that spec, not an error;
 *  - specs the server marks unknown (SORT's STORE, MIGRATE's KEYS) are
 *    completed by our own code for SORT and MIGRATE, as the server's
 *    COMMAND GETKEYS does; for other commands they find nothing.
 */
int sg_command_keys(const struct sg_command *c, const struct sg_arg *argv,
		    uint32_t argc, uint32_t *keys, uint32_t max);

/*
 * For SPLIT commands: how arguments group per key. A part of a split
 * request is the command name (and any fixed prefix) followed by whole
 * groups: MGET/DEL/EXISTS: 1 (the key), MSET/MSETNX: 2 (key value).
 * `first` is the index of the first key. The shape comes from the key
 * specs: one spec, at a fixed index, running to the last argument in
 * steps of `group`. Returns 0, or -EINVAL for commands whose keys do not
 * have that shape. Whether a command is split is its `route`; the caller
 * still checks that the arguments after `first` are whole groups.
 */
int sg_command_split_shape(const struct sg_command *c, uint32_t *first,
			   uint32_t *group);

#ifdef __cplusplus
}
#endif

#endif /* SG_COMMAND_H */
