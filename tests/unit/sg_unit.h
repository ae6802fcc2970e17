/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared helpers for the CUnit programs in tests/unit/<lib>/.
 *
 *  - SG_UNIT_MAIN(suites...) runs the listed suites with the basic runner
 *    and exits non-zero on any failure;
 *  - sg_guard_copy() places bytes right before a PROT_NONE page, so any
 *    read past the end of the input crashes the test instead of passing
 *    by luck (the picohttpparser habit).
 */
#ifndef SG_UNIT_H
#define SG_UNIT_H

#include <CUnit/Basic.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct sg_unit_test {
	const char *name;
	void (*fn)(void);
};

struct sg_unit_suite {
	const char *name;
	const struct sg_unit_test *tests;	/* ends with { NULL, NULL } */
};

/* A copy of `len` bytes that ends exactly at a PROT_NONE page. */
struct sg_guard {
	char *map;
	size_t map_len;
	char *data;
};

static inline struct sg_guard
sg_guard_copy(const void *src, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (len + page - 1) / page;
	struct sg_guard g;

	if (data_pages == 0)
		data_pages = 1;
	g.map_len = (data_pages + 1) * page;
	g.map = mmap(NULL, g.map_len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g.map == MAP_FAILED) {
		perror("mmap");
		abort();
	}
	if (mprotect(g.map + data_pages * page, page, PROT_NONE) != 0) {
		perror("mprotect");
		abort();
	}
	g.data = g.map + data_pages * page - len;
	if (len > 0)
		memcpy(g.data, src, len);
	return g;
}

static inline void
sg_guard_free(struct sg_guard *g)
{
	munmap(g->map, g->map_len);
	g->map = NULL;
	g->data = NULL;
}

static inline int
sg_unit_run(const struct sg_unit_suite *suites, size_t n)
{
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (size_t i = 0; i < n; i++) {
		CU_pSuite s = CU_add_suite(suites[i].name, NULL, NULL);

		if (s == NULL)
			return 2;
		for (const struct sg_unit_test *t = suites[i].tests; t->name; t++) {
			if (CU_add_test(s, t->name, t->fn) == NULL)
				return 2;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed == 0 ? 0 : 1;
}

/* Removes a directory and the files in it (not recursive): programs that
 * start EAL call it with rte_eal_get_runtime_dir() after rte_eal_cleanup(),
 * since EAL leaves its runtime directory behind. */
static inline void
sg_unit_remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX + 256];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

#define SG_UNIT_MAIN(...)                                                 \
	int main(void)                                                    \
	{                                                                 \
		static const struct sg_unit_suite suites[] = { __VA_ARGS__ }; \
		return sg_unit_run(suites, sizeof(suites) / sizeof(suites[0])); \
	}

#endif /* SG_UNIT_H */
