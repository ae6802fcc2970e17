/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/command: lookups, arity, key extraction, routing policy, merging
 * of COMMAND replies (recorded from a real redis-server, hand-made module
 * entries, malformed replies).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sg_command.h"
#include "sg_unit.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

#define MAX_ARGS 64

/* A request, each argument on its own guard page. */
struct req {
	uint32_t argc;
	struct sg_arg argv[MAX_ARGS];
	struct sg_guard g[MAX_ARGS];
};

/* Words separated by spaces; "" is the empty argument. */
static void
req_make(struct req *r, const char *line)
{
	const char *p = line;

	r->argc = 0;
	while (*p) {
		const char *w;
		size_t n;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		w = p;
		while (*p && *p != ' ')
			p++;
		n = (size_t)(p - w);
		if (n == 2 && w[0] == '"' && w[1] == '"')
			n = 0;
		CU_ASSERT_FATAL(r->argc < MAX_ARGS);
		r->g[r->argc] = sg_guard_copy(w, n);
		r->argv[r->argc].ptr = r->g[r->argc].data;
		r->argv[r->argc].len = n;
		r->argv[r->argc].off = 0;
		r->argc++;
	}
}

static void
req_free(struct req *r)
{
	for (uint32_t i = 0; i < r->argc; i++)
		sg_guard_free(&r->g[i]);
	r->argc = 0;
}

static const struct sg_command *
find(const struct sg_command_table *t, const char *line)
{
	struct req r;
	const struct sg_command *c;

	req_make(&r, line);
	c = sg_command_find(t, r.argv, r.argc, NULL);
	req_free(&r);
	return c;
}

/* The key positions of a request as "1 3 4", or "EINVAL" / "E2BIG". */
static const char *
keys_of_max(const struct sg_command_table *t, const char *line, uint32_t max)
{
	static char out[512];
	uint32_t keys[MAX_ARGS];
	const struct sg_command *c;
	struct req r;
	size_t o = 0;
	int n;

	req_make(&r, line);
	c = sg_command_find(t, r.argv, r.argc, NULL);
	if (c == NULL) {
		req_free(&r);
		return "UNKNOWN";
	}
	n = sg_command_keys(c, r.argv, r.argc, keys, max);
	req_free(&r);
	if (n == -EINVAL)
		return "EINVAL";
	if (n == -E2BIG)
		return "E2BIG";
	if (n < 0)
		return "ERROR";
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%u",
				      i ? " " : "", keys[i]);
	return out;
}

static const char *
keys_of(const struct sg_command_table *t, const char *line)
{
	return keys_of_max(t, line, MAX_ARGS);
}

/* A growable byte buffer. */
struct buf {
	char *p;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_addf(struct buf *b, const char *fmt, ...) SG_PRINTF(2, 3);

static void
buf_addf(struct buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	buf_add(b, tmp, (size_t)n);
}

/*
 * A small notation for RESP values, so replies in tests stay readable:
 *   [a b c]  array        {k v ...}  map (RESP3 %, RESP2 flat array)
 *   <a b>    set (RESP3 ~, RESP2 *)   -12  integer   word  bulk string
 *   nil      null         +word      simple string    ""  empty
 */
static void
resp_value(struct buf *out, const char **s, bool resp3)
{
	const char *p = *s;
	char open, close;

	while (*p == ' ' || *p == '\n' || *p == '\t')
		p++;
	open = *p;
	if (open == '[' || open == '{' || open == '<') {
		struct buf kids = { 0 };
		size_t n = 0;

		close = open == '[' ? ']' : open == '{' ? '}' : '>';
		p++;
		for (;;) {
			while (*p == ' ' || *p == '\n' || *p == '\t')
				p++;
			if (*p == close || *p == '\0')
				break;
			resp_value(&kids, &p, resp3);
			n++;
		}
		if (*p == close)
			p++;
		if (open == '{' && resp3)
			buf_addf(out, "%%%zu\r\n", n / 2);
		else if (open == '<' && resp3)
			buf_addf(out, "~%zu\r\n", n);
		else
			buf_addf(out, "*%zu\r\n", n);
		if (kids.len)
			buf_add(out, kids.p, kids.len);
		free(kids.p);
	} else {
		const char *w = p;
		bool num = true;
		size_t n;

		while (*p && !strchr(" \n\t[]{}<>", *p))
			p++;
		n = (size_t)(p - w);
		for (size_t i = 0; i < n; i++) {
			if (!isdigit((unsigned char)w[i]) && !(i == 0 && w[i] == '-' && n > 1))
				num = false;
		}
		if (n == 2 && memcmp(w, "\"\"", 2) == 0)
			buf_add(out, "$0\r\n\r\n", 6);
		else if (n == 3 && memcmp(w, "nil", 3) == 0)
			buf_add(out, resp3 ? "_\r\n" : "$-1\r\n",
				resp3 ? 3 : 5);
		else if (num && n > 0)
			buf_addf(out, ":%.*s\r\n", (int)n, w);
		else if (n > 0 && w[0] == '+')
			buf_addf(out, "%.*s\r\n", (int)n, w);
		else
			buf_addf(out, "$%zu\r\n%.*s\r\n", n, (int)n, w);
	}
	*s = p;
}

static struct buf
resp(const char *notation, bool resp3)
{
	struct buf b = { 0 };
	const char *p = notation;

	resp_value(&b, &p, resp3);
	return b;
}

/* Merges `len` bytes placed right before a guard page. */
static int
merge_guarded(const char *reply, size_t len, struct sg_command_table **t,
	      char *err, size_t errlen)
{
	struct sg_guard g = sg_guard_copy(reply, len);
	int rc = sg_command_table_merge(g.data, len, t, err, errlen);

	sg_guard_free(&g);
	return rc;
}

static struct buf
read_file(const char *name)
{
	char path[512];
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", COMMAND_DATA_DIR, name);
	f = fopen(path, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return b;
}

/* ------------------------------------------------------------------ */
/* Lookups                                                             */
/* ------------------------------------------------------------------ */

static void
random_case(char *dst, const char *src, unsigned *seed)
{
	size_t i;

	for (i = 0; src[i]; i++) {
		*seed = *seed * 1103515245u + 12345u;
		dst[i] = ((*seed >> 16) & 1) ? (char)toupper((unsigned char)src[i])
					     : src[i];
	}
	dst[i] = '\0';
}

static void
test_lookup_every_builtin(void)
{
	const struct sg_command_table *t = sg_command_builtin();
	size_t n = sg_command_table_count(t), nsubs = 0;
	unsigned seed = 7;
	char name[SG_COMMAND_NAME_MAX + 1];

	CU_ASSERT(n >= 240);
	for (size_t i = 0; i < n; i++) {
		const struct sg_command *c = sg_command_table_at(t, i);

		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		if (i > 0)
			CU_ASSERT(strcmp(sg_command_table_at(t, i - 1)->name,
					 c->name) < 0);
		for (int k = 0; k < 3; k++) {
			random_case(name, c->name, &seed);
			CU_ASSERT_PTR_EQUAL(sg_command_lookup(t, name,
							      strlen(name)), c);
		}
		CU_ASSERT_NOT_EQUAL(c->id, SG_CMD_UNKNOWN);
		CU_ASSERT_PTR_EQUAL(sg_command_by_id(t, c->id), c);
		CU_ASSERT_PTR_NULL(c->parent);
		CU_ASSERT_EQUAL(c->nsubs > 0,
				(c->flags & SG_CMD_F_CONTAINER) != 0);
		for (uint16_t j = 0; j < c->nsubs; j++) {
			const struct sg_command *s = &c->subs[j];
			const char *sub = strchr(s->name, '|');

			CU_ASSERT_PTR_NOT_NULL_FATAL(sub);
			CU_ASSERT_PTR_EQUAL(s->parent, c);
			random_case(name, sub + 1, &seed);
			CU_ASSERT_PTR_EQUAL(sg_command_lookup_sub(c, name,
								  strlen(name)), s);
			CU_ASSERT_PTR_EQUAL(sg_command_by_id(t, s->id), s);
			/* a subcommand is not a top-level name */
			CU_ASSERT_PTR_NULL(sg_command_lookup(t, s->name,
							     strlen(s->name)));
			nsubs++;
		}
	}
	CU_ASSERT(nsubs >= 130);
	CU_ASSERT_EQUAL(n + nsubs, SG_CMD_ID_COUNT - 1);
	CU_ASSERT_PTR_NULL(sg_command_table_at(t, n));
	CU_ASSERT_PTR_NULL(sg_command_by_id(t, SG_CMD_UNKNOWN));
	CU_ASSERT_PTR_NULL(sg_command_by_id(t, SG_CMD_ID_COUNT));
}

static void
test_lookup_unknown(void)
{
	const struct sg_command_table *t = sg_command_builtin();
	char longname[SG_COMMAND_NAME_MAX + 2];
	const struct sg_command *get = sg_command_lookup(t, "get", 3);

	CU_ASSERT_PTR_NOT_NULL_FATAL(get);
	CU_ASSERT_EQUAL(get->id, SG_CMD_GET);
	CU_ASSERT_PTR_NULL(sg_command_lookup(t, "", 0));
	CU_ASSERT_PTR_NULL(sg_command_lookup(t, NULL, 3));
	CU_ASSERT_PTR_NULL(sg_command_lookup(t, "ge", 2));
	CU_ASSERT_PTR_NULL(sg_command_lookup(t, "gett", 4));
	CU_ASSERT_PTR_NULL(sg_command_lookup(t, "get\0", 4));
	CU_ASSERT_PTR_NULL(sg_command_lookup(t, "g\0t", 3));
	CU_ASSERT_PTR_NULL(sg_command_lookup(t, "nosuchcommand", 13));
	CU_ASSERT_PTR_NULL(sg_command_lookup(t, "client|setname", 14));
	memset(longname, 'a', sizeof(longname));
	CU_ASSERT_PTR_NULL(sg_command_lookup(t, longname, sizeof(longname)));
	/* the name is read only within its length */
	CU_ASSERT_PTR_EQUAL(sg_command_lookup(t, "GETRANGE", 3), get);
	CU_ASSERT_PTR_NULL(sg_command_lookup_sub(get, "x", 1));
	CU_ASSERT_PTR_NULL(sg_command_lookup_sub(NULL, "x", 1));
}

static void
test_lookup_guarded(void)
{
	const struct sg_command_table *t = sg_command_builtin();
	const char *names[] = { "GET", "zunionstore", "Client", "x", "" };

	for (size_t i = 0; i < SG_ARRAY_SIZE(names); i++) {
		size_t n = strlen(names[i]);
		struct sg_guard g = sg_guard_copy(names[i], n);
		const struct sg_command *c = sg_command_lookup(t, g.data, n);

		CU_ASSERT_EQUAL(c != NULL, n > 1);
		sg_guard_free(&g);
	}
}

static void
test_find_subcommands(void)
{
	const struct sg_command_table *t = sg_command_builtin();
	const struct sg_command *c, *cont = (const void *)1;
	struct req r;

	c = find(t, "CLIENT SetName foo");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->name, "client|setname");
	CU_ASSERT_EQUAL(c->id, SG_CMD_CLIENT_SETNAME);
	CU_ASSERT_STRING_EQUAL(c->parent->name, "client");
	CU_ASSERT_EQUAL(find(t, "config get maxmemory")->id, SG_CMD_CONFIG_GET);
	CU_ASSERT_EQUAL(find(t, "xinfo stream s")->id, SG_CMD_XINFO_STREAM);
	CU_ASSERT_EQUAL(find(t, "cluster slot-stats slotsrange 0 1")->id,
			SG_CMD_CLUSTER_SLOT_STATS);
	CU_ASSERT_EQUAL(find(t, "commandlog get 10 slow")->id,
			SG_CMD_COMMANDLOG_GET);
	/* a container alone is itself (its arity then decides) */
	CU_ASSERT_EQUAL(find(t, "client")->id, SG_CMD_CLIENT);
	CU_ASSERT_EQUAL(find(t, "command")->id, SG_CMD_COMMAND);
	/* a plain command ignores its second argument */
	CU_ASSERT_EQUAL(find(t, "get setname")->id, SG_CMD_GET);

	req_make(&r, "client nosuchsub x");
	CU_ASSERT_PTR_NULL(sg_command_find(t, r.argv, r.argc, &cont));
	CU_ASSERT_PTR_NOT_NULL_FATAL(cont);
	CU_ASSERT_STRING_EQUAL(cont->name, "client");
	req_free(&r);
	req_make(&r, "nosuch setname");
	CU_ASSERT_PTR_NULL(sg_command_find(t, r.argv, r.argc, &cont));
	CU_ASSERT_PTR_NULL(cont);
	req_free(&r);
	req_make(&r, "client setname x");
	CU_ASSERT_PTR_NOT_NULL(sg_command_find(t, r.argv, r.argc, &cont));
	CU_ASSERT_PTR_NULL(cont);
	/* a subcommand too long to have been copied (NULL ptr) */
	r.argv[1].ptr = NULL;
	r.argv[1].len = 100000;
	CU_ASSERT_PTR_NULL(sg_command_find(t, r.argv, r.argc, &cont));
	CU_ASSERT_PTR_EQUAL(cont, find(t, "client"));
	req_free(&r);
	CU_ASSERT_PTR_NULL(sg_command_find(t, NULL, 0, NULL));
}

static void
test_arity(void)
{
	const struct sg_command_table *t = sg_command_builtin();
	const struct sg_command *get = find(t, "get"), *mget = find(t, "mget");
	const struct sg_command *set = find(t, "set");
	const struct sg_command *sn = find(t, "client setname x");

	CU_ASSERT_EQUAL(get->arity, 2);
	CU_ASSERT_FALSE(sg_command_arity_ok(get, 1));
	CU_ASSERT_TRUE(sg_command_arity_ok(get, 2));
	CU_ASSERT_FALSE(sg_command_arity_ok(get, 3));
	CU_ASSERT_EQUAL(mget->arity, -2);
	CU_ASSERT_FALSE(sg_command_arity_ok(mget, 1));
	CU_ASSERT_TRUE(sg_command_arity_ok(mget, 2));
	CU_ASSERT_TRUE(sg_command_arity_ok(mget, 1000));
	CU_ASSERT_FALSE(sg_command_arity_ok(set, 2));
	CU_ASSERT_TRUE(sg_command_arity_ok(set, 3));
	CU_ASSERT_TRUE(sg_command_arity_ok(set, 6));
	CU_ASSERT_TRUE(sg_command_arity_ok(sn, 3));
	CU_ASSERT_FALSE(sg_command_arity_ok(sn, 2));
	CU_ASSERT_FALSE(sg_command_arity_ok(sn, 4));
	/* Valkey additions carry their arity too */
	CU_ASSERT_TRUE(sg_command_arity_ok(find(t, "client capa redirect"), 3));
	CU_ASSERT_FALSE(sg_command_arity_ok(find(t, "client capa"), 2));
	CU_ASSERT_TRUE(sg_command_arity_ok(find(t, "waitaof 1 0 0"), 4));
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */
/* ------------------------------------------------------------------ */

static const struct {
	const char *req;
	const char *keys;
} key_cases[] = {
	{ "GET k", "1" },
	{ "SET k v GET", "1" },
	{ "MGET a b c", "1 2 3" },
	{ "MSET a 1 b 2", "1 3" },
	{ "MSET a 1 b", "1 3" },
	{ "DEL a b", "1 2" },
	{ "TOUCH a", "1" },
	{ "RENAME a b", "1 2" },
	{ "LMOVE a b LEFT RIGHT", "1 2" },
	{ "SMOVE a b m", "1 2" },
	{ "BITOP AND d a b", "2 3 4" },
	{ "LCS a b", "1 2" },
	{ "PFMERGE d a b", "1 2 3" },
	{ "SINTERSTORE d a b", "1 2 3" },
	{ "COPY a b DB 0", "1 2" },
	{ "RESTORE k 0 payload", "1" },
	{ "ZRANGESTORE d s 0 -1", "1 2" },
	{ "GEOSEARCHSTORE d s FROMMEMBER m BYRADIUS 1 km", "1 2" },
	/* blocking: keys then a timeout (lastkey -2) */
	{ "BLPOP a b 0", "1 2" },
	{ "BRPOPLPUSH a b 0", "1 2" },
	{ "BZPOPMIN a b 0", "1 2" },
	/* keynum */
	{ "ZUNIONSTORE d 2 a b WEIGHTS 1 2", "1 3 4" },
	{ "ZINTERSTORE d 1 a", "1 3" },
	{ "ZDIFFSTORE d 2 a b", "1 3 4" },
	{ "ZUNION 2 a b", "2 3" },
	{ "ZINTER 2 a b WITHSCORES", "2 3" },
	{ "ZDIFF 1 a WITHSCORES", "2" },
	{ "EVAL s 2 k1 k2 a1", "3 4" },
	{ "EVAL s 0 a", "" },
	{ "EVAL_RO s 1 k", "3" },
	{ "EVALSHA sha 1 k", "3" },
	{ "EVALSHA_RO sha 1 k a", "3" },
	{ "FCALL f 2 a b", "3 4" },
	{ "FCALL_RO f 1 a", "3" },
	{ "LMPOP 2 a b LEFT COUNT 2", "2 3" },
	{ "BLMPOP 0 2 a b LEFT", "3 4" },
	{ "ZMPOP 1 z MIN", "2" },
	{ "BZMPOP 1 1 z MIN", "3" },
	{ "SINTERCARD 2 a b LIMIT 1", "2 3" },
	{ "ZINTERCARD 2 a b", "2 3" },
	{ "ZUNIONSTORE d 3 a b", "EINVAL" },
	{ "ZUNIONSTORE d x a", "EINVAL" },
	{ "ZUNIONSTORE d -1 a", "EINVAL" },
	{ "ZUNIONSTORE d 01 a", "EINVAL" },
	{ "ZUNIONSTORE d", "EINVAL" },
	{ "EVAL s 99999999999999999999 k", "EINVAL" },
	/* keyword + range with a limit: XREAD keys are the first half */
	{ "XREAD COUNT 2 STREAMS a b 0 0", "4 5" },
	{ "XREAD BLOCK 0 STREAMS a $", "4" },
	{ "XREAD STREAMS a b c 0 0 0", "2 3 4" },
	{ "xread streams streams 0", "2" },
	{ "XREADGROUP GROUP g c COUNT 1 STREAMS s1 s2 > >", "7 8" },
	{ "XREADGROUP GROUP g c STREAMS streams 0", "5" },
	{ "XREAD COUNT 1 STREAMS", "" },
	/* keyword with a fixed range: GEORADIUS STORE / STOREDIST */
	{ "GEORADIUS k 0 0 1 km STORE d", "1 7" },
	{ "GEORADIUS k 0 0 1 km STOREDIST d", "1 7" },
	{ "GEORADIUS k 0 0 1 km WITHDIST", "1" },
	{ "GEORADIUS k 0 0 1 km STORE s STOREDIST t", "1 7 9" },
	{ "GEORADIUSBYMEMBER k m 1 km STORE d", "1 6" },
	{ "GEORADIUS_RO k 0 0 1 km", "1" },
	/* SORT's STORE, found by our own walk of its options */
	{ "SORT k", "1" },
	{ "SORT k BY w GET x LIMIT 0 1 STORE d", "1 10" },
	{ "SORT k STORE d1 STORE d2", "1 5" },
	{ "SORT k LIMIT store 1 ALPHA", "1" },
	{ "SORT k GET store", "1" },
	{ "SORT k STORE", "1" },
	{ "SORT_RO k BY w", "1" },
	/* MIGRATE: one key, or KEYS after an empty key */
	{ "MIGRATE h p k 0 5", "3" },
	{ "MIGRATE h p k 0 5 COPY REPLACE", "3" },
	{ "MIGRATE h p \"\" 0 5 COPY AUTH keys KEYS a b", "10 11" },
	{ "MIGRATE h p \"\" 0 5 AUTH2 u keys KEYS a", "10" },
	{ "MIGRATE h p k 0 5 KEYS a", "EINVAL" },
	/* subcommands */
	{ "OBJECT FREQ k", "2" },
	{ "MEMORY USAGE k SAMPLES 5", "2" },
	{ "XINFO STREAM s FULL", "2" },
	{ "XGROUP CREATE s g $", "2" },
	{ "CLIENT SETNAME x", "" },
	/* shard channels choose the slot like keys do */
	{ "SPUBLISH ch m", "1" },
	{ "SSUBSCRIBE a b", "1 2" },
	{ "SUNSUBSCRIBE", "" },
	{ "PUBLISH ch m", "" },
	{ "WATCH a b", "1 2" },
	{ "PING", "" },
	{ "KEYS *", "" },
};

static void
test_keys_tricky(void)
{
	const struct sg_command_table *t = sg_command_builtin();

	for (size_t i = 0; i < SG_ARRAY_SIZE(key_cases); i++) {
		const char *got = keys_of(t, key_cases[i].req);

		if (strcmp(got, key_cases[i].keys) != 0)
			fprintf(stderr, "\n  %s: got \"%s\", want \"%s\"",
				key_cases[i].req, got, key_cases[i].keys);
		CU_ASSERT_STRING_EQUAL(got, key_cases[i].keys);
	}
}

static void
test_keys_limits(void)
{
	const struct sg_command_table *t = sg_command_builtin();
	const struct sg_command *mget = find(t, "mget"), *eval;
	struct sg_arg argv[1001];
	uint32_t keys[1000];
	struct req r;

	CU_ASSERT_STRING_EQUAL(keys_of_max(t, "MGET a b c", 2), "E2BIG");
	CU_ASSERT_STRING_EQUAL(keys_of_max(t, "MGET a b c", 3), "1 2 3");
	CU_ASSERT_STRING_EQUAL(keys_of_max(t, "GET a", 0), "E2BIG");
	CU_ASSERT_STRING_EQUAL(keys_of_max(t, "PING", 0), "");

	argv[0] = (struct sg_arg){ "MGET", 0, 4 };
	for (int i = 1; i <= 1000; i++)
		argv[i] = (struct sg_arg){ "k", 0, 1 };
	CU_ASSERT_EQUAL(sg_command_keys(mget, argv, 1001, keys, 1000), 1000);
	CU_ASSERT_EQUAL(keys[0], 1);
	CU_ASSERT_EQUAL(keys[999], 1000);
	CU_ASSERT_EQUAL(sg_command_keys(mget, argv, 1001, keys, 999), -E2BIG);
	CU_ASSERT_EQUAL(sg_command_keys(mget, argv, 0, keys, 999), -EINVAL);

	/* NULL ptr arguments: a numkeys that was not copied is no number */
	req_make(&r, "EVAL s 1 k");
	eval = sg_command_find(t, r.argv, r.argc, NULL);
	r.argv[2].ptr = NULL;
	CU_ASSERT_EQUAL(sg_command_keys(eval, r.argv, r.argc, keys, 10),
			-EINVAL);
	req_free(&r);
	/* ... and a keyword that was not copied is no keyword */
	req_make(&r, "XREAD STREAMS a 0");
	r.argv[1].ptr = NULL;
	CU_ASSERT_EQUAL(sg_command_keys(find(t, "xread"), r.argv, r.argc,
					keys, 10), 0);
	req_free(&r);
}

/* ------------------------------------------------------------------ */
/* Routing policy                                                      */
/* ------------------------------------------------------------------ */

struct route_case {
	const char *req;
	uint8_t route;
	uint8_t merge;
};

static const struct route_case route_cases[] = {
	{ "get k", SG_ROUTE_KEY, SG_MERGE_NONE },
	{ "mget a", SG_ROUTE_SPLIT, SG_MERGE_BY_KEY },
	{ "mset a 1", SG_ROUTE_SPLIT, SG_MERGE_ALL_OK },
	{ "del a", SG_ROUTE_SPLIT, SG_MERGE_SUM },
	{ "unlink a", SG_ROUTE_SPLIT, SG_MERGE_SUM },
	{ "exists a", SG_ROUTE_SPLIT, SG_MERGE_SUM },
	{ "touch a", SG_ROUTE_SPLIT, SG_MERGE_SUM },
	{ "msetnx a 1", SG_ROUTE_KEY, SG_MERGE_NONE },
	{ "dbsize", SG_ROUTE_FANOUT, SG_MERGE_SUM },
	{ "keys *", SG_ROUTE_FANOUT, SG_MERGE_CONCAT },
	{ "flushall", SG_ROUTE_FANOUT, SG_MERGE_ALL_OK },
	{ "flushdb", SG_ROUTE_FANOUT, SG_MERGE_ALL_OK },
	{ "script load x", SG_ROUTE_FANOUT, SG_MERGE_FIRST },
	{ "script exists x", SG_ROUTE_FANOUT, SG_MERGE_AND },
	{ "script flush", SG_ROUTE_FANOUT, SG_MERGE_ALL_OK },
	{ "function load x", SG_ROUTE_FANOUT, SG_MERGE_FIRST },
	{ "function delete x", SG_ROUTE_FANOUT, SG_MERGE_ALL_OK },
	{ "function flush", SG_ROUTE_FANOUT, SG_MERGE_ALL_OK },
	{ "function restore x", SG_ROUTE_FANOUT, SG_MERGE_ALL_OK },
	{ "randomkey", SG_ROUTE_FANOUT, SG_MERGE_SPECIAL },
	{ "scan 0", SG_ROUTE_FANOUT, SG_MERGE_SPECIAL },
	{ "info", SG_ROUTE_PROXY, SG_MERGE_NONE },	/* the proxy's own figures */
	{ "wait 1 0", SG_ROUTE_FANOUT, SG_MERGE_MIN },
	{ "pubsub channels", SG_ROUTE_FANOUT, SG_MERGE_SPECIAL },
	{ "pubsub numsub a", SG_ROUTE_FANOUT, SG_MERGE_SPECIAL },
	{ "pubsub shardchannels", SG_ROUTE_FANOUT, SG_MERGE_SPECIAL },
	{ "ping", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "echo x", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "hello 3", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "auth pw", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "select 0", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "quit", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "reset", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "readonly", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "client setname x", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "client id", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "client no-touch on", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "cluster slots", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "cluster shards", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "cluster myshardid", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "cluster keyslot k", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "command", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "command getkeys get k", SG_ROUTE_PROXY, SG_MERGE_NONE },
	{ "multi", SG_ROUTE_PIN, SG_MERGE_NONE },
	{ "exec", SG_ROUTE_PIN, SG_MERGE_NONE },
	{ "watch k", SG_ROUTE_PIN, SG_MERGE_NONE },
	{ "blpop k 0", SG_ROUTE_PIN, SG_MERGE_NONE },
	{ "bzmpop 0 1 k min", SG_ROUTE_PIN, SG_MERGE_NONE },
	{ "subscribe c", SG_ROUTE_PIN, SG_MERGE_NONE },
	{ "ssubscribe c", SG_ROUTE_PIN, SG_MERGE_NONE },
	{ "client tracking on", SG_ROUTE_PIN, SG_MERGE_NONE },
	{ "xread streams s 0", SG_ROUTE_KEY, SG_MERGE_NONE },
	{ "spublish c m", SG_ROUTE_KEY, SG_MERGE_NONE },
	{ "time", SG_ROUTE_ANY, SG_MERGE_NONE },
	{ "lolwut", SG_ROUTE_ANY, SG_MERGE_NONE },
	{ "publish c m", SG_ROUTE_ANY, SG_MERGE_NONE },
	{ "config get x", SG_ROUTE_ANY, SG_MERGE_NONE },
	{ "shutdown", SG_ROUTE_REFUSE, SG_MERGE_NONE },
	{ "config set a b", SG_ROUTE_REFUSE, SG_MERGE_NONE },
	{ "monitor", SG_ROUTE_REFUSE, SG_MERGE_NONE },
	{ "migrate h p k 0 5", SG_ROUTE_REFUSE, SG_MERGE_NONE },
	{ "cluster addslots 1", SG_ROUTE_REFUSE, SG_MERGE_NONE },
	{ "acl setuser u", SG_ROUTE_REFUSE, SG_MERGE_NONE },
	{ "module load x", SG_ROUTE_REFUSE, SG_MERGE_NONE },
	{ "swapdb 0 1", SG_ROUTE_REFUSE, SG_MERGE_NONE },
	{ "move k 1", SG_ROUTE_REFUSE, SG_MERGE_NONE },
};

static void
test_routing_policy(void)
{
	const struct sg_command_table *t = sg_command_builtin();

	for (size_t i = 0; i < SG_ARRAY_SIZE(route_cases); i++) {
		const struct sg_command *c = find(t, route_cases[i].req);

		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		if (c->route != route_cases[i].route ||
		    c->merge != route_cases[i].merge)
			fprintf(stderr, "\n  %s: route %u merge %u",
				route_cases[i].req, c->route, c->merge);
		CU_ASSERT_EQUAL(c->route, route_cases[i].route);
		CU_ASSERT_EQUAL(c->merge, route_cases[i].merge);
	}
	CU_ASSERT(find(t, "xread streams s 0")->flags & SG_CMD_F_BLOCKING);
	CU_ASSERT(find(t, "blpop k 0")->flags & SG_CMD_F_BLOCKING);
	CU_ASSERT(find(t, "set k v")->flags & SG_CMD_F_WRITE);
	CU_ASSERT(find(t, "get k")->flags & SG_CMD_F_READONLY);
	CU_ASSERT(find(t, "get k")->flags & SG_CMD_F_FAST);
	CU_ASSERT(find(t, "spop k")->flags & SG_CMD_F_NONDETERMINISTIC);
	CU_ASSERT(find(t, "set k v")->keyspecs[0].flags & SG_KS_F_WRITE);
	CU_ASSERT_FALSE(find(t, "get k")->keyspecs[0].flags & SG_KS_F_WRITE);
	CU_ASSERT(find(t, "spublish c m")->keyspecs[0].flags & SG_KS_F_NOT_KEY);
	CU_ASSERT_PTR_NOT_NULL(strstr(find(t, "shutdown")->refuse_reason,
				      "SHUTDOWN"));
	CU_ASSERT_PTR_NOT_NULL(strstr(find(t, "config set a b")->refuse_reason,
				      "CONFIG SET"));
}

/* Rules that hold for every command of the table. */
static void
check_invariants(const struct sg_command *c)
{
	uint32_t first, group;
	bool keyed = false;

	for (unsigned i = 0; i < c->nkeyspecs; i++) {
		const struct sg_command_keyspec *ks = &c->keyspecs[i];

		if (ks->begin != SG_KS_BEGIN_NONE)
			keyed = true;
		if (ks->begin == SG_KS_BEGIN_KEYWORD)
			CU_ASSERT_PTR_NOT_NULL(ks->keyword);
		if (ks->find != SG_KS_FIND_NONE)
			CU_ASSERT(ks->keystep >= 1);
	}
	CU_ASSERT_EQUAL(c->route == SG_ROUTE_REFUSE, c->refuse_reason != NULL);
	if (c->route == SG_ROUTE_REFUSE)
		CU_ASSERT(strlen(c->refuse_reason) > 10);
	if (c->route == SG_ROUTE_SPLIT) {
		CU_ASSERT_EQUAL(sg_command_split_shape(c, &first, &group), 0);
		CU_ASSERT_NOT_EQUAL(c->merge, SG_MERGE_NONE);
	}
	if (c->route == SG_ROUTE_FANOUT)
		CU_ASSERT_NOT_EQUAL(c->merge, SG_MERGE_NONE);
	if (c->route == SG_ROUTE_KEY || c->route == SG_ROUTE_ANY)
		CU_ASSERT_EQUAL(c->merge, SG_MERGE_NONE);
	/* a keyed command is never sent to just any node */
	if (keyed && c->route == SG_ROUTE_ANY)
		fprintf(stderr, "\n  %s: keyed but ANY", c->name);
	CU_ASSERT_FALSE(keyed && c->route == SG_ROUTE_ANY);
	/* blocking commands never block a shared connection */
	if ((c->flags & SG_CMD_F_BLOCKING) && c->route == SG_ROUTE_KEY)
		CU_ASSERT(c->id == SG_CMD_XREAD || c->id == SG_CMD_XREADGROUP);
}

static void
test_table_invariants(void)
{
	const struct sg_command_table *t = sg_command_builtin();

	for (size_t i = 0; i < sg_command_table_count(t); i++) {
		const struct sg_command *c = sg_command_table_at(t, i);

		check_invariants(c);
		for (uint16_t j = 0; j < c->nsubs; j++)
			check_invariants(&c->subs[j]);
	}
}

static void
test_split_shape(void)
{
	const struct sg_command_table *t = sg_command_builtin();
	uint32_t first = 0, group = 0;

	CU_ASSERT_EQUAL(sg_command_split_shape(find(t, "mget"), &first, &group), 0);
	CU_ASSERT_EQUAL(first, 1);
	CU_ASSERT_EQUAL(group, 1);
	CU_ASSERT_EQUAL(sg_command_split_shape(find(t, "mset"), &first, &group), 0);
	CU_ASSERT_EQUAL(first, 1);
	CU_ASSERT_EQUAL(group, 2);
	CU_ASSERT_EQUAL(sg_command_split_shape(find(t, "msetnx"), &first, &group), 0);
	CU_ASSERT_EQUAL(group, 2);
	CU_ASSERT_EQUAL(sg_command_split_shape(find(t, "del"), &first, &group), 0);
	CU_ASSERT_EQUAL(group, 1);
	CU_ASSERT_EQUAL(sg_command_split_shape(find(t, "exists"), &first, &group), 0);
	CU_ASSERT_EQUAL(sg_command_split_shape(find(t, "get"), &first, &group),
			-EINVAL);
	CU_ASSERT_EQUAL(sg_command_split_shape(find(t, "blpop"), &first, &group),
			-EINVAL);
	CU_ASSERT_EQUAL(sg_command_split_shape(find(t, "zunionstore"), &first,
					       &group), -EINVAL);
	CU_ASSERT_EQUAL(sg_command_split_shape(find(t, "ping"), &first, &group),
			-EINVAL);
}

/* ------------------------------------------------------------------ */
/* Merge: a real reply                                                 */
/* ------------------------------------------------------------------ */

static void
same_command(const struct sg_command *a, const struct sg_command *b)
{
	CU_ASSERT_STRING_EQUAL(a->name, b->name);
	CU_ASSERT_EQUAL(a->id, b->id);
	CU_ASSERT_EQUAL(a->arity, b->arity);
	if (a->flags != b->flags)
		fprintf(stderr, "\n  %s: flags %llx != %llx", a->name,
			(unsigned long long)a->flags,
			(unsigned long long)b->flags);
	CU_ASSERT_EQUAL(a->flags, b->flags);
	CU_ASSERT_EQUAL(a->route, b->route);
	CU_ASSERT_EQUAL(a->merge, b->merge);
	CU_ASSERT_EQUAL(a->nsubs, b->nsubs);
	CU_ASSERT_EQUAL(a->refuse_reason == NULL, b->refuse_reason == NULL);
	CU_ASSERT_EQUAL_FATAL(a->nkeyspecs, b->nkeyspecs);
	for (unsigned i = 0; i < a->nkeyspecs; i++) {
		const struct sg_command_keyspec *x = &a->keyspecs[i];
		const struct sg_command_keyspec *y = &b->keyspecs[i];

		CU_ASSERT_EQUAL(x->begin, y->begin);
		CU_ASSERT_EQUAL(x->find, y->find);
		CU_ASSERT_EQUAL(x->flags, y->flags);
		CU_ASSERT_EQUAL(x->index, y->index);
		CU_ASSERT_EQUAL(x->lastkey, y->lastkey);
		CU_ASSERT_EQUAL(x->keystep, y->keystep);
		CU_ASSERT_EQUAL(x->limit, y->limit);
		CU_ASSERT_EQUAL(x->keynumidx, y->keynumidx);
		CU_ASSERT_EQUAL(x->firstkey, y->firstkey);
		CU_ASSERT_EQUAL(x->keyword == NULL, y->keyword == NULL);
		if (x->keyword && y->keyword)
			CU_ASSERT_STRING_EQUAL(x->keyword, y->keyword);
	}
}

/*
 * The built-in table was generated from the same server: merging its
 * reply must change nothing, command by command. This checks the C
 * reader against the generator (two independent readings of COMMAND).
 */
static void
check_recorded(const char *file)
{
	const struct sg_command_table *b = sg_command_builtin();
	struct sg_command_table *t = NULL;
	struct buf reply = read_file(file);
	char err[256];
	int rc;

	rc = merge_guarded(reply.p, reply.len, &t, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "\n  %s: %s", file, err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(sg_command_table_count(t), sg_command_table_count(b));
	for (size_t i = 0; i < sg_command_table_count(t); i++) {
		const struct sg_command *c = sg_command_table_at(t, i);
		const struct sg_command *o = sg_command_table_at(b, i);

		CU_ASSERT_PTR_NOT_EQUAL(c, o);
		same_command(c, o);
		CU_ASSERT_PTR_EQUAL(sg_command_lookup(t, c->name,
						      strlen(c->name)), c);
		CU_ASSERT_PTR_EQUAL(sg_command_by_id(t, c->id), c);
		CU_ASSERT_FALSE(c->flags & SG_CMD_F_DYNAMIC);
		for (uint16_t j = 0; j < c->nsubs; j++) {
			same_command(&c->subs[j], &o->subs[j]);
			CU_ASSERT_PTR_EQUAL(c->subs[j].parent, c);
			CU_ASSERT_PTR_EQUAL(sg_command_by_id(t, c->subs[j].id),
					    &c->subs[j]);
		}
	}
	/* the merged table answers key questions the same way */
	for (size_t i = 0; i < SG_ARRAY_SIZE(key_cases); i++)
		CU_ASSERT_STRING_EQUAL(keys_of(t, key_cases[i].req),
				       key_cases[i].keys);
	sg_command_table_free(t);
	free(reply.p);
}

static void
test_merge_recorded_resp2(void)
{
	check_recorded("command-resp2.bin");
}

static void
test_merge_recorded_resp3(void)
{
	check_recorded("command-resp3.bin");
}

/* Every proper prefix of a real reply is truncated: -EINVAL, a message,
 * no read past the end. */
static void
test_merge_truncated(void)
{
	struct buf reply = read_file("command-resp3.bin");
	struct sg_command_table *t = (void *)1;
	char err[256];

	for (size_t len = 0; len < reply.len;
	     len += len < 3000 ? 1 : 61 + len % 7) {
		int rc = merge_guarded(reply.p, len, &t, err, sizeof(err));

		CU_ASSERT_EQUAL_FATAL(rc, -EINVAL);
		CU_ASSERT_PTR_NULL(t);
		CU_ASSERT(strlen(err) > 0);
	}
	free(reply.p);
}

/* ------------------------------------------------------------------ */
/* Merge: module and newer commands                                    */
/* ------------------------------------------------------------------ */

#define KS_INDEX_RANGE(flags, idx, last, step, limit)                      \
	"{flags <" flags "> begin_search {type index spec {index " #idx "}}" \
	" find_keys {type range spec {lastkey " #last " keystep " #step     \
	" limit " #limit "}}}"

static const char module_reply[] =
	"["
	/* RedisJSON: key at 1 */
	" [json.set -4 <+write +denyoom> 1 1 1 <@json> <> ["
	KS_INDEX_RANGE("RW update", 1, 0, 1, 0) "] <>]"
	/* RedisBloom */
	" [bf.add 3 <+write +denyoom +fast> 1 1 1 <> <> ["
	KS_INDEX_RANGE("RW insert", 1, 0, 1, 0) "] <>]"
	/* RediSearch: the index name is not a key */
	" [ft.search -3 <+readonly> 0 0 0 <> <> [] <>]"
	/* a blocking module command */
	" [mod.bwait -3 <+readonly +blocking> 1 1 1 <> <> ["
	KS_INDEX_RANGE("RO", 1, 0, 1, 0) "] <>]"
	/* keyword + keynum: mod.multi x y KEYS 2 a b */
	" [mod.multi -4 <+write +movablekeys> 0 0 0 <> <nondeterministic_output> ["
	"{notes {a note} flags <RW> begin_search {type keyword spec {keyword"
	" KEYS startfrom 1}} find_keys {type keynum spec {keynumidx 0 firstkey"
	" 1 keystep 1}}}] <>]"
	/* an existing command, changed: GET now takes 2 arguments */
	" [get -2 <+readonly> 1 1 1 <> <> ["
	KS_INDEX_RANGE("RO access", 1, 0, 1, 0) "] <>]"
	/* a container of our own, and a new subcommand of CLIENT */
	" [mod.cfg -2 <> 0 0 0 <> <> [] ["
	"  [mod.cfg|set 4 <+admin> 0 0 0 <> <> [] <>]"
	"  [mod.cfg|getkey 3 <+readonly> 2 2 1 <> <> ["
	KS_INDEX_RANGE("RO", 2, 0, 1, 0) "] <>]]]"
	" [client -2 <> 0 0 0 <> <> [] ["
	"  [client|newsub 2 <+fast> 0 0 0 <> <> [] <>]"
	"  [client|setname 3 <+noscript +loading +stale> 0 0 0 <> <> [] <>]]]"
	/* a pre-7.0 entry: no tips, key specs or subcommands */
	" [old.cmd -3 <+write> 1 -1 2]"
	"]";

static void
check_module_table(const struct sg_command_table *t)
{
	const struct sg_command_table *b = sg_command_builtin();
	const struct sg_command *c;

	c = find(t, "JSON.SET k $ 1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->route, SG_ROUTE_KEY);
	CU_ASSERT_EQUAL(c->id, SG_CMD_UNKNOWN);
	CU_ASSERT(c->flags & SG_CMD_F_DYNAMIC);
	CU_ASSERT(c->flags & SG_CMD_F_WRITE);
	CU_ASSERT(c->keyspecs[0].flags & SG_KS_F_WRITE);
	CU_ASSERT_EQUAL(c->arity, -4);
	CU_ASSERT_STRING_EQUAL(keys_of(t, "JSON.SET k $ 1"), "1");
	CU_ASSERT_STRING_EQUAL(keys_of(t, "bf.add f x"), "1");
	CU_ASSERT_EQUAL(find(t, "bf.add f x")->route, SG_ROUTE_KEY);
	c = find(t, "FT.SEARCH idx q");
	CU_ASSERT_EQUAL(c->route, SG_ROUTE_ANY);
	CU_ASSERT_STRING_EQUAL(keys_of(t, "FT.SEARCH idx q"), "");
	CU_ASSERT_EQUAL(find(t, "mod.bwait k 0")->route, SG_ROUTE_PIN);
	c = find(t, "mod.multi x y");
	CU_ASSERT(c->flags & SG_CMD_F_NONDETERMINISTIC);
	CU_ASSERT_STRING_EQUAL(c->keyspecs[0].keyword, "keys");
	CU_ASSERT_STRING_EQUAL(keys_of(t, "mod.multi x y KEYS 2 a b"), "5 6");
	CU_ASSERT_STRING_EQUAL(keys_of(t, "mod.multi x y keys 3 a b"), "EINVAL");
	CU_ASSERT_STRING_EQUAL(keys_of(t, "mod.multi x y"), "");
	/* GET: new arity and specs, our routing kept */
	c = find(t, "get k");
	CU_ASSERT_EQUAL(c->arity, -2);
	CU_ASSERT_EQUAL(c->id, SG_CMD_GET);
	CU_ASSERT_EQUAL(c->route, SG_ROUTE_KEY);
	CU_ASSERT_FALSE(c->flags & SG_CMD_F_DYNAMIC);
	CU_ASSERT_FALSE(c->flags & SG_CMD_F_FAST);
	CU_ASSERT_EQUAL(find(b, "get k")->arity, 2);
	/* containers */
	c = find(t, "mod.cfg set a b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->name, "mod.cfg|set");
	CU_ASSERT_STRING_EQUAL(c->parent->name, "mod.cfg");
	CU_ASSERT(c->parent->flags & SG_CMD_F_CONTAINER);
	CU_ASSERT_EQUAL(c->route, SG_ROUTE_ANY);
	CU_ASSERT_STRING_EQUAL(keys_of(t, "MOD.CFG GETKEY k"), "2");
	CU_ASSERT_EQUAL(find(t, "mod.cfg getkey k")->route, SG_ROUTE_KEY);
	c = find(t, "client newsub");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT(c->flags & SG_CMD_F_DYNAMIC);
	CU_ASSERT_PTR_EQUAL(c->parent, find(t, "client"));
	/* built-in subcommands stay, with their policy */
	CU_ASSERT_EQUAL(find(t, "client setname x")->route, SG_ROUTE_PROXY);
	CU_ASSERT_EQUAL(find(t, "client setname x")->id, SG_CMD_CLIENT_SETNAME);
	CU_ASSERT_EQUAL(find(t, "client capa x")->id, SG_CMD_CLIENT_CAPA);
	CU_ASSERT_EQUAL(find(t, "client")->nsubs, find(b, "client")->nsubs + 1);
	CU_ASSERT_PTR_NULL(find(b, "client newsub"));
	/* pre-7.0 first/last/step */
	c = find(t, "old.cmd a 1 b 2");
	CU_ASSERT_EQUAL(c->nkeyspecs, 1);
	CU_ASSERT_STRING_EQUAL(keys_of(t, "old.cmd a 1 b 2"), "1 3");
	/* the rest of the table is still there */
	CU_ASSERT_EQUAL(sg_command_table_count(t),
			sg_command_table_count(b) + 7);
	CU_ASSERT_EQUAL(find(t, "mget a")->route, SG_ROUTE_SPLIT);
	CU_ASSERT_STRING_EQUAL(keys_of(t, "ZUNIONSTORE d 2 a b"), "1 3 4");
	for (size_t i = 1; i < sg_command_table_count(t); i++)
		CU_ASSERT(strcmp(sg_command_table_at(t, i - 1)->name,
				 sg_command_table_at(t, i)->name) < 0);
}

static void
test_merge_modules(void)
{
	for (int resp3 = 0; resp3 <= 1; resp3++) {
		struct buf r = resp(module_reply, resp3);
		struct sg_command_table *t = NULL;
		char err[256] = "";
		int rc;

		rc = merge_guarded(r.p, r.len, &t, err, sizeof(err));
		if (rc != 0)
			fprintf(stderr, "\n  resp%d: %s", resp3 ? 3 : 2, err);
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		CU_ASSERT_STRING_EQUAL(err, "");
		check_module_table(t);
		sg_command_table_free(t);
		free(r.p);
	}
}

static void
test_merge_empty(void)
{
	struct sg_command_table *t = NULL;
	char err[64];

	CU_ASSERT_EQUAL_FATAL(merge_guarded("*0\r\n", 4, &t, err, sizeof(err)),
			      0);
	CU_ASSERT_EQUAL(sg_command_table_count(t),
			sg_command_table_count(sg_command_builtin()));
	CU_ASSERT_EQUAL(find(t, "mset a 1")->route, SG_ROUTE_SPLIT);
	sg_command_table_free(t);
	sg_command_table_free(NULL);
	/* a reply larger than the limit is refused before it is read */
	CU_ASSERT_EQUAL(sg_command_table_merge("*0\r\n",
					       SG_COMMAND_MAX_REPLY + 1, &t,
					       err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "larger"));
	/* no room for a message is fine too */
	CU_ASSERT_EQUAL(merge_guarded("*", 1, &t, NULL, 0), -EINVAL);
}

/* ------------------------------------------------------------------ */
/* Merge: malformed replies                                            */
/* ------------------------------------------------------------------ */

#define GOOD_ENTRY "[x.y 2 <> 1 1 1 <> <> [" KS_INDEX_RANGE("RW", 1, 0, 1, 0) "] <>]"

#define LONG50 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LONG600 LONG50 LONG50 LONG50 LONG50 LONG50 LONG50 LONG50 LONG50 \
	LONG50 LONG50 LONG50 LONG50

static const struct {
	const char *what;
	const char *notation;	/* NULL: use raw */
	const char *raw;
} bad_replies[] = {
	{ "empty input", NULL, "" },
	{ "not an array", NULL, "+OK\r\n" },
	{ "an error", NULL, "-ERR unknown command\r\n" },
	{ "null array", NULL, "*-1\r\n" },
	{ "truncated header", NULL, "*1" },
	{ "CR without LF", NULL, "*1\r*0\r\n" },
	{ "count beyond the input", NULL, "*999999999\r\n" },
	{ "count beyond the limit", NULL, "*5000\r\n" },
	{ "bad count", NULL, "*1x\r\n" },
	{ "negative count", NULL, "*-2\r\n" },
	{ "huge bulk length", NULL,
	  "*1\r\n*6\r\n$99999999999999999999\r\nx\r\n" },
	{ "bulk without CRLF", NULL, "*1\r\n*6\r\n$3\r\nabcd\r\n" },
	{ "simple-string name too long", NULL,
	  "*1\r\n*6\r\n+" LONG50 LONG50 "\r\n" },
	{ "line longer than any header", NULL, "*1\r\n*6\r\n+" LONG600 "\r\n" },
	{ "trailing bytes", "[" GOOD_ENTRY "]", NULL },
	{ "entry too short", "[[x.y 2 <> 1 1]]", NULL },
	{ "entry not an array", "[x.y]", NULL },
	{ "name is a number", "[[7 2 <> 1 1 1]]", NULL },
	{ "empty name", "[[\"\" 2 <> 1 1 1]]", NULL },
	{ "null name", "[[nil 2 <> 1 1 1]]", NULL },
	{ "name with a pipe", "[[a|b 2 <> 1 1 1]]", NULL },
	{ "name starting with a pipe", "[[|ab 2 <> 1 1 1]]", NULL },
	{ "name too long", "[[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
	  "2 <> 1 1 1]]", NULL },
	{ "arity not a number", "[[x.y two <> 1 1 1]]", NULL },
	{ "arity out of range", "[[x.y 99999999999 <> 1 1 1]]", NULL },
	{ "flags not an array", "[[x.y 2 write 1 1 1]]", NULL },
	{ "flag not a string", "[[x.y 2 <1> 1 1 1]]", NULL },
	{ "tips not an array", "[[x.y 2 <> 1 1 1 <> 5 [] <>]]", NULL },
	{ "key specs not an array", "[[x.y 2 <> 1 1 1 <> <> 5 <>]]", NULL },
	{ "key spec odd map", "[[x.y 2 <> 1 1 1 <> <> [[flags]] <>]]", NULL },
	{ "key spec without find_keys",
	  "[[x.y 2 <> 1 1 1 <> <> [{flags <> begin_search {type index "
	    "spec {index 1}}}] <>]]", NULL },
	{ "begin_search unknown type",
	  "[[x.y 2 <> 1 1 1 <> <> [{flags <> begin_search {type nope "
	    "spec {}} find_keys {type range spec {lastkey 0 keystep 1 "
	    "limit 0}}}] <>]]", NULL },
	{ "begin_search index 0",
	  "[[x.y 2 <> 1 1 1 <> <> [" KS_INDEX_RANGE("RW", 0, 0, 1, 0) "] <>]]", NULL },
	{ "keystep 0",
	  "[[x.y 2 <> 1 1 1 <> <> [" KS_INDEX_RANGE("RW", 1, 0, 0, 0) "] <>]]", NULL },
	{ "negative limit",
	  "[[x.y 2 <> 1 1 1 <> <> [" KS_INDEX_RANGE("RW", 1, -1, 1, -2) "] <>]]", NULL },
	{ "index out of range",
	  "[[x.y 2 <> 1 1 1 <> <> [" KS_INDEX_RANGE("RW", 99999999, 0, 1, 0) "] <>]]", NULL },
	{ "range without lastkey",
	  "[[x.y 2 <> 1 1 1 <> <> [{flags <> begin_search {type index "
	    "spec {index 1}} find_keys {type range spec {keystep 1 limit "
	    "0}}}] <>]]", NULL },
	{ "keyword empty",
	  "[[x.y 2 <> 1 1 1 <> <> [{flags <> begin_search {type keyword "
	    "spec {keyword \"\" startfrom 1}} find_keys {type range spec "
	    "{lastkey 0 keystep 1 limit 0}}}] <>]]", NULL },
	{ "keyword startfrom 0",
	  "[[x.y 2 <> 1 1 1 <> <> [{flags <> begin_search {type keyword "
	    "spec {keyword K startfrom 0}} find_keys {type range spec "
	    "{lastkey 0 keystep 1 limit 0}}}] <>]]", NULL },
	{ "keynum without keynumidx",
	  "[[x.y 2 <> 1 1 1 <> <> [{flags <> begin_search {type index "
	    "spec {index 1}} find_keys {type keynum spec {firstkey 1 "
	    "keystep 1}}}] <>]]", NULL },
	{ "spec value not an integer",
	  "[[x.y 2 <> 1 1 1 <> <> [{flags <> begin_search {type index "
	    "spec {index one}} find_keys {type range spec {lastkey 0 "
	    "keystep 1 limit 0}}}] <>]]", NULL },
	{ "subcommand of another command",
	  "[[x.y -2 <> 0 0 0 <> <> [] [[z.w|a 2 <> 0 0 0 <> <> [] <>]]]]", NULL },
	{ "subcommand without a pipe",
	  "[[x.y -2 <> 0 0 0 <> <> [] [[x.ya 2 <> 0 0 0 <> <> [] <>]]]]", NULL },
	{ "subcommand with an empty name",
	  "[[x.y -2 <> 0 0 0 <> <> [] [[x.y| 2 <> 0 0 0 <> <> [] <>]]]]", NULL },
	{ "duplicate command", "[" GOOD_ENTRY " " GOOD_ENTRY "]", NULL },
	{ "duplicate built-in command",
	  "[[get 2 <> 1 1 1] [GET 2 <> 1 1 1]]", NULL },
	{ "duplicate subcommand",
	  "[[x.y -2 <> 0 0 0 <> <> [] [[x.y|a 2 <> 0 0 0] [x.y|A 2 <> 0 0 0]]]]", NULL },
	{ "duplicate built-in subcommand",
	  "[[client -2 <> 0 0 0 <> <> [] [[client|id 2 <> 0 0 0] [client|id 2 <> 0 0 0]]]]", NULL },
	{ "error inside", NULL,
	  "*1\r\n*7\r\n$3\r\nx.y\r\n:2\r\n*0\r\n:0\r\n:0\r\n:0\r\n-ERR x\r\n" },
};

static void
test_merge_malformed(void)
{
	for (size_t i = 0; i < SG_ARRAY_SIZE(bad_replies); i++) {
		for (int resp3 = 0; resp3 <= 1; resp3++) {
			struct sg_command_table *t = (void *)1;
			struct buf r = { 0 };
			char err[256] = "";
			int rc;

			if (bad_replies[i].notation != NULL) {
				r = resp(bad_replies[i].notation, resp3);
				if (strncmp(bad_replies[i].what, "trailing", 8)
				    == 0)
					buf_add(&r, ":1\r\n", 4);
			} else {
				buf_add(&r, bad_replies[i].raw,
					strlen(bad_replies[i].raw));
			}
			rc = merge_guarded(r.p ? r.p : "", r.len, &t, err,
					   sizeof(err));
			if (rc != -EINVAL || err[0] == '\0')
				fprintf(stderr, "\n  %s (resp%d): rc %d \"%s\"",
					bad_replies[i].what, resp3 ? 3 : 2,
					rc, err);
			CU_ASSERT_EQUAL(rc, -EINVAL);
			CU_ASSERT_PTR_NULL(t);
			CU_ASSERT(strlen(err) > 0);
			free(r.p);
		}
	}
}

/* More than SG_COMMAND_MAX_KEYSPECS: the first ones are kept, marked as
 * possibly missing keys; the message buffer is never overrun. */
static void
test_merge_edges(void)
{
	struct sg_command_table *t = NULL;
	struct buf r;
	char err[8];
	const struct sg_command *c;

	r = resp("[[many 5 <> 1 1 1 <> <> ["
		 KS_INDEX_RANGE("RW", 1, 0, 1, 0) " "
		 KS_INDEX_RANGE("RW", 2, 0, 1, 0) " "
		 KS_INDEX_RANGE("RW", 3, 0, 1, 0) " "
		 KS_INDEX_RANGE("RW", 4, 0, 1, 0) " "
		 KS_INDEX_RANGE("RW", 5, 0, 1, 0) "] <>]]", true);
	CU_ASSERT_EQUAL_FATAL(merge_guarded(r.p, r.len, &t, err, sizeof(err)), 0);
	c = find(t, "many a b c d e");
	CU_ASSERT_EQUAL(c->nkeyspecs, SG_COMMAND_MAX_KEYSPECS);
	CU_ASSERT(c->keyspecs[3].flags & SG_KS_F_INCOMPLETE);
	CU_ASSERT_STRING_EQUAL(keys_of(t, "many a b c d e"), "1 2 3 4");
	sg_command_table_free(t);
	free(r.p);

	CU_ASSERT_EQUAL(merge_guarded("+OK\r\n", 5, &t, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(strlen(err), sizeof(err) - 1);
}

static const struct sg_unit_test lookup_tests[] = {
	{ "every built-in name in random case", test_lookup_every_builtin },
	{ "unknown names", test_lookup_unknown },
	{ "names on a guard page", test_lookup_guarded },
	{ "subcommands and containers", test_find_subcommands },
	{ "arity", test_arity },
	{ NULL, NULL },
};

static const struct sg_unit_test key_tests[] = {
	{ "key specs of the tricky commands", test_keys_tricky },
	{ "limits and uncopied arguments", test_keys_limits },
	{ "split shapes", test_split_shape },
	{ NULL, NULL },
};

static const struct sg_unit_test policy_tests[] = {
	{ "routing of each kind", test_routing_policy },
	{ "rules every entry keeps", test_table_invariants },
	{ NULL, NULL },
};

static const struct sg_unit_test merge_tests[] = {
	{ "recorded redis 7.0 reply, RESP2", test_merge_recorded_resp2 },
	{ "recorded redis 7.0 reply, RESP3", test_merge_recorded_resp3 },
	{ "truncated replies", test_merge_truncated },
	{ "module and new commands", test_merge_modules },
	{ "empty reply", test_merge_empty },
	{ "malformed replies", test_merge_malformed },
	{ "too many key specs, short error buffer", test_merge_edges },
	{ NULL, NULL },
};

SG_UNIT_MAIN({ "lookup", lookup_tests }, { "keys", key_tests },
	     { "policy", policy_tests }, { "merge", merge_tests })
