/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/cluster topology pictures and lib/resp's control-path decoder, fed
 * with CLUSTER SHARDS / CLUSTER SLOTS replies recorded from a real
 * redis-server 7.0 cluster (3 primaries, 3 replicas; the .bin files in data/) and with
 * hostile variants.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "sg_cluster.h"
#include "sg_resp.h"
#include "sg_unit.h"

#ifndef DATA_DIR
#error DATA_DIR must name tests/unit/cluster/data
#endif

static char *
slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", DATA_DIR, name);
	f = fopen(path, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	CU_ASSERT_EQUAL_FATAL(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Decodes a recorded reply placed against a guard page. */
static struct sg_resp_value *
decode_file(const char *name, struct sg_guard *g)
{
	struct sg_resp_value *v = NULL;
	size_t len, used = 0;
	char *raw = slurp(name, &len);

	*g = sg_guard_copy(raw, len);
	free(raw);
	CU_ASSERT_EQUAL_FATAL(sg_resp_decode(g->data, len, &v, &used), 0);
	CU_ASSERT_EQUAL(used, len);
	return v;
}

static const char *
zone_by_port(void *ctx, const char *ip, uint16_t port)
{
	(void)ctx;
	(void)ip;
	return port % 2 == 0 ? "az-even" : "az-odd";
}

/* The recorded cluster: every slot served, 3 shards of primary+replica. */
static void
check_cluster(const struct sg_cluster_topology *t)
{
	unsigned primaries = 0, replicas = 0;

	CU_ASSERT_EQUAL(t->nshards, 3);
	CU_ASSERT_EQUAL(t->nnodes, 6);
	CU_ASSERT_EQUAL(t->slots_served, SG_CLUSTER_SLOTS);
	for (unsigned s = 0; s < SG_CLUSTER_SLOTS; s++) {
		uint16_t p = sg_cluster_slot_primary(t, (uint16_t)s);

		CU_ASSERT_NOT_EQUAL_FATAL(p, SG_CLUSTER_NONE);
		CU_ASSERT_EQUAL(t->node[p].role, SG_CLUSTER_PRIMARY);
		CU_ASSERT_TRUE(t->node[p].port >= 7700 && t->node[p].port <= 7705);
	}
	for (uint16_t i = 0; i < t->nnodes; i++) {
		const struct sg_cluster_node *n = &t->node[i];

		CU_ASSERT_EQUAL(strlen(n->id), 40);
		CU_ASSERT_STRING_EQUAL(n->ip, "127.0.0.1");
		CU_ASSERT_EQUAL(n->ipv4, htonl(0x7f000001));
		CU_ASSERT_STRING_EQUAL(n->zone, n->port % 2 == 0 ? "az-even" : "az-odd");
		CU_ASSERT_NOT_EQUAL(n->shard, SG_CLUSTER_NONE);
		if (n->role == SG_CLUSTER_PRIMARY)
			primaries++;
		else
			replicas++;
	}
	CU_ASSERT_EQUAL(primaries, 3);
	CU_ASSERT_EQUAL(replicas, 3);
	for (uint16_t s = 0; s < t->nshards; s++) {
		CU_ASSERT_EQUAL(t->shard[s].nreplicas, 1);
		CU_ASSERT_EQUAL(t->node[t->shard[s].replica[0]].shard, s);
	}
	CU_ASSERT_EQUAL(t->shard[0].nslots + t->shard[1].nslots + t->shard[2].nslots,
			SG_CLUSTER_SLOTS);
}

static void
test_shards_resp2_and_resp3(void)
{
	const char *files[] = { "shards-resp2.bin", "shards-resp3.bin" };

	for (int i = 0; i < 2; i++) {
		struct sg_cluster_topology *t = NULL;
		struct sg_guard g;
		struct sg_resp_value *v = decode_file(files[i], &g);
		char err[128] = "";

		CU_ASSERT_EQUAL_FATAL(sg_cluster_topology_from_shards(v, zone_by_port, NULL,
								      &t, err, sizeof(err)), 0);
		check_cluster(t);
		CU_ASSERT_NOT_EQUAL(sg_cluster_topology_find(t, "127.0.0.1", 7703), SG_CLUSTER_NONE);
		CU_ASSERT_EQUAL(sg_cluster_topology_find(t, "127.0.0.1", 7999), SG_CLUSTER_NONE);
		sg_cluster_topology_free(t);
		sg_resp_value_free(v);
		sg_guard_free(&g);
	}
}

static void
test_slots_matches_shards(void)
{
	struct sg_cluster_topology *a = NULL, *b = NULL;
	struct sg_guard g1, g2;
	struct sg_resp_value *v1 = decode_file("shards-resp2.bin", &g1);
	struct sg_resp_value *v2 = decode_file("slots-resp2.bin", &g2);
	char err[128];

	CU_ASSERT_EQUAL_FATAL(sg_cluster_topology_from_shards(v1, NULL, NULL, &a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(sg_cluster_topology_from_slots(v2, zone_by_port, NULL, &b, err, sizeof(err)), 0);
	check_cluster(b);
	/* both pictures send every slot to the same primary */
	for (unsigned s = 0; s < SG_CLUSTER_SLOTS; s++) {
		uint16_t pa = sg_cluster_slot_primary(a, (uint16_t)s);
		uint16_t pb = sg_cluster_slot_primary(b, (uint16_t)s);

		CU_ASSERT_STRING_EQUAL_FATAL(a->node[pa].id, b->node[pb].id);
	}
	sg_cluster_topology_free(a);
	sg_cluster_topology_free(b);
	sg_resp_value_free(v1);
	sg_resp_value_free(v2);
	sg_guard_free(&g1);
	sg_guard_free(&g2);
}

/* Builds a topology from RESP text; returns the rc, err filled. */
static int
from_text(const char *resp, bool shards, struct sg_cluster_topology **t, char *err,
	  size_t errlen)
{
	struct sg_guard g = sg_guard_copy(resp, strlen(resp));
	struct sg_resp_value *v = NULL;
	int rc = sg_resp_decode(g.data, strlen(resp), &v, NULL);

	if (rc == 0)
		rc = shards ? sg_cluster_topology_from_shards(v, NULL, NULL, t, err, errlen) :
			      sg_cluster_topology_from_slots(v, NULL, NULL, t, err, errlen);
	sg_resp_value_free(v);
	sg_guard_free(&g);
	return rc;
}

#define NODE(id, port, role, health)                                          \
	"*14\r\n$2\r\nid\r\n$40\r\n" id "\r\n$4\r\nport\r\n:" port "\r\n"          \
	"$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n"      \
	"$4\r\nrole\r\n$" role "\r\n$18\r\nreplication-offset\r\n:0\r\n"           \
	"$6\r\nhealth\r\n$" health "\r\n"
#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define MASTER "6\r\nmaster"
#define REPLICA "7\r\nreplica"
#define ONLINE "6\r\nonline"
#define FAILED "6\r\nfailed"

static void
test_failover_in_progress(void)
{
	/* The old primary failed and is still listed as master next to the
	 * promoted one: the live one serves. */
	const char *resp = "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*2\r\n"
		NODE(ID_A, "7000", MASTER, FAILED) NODE(ID_B, "7001", MASTER, ONLINE);
	struct sg_cluster_topology *t = NULL;
	char err[128] = "";

	CU_ASSERT_EQUAL_FATAL(from_text(resp, true, &t, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(t->node[sg_cluster_slot_primary(t, 42)].id, ID_B);
	CU_ASSERT_EQUAL(t->slots_served, SG_CLUSTER_SLOTS);
	sg_cluster_topology_free(t);
}

static void
test_failed_primary_serves_nothing(void)
{
	const char *resp = "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:99\r\n$5\r\nnodes\r\n*2\r\n"
		NODE(ID_A, "7000", MASTER, FAILED) NODE(ID_B, "7001", REPLICA, ONLINE);
	struct sg_cluster_topology *t = NULL;
	char err[128] = "";

	CU_ASSERT_EQUAL_FATAL(from_text(resp, true, &t, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(sg_cluster_slot_primary(t, 5), SG_CLUSTER_NONE);
	CU_ASSERT_EQUAL(sg_cluster_slot_primary(t, 100), SG_CLUSTER_NONE); /* unassigned */
	CU_ASSERT_EQUAL(t->slots_served, 0);
	sg_cluster_topology_free(t);
}

static void
test_hostile_topologies(void)
{
	static const struct {
		const char *resp;
		bool shards;
		const char *err_has;
	} cases[] = {
		{ "+OK\r\n", true, "expected an array" },
		{ "*1\r\n*2\r\n$5\r\nslots\r\n*2\r\n:0\r\n:10\r\n", true, "without slots and nodes" },
		{ "*1\r\n*4\r\n$5\r\nslots\r\n*1\r\n:0\r\n$5\r\nnodes\r\n*0\r\n", true, "odd number" },
		{ "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16384\r\n$5\r\nnodes\r\n*0\r\n", true,
		  "out of 0-16383" },
		{ "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:10\r\n:5\r\n$5\r\nnodes\r\n*0\r\n", true,
		  "out of 0-16383" },
		{ "*2\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:10\r\n$5\r\nnodes\r\n*0\r\n"
		  "*4\r\n$5\r\nslots\r\n*2\r\n:10\r\n:20\r\n$5\r\nnodes\r\n*0\r\n", true,
		  "claimed by two shards" },
		{ "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:1\r\n$5\r\nnodes\r\n*1\r\n*2\r\n$2\r\nid\r\n$1\r\nx\r\n",
		  true, "without id or role" },
		{ "*1\r\n*3\r\n:0\r\n:100\r\n*2\r\n$9\r\n127.0.0.1\r\n:70000\r\n", false, "bad port" },
		{ "*1\r\n*3\r\n:0\r\n:100\r\n+nope\r\n", false, "not [ip, port, id]" },
		{ "*1\r\n*2\r\n:0\r\n:100\r\n", false, "not [start, end, node...]" },
	};

	for (size_t i = 0; i < SG_ARRAY_SIZE(cases); i++) {
		struct sg_cluster_topology *t = NULL;
		char err[160] = "";
		int rc = from_text(cases[i].resp, cases[i].shards, &t, err, sizeof(err));

		CU_ASSERT_EQUAL(rc, -EINVAL);
		CU_ASSERT_PTR_NULL(t);
		if (strstr(err, cases[i].err_has) == NULL) {
			fprintf(stderr, "case %zu: error \"%s\" lacks the expected words\n", i, err);
			CU_FAIL("error message");
		}
	}
}

/* ---- the decoder ---- */

static void
test_decode_shapes(void)
{
	const char *resp = "%2\r\n+a\r\n*3\r\n:1\r\n$-1\r\n_\r\n$1\r\nb\r\n~1\r\n#t\r\n";
	struct sg_guard g = sg_guard_copy(resp, strlen(resp));
	struct sg_resp_value *v = NULL;
	const struct sg_resp_value *x;
	size_t used;

	CU_ASSERT_EQUAL_FATAL(sg_resp_decode(g.data, strlen(resp), &v, &used), 0);
	CU_ASSERT_EQUAL(used, strlen(resp));
	CU_ASSERT_EQUAL(v->type, SG_RESP_MAP);
	CU_ASSERT_EQUAL(v->nelem, 4);
	x = sg_resp_value_get(v, "A");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(x->type, SG_RESP_ARRAY);
	CU_ASSERT_EQUAL(x->nelem, 3);
	CU_ASSERT_EQUAL(x->elem[0].integer, 1);
	CU_ASSERT_TRUE(x->elem[1].is_null);
	CU_ASSERT_TRUE(x->elem[2].is_null);
	x = sg_resp_value_get(v, "b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(x->type, SG_RESP_SET);
	CU_ASSERT_EQUAL(x->elem[0].integer, 1);
	CU_ASSERT_PTR_NULL(sg_resp_value_get(v, "c"));
	sg_resp_value_free(v);
	sg_guard_free(&g);
}

static void
test_decode_hostile(void)
{
	static const char *bad[] = {
		"",
		"*2\r\n:1\r\n",			/* short */
		"$5\r\nab\r\n",			/* bulk shorter than said */
		"$2\r\nabXY",			/* no CRLF after the payload */
		"*99999999\r\n",		/* more elements than bytes */
		"|1\r\n+a\r\n+b\r\n+c\r\n",	/* attributes: not on this path */
		":12a\r\n",
		"#x\r\n",
		"?\r\n",
	};
	char deep[SG_RESP_MAX_DEPTH * 4 + 16];
	struct sg_resp_value *v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < SG_ARRAY_SIZE(bad); i++) {
		struct sg_guard g = sg_guard_copy(bad[i], strlen(bad[i]));

		CU_ASSERT_EQUAL(sg_resp_decode(g.data, strlen(bad[i]), &v, NULL), -EPROTO);
		sg_guard_free(&g);
	}
	for (int i = 0; i < SG_RESP_MAX_DEPTH; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "*1\r\n");
	n += (size_t)snprintf(deep + n, sizeof(deep) - n, ":1\r\n");
	CU_ASSERT_EQUAL(sg_resp_decode(deep, n, &v, NULL), -E2BIG);
}

static const struct sg_unit_test topology_tests[] = {
	{ "recorded CLUSTER SHARDS, RESP2 and RESP3", test_shards_resp2_and_resp3 },
	{ "recorded CLUSTER SLOTS agrees with SHARDS", test_slots_matches_shards },
	{ "failover in progress: the live primary serves", test_failover_in_progress },
	{ "a failed primary serves nothing", test_failed_primary_serves_nothing },
	{ "hostile topologies are refused with a reason", test_hostile_topologies },
	{ NULL, NULL },
};

static const struct sg_unit_test decode_tests[] = {
	{ "decoder: maps, arrays, nulls, sets, booleans", test_decode_shapes },
	{ "decoder: hostile inputs", test_decode_hostile },
	{ NULL, NULL },
};

SG_UNIT_MAIN({ "topology", topology_tests }, { "decode", decode_tests })
