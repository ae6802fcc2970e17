/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sg_cluster.h: the cluster as shardgate sees it.
 *
 * Hash slots: Redis Cluster divides the key space into 16384 slots. A
 * key's slot is CRC16 (XMODEM: polynomial 0x1021, initial value 0, no
 * reflection, no final xor) of the key, modulo 16384. When the key holds
 * a '{' followed later by a '}' with at least one byte between them, only
 * the bytes between the first '{' and the first '}' after it are hashed
 * (the hash tag), so "{user1000}.following" and "{user1000}.followers"
 * share a slot. "foo{}{bar}" has an empty first tag and hashes whole;
 * "foo{{bar}}zap" hashes "{bar".
 *
 * Topology: an immutable picture of the cluster built from one node's
 * CLUSTER SHARDS reply (or CLUSTER SLOTS from older servers): nodes (by
 * their 40-character id), shards (a primary and its replicas) and, for
 * each of the 16384 slots, the shard that serves it. A new picture is a
 * new object; callers publish it (RCU) and never change one in place.
 *
 * libc, lib/common and lib/resp (to read the decoded replies) only.
 */
#ifndef SG_CLUSTER_H
#define SG_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "sg_common.h"
#include "sg_resp.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SG_CLUSTER_SLOTS 16384

/* CRC16-XMODEM of `len` bytes ("123456789" -> 0x31C3). */
uint16_t sg_cluster_crc16(const void *p, size_t len);

/* The hash slot of a key, hash tags honoured. */
uint16_t sg_cluster_slot(const char *key, size_t len);

#define SG_CLUSTER_NONE UINT16_MAX	/* no node / no shard */
#define SG_CLUSTER_MAX_REPLICAS 16
#define SG_CLUSTER_MAX_NODES 4096

enum sg_cluster_role {
	SG_CLUSTER_PRIMARY = 0,
	SG_CLUSTER_REPLICA,
};

enum sg_cluster_health {
	SG_CLUSTER_ONLINE = 0,
	SG_CLUSTER_LOADING,
	SG_CLUSTER_FAILED,
};

struct sg_cluster_node {
	char id[41];
	char ip[46];
	uint16_t port;
	uint32_t ipv4;		/* network order; 0 when `ip` is not IPv4 */
	uint8_t role;		/* enum sg_cluster_role */
	uint8_t health;		/* enum sg_cluster_health */
	uint16_t shard;
	char zone[32];		/* availability zone, "" when unknown */
};

struct sg_cluster_shard {
	uint16_t primary;	/* node index, or SG_CLUSTER_NONE */
	uint16_t nreplicas;
	uint16_t replica[SG_CLUSTER_MAX_REPLICAS];
	uint32_t nslots;
};

struct sg_cluster_topology {
	uint64_t version;	/* set by the publisher */
	uint64_t built_ns;
	uint16_t nnodes;
	uint16_t nshards;
	struct sg_cluster_node *node;
	struct sg_cluster_shard *shard;
	uint32_t slots_served;	/* slots with an online primary */
	uint16_t slot_shard[SG_CLUSTER_SLOTS];	/* SG_CLUSTER_NONE: unassigned */
};

/* Availability zone of a node, from configuration: "" when unknown. */
typedef const char *(*sg_cluster_zone_fn)(void *ctx, const char *ip,
					  uint16_t port);

/*
 * Builds a topology from a decoded CLUSTER SHARDS reply (RESP2 or RESP3).
 * `zone` may be NULL. Failed nodes are kept but never primaries for
 * routing. Returns 0 and *out, -EINVAL with a message in err (at most
 * errlen bytes, NUL-terminated) when the reply does not describe a
 * cluster (wrong shape, slot out of range, a slot claimed twice, too many
 * nodes), or -ENOMEM.
 */
int sg_cluster_topology_from_shards(const struct sg_resp_value *reply,
				    sg_cluster_zone_fn zone, void *ctx,
				    struct sg_cluster_topology **out,
				    char *err, size_t errlen);

/* The same from a decoded CLUSTER SLOTS reply. */
int sg_cluster_topology_from_slots(const struct sg_resp_value *reply,
				   sg_cluster_zone_fn zone, void *ctx,
				   struct sg_cluster_topology **out,
				   char *err, size_t errlen);

void sg_cluster_topology_free(struct sg_cluster_topology *t);

/* The node index of the primary serving `slot`, or SG_CLUSTER_NONE when
 * the slot is unassigned or its primary has failed. */
static inline uint16_t
sg_cluster_slot_primary(const struct sg_cluster_topology *t, uint16_t slot)
{
	uint16_t sh = t->slot_shard[slot & (SG_CLUSTER_SLOTS - 1)];
	uint16_t p;

	if (sh == SG_CLUSTER_NONE)
		return SG_CLUSTER_NONE;
	p = t->shard[sh].primary;
	if (p == SG_CLUSTER_NONE || t->node[p].health == SG_CLUSTER_FAILED)
		return SG_CLUSTER_NONE;
	return p;
}

/* Index of the node with this address, or SG_CLUSTER_NONE. */
uint16_t sg_cluster_topology_find(const struct sg_cluster_topology *t,
				  const char *ip, uint16_t port);

#ifdef __cplusplus
}
#endif

#endif /* SG_CLUSTER_H */
