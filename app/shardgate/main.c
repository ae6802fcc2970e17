/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shardgate: options, configuration, EAL, workers, signals.
 * Only this file reads argv, calls rte_eal_init or exits.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "sg_build_config.h"
#include "sg_common.h"
#include "runtime.h"
#include "sg_config.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: shardgate --config FILE [--check]\n"
		"       shardgate --help | --version\n"
		"\n"
		"  -c, --config FILE  the YAML configuration (see config/shardgate.yaml)\n"
		"  -n, --check        validate FILE, print the effective configuration\n"
		"                     and exit: 0 when valid, 2 when not\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version and exit\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct sg_config_errors errs;
	const char *path = NULL;
	struct sg_config *cfg;
	bool check = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:nhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("shardgate %s\n", SG_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}

	/* The whole file is validated before anything starts. */
	rc = sg_config_load_file(path, &cfg, &errs);
	if (rc != 0) {
		sg_config_errors_print(&errs, stderr);
		return 2;
	}
	if (check) {
		rc = sg_config_print(cfg, stdout);
		sg_config_free(cfg);
		if (rc != 0 || fflush(stdout) != 0) {
			fprintf(stderr, "shardgate: cannot write the configuration\n");
			return 2;
		}
		return 0;
	}
	rc = app_run(cfg);
	sg_config_free(cfg);
	return rc;
}
