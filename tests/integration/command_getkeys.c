/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * command_getkeys [--merge FILE]: a tiny front end to lib/command and
 * lib/cluster for test_command_getkeys.py. Reads requests from stdin, one
 * per line, fields separated by tabs:
 *   K <tab> arg0 <tab> arg1 ...   prints "OK i j ..." (key indexes),
 *                                 "ERR EINVAL", "ERR E2BIG" or "UNKNOWN"
 *   S <tab> key                   prints the key's hash slot
 * With --merge FILE, the table is the built-in one merged with the raw
 * COMMAND reply in FILE (what a running shardgate would use).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sg_cluster.h"
#include "sg_command.h"

#define MAX_ARGS 256

static struct sg_command_table *
load_merged(const char *path)
{
	static char buf[SG_COMMAND_MAX_REPLY];
	struct sg_command_table *t;
	char err[256];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (sg_command_table_merge(buf, n, &t, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		exit(2);
	}
	return t;
}

int
main(int argc, char **argv)
{
	const struct sg_command_table *t = sg_command_builtin();
	struct sg_command_table *merged = NULL;
	static char line[1 << 16];

	if (argc == 3 && strcmp(argv[1], "--merge") == 0)
		t = merged = load_merged(argv[2]);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		struct sg_arg args[MAX_ARGS];
		uint32_t keys[MAX_ARGS], n = 0;
		const struct sg_command *c;
		char *p, *tab;
		int rc;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == 'S' && line[1] == '\t') {
			printf("%u\n", sg_cluster_slot(line + 2,
						       strlen(line + 2)));
			continue;
		}
		if (line[0] != 'K' || line[1] != '\t') {
			printf("BAD\n");
			continue;
		}
		for (p = line + 2; n < MAX_ARGS; p = tab + 1) {
			tab = strchr(p, '\t');
			args[n].ptr = p;
			args[n].off = 0;
			args[n].len = tab ? (size_t)(tab - p) : strlen(p);
			n++;
			if (tab == NULL)
				break;
		}
		c = sg_command_find(t, args, n, NULL);
		if (c == NULL) {
			printf("UNKNOWN\n");
			continue;
		}
		rc = sg_command_keys(c, args, n, keys, MAX_ARGS);
		if (rc < 0) {
			printf("ERR %s\n", rc == -EINVAL ? "EINVAL" :
			       rc == -E2BIG ? "E2BIG" : "OTHER");
			continue;
		}
		printf("OK");
		for (int i = 0; i < rc; i++)
			printf(" %u", keys[i]);
		printf("\n");
	}
	sg_command_table_free(merged);
	return 0;
}
