/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hash slots.
 *
 * A key's slot is CRC16-XMODEM of the key modulo 16384 (the low 14 bits).
 * When the key holds a '{' and, somewhere after it, a '}' with at least
 * one byte between the two, only the bytes between that first '{' and
 * the first '}' after it are hashed: that is the hash tag, which lets an
 * application put related keys in one slot. A first tag that is empty
 * ("foo{}{bar}") means no tag: the whole key is hashed. The tag may hold
 * a '{' ("foo{{bar}}zap" hashes "{bar").
 *
 * The CRC runs slice-by-8: eight input bytes fold into the CRC with eight
 * independent table lookups, instead of eight lookups that each wait for
 * the previous one. For a 16-byte key that is about five times faster
 * than the byte-at-a-time table (tests/bench/bench_command.c).
 */
#include <stdint.h>
#include <string.h>

#include "sg_cluster.h"

#include "cluster_crc16_tables.inc"

uint16_t
sg_cluster_crc16(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint16_t crc = 0;

	/*
	 * Only the first two bytes of a block meet the running CRC (it has
	 * 16 bits); table k is "this byte followed by k zero bytes".
	 */
	while (len >= 8) {
		crc = crc16_tab[7][(crc >> 8) ^ b[0]] ^
		      crc16_tab[6][(crc & 0xff) ^ b[1]] ^
		      crc16_tab[5][b[2]] ^ crc16_tab[4][b[3]] ^
		      crc16_tab[3][b[4]] ^ crc16_tab[2][b[5]] ^
		      crc16_tab[1][b[6]] ^ crc16_tab[0][b[7]];
		b += 8;
		len -= 8;
	}
	while (len-- > 0)
		crc = (uint16_t)(crc << 8) ^ crc16_tab[0][(crc >> 8) ^ *b++];
	return crc;
}

uint16_t
sg_cluster_slot(const char *key, size_t len)
{
	const char *open, *close;
	size_t rest;

	open = len > 0 ? memchr(key, '{', len) : NULL;
	if (open == NULL)
		return sg_cluster_crc16(key, len) & (SG_CLUSTER_SLOTS - 1);
	rest = len - (size_t)(open - key) - 1;
	close = rest > 0 ? memchr(open + 1, '}', rest) : NULL;
	if (close == NULL || close == open + 1)
		return sg_cluster_crc16(key, len) & (SG_CLUSTER_SLOTS - 1);
	return sg_cluster_crc16(open + 1, (size_t)(close - open - 1)) &
	       (SG_CLUSTER_SLOTS - 1);
}
