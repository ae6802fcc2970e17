/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/command private: the table object and the name hash. */
#ifndef COMMAND_INTERNAL_H
#define COMMAND_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sg_command.h"

/*
 * A command table. The built-in one is all static data (generated);
 * a merged one owns everything it points to through `arena`.
 *
 *   cmds[0..ncmds)  top-level commands, sorted by name (strcmp)
 *       .subs       that container's subcommands, sorted by name
 *   index[]         open addressing over cmds: 0 = empty, else
 *                   position + 1; slot = command_hash(name) & mask,
 *                   then linear probing
 *   by_id[]         enum sg_command_id -> entry (NULL: not in table)
 */
struct command_arena;

struct sg_command_table {
	const struct sg_command *cmds;
	uint32_t ncmds;
	uint32_t index_mask;
	const uint16_t *index;
	const struct sg_command *const *by_id;
	struct command_arena *arena;	/* NULL for the built-in table */
};

/* FNV-1a, 32 bits, over the lower-case name. The generator computes the
 * same function for the built-in index. */
#define COMMAND_HASH_SEED 2166136261u
#define COMMAND_HASH_PRIME 16777619u

static inline char
command_lower(char c)
{
	return (unsigned char)(c - 'A') < 26 ? (char)(c | 0x20) : c;
}

/*
 * Lower-cases `len` bytes of `name` into `low` and hashes them. Returns
 * false when the name holds a NUL byte (no command has one), so that the
 * comparisons after it may stop at the NUL of a stored name.
 */
static inline bool
command_hash_lower(const char *name, size_t len, char *low, uint32_t *hash)
{
	uint32_t h = COMMAND_HASH_SEED;

	for (size_t i = 0; i < len; i++) {
		char c = command_lower(name[i]);

		if (c == '\0')
			return false;
		low[i] = c;
		h = (h ^ (uint8_t)c) * COMMAND_HASH_PRIME;
	}
	*hash = h;
	return true;
}

/* strcmp order of NUL-terminated `s` against `len` bytes (no NUL). */
static inline int
command_name_cmp(const char *s, const char *low, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != low[i])
			return (int)(uint8_t)s[i] - (int)(uint8_t)low[i];
	}
	return s[len] == '\0' ? 0 : 1;
}

/* The built-in table's commands (for merging). */
const struct sg_command *command_builtin_cmds(size_t *n);

#endif /* COMMAND_INTERNAL_H */
