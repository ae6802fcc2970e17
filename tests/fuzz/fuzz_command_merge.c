/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzzes sg_command_table_merge with arbitrary bytes as a COMMAND reply.
 * When a table comes out, every command in it (top-level and
 * subcommands) is looked up by name and asked for its keys in a few
 * requests, so key specs that the reader let through are exercised too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sg_command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARG(s) { (s), 0, sizeof(s) - 1 }

static const struct sg_arg req_a[] = {
	ARG("x"), ARG("2"), ARG("a"), ARG("b"), ARG("STREAMS"), ARG("k1"),
	ARG("k2"), ARG("0"), ARG("0"), ARG("KEYS"), ARG("1"), ARG("z"),
};
static const struct sg_arg req_b[] = {
	ARG("x"), ARG("k"), ARG("-1"), ARG("keys"),
};

static void
exercise(const struct sg_command_table *t, const struct sg_command *c)
{
	uint32_t keys[16], first, group;
	const struct sg_command *found;
	struct sg_arg argv[SG_ARRAY_SIZE(req_a)];
	const char *bar = strchr(c->name, '|');

	found = bar ? sg_command_lookup_sub(c->parent, bar + 1, strlen(bar + 1))
		    : sg_command_lookup(t, c->name, strlen(c->name));
	if (found != c)
		abort();
	(void)sg_command_arity_ok(c, 3);
	(void)sg_command_split_shape(c, &first, &group);
	for (uint32_t argc = 1; argc <= SG_ARRAY_SIZE(req_a); argc += 3) {
		int n;

		memcpy(argv, req_a, sizeof(req_a));
		n = sg_command_keys(c, argv, argc, keys, SG_ARRAY_SIZE(keys));
		for (int i = 0; i < n; i++) {
			if (keys[i] >= argc || (i > 0 && keys[i] <= keys[i - 1]))
				abort();
		}
	}
	(void)sg_command_keys(c, req_b, SG_ARRAY_SIZE(req_b), keys, 2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_command_table *t = NULL;
	char err[128];

	if (sg_command_table_merge((const char *)data, size, &t, err,
				   sizeof(err)) != 0) {
		if (t != NULL || memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		return 0;
	}
	for (size_t i = 0; i < sg_command_table_count(t); i++) {
		const struct sg_command *c = sg_command_table_at(t, i);

		exercise(t, c);
		for (uint16_t j = 0; j < c->nsubs; j++)
			exercise(t, &c->subs[j]);
	}
	sg_command_table_free(t);
	return 0;
}
