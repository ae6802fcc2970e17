/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/config on arbitrary bytes. Loading must never crash, leak or read
 * past the input; every message must name the input; and a configuration
 * that loads must print (plain and annotated) as YAML that loads back to
 * an equal configuration and prints the same again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sg_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
print(const struct sg_config *c, bool annotated)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		abort();
	if ((annotated ? sg_config_print_annotated(c, f) : sg_config_print(c, f)) != 0)
		abort();
	fclose(f);
	return text;
}

static void
reload(const struct sg_config *c, bool annotated, struct sg_config_errors *e)
{
	char *text = print(c, annotated), *again;
	struct sg_config *back;

	if (sg_config_load_buffer_flags("printed.yaml", text, strlen(text),
					SG_CONFIG_LOAD_ALLOW_REDACTED, &back, e) != 0) {
		sg_config_errors_print(e, stderr);
		fprintf(stderr, "--- printed:\n%s", text);
		abort();
	}
	if (!sg_config_equal(c, back, SG_CONFIG_EQUAL_IGNORE_SECRETS))
		abort();
	again = print(back, annotated);
	if (strcmp(text, again) != 0)
		abort();
	free(again);
	free(text);
	sg_config_free(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sg_config_errors e;
	struct sg_config *c;
	int rc;

	rc = sg_config_load_buffer("fuzz.yaml", (const char *)data, size, &c, &e);
	if (rc != 0) {
		if (c != NULL || e.n == 0 || e.total < e.n)
			abort();
		for (unsigned i = 0; i < e.n; i++) {
			if (strncmp(e.msg[i], "fuzz.yaml", 9) != 0)
				abort();
		}
		return 0;
	}
	reload(c, false, &e);
	reload(c, true, &e);
	sg_config_free(c);
	return 0;
}
