/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Topology pictures from CLUSTER SHARDS and CLUSTER SLOTS replies.
 *
 * CLUSTER SHARDS (Redis 7+), per shard a map:
 *   slots: [start, end, start, end, ...]
 *   nodes: [ { id, port, ip, endpoint, role: master|replica,
 *              replication-offset, health: online|failed|loading }, ... ]
 * CLUSTER SLOTS, per slot range:
 *   [start, end, [ip, port, id, ...] (primary), [ip, port, id] (replicas)...]
 *
 * Both become the same struct sg_cluster_topology. Nodes are found by id
 * (a node listed in several ranges of CLUSTER SLOTS is one node).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sg_cluster.h"

struct builder {
	struct sg_cluster_topology *t;
	uint16_t cap_nodes;
	uint16_t cap_shards;
	sg_cluster_zone_fn zone;
	void *ctx;
	char *err;
	size_t errlen;
};

static int SG_PRINTF(2, 3)
fail(struct builder *b, const char *fmt, ...)
{
	va_list ap;

	if (b->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(b->err, b->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int
builder_init(struct builder *b, sg_cluster_zone_fn zone, void *ctx, char *err,
	     size_t errlen)
{
	memset(b, 0, sizeof(*b));
	b->zone = zone;
	b->ctx = ctx;
	b->err = err;
	b->errlen = errlen;
	b->t = calloc(1, sizeof(*b->t));
	if (b->t == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < SG_CLUSTER_SLOTS; i++)
		b->t->slot_shard[i] = SG_CLUSTER_NONE;
	return 0;
}

static bool
str_of(const struct sg_resp_value *v, char *dst, size_t cap)
{
	if (v == NULL || !sg_resp_value_is_str(v) || v->len >= cap)
		return false;
	memcpy(dst, v->str, v->len);
	dst[v->len] = '\0';
	return true;
}

/* Integers may come as integers or, from some servers, as strings. */
static bool
int_of(const struct sg_resp_value *v, int64_t *out)
{
	if (v == NULL)
		return false;
	if (v->type == SG_RESP_INTEGER) {
		*out = v->integer;
		return true;
	}
	return sg_resp_value_is_str(v) &&
	       sg_span_to_i64(sg_span_make(v->str, v->len), out) == 0;
}

static int
new_shard(struct builder *b, uint16_t *idx)
{
	struct sg_cluster_topology *t = b->t;

	if (t->nshards == b->cap_shards) {
		uint16_t cap = b->cap_shards ? b->cap_shards * 2 : 16;
		struct sg_cluster_shard *s;

		if (cap > SG_CLUSTER_MAX_NODES)
			return fail(b, "more than %d shards", SG_CLUSTER_MAX_NODES);
		s = realloc(t->shard, cap * sizeof(*s));
		if (s == NULL)
			return -ENOMEM;
		t->shard = s;
		b->cap_shards = cap;
	}
	*idx = t->nshards++;
	memset(&t->shard[*idx], 0, sizeof(t->shard[0]));
	t->shard[*idx].primary = SG_CLUSTER_NONE;
	return 0;
}

/* Finds the node with `id`, or adds it. */
static int
node_by_id(struct builder *b, const char *id, const char *ip, int64_t port,
	   uint16_t *idx)
{
	struct sg_cluster_topology *t = b->t;
	struct sg_cluster_node *n;
	struct in_addr a;

	for (uint16_t i = 0; i < t->nnodes; i++) {
		if (strcmp(t->node[i].id, id) == 0) {
			*idx = i;
			return 0;
		}
	}
	if (port <= 0 || port > 65535)
		return fail(b, "node %s: bad port %lld", id, (long long)port);
	if (t->nnodes == b->cap_nodes) {
		uint16_t cap = b->cap_nodes ? b->cap_nodes * 2 : 16;

		if (cap > SG_CLUSTER_MAX_NODES)
			return fail(b, "more than %d nodes", SG_CLUSTER_MAX_NODES);
		n = realloc(t->node, cap * sizeof(*n));
		if (n == NULL)
			return -ENOMEM;
		t->node = n;
		b->cap_nodes = cap;
	}
	n = &t->node[t->nnodes];
	memset(n, 0, sizeof(*n));
	snprintf(n->id, sizeof(n->id), "%s", id);
	snprintf(n->ip, sizeof(n->ip), "%s", ip);
	n->port = (uint16_t)port;
	if (inet_pton(AF_INET, ip, &a) == 1)
		n->ipv4 = a.s_addr;
	n->shard = SG_CLUSTER_NONE;
	if (b->zone != NULL) {
		const char *z = b->zone(b->ctx, n->ip, n->port);

		if (z != NULL)
			snprintf(n->zone, sizeof(n->zone), "%s", z);
	}
	*idx = t->nnodes++;
	return 0;
}

static int
attach(struct builder *b, uint16_t shard, uint16_t node, bool primary)
{
	struct sg_cluster_shard *s = &b->t->shard[shard];
	struct sg_cluster_node *n = &b->t->node[node];

	if (n->shard != SG_CLUSTER_NONE)
		return n->shard == shard ? 0 : fail(b, "node %s is in two shards", n->id);
	n->shard = shard;
	n->role = primary ? SG_CLUSTER_PRIMARY : SG_CLUSTER_REPLICA;
	if (primary && s->primary != SG_CLUSTER_NONE) {
		struct sg_cluster_node *old = &b->t->node[s->primary];

		/* Mid-failover a shard may list its failed old primary next to
		 * the promoted one: the live one serves, the other waits. */
		if (old->health == SG_CLUSTER_FAILED && n->health != SG_CLUSTER_FAILED) {
			old->role = SG_CLUSTER_REPLICA;
			if (s->nreplicas < SG_CLUSTER_MAX_REPLICAS)
				s->replica[s->nreplicas++] = s->primary;
			s->primary = SG_CLUSTER_NONE;
		} else if (n->health == SG_CLUSTER_FAILED) {
			primary = false;
			n->role = SG_CLUSTER_REPLICA;
		} else {
			return fail(b, "shard with two primaries (%s, %s)", old->id, n->id);
		}
	}
	if (primary) {
		s->primary = node;
	} else if (s->nreplicas < SG_CLUSTER_MAX_REPLICAS) {
		s->replica[s->nreplicas++] = node;
	}
	return 0;
}

static int
assign_range(struct builder *b, uint16_t shard, int64_t lo, int64_t hi)
{
	if (lo < 0 || hi >= SG_CLUSTER_SLOTS || lo > hi)
		return fail(b, "slot range %lld-%lld out of 0-16383", (long long)lo,
			    (long long)hi);
	for (int64_t s = lo; s <= hi; s++) {
		if (b->t->slot_shard[s] != SG_CLUSTER_NONE &&
		    b->t->slot_shard[s] != shard)
			return fail(b, "slot %lld claimed by two shards", (long long)s);
		b->t->slot_shard[s] = shard;
	}
	b->t->shard[shard].nslots += (uint32_t)(hi - lo + 1);
	return 0;
}

static int
finish(struct builder *b, struct sg_cluster_topology **out)
{
	struct sg_cluster_topology *t = b->t;

	for (unsigned s = 0; s < SG_CLUSTER_SLOTS; s++) {
		uint16_t sh = t->slot_shard[s];

		if (sh != SG_CLUSTER_NONE && t->shard[sh].primary != SG_CLUSTER_NONE &&
		    t->node[t->shard[sh].primary].health != SG_CLUSTER_FAILED)
			t->slots_served++;
	}
	*out = t;
	return 0;
}

void
sg_cluster_topology_free(struct sg_cluster_topology *t)
{
	if (t == NULL)
		return;
	free(t->node);
	free(t->shard);
	free(t);
}

static int
shards_one(struct builder *b, const struct sg_resp_value *sh)
{
	const struct sg_resp_value *slots = sg_resp_value_get(sh, "slots");
	const struct sg_resp_value *nodes = sg_resp_value_get(sh, "nodes");
	uint16_t shard;
	int rc;

	if (slots == NULL || nodes == NULL || slots->type != SG_RESP_ARRAY ||
	    nodes->type != SG_RESP_ARRAY)
		return fail(b, "CLUSTER SHARDS: a shard without slots and nodes");
	if (slots->nelem % 2 != 0)
		return fail(b, "CLUSTER SHARDS: odd number of slot bounds");
	rc = new_shard(b, &shard);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < nodes->nelem; i++) {
		const struct sg_resp_value *n = &nodes->elem[i];
		char id[41], ip[46], role[16], health[16] = "online";
		int64_t port = 0;
		uint16_t idx;

		if (!str_of(sg_resp_value_get(n, "id"), id, sizeof(id)) ||
		    !str_of(sg_resp_value_get(n, "role"), role, sizeof(role)))
			return fail(b, "CLUSTER SHARDS: a node without id or role");
		if (!str_of(sg_resp_value_get(n, "ip"), ip, sizeof(ip)) &&
		    !str_of(sg_resp_value_get(n, "endpoint"), ip, sizeof(ip)))
			return fail(b, "CLUSTER SHARDS: node %s has no address", id);
		if (!int_of(sg_resp_value_get(n, "port"), &port) &&
		    !int_of(sg_resp_value_get(n, "tls-port"), &port))
			return fail(b, "CLUSTER SHARDS: node %s has no port", id);
		str_of(sg_resp_value_get(n, "health"), health, sizeof(health));
		rc = node_by_id(b, id, ip, port, &idx);
		if (rc != 0)
			return rc;
		if (strcmp(health, "failed") == 0)
			b->t->node[idx].health = SG_CLUSTER_FAILED;
		else if (strcmp(health, "loading") == 0)
			b->t->node[idx].health = SG_CLUSTER_LOADING;
		rc = attach(b, shard, idx, strcmp(role, "master") == 0 ||
				       strcmp(role, "primary") == 0);
		if (rc != 0)
			return rc;
	}
	for (size_t i = 0; i < slots->nelem; i += 2) {
		int64_t lo, hi;

		if (!int_of(&slots->elem[i], &lo) || !int_of(&slots->elem[i + 1], &hi))
			return fail(b, "CLUSTER SHARDS: slot bounds are not integers");
		rc = assign_range(b, shard, lo, hi);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
sg_cluster_topology_from_shards(const struct sg_resp_value *reply,
				sg_cluster_zone_fn zone, void *ctx,
				struct sg_cluster_topology **out, char *err,
				size_t errlen)
{
	struct builder b;
	int rc;

	rc = builder_init(&b, zone, ctx, err, errlen);
	if (rc != 0)
		return rc;
	if (reply->type != SG_RESP_ARRAY) {
		rc = fail(&b, "CLUSTER SHARDS: expected an array, got '%c'", reply->type);
		goto fail;
	}
	for (size_t i = 0; i < reply->nelem; i++) {
		rc = shards_one(&b, &reply->elem[i]);
		if (rc != 0)
			goto fail;
	}
	return finish(&b, out);
fail:
	sg_cluster_topology_free(b.t);
	return rc;
}

/* [ip, port, id, ...] of CLUSTER SLOTS */
static int
slots_node(struct builder *b, const struct sg_resp_value *v, uint16_t *idx)
{
	char ip[46], id[41];
	int64_t port;

	if (v->type != SG_RESP_ARRAY || v->nelem < 2 ||
	    !str_of(&v->elem[0], ip, sizeof(ip)) || !int_of(&v->elem[1], &port))
		return fail(b, "CLUSTER SLOTS: a node entry is not [ip, port, id]");
	/* Servers before 4.0 send no id: the address stands in for it. */
	if (v->nelem < 3 || !str_of(&v->elem[2], id, sizeof(id)))
		snprintf(id, sizeof(id), "%.33s:%lld", ip, (long long)port % 100000);
	return node_by_id(b, id, ip, port, idx);
}

int
sg_cluster_topology_from_slots(const struct sg_resp_value *reply,
			       sg_cluster_zone_fn zone, void *ctx,
			       struct sg_cluster_topology **out, char *err,
			       size_t errlen)
{
	struct builder b;
	int rc;

	rc = builder_init(&b, zone, ctx, err, errlen);
	if (rc != 0)
		return rc;
	if (reply->type != SG_RESP_ARRAY) {
		rc = fail(&b, "CLUSTER SLOTS: expected an array, got '%c'", reply->type);
		goto fail;
	}
	for (size_t i = 0; i < reply->nelem; i++) {
		const struct sg_resp_value *r = &reply->elem[i];
		int64_t lo, hi;
		uint16_t primary, shard;

		if (r->type != SG_RESP_ARRAY || r->nelem < 3 ||
		    !int_of(&r->elem[0], &lo) || !int_of(&r->elem[1], &hi)) {
			rc = fail(&b, "CLUSTER SLOTS: a range is not [start, end, node...]");
			goto fail;
		}
		rc = slots_node(&b, &r->elem[2], &primary);
		if (rc != 0)
			goto fail;
		shard = b.t->node[primary].shard;
		if (shard == SG_CLUSTER_NONE) {
			rc = new_shard(&b, &shard);
			if (rc == 0)
				rc = attach(&b, shard, primary, true);
			if (rc != 0)
				goto fail;
		}
		for (size_t k = 3; k < r->nelem; k++) {
			uint16_t rep;

			rc = slots_node(&b, &r->elem[k], &rep);
			if (rc == 0)
				rc = attach(&b, shard, rep, false);
			if (rc != 0)
				goto fail;
		}
		rc = assign_range(&b, shard, lo, hi);
		if (rc != 0)
			goto fail;
	}
	return finish(&b, out);
fail:
	sg_cluster_topology_free(b.t);
	return rc;
}

uint16_t
sg_cluster_topology_find(const struct sg_cluster_topology *t, const char *ip,
			 uint16_t port)
{
	for (uint16_t i = 0; i < t->nnodes; i++) {
		if (t->node[i].port == port && strcmp(t->node[i].ip, ip) == 0)
			return i;
	}
	return SG_CLUSTER_NONE;
}
