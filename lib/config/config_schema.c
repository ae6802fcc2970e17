/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The schema: one directive per key (name, type, field, bounds, default,
 * help) and the cross-field rules. Adding a key is one row here plus the
 * field in sg_config.h; loading, defaults, printing, comparing, freeing
 * and config/shardgate.yaml's comments all follow from the row.
 *
 * Help texts say what a key means; the annotated printer adds the range
 * and the default from the row itself, so they cannot drift apart.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "config_internal.h"

#define US SG_NS_PER_US
#define MS SG_NS_PER_MS
#define S SG_NS_PER_S
#define KB (1ull << 10)
#define MB (1ull << 20)
#define GB (1ull << 30)
#define TB (1ull << 40)

#define FIELD(T, f) .off = offsetof(T, f), .width = sizeof(((T *)0)->f)

#define INT(T, f, lo, hi, d, h) \
	{ .name = #f, .type = CF_T_INT, FIELD(T, f), .min = (lo), .max = (hi), \
	  .def = (d), .help = (h) }
#define POW2(T, f, lo, hi, d, h) \
	{ .name = #f, .type = CF_T_INT, .flags = CF_POW2, FIELD(T, f), \
	  .min = (lo), .max = (hi), .def = (d), .help = (h) }
#define BOOL(T, f, d, h) \
	{ .name = #f, .type = CF_T_BOOL, FIELD(T, f), .def = (d), .help = (h) }
#define STR(T, f, fl, chk, d, h) \
	{ .name = #f, .type = CF_T_STRING, .flags = (fl), FIELD(T, f), \
	  .check = (chk), .def = (d), .help = (h) }
#define ENUM(T, f, nm, d, h) \
	{ .name = #f, .type = CF_T_ENUM, FIELD(T, f), .names = (nm), \
	  .def = (d), .help = (h) }
#define IPV4(T, f, fl, d, h) \
	{ .name = #f, .type = CF_T_IPV4, .flags = (fl), FIELD(T, f), \
	  .def = (d), .help = (h) }
#define CIDR(T, f, fl, d, h) \
	{ .name = #f, .type = CF_T_CIDR, .flags = (fl), FIELD(T, f), \
	  .def = (d), .help = (h) }
#define PORT(T, f, lo, d, h) \
	{ .name = #f, .type = CF_T_PORT, FIELD(T, f), .min = (lo), \
	  .max = 65535, .def = (d), .help = (h) }
#define SIZE(T, f, lo, hi, d, h) \
	{ .name = #f, .type = CF_T_SIZE, FIELD(T, f), .min = (lo), \
	  .max = (hi), .def = (d), .help = (h) }
/* A duration stored in nanoseconds in <name>_ns; a bare number other
 * than 0 is refused because the key does not name a unit. */
#define DUR(T, n, f, lo, hi, d, h) \
	{ .name = (n), .type = CF_T_DURATION, FIELD(T, f), .min = (lo), \
	  .max = (hi), .unit = 1, .plain_unit = 0, .def = (d), .help = (h) }
#define SECTION(T, f, s, h) \
	{ .name = #f, .type = CF_T_SECTION, .off = offsetof(T, f), .sub = &(s), \
	  .help = (h) }

/* ------------------------------------------------------------------ */
/* String rules                                                        */
/* ------------------------------------------------------------------ */

static const char *
check_nonempty(const char *s, size_t len)
{
	(void)s;
	return len == 0 ? "must not be empty" : NULL;
}

/* DPDK telemetry command prefix: "/shardgate", "/sg/a". */
static const char *
check_prefix(const char *s, size_t len)
{
	static const char problem[] =
		"must start with '/' and use only a-z, 0-9, '_' and single '/' "
		"between names (at most 32 bytes)";

	if (len < 2 || len > 32 || s[0] != '/' || s[len - 1] == '/')
		return problem;
	for (size_t i = 1; i < len; i++) {
		char ch = s[i];

		if (ch == '/' && s[i - 1] == '/')
			return problem;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '/'))
			return problem;
	}
	return NULL;
}

/* A file name component for EAL --file-prefix. */
static const char *
check_file_prefix(const char *s, size_t len)
{
	if (len > 64)
		return "must be at most 64 bytes";
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		      ch == '.'))
			return "must use only letters, digits, '_', '-' and '.'";
	}
	return NULL;
}

/* ACL user names: printable ASCII without spaces, as AUTH sends them. */
static const char *
check_user_name(const char *s, size_t len)
{
	if (len == 0 || len > 128)
		return "must be 1 to 128 bytes long";
	for (size_t i = 0; i < len; i++) {
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return "must be printable ASCII without spaces";
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The tables                                                          */
/* ------------------------------------------------------------------ */

static const char *const tls_versions[] = { "1.2", "1.3", NULL };
static const char *const roles[] = { "primary", "reader", NULL };
static const char *const io_modes[] = { "kernel", "dpdk", NULL };
static const char *const huge_pages[] = { "auto", "true", "false", NULL };
static const char *const read_policies[] = {
	"primary", "prefer_replica", "local_az", NULL,
};
static const char *const log_levels[] = {
	"error", "warning", "notice", "info", "debug", NULL,
};

#define T struct sg_config_listen_tls
static const struct cf_directive listen_tls_keys[] = {
	BOOL(T, enabled, "false",
	     "Terminate TLS on this endpoint: clients must speak TLS."),
	STR(T, cert, 0, NULL, "",
	    "PEM certificate chain shown to clients. Required when enabled."),
	STR(T, key, 0, NULL, "",
	    "PEM private key file of cert. Required when enabled. Only the "
	    "path is kept here; the key is read when the proxy starts."),
	STR(T, ca, 0, NULL, "",
	    "PEM CA bundle that client certificates must chain to. Required "
	    "with require_client_cert."),
	BOOL(T, require_client_cert, "false",
	     "Ask every client for a certificate signed by ca (mutual TLS)."),
	ENUM(T, min_version, tls_versions, "1.2", "Oldest TLS version accepted."),
};
#undef T
static const struct cf_section listen_tls = {
	listen_tls_keys, SG_ARRAY_SIZE(listen_tls_keys),
};

#define T struct sg_config_listen
static const struct cf_directive listen_keys[] = {
	IPV4(T, address, 0, "0.0.0.0",
	     "IPv4 address to accept clients on; 0.0.0.0: every address (in "
	     "dpdk mode, io.address)."),
	{ .name = "port", .type = CF_T_PORT, .flags = CF_REQUIRED,
	  FIELD(T, port), .min = 1, .max = 65535, .example = "6379",
	  .help = "TCP port clients connect to." },
	ENUM(T, role, roles, "primary",
	     "primary: every command goes to the primaries. reader: read-only "
	     "commands go to replicas as backend.read_policy says, as if each "
	     "client had sent READONLY."),
	INT(T, backlog, 1, 65535, "511",
	    "Connections completed but not yet accepted."),
	SECTION(T, tls, listen_tls, "TLS for this endpoint's clients."),
};
#undef T
static const struct cf_section listen_section = {
	listen_keys, SG_ARRAY_SIZE(listen_keys),
};

#define T struct sg_config_tcp
static const struct cf_directive tcp_keys[] = {
	DUR(T, "min_rto", min_rto_ns, 1 * MS, 10 * S, "200ms",
	    "Lowest retransmission timeout (RFC 6298 derives it from the "
	    "measured round trip)."),
	DUR(T, "max_rto", max_rto_ns, 100 * MS, 120 * S, "60s",
	    "Highest retransmission timeout; at least min_rto."),
	DUR(T, "delayed_ack", delayed_ack_ns, 0, 500 * MS, "20ms",
	    "How long an ACK may wait for data to ride on; 0 acknowledges at "
	    "once."),
	DUR(T, "time_wait", time_wait_ns, 0, 120 * S, "1s",
	    "How long a closed connection holds its address and port pair."),
	DUR(T, "keepalive_idle", keepalive_idle_ns, 0, 24 * 3600 * S, "60s",
	    "Idle time before the first keepalive probe; 0 turns keepalive "
	    "off."),
	DUR(T, "keepalive_interval", keepalive_interval_ns, 1 * S, 3600 * S,
	    "10s", "Time between unanswered keepalive probes."),
	INT(T, keepalive_probes, 1, 64, "5",
	    "Unanswered keepalive probes before the connection is dropped."),
	INT(T, syn_backlog, 1, 65535, "1024",
	    "Half-open connections per listener before SYN cookies (or "
	    "drops) take over."),
	BOOL(T, syn_cookies, "true",
	     "Answer SYNs with cookies when the SYN backlog is full."),
	SIZE(T, rcv_buf, 4 * KB, 64 * MB, "256kb",
	     "Receive memory per connection; the window advertised is what is "
	     "left of it."),
	SIZE(T, snd_buf, 4 * KB, 64 * MB, "256kb",
	     "Unacknowledged data kept per connection for retransmission."),
	INT(T, max_connections, 16, 4194304, "65536",
	    "TCP connections per worker, clients and backends together."),
};
#undef T
static const struct cf_section tcp_section = {
	tcp_keys, SG_ARRAY_SIZE(tcp_keys),
};

static const struct cf_directive lcore_elem = {
	.name = "lcore", .type = CF_T_INT, .width = sizeof(uint32_t),
	.min = 0, .max = 1023,
};
static const struct cf_directive eal_arg_elem = {
	.name = "argument", .type = CF_T_STRING, .check = check_nonempty,
};

#define T struct sg_config_io
static const struct cf_directive io_keys[] = {
	ENUM(T, mode, io_modes, "kernel",
	     "kernel: sockets and epoll, for laptops, CI and small "
	     "deployments. dpdk: a poll-mode NIC port and shardgate's own "
	     "TCP/IP stack."),
	INT(T, workers, 1, 128, "1",
	    "Worker lcores. Each owns its connections, timers and buffers."),
	INT(T, main_lcore, 0, 1023, "0",
	    "The EAL main lcore: control work, no traffic."),
	{ .name = "lcores", .type = CF_T_LIST, .off = offsetof(T, lcores),
	  .count_off = offsetof(T, n_lcores), .elem = &lcore_elem,
	  .elem_size = sizeof(uint32_t), .max_items = 128,
	  .help = "Worker lcore ids (0..1023), one per worker, none repeated "
		  "and none equal to main_lcore; []: the lcores after "
		  "main_lcore." },
	{ .name = "eal_args", .type = CF_T_LIST, .off = offsetof(T, eal_args),
	  .count_off = offsetof(T, n_eal_args), .elem = &eal_arg_elem,
	  .elem_size = sizeof(char *), .max_items = 64,
	  .help = "Extra EAL arguments, after the ones shardgate builds from "
		  "this file." },
	STR(T, file_prefix, 0, check_file_prefix, "",
	    "EAL --file-prefix (hugepage files, telemetry socket); \"\": "
	    "shardgate-<pid>."),
	ENUM(T, huge_pages, huge_pages, "auto",
	     "Back the mempools with hugepages; auto: false in kernel mode, "
	     "true in dpdk mode."),
	SIZE(T, memory, 16 * MB, 1 * TB, "512mb",
	     "Memory EAL reserves at start (-m); must hold every worker's "
	     "mbufs."),
	BOOL(T, busy_poll, "false",
	     "Kernel mode: spin instead of sleeping in epoll_wait when idle "
	     "(lower latency, one full core per worker)."),
	DUR(T, "idle_sleep", idle_sleep_ns, 0, 1 * S, "1ms",
	    "Longest sleep of an idle worker loop."),
	SIZE(T, mbuf_size, 1 * KB, 60 * KB, "2kb", "Data room of each mbuf."),
	INT(T, mbufs, 1024, 4194304, "32768", "Mbufs in each worker's pool."),
	STR(T, port, 0, NULL, "",
	    "dpdk mode: the NIC, as a PCI address (0000:01:00.0) or vdev "
	    "arguments (net_tap0,iface=sg0). Required in dpdk mode."),
	CIDR(T, address, CF_EMPTY_OK, "",
	     "dpdk mode: our IPv4 address and prefix length on port "
	     "(198.18.0.2/24). Required in dpdk mode."),
	IPV4(T, gateway, CF_EMPTY_OK, "",
	     "dpdk mode: IPv4 default gateway, inside address's subnet; \"\": "
	     "none, every backend is on the subnet."),
	INT(T, mtu, 576, 9000, "1500", "dpdk mode: IP MTU of port."),
	POW2(T, rx_desc, 64, 4096, "1024",
	     "dpdk mode: receive descriptors per queue."),
	POW2(T, tx_desc, 64, 4096, "1024",
	     "dpdk mode: transmit descriptors per queue."),
	SECTION(T, tcp, tcp_section, "dpdk mode: the userspace TCP stack."),
};
#undef T
static const struct cf_section io_section = { io_keys, SG_ARRAY_SIZE(io_keys) };

#define T struct sg_config_auth
static const struct cf_directive auth_keys[] = {
	STR(T, username, 0, NULL, "",
	    "ACL user for AUTH to the nodes; \"\": AUTH with the password "
	    "alone (the default user)."),
	STR(T, password, CF_SECRET, NULL, "",
	    "Password for AUTH to the nodes; \"\": no AUTH. A secret: "
	    "printed as \"<redacted>\"."),
};
#undef T
static const struct cf_section auth_section = {
	auth_keys, SG_ARRAY_SIZE(auth_keys),
};

#define T struct sg_config_backend_tls
static const struct cf_directive backend_tls_keys[] = {
	BOOL(T, enabled, "false", "Connect to the nodes over TLS."),
	STR(T, ca, 0, NULL, "",
	    "PEM CA bundle node certificates must chain to; \"\": the system "
	    "store."),
	STR(T, cert, 0, NULL, "",
	    "PEM client certificate for mutual TLS; needs key."),
	STR(T, key, 0, NULL, "",
	    "PEM private key file of cert; needs cert. Only the path is kept "
	    "here."),
	STR(T, server_name, 0, NULL, "",
	    "Name sent in SNI and checked in node certificates; \"\": each "
	    "node's host."),
	BOOL(T, verify, "true",
	     "Check node certificates; turn off only on test networks."),
};
#undef T
static const struct cf_section backend_tls_section = {
	backend_tls_keys, SG_ARRAY_SIZE(backend_tls_keys),
};

static const struct cf_directive seed_elem = {
	.name = "seed", .type = CF_T_ENDPOINT,
};
static const struct cf_directive zone_key = {
	.name = "node", .type = CF_T_ENDPOINT,
	.off = offsetof(struct sg_config_zone, node),
};
static const struct cf_directive zone_value = {
	.name = "zone", .type = CF_T_STRING, .check = check_nonempty,
	.off = offsetof(struct sg_config_zone, zone),
};

#define T struct sg_config_backend
static const struct cf_directive backend_keys[] = {
	{ .name = "seeds", .type = CF_T_LIST, .flags = CF_REQUIRED | CF_NONEMPTY,
	  .off = offsetof(T, seeds), .count_off = offsetof(T, n_seeds),
	  .elem = &seed_elem, .elem_size = sizeof(struct sg_config_endpoint),
	  .max_items = 256, .example = "127.0.0.1:7000",
	  .help = "Cluster nodes (host:port) asked for the topology; any "
		  "reachable one will do." },
	INT(T, connections, 1, 64, "1",
	    "Connections to each node from each worker; one gathers the most "
	    "requests per write (see batch_hold), more spread the "
	    "head-of-line blocking of a large reply or a busy connection."),
	INT(T, max_in_flight, 1, 65536, "1024",
	    "Requests sent and not yet answered per backend connection."),
	INT(T, batch_hold, 0, 65536, "32",
	    "While the requests a connection sent in an earlier loop "
	    "iteration are unanswered, up to this many new ones wait for "
	    "those replies and then leave together: fewer, fuller writes "
	    "for one backend turnaround of delay; more than this many leave "
	    "at once. 0: nothing waits."),
	DUR(T, "connect_timeout", connect_timeout_ns, 10 * MS, 60 * S, "3s",
	    "Time allowed to connect (and finish TLS and AUTH) to a node; "
	    "TCP resends a lost SYN after 1 s, so 1 s or less fails "
	    "on one lost packet."),
	DUR(T, "request_timeout", request_timeout_ns, 0, 600 * S, "5s",
	    "Time allowed for a node to answer a request; 0: no limit."),
	SECTION(T, auth, auth_section, "How shardgate authenticates to the nodes."),
	SECTION(T, tls, backend_tls_section, "TLS towards the nodes."),
	ENUM(T, read_policy, read_policies, "primary",
	     "Where reads go for sessions that sent READONLY and for reader "
	     "endpoints: primary, prefer_replica (any replica, the primary "
	     "when none is up), local_az (a replica in "
	     "availability_zone first)."),
	STR(T, availability_zone, 0, NULL, "",
	    "This proxy's availability zone; required with local_az."),
	{ .name = "zones", .type = CF_T_MAP, .off = offsetof(T, zones),
	  .count_off = offsetof(T, n_zones), .mkey = &zone_key,
	  .elem = &zone_value, .elem_size = sizeof(struct sg_config_zone),
	  .max_items = 4096,
	  .help = "Availability zone of each node, \"host:port\": zone; nodes "
		  "not listed are in no zone." },
};
#undef T
static const struct cf_section backend_section = {
	backend_keys, SG_ARRAY_SIZE(backend_keys),
};

#define T struct sg_config_cluster
static const struct cf_directive cluster_keys[] = {
	DUR(T, "refresh_interval", refresh_interval_ns, 100 * MS, 3600 * S, "5s",
	    "How often the topology is read again without a reason (MOVED "
	    "and failures trigger a refresh at once)."),
	{ .name = "hold_ms", .type = CF_T_DURATION, FIELD(T, hold_ms),
	  .min = 0, .max = 60000 * MS, .unit = MS, .plain_unit = MS,
	  .def = "3000",
	  .help = "Milliseconds a request may wait for a slot to get a "
		  "primary again (failover, TRYAGAIN, CLUSTERDOWN) before it "
		  "fails; a duration like 3s works too." },
	DUR(T, "retry_backoff_min", retry_backoff_min_ns, 100 * US, 1 * S, "2ms",
	    "First wait before retrying within hold_ms; doubles each time."),
	DUR(T, "retry_backoff_max", retry_backoff_max_ns, 1 * MS, 10 * S, "200ms",
	    "Longest wait between retries; at least retry_backoff_min."),
	INT(T, max_redirects, 1, 16, "5",
	    "MOVED/ASK redirects followed for one request before it fails."),
	INT(T, max_parked, 0, 10000000, "10000",
	    "Requests per worker waiting for a primary; more fail at once."),
	SIZE(T, max_parked_bytes, 0, 16 * GB, "64mb",
	     "Bytes of parked requests per worker; more fail at once."),
};
#undef T
static const struct cf_section cluster_section = {
	cluster_keys, SG_ARRAY_SIZE(cluster_keys),
};

#define T struct sg_config_limits
static const struct cf_directive limits_keys[] = {
	INT(T, max_clients, 1, 10000000, "10000",
	    "Client connections for the whole proxy; more are refused."),
	INT(T, max_args, 1, 2147483647, "1048576",
	    "Arguments in one command (multibulk length)."),
	SIZE(T, max_bulk, 1, 4 * GB, "512mb", "Bytes in one argument."),
	SIZE(T, max_request, 1 * KB, 16 * GB, "513mb",
	     "Bytes in one whole command; at least max_bulk and max_inline."),
	SIZE(T, max_inline, 1 * KB, 1 * GB, "64kb",
	     "Bytes in one inline (telnet-style) command line."),
	INT(T, unauth_max_args, 3, 1024, "10",
	    "max_args before a client has authenticated (when users are "
	    "set); the smaller of the two applies."),
	SIZE(T, unauth_max_bulk, 1 * KB, 64 * MB, "16kb",
	     "max_bulk before a client has authenticated; the smaller of the "
	     "two applies."),
	SIZE(T, output_pause, 1 * KB, 64 * GB, "1mb",
	     "When a client's unsent replies exceed this, stop reading its "
	     "requests until it catches up."),
	SIZE(T, output_limit, 0, 64 * GB, "256mb",
	     "When a client's unsent replies exceed this, close it; 0: no "
	     "limit. At least output_pause."),
	DUR(T, "idle_timeout", idle_timeout_ns, 0, 168 * 3600 * S, "0",
	    "Close clients idle this long; 0: never."),
	INT(T, ecpu_per_second, 0, 1000000000000ull, "0",
	    "ECPUs per second the whole proxy serves before it slows "
	    "clients down; 0: unlimited."),
};
#undef T
static const struct cf_section limits_section = {
	limits_keys, SG_ARRAY_SIZE(limits_keys),
};

#define T struct sg_config_user
static const struct cf_directive user_keys[] = {
	{ .name = "name", .type = CF_T_STRING, .flags = CF_REQUIRED,
	  FIELD(T, name), .check = check_user_name, .example = "app",
	  .help = "User name for AUTH and HELLO; unique." },
	{ .name = "password", .type = CF_T_STRING,
	  .flags = CF_REQUIRED | CF_SECRET, FIELD(T, password),
	  .check = check_nonempty, .example = "change-me",
	  .help = "The user's password. A secret: printed as "
		  "\"<redacted>\"." },
	BOOL(T, enabled, "true", "false: AUTH as this user is refused."),
	BOOL(T, readonly, "false",
	     "Refuse this user's write commands."),
};
#undef T
static const struct cf_section user_section = {
	user_keys, SG_ARRAY_SIZE(user_keys),
};

#define T struct sg_config_prometheus
static const struct cf_directive prometheus_keys[] = {
	IPV4(T, address, 0, "127.0.0.1",
	     "Address of the Prometheus text endpoint (GET /metrics)."),
	PORT(T, port, 0, "0", "Its port; 0: off."),
};
#undef T
static const struct cf_section prometheus_section = {
	prometheus_keys, SG_ARRAY_SIZE(prometheus_keys),
};

#define T struct sg_config_telemetry
static const struct cf_directive telemetry_keys[] = {
	STR(T, prefix, 0, check_prefix, "/shardgate",
	    "Prefix of shardgate's DPDK telemetry commands (/shardgate/stats, "
	    "...)."),
	SECTION(T, prometheus, prometheus_section,
		"The same numbers for Prometheus, over kernel TCP."),
	INT(T, hot_keys, 0, 1024, "32",
	    "Hottest keys tracked per worker; 0: off."),
};
#undef T
static const struct cf_section telemetry_section = {
	telemetry_keys, SG_ARRAY_SIZE(telemetry_keys),
};

#define T struct sg_config_log
static const struct cf_directive log_keys[] = {
	ENUM(T, level, log_levels, "notice", "Least severe message logged."),
};
#undef T
static const struct cf_section log_section = {
	log_keys, SG_ARRAY_SIZE(log_keys),
};

#define T struct sg_config
static const struct cf_directive root_keys[] = {
	{ .name = "listen", .type = CF_T_LIST, .flags = CF_NONEMPTY,
	  .off = offsetof(T, listen), .count_off = offsetof(T, n_listen),
	  .sub = &listen_section, .elem_size = sizeof(struct sg_config_listen),
	  .max_items = 64, .def = "[{address: 127.0.0.1, port: 6379}]",
	  .help = "Endpoints clients connect to; by default one, "
		  "127.0.0.1:6379 (in dpdk mode, list your own)." },
	SECTION(T, io, io_section,
		"How shardgate moves bytes: kernel sockets or DPDK."),
	SECTION(T, backend, backend_section, "The Valkey / Redis Cluster nodes."),
	SECTION(T, cluster, cluster_section,
		"Topology refresh and how topology changes are hidden from "
		"clients."),
	SECTION(T, limits, limits_section,
		"Bounds on clients and on what they send and receive."),
	{ .name = "users", .type = CF_T_LIST, .off = offsetof(T, users),
	  .count_off = offsetof(T, n_users), .sub = &user_section,
	  .elem_size = sizeof(struct sg_config_user), .max_items = 1024,
	  .help = "ACL users clients authenticate as. When the list is not "
		  "empty, clients must AUTH before anything else." },
	SECTION(T, telemetry, telemetry_section,
		"Counters, histograms and hot keys."),
	SECTION(T, log, log_section, "Logging."),
};
#undef T
const struct cf_section cf_root = { root_keys, SG_ARRAY_SIZE(root_keys) };

/* ------------------------------------------------------------------ */
/* Cross-field rules                                                   */
/* ------------------------------------------------------------------ */

SG_PRINTF(3, 4)
static void
fail(struct cf_ctx *c, const char *path, const char *fmt, ...)
{
	char msg[SG_CONFIG_ERROR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cf_error(c, cf_mark_of(c, path), path, "%s", msg);
}

static void
check_io(struct cf_ctx *c, const struct sg_config_io *io)
{
	char p[64], a[32], b[32];

	if (io->mode == SG_CONFIG_IO_DPDK) {
		if (io->port[0] == '\0')
			fail(c, "io.port", "required when io.mode is dpdk");
		if (io->address.text[0] == '\0')
			fail(c, "io.address", "required when io.mode is dpdk");
	}
	if (io->gateway.text[0] != '\0') {
		uint32_t mask = io->address.prefix_len == 0 ? 0 :
			~0u << (32 - io->address.prefix_len);

		if (io->address.text[0] == '\0')
			fail(c, "io.gateway", "needs io.address");
		else if (((ntohl(io->gateway.addr.s_addr) ^
			   ntohl(io->address.addr.s_addr)) & mask) != 0)
			fail(c, "io.gateway", "%s is outside io.address %s",
			     io->gateway.text, io->address.text);
	}
	if (io->n_lcores != 0 && io->n_lcores != io->workers)
		fail(c, "io.lcores", "lists %zu lcore%s but io.workers is %u",
		     io->n_lcores, io->n_lcores == 1 ? "" : "s", io->workers);
	for (size_t i = 0; i < io->n_lcores; i++) {
		snprintf(p, sizeof(p), "io.lcores[%zu]", i);
		if (io->lcores[i] == io->main_lcore)
			fail(c, p, "lcore %u is io.main_lcore", io->lcores[i]);
		for (size_t j = 0; j < i; j++) {
			if (io->lcores[j] == io->lcores[i]) {
				fail(c, p, "lcore %u is listed twice", io->lcores[i]);
				break;
			}
		}
	}
	if (io->tcp.max_rto_ns < io->tcp.min_rto_ns) {
		cf_format_duration(a, sizeof(a), io->tcp.min_rto_ns);
		cf_format_duration(b, sizeof(b), io->tcp.max_rto_ns);
		fail(c, "io.tcp.max_rto",
		     "must be at least io.tcp.min_rto (%s), got %s", a, b);
	}
	/* Each worker's pool comes out of the EAL memory. */
	uint64_t need = (uint64_t)io->workers * io->mbufs * io->mbuf_size;

	if (need > io->memory) {
		char m[32];

		cf_format_size(a, sizeof(a), need);
		cf_format_size(b, sizeof(b), io->memory);
		cf_format_size(m, sizeof(m), io->mbuf_size);
		fail(c, "io.mbufs",
		     "%u worker%s x %u mbufs x %s need %s, more than io.memory (%s)",
		     io->workers, io->workers == 1 ? "" : "s", io->mbufs, m, a, b);
	}
}

static bool
addr_overlap(const struct sg_config_ipv4 *a, const struct sg_config_ipv4 *b)
{
	return a->addr.s_addr == b->addr.s_addr || a->addr.s_addr == 0 ||
	       b->addr.s_addr == 0;
}

static void
check_listen(struct cf_ctx *c, const struct sg_config *cfg)
{
	const struct sg_config_prometheus *prom = &cfg->telemetry.prometheus;
	bool prom_clash = false;
	char p[64], q[64];

	for (size_t i = 0; i < cfg->n_listen; i++) {
		const struct sg_config_listen *l = &cfg->listen[i];

		for (size_t j = 0; j < i; j++) {
			if (cfg->listen[j].port == l->port &&
			    addr_overlap(&cfg->listen[j].address, &l->address)) {
				snprintf(p, sizeof(p), "listen[%zu].port", i);
				fail(c, p, "%u is already used by listen[%zu] (%s:%u)",
				     l->port, j, cfg->listen[j].address.text,
				     cfg->listen[j].port);
				break;
			}
		}
		if (!prom_clash && prom->port != 0 && prom->port == l->port &&
		    addr_overlap(&prom->address, &l->address)) {
			fail(c, "telemetry.prometheus.port",
			     "%u is already used by listen[%zu] (%s:%u)", prom->port,
			     i, l->address.text, l->port);
			prom_clash = true;
		}
		if (l->tls.enabled) {
			snprintf(q, sizeof(q), "listen[%zu].tls.enabled", i);
			if (l->tls.cert[0] == '\0') {
				snprintf(p, sizeof(p), "listen[%zu].tls.cert", i);
				fail(c, p, "required when %s is true", q);
			}
			if (l->tls.key[0] == '\0') {
				snprintf(p, sizeof(p), "listen[%zu].tls.key", i);
				fail(c, p, "required when %s is true", q);
			}
		}
		if (l->tls.require_client_cert && l->tls.ca[0] == '\0') {
			snprintf(p, sizeof(p), "listen[%zu].tls.ca", i);
			fail(c, p, "required when listen[%zu].tls.require_client_cert "
			     "is true", i);
		}
		if (cfg->io.mode == SG_CONFIG_IO_DPDK && l->address.addr.s_addr != 0 &&
		    cfg->io.address.text[0] != '\0' &&
		    l->address.addr.s_addr != cfg->io.address.addr.s_addr) {
			char own[20];
			size_t n = strcspn(cfg->io.address.text, "/");

			snprintf(own, sizeof(own), "%.*s", (int)n, cfg->io.address.text);
			snprintf(p, sizeof(p), "listen[%zu].address", i);
			fail(c, p, "in dpdk mode must be 0.0.0.0 or io.address's %s, "
			     "got %s", own, l->address.text);
		}
	}
}

static void
check_backend(struct cf_ctx *c, const struct sg_config_backend *b)
{
	if (b->tls.cert[0] != '\0' && b->tls.key[0] == '\0')
		fail(c, "backend.tls.key", "required when backend.tls.cert is set");
	if (b->tls.key[0] != '\0' && b->tls.cert[0] == '\0')
		fail(c, "backend.tls.cert", "required when backend.tls.key is set");
	if (b->auth.username[0] != '\0' && b->auth.password[0] == '\0')
		fail(c, "backend.auth.password",
		     "required when backend.auth.username is set");
	if (b->read_policy == SG_CONFIG_READ_LOCAL_AZ &&
	    b->availability_zone[0] == '\0')
		fail(c, "backend.availability_zone",
		     "required when backend.read_policy is local_az");
}

static void
check_limits(struct cf_ctx *c, const struct sg_config *cfg)
{
	const struct sg_config_limits *l = &cfg->limits;
	char a[32], b[32];

	/* "NAME: must be at most OTHER (v), got w" for size pairs. */
	struct {
		const char *name, *other;
		uint64_t v, limit;
	} pairs[] = {
		{ "limits.max_bulk", "limits.max_request", l->max_bulk, l->max_request },
		{ "limits.max_inline", "limits.max_request", l->max_inline,
		  l->max_request },
		{ "limits.output_pause", "limits.output_limit", l->output_pause,
		  l->output_limit == 0 ? UINT64_MAX : l->output_limit },
	};

	for (size_t i = 0; i < SG_ARRAY_SIZE(pairs); i++) {
		if (pairs[i].v <= pairs[i].limit)
			continue;
		cf_format_size(a, sizeof(a), pairs[i].limit);
		cf_format_size(b, sizeof(b), pairs[i].v);
		fail(c, pairs[i].name, "must be at most %s (%s), got %s",
		     pairs[i].other, a, b);
	}
	if (cfg->cluster.retry_backoff_max_ns < cfg->cluster.retry_backoff_min_ns) {
		cf_format_duration(a, sizeof(a), cfg->cluster.retry_backoff_min_ns);
		cf_format_duration(b, sizeof(b), cfg->cluster.retry_backoff_max_ns);
		fail(c, "cluster.retry_backoff_max",
		     "must be at least cluster.retry_backoff_min (%s), got %s", a, b);
	}
}

static void
check_users(struct cf_ctx *c, const struct sg_config *cfg)
{
	char p[64], first[64];

	for (size_t i = 0; i < cfg->n_users; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg->users[i].name, cfg->users[j].name) != 0)
				continue;
			snprintf(p, sizeof(p), "users[%zu].name", i);
			snprintf(first, sizeof(first), "users[%zu].name", j);
			fail(c, p, "duplicate user name \"%s\" (first at line %u)",
			     cfg->users[i].name, cf_mark_of(c, first).line);
			break;
		}
	}
}

void
cf_cross_check(struct cf_ctx *c, const struct sg_config *cfg)
{
	check_listen(c, cfg);
	check_io(c, &cfg->io);
	check_backend(c, &cfg->backend);
	check_limits(c, cfg);
	check_users(c, cfg);
}
