/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/cluster: CRC16-XMODEM and hash slots. */
#include <stdint.h>
#include <stdlib.h>

#include "sg_cluster.h"
#include "sg_unit.h"

/* Bit by bit, straight from the definition: the reference. */
static uint16_t
crc16_ref(const uint8_t *p, size_t len)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < len; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021)
					     : (uint16_t)(crc << 1);
	}
	return crc;
}

/* The slot of a NUL-terminated key, read from a guard page. */
static uint16_t
slot_of(const char *key)
{
	struct sg_guard g = sg_guard_copy(key, strlen(key));
	uint16_t s = sg_cluster_slot(g.data, strlen(key));

	sg_guard_free(&g);
	return s;
}

static uint16_t
slot_plain(const char *key)
{
	return sg_cluster_crc16(key, strlen(key)) & (SG_CLUSTER_SLOTS - 1);
}

static void
test_crc16_vector(void)
{
	CU_ASSERT_EQUAL(sg_cluster_crc16("123456789", 9), 0x31C3);
	CU_ASSERT_EQUAL(sg_cluster_crc16("", 0), 0);
	CU_ASSERT_EQUAL(sg_cluster_crc16(NULL, 0), 0);
	/* Known slots from the Redis Cluster specification's examples */
	CU_ASSERT_EQUAL(slot_of("123456789"), 0x31C3 & 16383);
	CU_ASSERT_EQUAL(slot_of("foo"), 12182);
	CU_ASSERT_EQUAL(slot_of("bar"), 5061);
	CU_ASSERT_EQUAL(slot_of("user1000"), 3443);
	/* CLUSTER KEYSLOT of a real redis-server 7.0 */
	CU_ASSERT_EQUAL(slot_of("foo{}{bar}"), 8363);
	CU_ASSERT_EQUAL(slot_of("foo{{bar}}zap"), 4015);
}

/* The slice-by-8 path against the reference at every length and
 * alignment, from a guard page so no byte past the end is read. */
static void
test_crc16_matches_reference(void)
{
	uint8_t buf[300];
	unsigned seed = 12345;

	for (size_t i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
	for (size_t len = 0; len <= 200; len++) {
		for (size_t off = 0; off < 8; off++) {
			struct sg_guard g = sg_guard_copy(buf + off, len);

			CU_ASSERT_EQUAL_FATAL(sg_cluster_crc16(g.data, len),
					      crc16_ref(buf + off, len));
			sg_guard_free(&g);
		}
	}
	/* all bytes 0x00..0xff in one run */
	for (size_t i = 0; i < 256; i++)
		buf[i] = (uint8_t)i;
	CU_ASSERT_EQUAL(sg_cluster_crc16(buf, 256), crc16_ref(buf, 256));
}

static void
test_hash_tags(void)
{
	/* a tag: only what is between the braces counts */
	CU_ASSERT_EQUAL(slot_of("{user1000}.following"),
			slot_of("{user1000}.followers"));
	CU_ASSERT_EQUAL(slot_of("{user1000}.following"), slot_of("user1000"));
	CU_ASSERT_EQUAL(slot_of("x{user1000}y{z}"), slot_of("user1000"));
	/* an empty first tag: the whole key */
	CU_ASSERT_EQUAL(slot_of("foo{}{bar}"), slot_plain("foo{}{bar}"));
	CU_ASSERT_NOT_EQUAL(slot_of("foo{}{bar}"), slot_of("bar"));
	/* the tag runs from the first '{' to the first '}' after it */
	CU_ASSERT_EQUAL(slot_of("foo{{bar}}zap"), slot_plain("{bar"));
	CU_ASSERT_EQUAL(slot_of("foo{bar}{zap}"), slot_of("bar"));
	/* no closing brace, or only a '}' before the '{': whole key */
	CU_ASSERT_EQUAL(slot_of("foo{bar"), slot_plain("foo{bar"));
	CU_ASSERT_EQUAL(slot_of("foo}bar{"), slot_plain("foo}bar{"));
	CU_ASSERT_EQUAL(slot_of("{"), slot_plain("{"));
	CU_ASSERT_EQUAL(slot_of("{}"), slot_plain("{}"));
	CU_ASSERT_EQUAL(slot_of("}{a}"), slot_of("a"));
	/* a one-byte tag at the very end of the key */
	CU_ASSERT_EQUAL(slot_of("abc{d}"), slot_of("d"));
	/* the empty key */
	CU_ASSERT_EQUAL(slot_of(""), 0);
	CU_ASSERT_EQUAL(sg_cluster_slot(NULL, 0), 0);
}

static void
test_binary_keys(void)
{
	const char k1[] = { 'a', '\0', '{', 'x', '}', '\0' };
	const char k2[] = { '{', '\0', '}', 'q' };
	struct sg_guard g = sg_guard_copy(k1, sizeof(k1));

	/* NUL bytes are key bytes like any other */
	CU_ASSERT_EQUAL(sg_cluster_slot(g.data, sizeof(k1)),
			sg_cluster_slot("x", 1));
	sg_guard_free(&g);
	CU_ASSERT_EQUAL(sg_cluster_slot(k2, sizeof(k2)),
			sg_cluster_crc16("\0", 1) & 16383);
}

static void
test_slot_range(void)
{
	char key[32];

	for (int i = 0; i < 100000; i++) {
		int n = snprintf(key, sizeof(key), "key:%d", i);

		CU_ASSERT_FATAL(sg_cluster_slot(key, (size_t)n) < SG_CLUSTER_SLOTS);
	}
}

static const struct sg_unit_test slot_tests[] = {
	{ "crc16 of 123456789 and known slots", test_crc16_vector },
	{ "slice-by-8 equals the bitwise CRC", test_crc16_matches_reference },
	{ "hash tags", test_hash_tags },
	{ "binary keys", test_binary_keys },
	{ "slots stay below 16384", test_slot_range },
	{ NULL, NULL },
};

SG_UNIT_MAIN({ "cluster slots", slot_tests })
