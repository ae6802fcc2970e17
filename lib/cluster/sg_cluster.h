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
 * libc and lib/common only.
 */
#ifndef SG_CLUSTER_H
#define SG_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "sg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SG_CLUSTER_SLOTS 16384

/* CRC16-XMODEM of `len` bytes ("123456789" -> 0x31C3). */
uint16_t sg_cluster_crc16(const void *p, size_t len);

/* The hash slot of a key, hash tags honoured. */
uint16_t sg_cluster_slot(const char *key, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* SG_CLUSTER_H */
