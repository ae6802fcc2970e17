/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/config: the structure valid files produce (defaults included), the
 * value parsers, printing that loads back equal, secrets never printed,
 * the exact message for each kind of mistake (bad/NAME.yaml against
 * bad/NAME.err), and the example configurations in config/.
 *
 * SG_SOURCE_ROOT names the source tree. SG_CONFIG_REGEN=1 rewrites
 * config/shardgate.yaml from the directive table instead of failing when
 * it differs.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sg_common.h"
#include "sg_config.h"
#include "sg_unit.h"

#define KB (1ull << 10)
#define MB (1ull << 20)
#define GB (1ull << 30)
#define MS 1000000ull
#define SEC 1000000000ull

static struct sg_config_errors errs;

static const char *
src_root(void)
{
	const char *r = getenv("SG_SOURCE_ROOT");

	return r != NULL ? r : ".";
}

/* Whole file into a malloc'd buffer (NUL-terminated); NULL if unreadable. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);

		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int
load(const char *text, struct sg_config **out)
{
	return sg_config_load_buffer("t.yaml", text, strlen(text), out, &errs);
}

/* Loads `yaml`, expects success; prints the errors when not. */
static struct sg_config *
load_ok(const char *yaml)
{
	struct sg_config *c = NULL;
	int rc = load(yaml, &c);

	if (rc != 0)
		sg_config_errors_print(&errs, stderr);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	return c;
}

/* Loads `yaml`, expects -EINVAL with exactly one message, `msg`. */
static void
expect_error(const char *yaml, const char *msg)
{
	struct sg_config *c = (struct sg_config *)1;
	int rc = load(yaml, &c);

	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(errs.total, 1);
	if (errs.n < 1 || strcmp(errs.msg[0], msg) != 0) {
		fprintf(stderr, "\n  input:    %s\n  expected: %s\n  got:      %s\n",
			yaml, msg, errs.n > 0 ? errs.msg[0] : "(nothing)");
		CU_FAIL("wrong message");
	}
}

static char *
print_to_string(const struct sg_config *c, bool annotated)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(annotated ? sg_config_print_annotated(c, f) :
				    sg_config_print(c, f), 0);
	fclose(f);
	return text;
}

#define SEEDS "backend: {seeds: [127.0.0.1:7000]}\n"

/* ------------------------------------------------------------------ */

static void
test_defaults(void)
{
	struct sg_config *c = load_ok(SEEDS);

	CU_ASSERT_EQUAL(c->n_listen, 1);
	CU_ASSERT_STRING_EQUAL(c->listen[0].address.text, "127.0.0.1");
	CU_ASSERT_EQUAL(c->listen[0].address.addr.s_addr, htonl(0x7f000001));
	CU_ASSERT_EQUAL(c->listen[0].port, 6379);
	CU_ASSERT_EQUAL(c->listen[0].role, SG_CONFIG_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(c->listen[0].backlog, 511);
	CU_ASSERT_FALSE(c->listen[0].tls.enabled);
	CU_ASSERT_STRING_EQUAL(c->listen[0].tls.cert, "");
	CU_ASSERT_STRING_EQUAL(c->listen[0].tls.key, "");
	CU_ASSERT_EQUAL(c->listen[0].tls.min_version, SG_CONFIG_TLS_1_2);

	CU_ASSERT_EQUAL(c->io.mode, SG_CONFIG_IO_KERNEL);
	CU_ASSERT_EQUAL(c->io.workers, 1);
	CU_ASSERT_EQUAL(c->io.main_lcore, 0);
	CU_ASSERT_EQUAL(c->io.n_lcores, 0);
	CU_ASSERT_EQUAL(c->io.n_eal_args, 0);
	CU_ASSERT_STRING_EQUAL(c->io.file_prefix, "");
	CU_ASSERT_EQUAL(c->io.huge_pages, SG_CONFIG_HUGE_PAGES_AUTO);
	CU_ASSERT_EQUAL(c->io.memory, 512 * MB);
	CU_ASSERT_FALSE(c->io.busy_poll);
	CU_ASSERT_EQUAL(c->io.idle_sleep_ns, 1 * MS);
	CU_ASSERT_EQUAL(c->io.mbuf_size, 2 * KB);
	CU_ASSERT_EQUAL(c->io.mbufs, 32768);
	CU_ASSERT_STRING_EQUAL(c->io.port, "");
	CU_ASSERT_STRING_EQUAL(c->io.address.text, "");
	CU_ASSERT_STRING_EQUAL(c->io.gateway.text, "");
	CU_ASSERT_EQUAL(c->io.mtu, 1500);
	CU_ASSERT_EQUAL(c->io.rx_desc, 1024);
	CU_ASSERT_EQUAL(c->io.tx_desc, 1024);
	CU_ASSERT_EQUAL(c->io.tcp.min_rto_ns, 200 * MS);
	CU_ASSERT_EQUAL(c->io.tcp.max_rto_ns, 60 * SEC);
	CU_ASSERT_EQUAL(c->io.tcp.delayed_ack_ns, 20 * MS);
	CU_ASSERT_EQUAL(c->io.tcp.time_wait_ns, 1 * SEC);
	CU_ASSERT_EQUAL(c->io.tcp.keepalive_idle_ns, 60 * SEC);
	CU_ASSERT_EQUAL(c->io.tcp.keepalive_interval_ns, 10 * SEC);
	CU_ASSERT_EQUAL(c->io.tcp.keepalive_probes, 5);
	CU_ASSERT_EQUAL(c->io.tcp.syn_backlog, 1024);
	CU_ASSERT_TRUE(c->io.tcp.syn_cookies);
	CU_ASSERT_EQUAL(c->io.tcp.rcv_buf, 256 * KB);
	CU_ASSERT_EQUAL(c->io.tcp.snd_buf, 256 * KB);
	CU_ASSERT_EQUAL(c->io.tcp.max_connections, 65536);

	CU_ASSERT_EQUAL(c->backend.n_seeds, 1);
	CU_ASSERT_STRING_EQUAL(c->backend.seeds[0].host, "127.0.0.1");
	CU_ASSERT_EQUAL(c->backend.seeds[0].port, 7000);
	CU_ASSERT_EQUAL(c->backend.connections, 1);
	CU_ASSERT_EQUAL(c->backend.max_in_flight, 1024);
	CU_ASSERT_EQUAL(c->backend.batch_hold, 32);
	CU_ASSERT_EQUAL(c->backend.connect_timeout_ns, 3 * SEC);
	CU_ASSERT_EQUAL(c->backend.request_timeout_ns, 5 * SEC);
	CU_ASSERT_STRING_EQUAL(c->backend.auth.username, "");
	CU_ASSERT_STRING_EQUAL(c->backend.auth.password, "");
	CU_ASSERT_FALSE(c->backend.tls.enabled);
	CU_ASSERT_TRUE(c->backend.tls.verify);
	CU_ASSERT_EQUAL(c->backend.read_policy, SG_CONFIG_READ_PRIMARY);
	CU_ASSERT_STRING_EQUAL(c->backend.availability_zone, "");
	CU_ASSERT_EQUAL(c->backend.n_zones, 0);

	CU_ASSERT_EQUAL(c->cluster.refresh_interval_ns, 5 * SEC);
	CU_ASSERT_EQUAL(c->cluster.hold_ms, 3000);
	CU_ASSERT_EQUAL(c->cluster.retry_backoff_min_ns, 2 * MS);
	CU_ASSERT_EQUAL(c->cluster.retry_backoff_max_ns, 200 * MS);
	CU_ASSERT_EQUAL(c->cluster.max_redirects, 5);
	CU_ASSERT_EQUAL(c->cluster.max_parked, 10000);
	CU_ASSERT_EQUAL(c->cluster.max_parked_bytes, 64 * MB);

	CU_ASSERT_EQUAL(c->limits.max_clients, 10000);
	CU_ASSERT_EQUAL(c->limits.max_args, 1048576);
	CU_ASSERT_EQUAL(c->limits.max_bulk, 512 * MB);
	CU_ASSERT_EQUAL(c->limits.max_request, 513 * MB);
	CU_ASSERT_EQUAL(c->limits.max_inline, 64 * KB);
	CU_ASSERT_EQUAL(c->limits.unauth_max_args, 10);
	CU_ASSERT_EQUAL(c->limits.unauth_max_bulk, 16 * KB);
	CU_ASSERT_EQUAL(c->limits.output_pause, 1 * MB);
	CU_ASSERT_EQUAL(c->limits.output_limit, 256 * MB);
	CU_ASSERT_EQUAL(c->limits.idle_timeout_ns, 0);
	CU_ASSERT_EQUAL(c->limits.ecpu_per_second, 0);

	CU_ASSERT_EQUAL(c->n_users, 0);
	CU_ASSERT_STRING_EQUAL(c->telemetry.prefix, "/shardgate");
	CU_ASSERT_STRING_EQUAL(c->telemetry.prometheus.address.text, "127.0.0.1");
	CU_ASSERT_EQUAL(c->telemetry.prometheus.port, 0);
	CU_ASSERT_EQUAL(c->telemetry.hot_keys, 32);
	CU_ASSERT_EQUAL(c->log.level, SG_CONFIG_LOG_NOTICE);
	sg_config_free(c);
}

static struct sg_config *
load_full(void)
{
	char path[4096];
	struct sg_config *c = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/tests/unit/config/good/full.yaml",
		 src_root());
	rc = sg_config_load_file(path, &c, &errs);
	if (rc != 0)
		sg_config_errors_print(&errs, stderr);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	return c;
}

static void
test_full(void)
{
	struct sg_config *c = load_full();

	CU_ASSERT_EQUAL(c->n_listen, 2);
	CU_ASSERT_EQUAL(c->listen[0].address.addr.s_addr, 0);
	CU_ASSERT_EQUAL(c->listen[0].backlog, 1024);
	CU_ASSERT_TRUE(c->listen[0].tls.enabled);
	CU_ASSERT_STRING_EQUAL(c->listen[0].tls.cert, "/etc/shardgate/server.pem");
	CU_ASSERT_STRING_EQUAL(c->listen[0].tls.key, "/etc/shardgate/server.key");
	CU_ASSERT_STRING_EQUAL(c->listen[0].tls.ca, "/etc/shardgate/clients-ca.pem");
	CU_ASSERT_TRUE(c->listen[0].tls.require_client_cert);
	CU_ASSERT_EQUAL(c->listen[0].tls.min_version, SG_CONFIG_TLS_1_3);
	CU_ASSERT_EQUAL(c->listen[1].address.addr.s_addr, htonl(0xc6120002));
	CU_ASSERT_EQUAL(c->listen[1].port, 6390);
	CU_ASSERT_EQUAL(c->listen[1].role, SG_CONFIG_ROLE_READER);
	CU_ASSERT_EQUAL(c->listen[1].backlog, 511);	/* default in an entry */
	CU_ASSERT_FALSE(c->listen[1].tls.enabled);

	CU_ASSERT_EQUAL(c->io.mode, SG_CONFIG_IO_DPDK);
	CU_ASSERT_EQUAL(c->io.workers, 3);
	CU_ASSERT_EQUAL(c->io.main_lcore, 2);
	CU_ASSERT_EQUAL_FATAL(c->io.n_lcores, 3);
	CU_ASSERT_EQUAL(c->io.lcores[0], 4);
	CU_ASSERT_EQUAL(c->io.lcores[1], 5);
	CU_ASSERT_EQUAL(c->io.lcores[2], 7);
	CU_ASSERT_EQUAL_FATAL(c->io.n_eal_args, 2);
	CU_ASSERT_STRING_EQUAL(c->io.eal_args[0], "--log-level=lib.eal:debug");
	CU_ASSERT_STRING_EQUAL(c->io.eal_args[1], "--in-memory");
	CU_ASSERT_STRING_EQUAL(c->io.file_prefix, "sg-test_1");
	CU_ASSERT_EQUAL(c->io.huge_pages, SG_CONFIG_HUGE_PAGES_TRUE);
	CU_ASSERT_EQUAL(c->io.memory, 2 * GB);
	CU_ASSERT_TRUE(c->io.busy_poll);
	CU_ASSERT_EQUAL(c->io.idle_sleep_ns, 250000);
	CU_ASSERT_EQUAL(c->io.mbuf_size, 9 * KB);
	CU_ASSERT_EQUAL(c->io.mbufs, 65536);
	CU_ASSERT_STRING_EQUAL(c->io.port, "0000:01:00.0");
	CU_ASSERT_STRING_EQUAL(c->io.address.text, "198.18.0.2/24");
	CU_ASSERT_EQUAL(c->io.address.addr.s_addr, htonl(0xc6120002));
	CU_ASSERT_EQUAL(c->io.address.prefix_len, 24);
	CU_ASSERT_EQUAL(c->io.gateway.addr.s_addr, htonl(0xc6120001));
	CU_ASSERT_EQUAL(c->io.mtu, 9000);
	CU_ASSERT_EQUAL(c->io.rx_desc, 2048);
	CU_ASSERT_EQUAL(c->io.tx_desc, 512);
	CU_ASSERT_EQUAL(c->io.tcp.min_rto_ns, 50 * MS);
	CU_ASSERT_EQUAL(c->io.tcp.max_rto_ns, 120 * SEC);
	CU_ASSERT_EQUAL(c->io.tcp.delayed_ack_ns, 0);
	CU_ASSERT_EQUAL(c->io.tcp.time_wait_ns, 500 * MS);
	CU_ASSERT_EQUAL(c->io.tcp.keepalive_idle_ns, 0);
	CU_ASSERT_EQUAL(c->io.tcp.keepalive_interval_ns, 2 * SEC);
	CU_ASSERT_EQUAL(c->io.tcp.keepalive_probes, 9);
	CU_ASSERT_EQUAL(c->io.tcp.syn_backlog, 4096);
	CU_ASSERT_FALSE(c->io.tcp.syn_cookies);
	CU_ASSERT_EQUAL(c->io.tcp.rcv_buf, 1 * MB);
	CU_ASSERT_EQUAL(c->io.tcp.snd_buf, 512 * KB);
	CU_ASSERT_EQUAL(c->io.tcp.max_connections, 1048576);

	CU_ASSERT_EQUAL_FATAL(c->backend.n_seeds, 2);
	CU_ASSERT_STRING_EQUAL(c->backend.seeds[1].host, "redis-1.cluster.internal");
	CU_ASSERT_EQUAL(c->backend.seeds[1].port, 7001);
	CU_ASSERT_EQUAL(c->backend.connections, 8);
	CU_ASSERT_EQUAL(c->backend.max_in_flight, 256);
	CU_ASSERT_EQUAL(c->backend.batch_hold, 0);
	CU_ASSERT_EQUAL(c->backend.connect_timeout_ns, 250 * MS);
	CU_ASSERT_EQUAL(c->backend.request_timeout_ns, 0);
	CU_ASSERT_STRING_EQUAL(c->backend.auth.username, "proxy");
	CU_ASSERT_STRING_EQUAL(c->backend.auth.password, "s3cret-backend-pw");
	CU_ASSERT_TRUE(c->backend.tls.enabled);
	CU_ASSERT_STRING_EQUAL(c->backend.tls.server_name, "cluster.internal");
	CU_ASSERT_FALSE(c->backend.tls.verify);
	CU_ASSERT_EQUAL(c->backend.read_policy, SG_CONFIG_READ_LOCAL_AZ);
	CU_ASSERT_STRING_EQUAL(c->backend.availability_zone, "use1-az1");
	CU_ASSERT_EQUAL_FATAL(c->backend.n_zones, 2);
	CU_ASSERT_STRING_EQUAL(c->backend.zones[0].node.host, "198.18.0.10");
	CU_ASSERT_EQUAL(c->backend.zones[0].node.port, 7000);
	CU_ASSERT_STRING_EQUAL(c->backend.zones[0].zone, "use1-az1");
	CU_ASSERT_STRING_EQUAL(c->backend.zones[1].zone, "use1-az2");

	CU_ASSERT_EQUAL(c->cluster.refresh_interval_ns, 30 * SEC);
	CU_ASSERT_EQUAL(c->cluster.hold_ms, 1500);
	CU_ASSERT_EQUAL(c->cluster.retry_backoff_min_ns, 500000);
	CU_ASSERT_EQUAL(c->cluster.retry_backoff_max_ns, 1 * SEC);
	CU_ASSERT_EQUAL(c->cluster.max_redirects, 3);
	CU_ASSERT_EQUAL(c->cluster.max_parked, 0);
	CU_ASSERT_EQUAL(c->cluster.max_parked_bytes, 1 * GB);

	CU_ASSERT_EQUAL(c->limits.max_clients, 65000);
	CU_ASSERT_EQUAL(c->limits.max_args, 4096);
	CU_ASSERT_EQUAL(c->limits.max_bulk, 1 * MB);
	CU_ASSERT_EQUAL(c->limits.max_request, 2 * MB);
	CU_ASSERT_EQUAL(c->limits.max_inline, 4 * KB);
	CU_ASSERT_EQUAL(c->limits.unauth_max_args, 7);
	CU_ASSERT_EQUAL(c->limits.unauth_max_bulk, 1 * KB);
	CU_ASSERT_EQUAL(c->limits.output_pause, 8 * MB);
	CU_ASSERT_EQUAL(c->limits.output_limit, 0);
	CU_ASSERT_EQUAL(c->limits.idle_timeout_ns, 300 * SEC);
	CU_ASSERT_EQUAL(c->limits.ecpu_per_second, 50000);

	CU_ASSERT_EQUAL_FATAL(c->n_users, 2);
	CU_ASSERT_STRING_EQUAL(c->users[0].name, "app");
	CU_ASSERT_STRING_EQUAL(c->users[0].password, "app-pass-1 \"quoted\" \xc3\xa9");
	CU_ASSERT_TRUE(c->users[0].enabled);
	CU_ASSERT_FALSE(c->users[0].readonly);
	CU_ASSERT_STRING_EQUAL(c->users[1].name, "reporting");
	CU_ASSERT_FALSE(c->users[1].enabled);
	CU_ASSERT_TRUE(c->users[1].readonly);

	CU_ASSERT_STRING_EQUAL(c->telemetry.prefix, "/sg/edge_1");
	CU_ASSERT_EQUAL(c->telemetry.prometheus.address.addr.s_addr, 0);
	CU_ASSERT_EQUAL(c->telemetry.prometheus.port, 9121);
	CU_ASSERT_EQUAL(c->telemetry.hot_keys, 0);
	CU_ASSERT_EQUAL(c->log.level, SG_CONFIG_LOG_DEBUG);
	sg_config_free(c);
}

/* Print, load again, compare; print again, same text. Secrets print as
 * the placeholder, which only loads with SG_CONFIG_LOAD_ALLOW_REDACTED. */
static void
roundtrip(const struct sg_config *c, bool annotated, bool has_secrets)
{
	char *text = print_to_string(c, annotated);
	struct sg_config *back = NULL;
	int rc;

	rc = sg_config_load_buffer_flags("printed.yaml", text, strlen(text),
					 SG_CONFIG_LOAD_ALLOW_REDACTED, &back, &errs);
	if (rc != 0)
		sg_config_errors_print(&errs, stderr);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_TRUE(sg_config_equal(c, back, SG_CONFIG_EQUAL_IGNORE_SECRETS));
	CU_ASSERT_EQUAL(sg_config_equal(c, back, 0), !has_secrets);
	char *again = print_to_string(back, annotated);

	CU_ASSERT_STRING_EQUAL(text, again);
	sg_config_free(back);
	rc = load(text, &back);
	CU_ASSERT_EQUAL(rc, has_secrets ? -EINVAL : 0);
	sg_config_free(back);
	free(again);
	free(text);
}

static void
test_roundtrip(void)
{
	struct sg_config *c = load_ok(SEEDS);
	char *text;

	roundtrip(c, false, false);
	roundtrip(c, true, false);
	sg_config_free(c);

	c = load_full();
	roundtrip(c, false, true);
	roundtrip(c, true, true);
	text = print_to_string(c, false);
	CU_ASSERT_PTR_NULL(strstr(text, "s3cret-backend-pw"));
	CU_ASSERT_PTR_NULL(strstr(text, "app-pass-1"));
	CU_ASSERT_PTR_NULL(strstr(text, "rep0rt-pass-2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "    password: \"<redacted>\"\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"198.18.0.10:7000\": \"use1-az1\""));
	free(text);
	sg_config_free(c);

	/* Reloading --check output names each placeholder. */
	expect_error(SEEDS "users: [{name: a, password: \"<redacted>\"}]",
		     "t.yaml:2:29: users[0].password: \"<redacted>\" is the placeholder "
		     "--check prints for a secret; write the real value");
}

/* Strings that need escapes print so they load back the same. */
static void
test_string_escapes(void)
{
	struct sg_config *c = load_ok(
		SEEDS "io: {eal_args: [\"tab\\there\", \"quote\\\" back\\\\\", "
		"\"nel\\N ls\\L bell\\a\", \"\\u00e9\\U0001F600\", \"# not a comment\"]}\n");

	CU_ASSERT_EQUAL_FATAL(c->io.n_eal_args, 5);
	CU_ASSERT_STRING_EQUAL(c->io.eal_args[0], "tab\there");
	CU_ASSERT_STRING_EQUAL(c->io.eal_args[1], "quote\" back\\");
	CU_ASSERT_STRING_EQUAL(c->io.eal_args[2], "nel\xc2\x85 ls\xe2\x80\xa8 bell\a");
	CU_ASSERT_STRING_EQUAL(c->io.eal_args[3], "\xc3\xa9\xf0\x9f\x98\x80");
	roundtrip(c, false, false);
	sg_config_free(c);
	expect_error(SEEDS "io: {file_prefix: \"a\\0b\"}",
		     "t.yaml:2:19: io.file_prefix: must not contain a NUL byte, "
		     "got \"a\\x00b\"");
}

struct value_case {
	const char *yaml;	/* after SEEDS */
	uint64_t want;		/* field value when msg is NULL */
	const char *msg;	/* the one expected error */
};

static void
run_cases(const struct value_case *cases, size_t n,
	  uint64_t (*get)(const struct sg_config *))
{
	for (size_t i = 0; i < n; i++) {
		char text[512];
		struct sg_config *c = NULL;

		snprintf(text, sizeof(text), SEEDS "%s\n", cases[i].yaml);
		if (cases[i].msg != NULL) {
			expect_error(text, cases[i].msg);
			continue;
		}
		if (load(text, &c) != 0) {
			fprintf(stderr, "\n  input: %s\n  ", cases[i].yaml);
			sg_config_errors_print(&errs, stderr);
			CU_FAIL("rejected a valid value");
			continue;
		}
		if (get(c) != cases[i].want) {
			fprintf(stderr, "\n  input: %s: got %llu, want %llu\n", cases[i].yaml,
				(unsigned long long)get(c),
				(unsigned long long)cases[i].want);
			CU_FAIL("wrong value");
		}
		sg_config_free(c);
	}
}

static uint64_t
get_max_bulk(const struct sg_config *c)
{
	return c->limits.max_bulk;
}

static void
test_sizes(void)
{
	static const struct value_case cases[] = {
		{ "limits: {max_bulk: 512}", 512, NULL },
		{ "limits: {max_bulk: 512b}", 512, NULL },
		{ "limits: {max_bulk: 64kb}", 64 * KB, NULL },
		{ "limits: {max_bulk: 64KB}", 64 * KB, NULL },
		{ "limits: {max_bulk: 64k}", 64 * KB, NULL },
		{ "limits: {max_bulk: 3m}", 3 * MB, NULL },
		{ "limits: {max_bulk: 1Gb, max_request: 1gb}", 1 * GB, NULL },
		{ "limits: {max_bulk: 1g, max_request: 1gb}", 1 * GB, NULL },
		{ "limits: {max_bulk: 4gb, max_request: 4gb}", 4 * GB, NULL },
		{ "limits: {max_bulk: 1}", 1, NULL },
		{ "limits: {max_bulk: 0}", 0,
		  "t.yaml:2:20: limits.max_bulk: must be between 1 and 4gb, got \"0\"" },
		{ "limits: {max_bulk: 8gb}", 0,
		  "t.yaml:2:20: limits.max_bulk: must be between 1 and 4gb, got \"8gb\"" },
		{ "limits: {max_bulk: 12qb}", 0,
		  "t.yaml:2:20: limits.max_bulk: must be a size like 64mb or 1gb, got \"12qb\"" },
		{ "limits: {max_bulk: 1.5mb}", 0,
		  "t.yaml:2:20: limits.max_bulk: must be a size like 64mb or 1gb, got \"1.5mb\"" },
		{ "limits: {max_bulk: -1}", 0,
		  "t.yaml:2:20: limits.max_bulk: must be a size like 64mb or 1gb, got \"-1\"" },
		{ "limits: {max_bulk: 064kb}", 0,
		  "t.yaml:2:20: limits.max_bulk: must be a size like 64mb or 1gb, got \"064kb\"" },
		{ "limits: {max_bulk: kb}", 0,
		  "t.yaml:2:20: limits.max_bulk: must be a size like 64mb or 1gb, got \"kb\"" },
		{ "limits: {max_bulk: 99999999999999999999}", 0,
		  "t.yaml:2:20: limits.max_bulk: must be between 1 and 4gb, "
		  "got \"99999999999999999999\"" },
		{ "limits: {max_bulk: 18446744073709551615tb}", 0,
		  "t.yaml:2:20: limits.max_bulk: must be between 1 and 4gb, "
		  "got \"18446744073709551615tb\"" },
	};

	run_cases(cases, SG_ARRAY_SIZE(cases), get_max_bulk);
}

static uint64_t
get_request_timeout(const struct sg_config *c)
{
	return c->backend.request_timeout_ns;
}

static uint64_t
get_hold(const struct sg_config *c)
{
	return c->cluster.hold_ms;
}

static void
test_durations(void)
{
	static const struct value_case cases[] = {
		{ "backend: {seeds: [a:1], request_timeout: 250ms}", 250 * MS, NULL },
		{ "backend: {seeds: [a:1], request_timeout: 5s}", 5 * SEC, NULL },
		{ "backend: {seeds: [a:1], request_timeout: 2m}", 120 * SEC, NULL },
		{ "backend: {seeds: [a:1], request_timeout: 10M}", 600 * SEC, NULL },
		{ "backend: {seeds: [a:1], request_timeout: 1500us}", 1500000, NULL },
		{ "backend: {seeds: [a:1], request_timeout: 7ns}", 7, NULL },
		{ "backend: {seeds: [a:1], request_timeout: 0}", 0, NULL },
		{ "backend: {seeds: [a:1], request_timeout: soon}", 0,
		  "t.yaml:1:42: backend.request_timeout: must be a duration like 500ms "
		  "or 5s, got \"soon\"" },
		{ "backend: {seeds: [a:1], request_timeout: 500}", 0,
		  "t.yaml:1:42: backend.request_timeout: must be a duration like 500ms "
		  "or 5s, got \"500\"" },
		{ "backend: {seeds: [a:1], request_timeout: 1h}", 0,
		  "t.yaml:1:42: backend.request_timeout: must be between 0 and 600s, "
		  "got \"1h\"" },
		{ "backend: {seeds: [a:1], request_timeout: 5 s}", 0,
		  "t.yaml:1:42: backend.request_timeout: must be a duration like 500ms "
		  "or 5s, got \"5 s\"" },
	};
	static const struct value_case hold[] = {
		{ "cluster: {hold_ms: 1500}", 1500, NULL },
		{ "cluster: {hold_ms: 3s}", 3000, NULL },
		{ "cluster: {hold_ms: 0}", 0, NULL },
		{ "cluster: {hold_ms: 60000}", 60000, NULL },
		{ "cluster: {hold_ms: 60001}", 0,
		  "t.yaml:2:20: cluster.hold_ms: must be between 0 and 60000, "
		  "got \"60001\"" },
		{ "cluster: {hold_ms: 1500us}", 0,
		  "t.yaml:2:20: cluster.hold_ms: must be a whole number of 1ms, "
		  "got \"1500us\"" },
	};

	/* The case table puts seeds in backend itself: drop SEEDS' copy. */
	for (size_t i = 0; i < SG_ARRAY_SIZE(cases); i++) {
		struct sg_config *c = NULL;

		if (cases[i].msg != NULL) {
			char text[512];

			snprintf(text, sizeof(text), "%s\n", cases[i].yaml);
			expect_error(text, cases[i].msg);
			continue;
		}
		CU_ASSERT_EQUAL(load(cases[i].yaml, &c), 0);
		if (c != NULL)
			CU_ASSERT_EQUAL(get_request_timeout(c), cases[i].want);
		sg_config_free(c);
	}
	run_cases(hold, SG_ARRAY_SIZE(hold), get_hold);
}

static uint64_t
get_seed_port(const struct sg_config *c)
{
	return c->backend.seeds[c->backend.n_seeds - 1].port;
}

static void
test_addresses(void)
{
	static const struct value_case seeds[] = {
		{ "backend: {seeds: [\"redis-1.example.com:7000\"]}", 7000, NULL },
		{ "backend: {seeds: [255.255.255.255:65535]}", 65535, NULL },
		{ "backend: {seeds: [0.0.0.0:1]}", 1, NULL },
		{ "backend: {seeds: [a-b.c9:2]}", 2, NULL },
		{ "backend: {seeds: [localhost]}", 0,
		  "t.yaml:1:19: backend.seeds[0]: must be host:port like "
		  "127.0.0.1:7000, got \"localhost\"" },
		{ "backend: {seeds: [\":7000\"]}", 0,
		  "t.yaml:1:19: backend.seeds[0]: must be host:port like "
		  "127.0.0.1:7000, got \":7000\"" },
		{ "backend: {seeds: [\"h:0\"]}", 0,
		  "t.yaml:1:19: backend.seeds[0]: must be host:port with a port "
		  "between 1 and 65535, got \"h:0\"" },
		{ "backend: {seeds: [\"h:65536\"]}", 0,
		  "t.yaml:1:19: backend.seeds[0]: must be host:port with a port "
		  "between 1 and 65535, got \"h:65536\"" },
		{ "backend: {seeds: [\"10.0.0.256:7000\"]}", 0,
		  "t.yaml:1:19: backend.seeds[0]: host is not an IPv4 address: "
		  "\"10.0.0.256:7000\"" },
		{ "backend: {seeds: [\"1.2.3:7000\"]}", 0,
		  "t.yaml:1:19: backend.seeds[0]: host is not an IPv4 address: "
		  "\"1.2.3:7000\"" },
		{ "backend: {seeds: [\"-bad.example:7000\"]}", 0,
		  "t.yaml:1:19: backend.seeds[0]: host must be an IPv4 address or a "
		  "host name, got \"-bad.example:7000\"" },
		{ "backend: {seeds: [\"a..b:7000\"]}", 0,
		  "t.yaml:1:19: backend.seeds[0]: host must be an IPv4 address or a "
		  "host name, got \"a..b:7000\"" },
		{ "backend: {seeds: [\"[::1]:7000\"]}", 0,
		  "t.yaml:1:19: backend.seeds[0]: host must be an IPv4 address or a "
		  "host name, got \"[::1]:7000\"" },
	};

	for (size_t i = 0; i < SG_ARRAY_SIZE(seeds); i++) {
		struct sg_config *c = NULL;
		char text[512];

		snprintf(text, sizeof(text), "%s\n", seeds[i].yaml);
		if (seeds[i].msg != NULL) {
			expect_error(text, seeds[i].msg);
			continue;
		}
		CU_ASSERT_EQUAL(load(text, &c), 0);
		if (c != NULL)
			CU_ASSERT_EQUAL(get_seed_port(c), seeds[i].want);
		sg_config_free(c);
	}
	expect_error(SEEDS "listen: [{port: 1, address: 01.2.3.4}]",
		     "t.yaml:2:29: listen[0].address: not an IPv4 address: \"01.2.3.4\"");
	expect_error(SEEDS "listen: [{port: 1, address: 1.2.3.4.5}]",
		     "t.yaml:2:29: listen[0].address: not an IPv4 address: \"1.2.3.4.5\"");
	expect_error(SEEDS "listen: [{port: 1, address: \"\"}]",
		     "t.yaml:2:29: listen[0].address: not an IPv4 address: \"\"");
	expect_error(SEEDS "io: {address: 10.0.0.1}",
		     "t.yaml:2:15: io.address: must be an IPv4 address with a prefix "
		     "length like 198.18.0.2/24, got \"10.0.0.1\"");
	expect_error(SEEDS "io: {address: 10.0.0.1/0}",
		     "t.yaml:2:15: io.address: must be an IPv4 address with a prefix "
		     "length like 198.18.0.2/24, got \"10.0.0.1/0\"");
	expect_error(SEEDS "listen: [{port: 0}]",
		     "t.yaml:2:17: listen[0].port: must be a port number between 1 and "
		     "65535, got \"0\"");
	/* Prometheus takes 0 (off). */
	struct sg_config *c = load_ok(SEEDS "telemetry: {prometheus: {port: 0}}");

	sg_config_free(c);
}

static void
test_scalars(void)
{
	struct sg_config *c = load_ok(SEEDS "io: {busy_poll: true, rx_desc: 64, "
					    "tx_desc: 4096, huge_pages: \"false\"}\n"
					    "listen: [{port: 1, tls: {min_version: \"1.3\"}}]");

	CU_ASSERT_TRUE(c->io.busy_poll);
	CU_ASSERT_EQUAL(c->io.rx_desc, 64);
	CU_ASSERT_EQUAL(c->io.tx_desc, 4096);
	CU_ASSERT_EQUAL(c->io.huge_pages, SG_CONFIG_HUGE_PAGES_FALSE);
	CU_ASSERT_EQUAL(c->listen[0].tls.min_version, SG_CONFIG_TLS_1_3);
	sg_config_free(c);

	expect_error(SEEDS "io: {busy_poll: True}",
		     "t.yaml:2:17: io.busy_poll: must be true or false, got \"True\"");
	expect_error(SEEDS "io: {busy_poll: 1}",
		     "t.yaml:2:17: io.busy_poll: must be true or false, got \"1\"");
	expect_error(SEEDS "io: {rx_desc: 1000}",
		     "t.yaml:2:15: io.rx_desc: must be a power of two between 64 and "
		     "4096, got \"1000\"");
	expect_error(SEEDS "io: {workers: 0}",
		     "t.yaml:2:15: io.workers: must be an integer between 1 and 128, "
		     "got \"0\"");
	expect_error(SEEDS "io: {workers: +2}",
		     "t.yaml:2:15: io.workers: must be an integer between 1 and 128, "
		     "got \"+2\"");
	expect_error(SEEDS "io: {workers: 0x10}",
		     "t.yaml:2:15: io.workers: must be an integer between 1 and 128, "
		     "got \"0x10\"");
	expect_error(SEEDS "io: {mode: Kernel}",
		     "t.yaml:2:12: io.mode: must be one of kernel, dpdk; got \"Kernel\"");
	expect_error(SEEDS "telemetry: {prefix: shardgate}",
		     "t.yaml:2:21: telemetry.prefix: must start with '/' and use only "
		     "a-z, 0-9, '_' and single '/' between names (at most 32 bytes), "
		     "got \"shardgate\"");
	expect_error(SEEDS "users: [{name: \"a b\", password: x}]",
		     "t.yaml:2:16: users[0].name: must be printable ASCII without "
		     "spaces, got \"a b\"");
	expect_error(SEEDS "users: [{name: a, password: \"\"}]",
		     "t.yaml:2:29: users[0].password: must not be empty, got \"\"");
	expect_error(SEEDS "listen: []",
		     "t.yaml:2:9: listen: must not be empty");
	expect_error(SEEDS "io: {connections: 1}",
		     "t.yaml:2:6: io.connections: unknown key; valid keys are mode, "
		     "workers, main_lcore, lcores, eal_args, file_prefix, huge_pages, "
		     "memory, busy_poll, idle_sleep, mbuf_size, mbufs, port, address, "
		     "gateway, mtu, rx_desc, tx_desc, tcp");
	expect_error(SEEDS "IO: {}",
		     "t.yaml:2:1: IO: unknown key; did you mean \"io\"?");
}

/* Every kind of mistake with its exact message: bad/NAME.yaml and
 * bad/NAME.err (the lines sg_config_errors_print writes). Each input is
 * also loaded from right before a PROT_NONE page. */
static void
test_bad_files(void)
{
	char dir[4096];
	struct dirent *de;
	unsigned files = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/unit/config/bad", src_root());
	d = opendir(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d)) != NULL) {
		size_t nlen = strlen(de->d_name), ylen, elen;
		char path[8192], *yaml, *want, *got = NULL;
		struct sg_config *c = (struct sg_config *)1;
		struct sg_guard g;
		size_t glen = 0;
		FILE *f;
		int rc;

		if (nlen < 6 || strcmp(de->d_name + nlen - 5, ".yaml") != 0)
			continue;
		files++;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		yaml = slurp(path, &ylen);
		snprintf(path + strlen(path) - 5, 6, ".err");
		want = slurp(path, &elen);
		CU_ASSERT_PTR_NOT_NULL_FATAL(yaml);
		if (want == NULL) {
			fprintf(stderr, "\n  %s has no .err file\n", de->d_name);
			CU_FAIL("missing .err");
			free(yaml);
			continue;
		}
		g = sg_guard_copy(yaml, ylen);
		rc = sg_config_load_buffer(de->d_name, g.data, ylen, &c, &errs);
		sg_guard_free(&g);
		CU_ASSERT_EQUAL(rc, -EINVAL);
		CU_ASSERT_PTR_NULL(c);
		f = open_memstream(&got, &glen);
		sg_config_errors_print(&errs, f);
		fclose(f);
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "\n  %s:\n  expected:\n%s  got:\n%s", de->d_name,
				want, got);
			CU_FAIL("messages differ from the .err file");
		}
		free(got);
		free(want);
		free(yaml);
	}
	closedir(d);
	CU_ASSERT(files >= 20);
}

static void
test_error_cap(void)
{
	char text[4096];
	size_t o = 0;
	struct sg_config *c;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	o += (size_t)snprintf(text + o, sizeof(text) - o, SEEDS "users:\n");
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
				      "  - {name: u%d, password: p, enabled: maybe}\n", i);
	CU_ASSERT_EQUAL(load(text, &c), -EINVAL);
	CU_ASSERT_EQUAL(errs.n, SG_CONFIG_ERRORS_MAX);
	CU_ASSERT_EQUAL(errs.total, 40);
	CU_ASSERT_STRING_EQUAL(errs.msg[31], "t.yaml:34:39: users[31].enabled: must be "
					     "true or false, got \"maybe\"");
	f = open_memstream(&out, &len);
	sg_config_errors_print(&errs, f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"maybe\"\n... and 8 more\n"));
	free(out);
}

static void
test_unreadable(void)
{
	struct sg_config *c = (struct sg_config *)1;
	char path[4096];
	char *big;

	CU_ASSERT_EQUAL(sg_config_load_file("/nonexistent/missing.yaml", &c, &errs),
			-ENOENT);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(errs.n, 1);
	CU_ASSERT_STRING_EQUAL(errs.msg[0], "/nonexistent/missing.yaml: cannot read: "
					    "No such file or directory");
	snprintf(path, sizeof(path), "%s/config", src_root());
	CU_ASSERT_EQUAL(sg_config_load_file(path, &c, &errs), -EISDIR);
	CU_ASSERT_PTR_NOT_NULL(strstr(errs.msg[0], ": cannot read: Is a directory"));

	/* One byte over the limit, refused before parsing. */
	big = malloc(SG_CONFIG_FILE_MAX + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, '#', SG_CONFIG_FILE_MAX + 1);
	CU_ASSERT_EQUAL(sg_config_load_buffer("big.yaml", big, SG_CONFIG_FILE_MAX + 1,
					      &c, &errs), -EFBIG);
	CU_ASSERT_STRING_EQUAL(errs.msg[0], "big.yaml:1:1: too large: 1048577 bytes, "
					    "at most 1048576");
	/* At the limit it is only a (long) comment: the required key is
	 * what is missing. */
	CU_ASSERT_EQUAL(sg_config_load_buffer("big.yaml", big, SG_CONFIG_FILE_MAX,
					      &c, &errs), -EINVAL);
	CU_ASSERT_STRING_EQUAL(errs.msg[0], "big.yaml:1:1: backend.seeds: required "
					    "key is missing");
	free(big);
	/* NULL errs is allowed. */
	CU_ASSERT_EQUAL(sg_config_load_buffer("x", "a: [", 4, &c, NULL), -EINVAL);
}

static struct sg_config *
load_example(const char *name)
{
	char path[4096];
	struct sg_config *c = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/config/%s", src_root(), name);
	rc = sg_config_load_file(path, &c, &errs);
	if (rc != 0)
		sg_config_errors_print(&errs, stderr);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	return c;
}

static void
test_examples(void)
{
	struct sg_config *c = load_example("local.yaml");

	CU_ASSERT_EQUAL(c->io.mode, SG_CONFIG_IO_KERNEL);
	CU_ASSERT_EQUAL(c->io.workers, 1);
	CU_ASSERT_EQUAL(c->n_listen, 1);
	CU_ASSERT_STRING_EQUAL(c->listen[0].address.text, "127.0.0.1");
	CU_ASSERT_EQUAL(c->listen[0].port, 6380);
	CU_ASSERT_EQUAL_FATAL(c->backend.n_seeds, 3);
	for (size_t i = 0; i < 3; i++) {
		CU_ASSERT_STRING_EQUAL(c->backend.seeds[i].host, "127.0.0.1");
		CU_ASSERT_EQUAL(c->backend.seeds[i].port, 7000 + i);
	}
	roundtrip(c, false, false);
	sg_config_free(c);

	c = load_example("dpdk-tap.yaml");
	CU_ASSERT_EQUAL(c->io.mode, SG_CONFIG_IO_DPDK);
	CU_ASSERT_EQUAL(c->io.workers, 1);
	CU_ASSERT_STRING_EQUAL(c->io.port, "net_tap0,iface=sgtap0");
	CU_ASSERT_STRING_EQUAL(c->io.address.text, "198.18.0.2/24");
	CU_ASSERT_EQUAL(c->io.address.prefix_len, 24);
	CU_ASSERT_EQUAL(c->io.huge_pages, SG_CONFIG_HUGE_PAGES_FALSE);
	CU_ASSERT_TRUE(c->backend.n_seeds >= 1);
	for (size_t i = 0; i < c->backend.n_seeds; i++) {
		struct in_addr a;

		CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET, c->backend.seeds[i].host, &a), 1);
		CU_ASSERT_EQUAL(ntohl(a.s_addr) >> 17, 0xc612u >> 1);	/* 198.18/15 */
	}
	roundtrip(c, false, false);
	sg_config_free(c);
}

/* config/shardgate.yaml is the annotated print of the defaults: the
 * table's help texts are its comments, and it cannot drift. */
static void
test_reference_file(void)
{
	char path[4096];
	struct sg_config *defaults = load_ok(SEEDS), *ref;
	char *want = print_to_string(defaults, true);
	size_t len = 0;
	char *have;

	snprintf(path, sizeof(path), "%s/config/shardgate.yaml", src_root());
	have = slurp(path, &len);
	if (getenv("SG_CONFIG_REGEN") != NULL &&
	    (have == NULL || strcmp(have, want) != 0)) {
		FILE *f = fopen(path, "w");

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs(want, f);
		fclose(f);
		free(have);
		have = slurp(path, &len);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(have);
	if (strcmp(have, want) != 0)
		fprintf(stderr, "\n  config/shardgate.yaml is stale: run the unit "
				"tests with SG_CONFIG_REGEN=1\n");
	CU_ASSERT_STRING_EQUAL(have, want);
	ref = load_example("shardgate.yaml");
	CU_ASSERT_TRUE(sg_config_equal(ref, defaults, 0));
	/* Every key of the table appears with a comment above it. */
	CU_ASSERT_PTR_NOT_NULL(strstr(have, "  # Connections to each node from each "
					    "worker;"));
	CU_ASSERT_PTR_NOT_NULL(strstr(have, "Range 1..64. Default 1.\n  connections: 1\n"));
	sg_config_free(ref);
	sg_config_free(defaults);
	free(want);
	free(have);
}

static const struct sg_unit_test config_tests[] = {
	{ "defaults", test_defaults },
	{ "full file", test_full },
	{ "print and load again", test_roundtrip },
	{ "string escapes", test_string_escapes },
	{ "sizes", test_sizes },
	{ "durations", test_durations },
	{ "addresses and endpoints", test_addresses },
	{ "integers, booleans, enums, strings", test_scalars },
	{ "bad files and their messages", test_bad_files },
	{ "error cap", test_error_cap },
	{ "unreadable and oversized input", test_unreadable },
	{ "example configurations", test_examples },
	{ "config/shardgate.yaml", test_reference_file },
	{ NULL, NULL },
};

SG_UNIT_MAIN({ "config", config_tests })
