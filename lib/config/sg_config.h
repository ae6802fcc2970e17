/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sg_config.h: the shardgate configuration, loaded from one YAML file.
 *
 * Loading reads the file with libyaml into a small tree of nodes that keep
 * their line and column, then walks that tree with a table of directives
 * (config_schema.c: one row per key with its type, bounds, default and
 * help text). Every type and range is checked first, then the cross-field
 * rules (io.lcores against io.workers, listen ports that collide, ...), so
 * the whole file is validated before anything starts. Problems are not
 * reported one at a time: all of them are collected, each as one line
 *
 *     FILE:LINE:COL: key.path: problem
 *
 * (1-based line and column of the offending node; for a missing key, of
 * the key that names its parent mapping), for example
 *
 *     x.yaml:3:3: backend.conections: unknown key; did you mean "connections"?
 *
 * YAML syntax errors carry libyaml's own text and position instead of a
 * key path. Aliases, anchors and tags are refused: a configuration is read
 * by people, and every value should be where it is used.
 *
 * Every scalar is read as text and parsed by its key's type, never by YAML
 * typing rules: `min_version: 1.2` is the string "1.2", `yes` is not a
 * boolean (only `true` and `false` are). Sizes are bytes with binary units
 * (64kb = 65536); durations take a unit (250ms, 5s, 2m) and are stored in
 * nanoseconds in fields named <key>_ns, except cluster.hold_ms (plain
 * milliseconds, stored in hold_ms).
 *
 * After a successful load every string pointer in the structure is
 * non-NULL ("" when unset) and every list pointer is non-NULL when its
 * count is non-zero. The structure is plain data: read it, do not write it.
 *
 * Secrets (backend.auth.password, users[].password) are never printed:
 * sg_config_print() writes "<redacted>" in their place. Loading a file
 * whose secret is literally "<redacted>" fails unless the caller passes
 * SG_CONFIG_LOAD_ALLOW_REDACTED, so that the output of
 * `shardgate --check` cannot be deployed by mistake with that placeholder
 * as a real password.
 *
 * This library uses libc, libyaml and lib/common only. It never prints
 * except to the FILE a caller hands it.
 */
#ifndef SG_CONFIG_H
#define SG_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Limits on the input                                                 */
/* ------------------------------------------------------------------ */

#define SG_CONFIG_FILE_MAX (1u << 20)	/* bytes in a configuration file */
#define SG_CONFIG_DEPTH_MAX 32		/* nesting of YAML collections */
#define SG_CONFIG_NODES_MAX 65536	/* YAML nodes in a file */
#define SG_CONFIG_STRING_MAX 4096	/* bytes in one string value */
#define SG_CONFIG_ERRORS_MAX 32		/* messages kept; the rest are counted */
#define SG_CONFIG_ERROR_LEN 512		/* bytes per message, NUL included */

/* The placeholder sg_config_print() writes in place of a secret. */
#define SG_CONFIG_REDACTED "<redacted>"

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/*
 * The problems one load found. msg[0..n) are full lines without a newline,
 * in the order found (document order, then the cross-field rules); total
 * counts every problem, so total - n were found but not kept.
 */
struct sg_config_errors {
	unsigned n;		/* messages kept in msg[] */
	unsigned total;		/* problems found (>= n) */
	char msg[SG_CONFIG_ERRORS_MAX][SG_CONFIG_ERROR_LEN];
};

/* Writes every kept message, one per line, then "... and N more" when some
 * were not kept. Returns 0 or -EIO when writing failed. */
int sg_config_errors_print(const struct sg_config_errors *e, FILE *f);

/* ------------------------------------------------------------------ */
/* Value types                                                         */
/* ------------------------------------------------------------------ */

/* An IPv4 address; text is "" when an optional address is not set. */
struct sg_config_ipv4 {
	struct in_addr addr;		/* network byte order */
	char text[16];			/* dotted quad as written */
};

/* An IPv4 address with a prefix length (198.18.0.2/24); text "" = unset. */
struct sg_config_cidr {
	struct in_addr addr;		/* the address, host bits kept */
	uint8_t prefix_len;		/* 1..32 */
	char text[20];
};

/* host:port; host is an IPv4 address or a hostname, never resolved here. */
struct sg_config_endpoint {
	char host[256];
	uint16_t port;
};

enum sg_config_role {
	SG_CONFIG_ROLE_PRIMARY,		/* every command goes to primaries */
	SG_CONFIG_ROLE_READER,		/* reads go to replicas (read_policy) */
};

enum sg_config_tls_version {
	SG_CONFIG_TLS_1_2,
	SG_CONFIG_TLS_1_3,
};

enum sg_config_io_mode {
	SG_CONFIG_IO_KERNEL,		/* epoll on kernel sockets */
	SG_CONFIG_IO_DPDK,		/* poll-mode NIC, userspace TCP */
};

enum sg_config_huge_pages {
	SG_CONFIG_HUGE_PAGES_AUTO,	/* false in kernel mode, true in dpdk */
	SG_CONFIG_HUGE_PAGES_TRUE,
	SG_CONFIG_HUGE_PAGES_FALSE,
};

enum sg_config_read_policy {
	SG_CONFIG_READ_PRIMARY,
	SG_CONFIG_READ_PREFER_REPLICA,
	SG_CONFIG_READ_LOCAL_AZ,
};

enum sg_config_log_level {
	SG_CONFIG_LOG_ERROR,
	SG_CONFIG_LOG_WARNING,
	SG_CONFIG_LOG_NOTICE,
	SG_CONFIG_LOG_INFO,
	SG_CONFIG_LOG_DEBUG,
};

/* ------------------------------------------------------------------ */
/* The configuration                                                   */
/* ------------------------------------------------------------------ */

/* listen[].tls: TLS termination for the clients of one endpoint. */
struct sg_config_listen_tls {
	bool enabled;
	char *cert;			/* PEM certificate chain path */
	char *key;			/* PEM private key path (never read here) */
	char *ca;			/* CA bundle for client certificates */
	bool require_client_cert;
	enum sg_config_tls_version min_version;
};

struct sg_config_listen {
	struct sg_config_ipv4 address;
	uint16_t port;
	enum sg_config_role role;
	uint32_t backlog;
	struct sg_config_listen_tls tls;
};

struct sg_config_tcp {
	uint64_t min_rto_ns;
	uint64_t max_rto_ns;
	uint64_t delayed_ack_ns;	/* 0: acknowledge at once */
	uint64_t time_wait_ns;
	uint64_t keepalive_idle_ns;	/* 0: no keepalive */
	uint64_t keepalive_interval_ns;
	uint32_t keepalive_probes;
	uint32_t syn_backlog;
	bool syn_cookies;
	uint64_t rcv_buf;		/* bytes per connection */
	uint64_t snd_buf;
	uint32_t max_connections;	/* per worker */
};

struct sg_config_io {
	enum sg_config_io_mode mode;
	uint32_t workers;
	uint32_t main_lcore;
	uint32_t *lcores;		/* n_lcores == 0 or == workers */
	size_t n_lcores;
	char **eal_args;
	size_t n_eal_args;
	char *file_prefix;		/* "": shardgate-<pid> */
	enum sg_config_huge_pages huge_pages;
	uint64_t memory;		/* bytes, EAL -m */
	bool busy_poll;
	uint64_t idle_sleep_ns;
	uint64_t mbuf_size;		/* data room bytes per mbuf */
	uint32_t mbufs;			/* per worker */
	char *port;			/* dpdk: PCI address or vdev arguments */
	struct sg_config_cidr address;	/* dpdk: our address/prefix */
	struct sg_config_ipv4 gateway;	/* dpdk: default gateway, optional */
	uint32_t mtu;
	uint32_t rx_desc;
	uint32_t tx_desc;
	struct sg_config_tcp tcp;
};

struct sg_config_auth {
	char *username;			/* "": AUTH with the password only */
	char *password;			/* secret */
};

/* backend.tls: TLS towards the cluster nodes. */
struct sg_config_backend_tls {
	bool enabled;
	char *ca;
	char *cert;			/* client certificate, optional */
	char *key;
	char *server_name;		/* SNI and name check; "": the host */
	bool verify;
};

/* One backend.zones entry: a node and its availability zone. */
struct sg_config_zone {
	struct sg_config_endpoint node;
	char *zone;
};

struct sg_config_backend {
	struct sg_config_endpoint *seeds;
	size_t n_seeds;			/* >= 1 */
	uint32_t connections;		/* per node per worker */
	uint32_t max_in_flight;		/* per connection */
	uint32_t batch_hold;		/* requests held behind a sent batch */
	uint64_t connect_timeout_ns;
	uint64_t request_timeout_ns;	/* 0: none */
	struct sg_config_auth auth;
	struct sg_config_backend_tls tls;
	enum sg_config_read_policy read_policy;
	char *availability_zone;
	struct sg_config_zone *zones;
	size_t n_zones;
};

struct sg_config_cluster {
	uint64_t refresh_interval_ns;
	uint32_t hold_ms;
	uint64_t retry_backoff_min_ns;
	uint64_t retry_backoff_max_ns;
	uint32_t max_redirects;
	uint32_t max_parked;		/* requests per worker */
	uint64_t max_parked_bytes;	/* per worker */
};

struct sg_config_limits {
	uint32_t max_clients;
	uint32_t max_args;
	uint64_t max_bulk;
	uint64_t max_request;
	uint64_t max_inline;
	uint32_t unauth_max_args;
	uint64_t unauth_max_bulk;
	uint64_t output_pause;
	uint64_t output_limit;		/* 0: no limit */
	uint64_t idle_timeout_ns;	/* 0: never */
	uint64_t ecpu_per_second;	/* 0: unlimited */
};

struct sg_config_user {
	char *name;
	char *password;			/* secret */
	bool enabled;
	bool readonly;
};

struct sg_config_prometheus {
	struct sg_config_ipv4 address;
	uint16_t port;			/* 0: off */
};

struct sg_config_telemetry {
	char *prefix;
	struct sg_config_prometheus prometheus;
	uint32_t hot_keys;
};

struct sg_config_log {
	enum sg_config_log_level level;
};

struct sg_config {
	struct sg_config_listen *listen;
	size_t n_listen;		/* >= 1 */
	struct sg_config_io io;
	struct sg_config_backend backend;
	struct sg_config_cluster cluster;
	struct sg_config_limits limits;
	struct sg_config_user *users;	/* n_users > 0: AUTH is required */
	size_t n_users;
	struct sg_config_telemetry telemetry;
	struct sg_config_log log;
};

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

/* Flags for sg_config_load_buffer_flags(). */
#define SG_CONFIG_LOAD_ALLOW_REDACTED 0x1u	/* accept "<redacted>" secrets */

/*
 * Loads and validates the file at `path` (at most SG_CONFIG_FILE_MAX
 * bytes). On success *out is a new configuration (sg_config_free() it);
 * on failure *out is NULL and `errs` (may be NULL) holds the messages.
 * Returns:
 *   0        valid
 *   -EINVAL  invalid: one message per problem
 *   -EFBIG   larger than SG_CONFIG_FILE_MAX (one message)
 *   -ENOMEM  out of memory (one message)
 *   other -errno when the file cannot be read, with the message
 *            "PATH: cannot read: <strerror>"
 */
int sg_config_load_file(const char *path, struct sg_config **out,
			struct sg_config_errors *errs);

/*
 * As sg_config_load_file() for `len` bytes at `text` (need not be
 * NUL-terminated; never read past len). `name` stands for the file in
 * messages. Returns 0, -EINVAL, -EFBIG or -ENOMEM.
 */
int sg_config_load_buffer(const char *name, const char *text, size_t len,
			  struct sg_config **out,
			  struct sg_config_errors *errs);

/* As sg_config_load_buffer() with SG_CONFIG_LOAD_* flags. */
int sg_config_load_buffer_flags(const char *name, const char *text,
				size_t len, unsigned flags,
				struct sg_config **out,
				struct sg_config_errors *errs);

/* Frees everything a load returned. NULL is fine. */
void sg_config_free(struct sg_config *c);

/* ------------------------------------------------------------------ */
/* Printing and comparing                                              */
/* ------------------------------------------------------------------ */

/*
 * Prints the effective configuration, every key with defaults filled in,
 * as YAML that loads back to an equal configuration (secrets aside: they
 * print as "<redacted>"). Returns 0 or -EIO when writing failed.
 */
int sg_config_print(const struct sg_config *c, FILE *f);

/*
 * As sg_config_print(), with each key's help text (meaning, range,
 * default) as a comment above it and a commented example entry under an
 * empty list of mappings. config/shardgate.yaml is this output. Returns 0
 * or -EIO.
 */
int sg_config_print_annotated(const struct sg_config *c, FILE *f);

/* Flags for sg_config_equal(). */
#define SG_CONFIG_EQUAL_IGNORE_SECRETS 0x1u

/* True when every key has the same value in both (secret values not
 * compared with SG_CONFIG_EQUAL_IGNORE_SECRETS). */
bool sg_config_equal(const struct sg_config *a, const struct sg_config *b,
		     unsigned flags);

#ifdef __cplusplus
}
#endif

#endif /* SG_CONFIG_H */
