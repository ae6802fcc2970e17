/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Commands the proxy answers itself: connection set-up (HELLO, AUTH,
 * CLIENT ..., SELECT, PING, ECHO, QUIT, RESET), READONLY/READWRITE, INFO,
 * and cluster emulation. To a cluster-mode client the proxy is one
 * primary that owns all 16384 slots, at the address the client connected
 * to; its node id is derived from that address, so every worker (and a
 * restarted proxy) gives the same answer.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sg_build_config.h"
#include "proxy_internal.h"

void
local_error(struct session *sess, const char *fmt, ...)
{
	char msg[1024];
	struct sg_sink *out;
	struct req *r;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	out = session_local_sink(sess, &r);
	sg_resp_write_error(out, msg, SG_MIN((size_t)n, sizeof(msg) - 1));
	session_local_done(sess, r);
}

/* ---- helpers ---- */

static struct sg_span
arg(const struct sg_resp_request *rq, uint32_t i)
{
	return sg_arg_span(&rq->argv[i]);
}

static bool
is(const struct sg_resp_request *rq, uint32_t i, const char *lit)
{
	return i < rq->argc && rq->argv[i].ptr != NULL &&
	       sg_span_eq_nocase(arg(rq, i), lit);
}

static char *
dup_arg(const struct sg_resp_request *rq, uint32_t i)
{
	const struct sg_arg *a = &rq->argv[i];
	char *s;

	if (a->ptr == NULL)
		return NULL;
	s = malloc(a->len + 1);
	if (s != NULL) {
		memcpy(s, a->ptr, a->len);
		s[a->len] = '\0';
	}
	return s;
}

/* The 40-hex-digit node id of the endpoint the client reached. */
static void
node_id(const struct session *sess, char out[41], uint32_t salt)
{
	uint64_t h = 0xcbf29ce484222325ull ^ salt;
	uint8_t bytes[6];

	memcpy(bytes, &sess->local.sin_addr.s_addr, 4);
	memcpy(bytes + 4, &sess->local.sin_port, 2);
	for (int round = 0; round < 5; round++) {
		for (size_t i = 0; i < sizeof(bytes); i++) {
			h ^= bytes[i];
			h *= 0x100000001b3ull;
		}
		h ^= (uint64_t)round * 0x9e3779b97f4a7c15ull;
		snprintf(out + round * 8, 9, "%08x", (uint32_t)(h ^ (h >> 32)));
	}
	out[40] = '\0';
}

static void
local_ip(const struct session *sess, char ip[INET_ADDRSTRLEN])
{
	inet_ntop(AF_INET, &sess->local.sin_addr, ip, INET_ADDRSTRLEN);
}

static uint16_t
local_port(const struct session *sess)
{
	return ntohs(sess->local.sin_port);
}

static void
write_str(struct sg_sink *out, const char *s)
{
	sg_resp_write_bulk(out, s, strlen(s));
}

/* An argument as a bulk string, wherever its bytes are. */
static void
write_arg_bulk(struct sg_sink *out, const struct session *sess, const struct sg_arg *a)
{
	char hdr[32];
	size_t n;

	if (a->ptr != NULL) {
		sg_resp_write_bulk(out, a->ptr, a->len);
		return;
	}
	hdr[0] = '$';
	n = 1 + sg_u64_to_dec(hdr + 1, a->len);
	hdr[n++] = '\r';
	hdr[n++] = '\n';
	sg_sink_write(out, hdr, n);
	inbuf_to_sink(&sess->in, a->off, a->len, out);
	sg_sink_write(out, "\r\n", 2);
}

/* Text replies (INFO, CLUSTER INFO/NODES): verbatim in RESP3. */
void
proxy_write_text(struct sg_sink *out, const struct session *sess, const char *s, size_t len)
{
	sg_resp_write_verbatim(out, "txt", s, len, sess->proto);
}
#define write_text proxy_write_text

/* ---- authentication ---- */

static bool
equal_secret(const char *a, const char *b, size_t blen)
{
	size_t alen = strlen(a);
	unsigned char diff = alen != blen;

	/* constant time in the length of the candidate */
	for (size_t i = 0; i < blen; i++)
		diff |= (unsigned char)(a[i % (alen ? alen : 1)] ^ b[i]);
	return diff == 0 && alen == blen;
}

/* Returns the user, or NULL when the pair is wrong. */
static const struct sg_config_user *
check_user(const struct sg_config *cfg, struct sg_span user, struct sg_span pass)
{
	for (unsigned i = 0; i < cfg->n_users; i++) {
		const struct sg_config_user *u = &cfg->users[i];

		if (strlen(u->name) == user.len && memcmp(u->name, user.ptr, user.len) == 0 &&
		    u->enabled && equal_secret(u->password, pass.ptr, pass.len))
			return u;
	}
	return NULL;
}

static const char wrongpass[] =
	"WRONGPASS invalid username-password pair or user is disabled.";

static void
cmd_auth(struct session *sess, const struct sg_resp_request *rq)
{
	const struct sg_config *cfg = sess->w->cfg;
	struct sg_span user = SG_SPAN_LIT("default"), pass;
	const struct sg_config_user *u;
	struct sg_sink *out;
	struct req *r;

	if (rq->argc > 3) {
		local_error(sess, "ERR syntax error");
		return;
	}
	if (cfg->n_users == 0) {
		local_error(sess, "ERR AUTH <password> called without any password "
			    "configured for the default user. Are you sure your "
			    "configuration is correct?");
		return;
	}
	if (rq->argc == 3)
		user = arg(rq, 1);
	pass = arg(rq, rq->argc - 1);
	u = check_user(cfg, user, pass);
	if (u == NULL) {
		local_error(sess, "%s", wrongpass);
		return;
	}
	sess->user = u->name;
	sess->parser.authenticated = true;
	out = session_local_sink(sess, &r);
	sg_resp_write_simple(out, "OK", 2);
	session_local_done(sess, r);
}

static void
cmd_hello(struct session *sess, const struct sg_resp_request *rq)
{
	const struct sg_config *cfg = sess->w->cfg;
	int64_t proto = sess->proto;
	char *setname = NULL;
	struct sg_sink *out;
	struct req *r;

	if (rq->argc >= 2 &&
	    (sg_span_to_i64(arg(rq, 1), &proto) != 0 || proto < 2 || proto > 3)) {
		local_error(sess, "NOPROTO unsupported protocol version");
		return;
	}
	for (uint32_t i = 2; i < rq->argc; i++) {
		if (is(rq, i, "AUTH") && i + 2 < rq->argc) {
			if (cfg->n_users == 0 ||
			    check_user(cfg, arg(rq, i + 1), arg(rq, i + 2)) == NULL) {
				local_error(sess, "%s", wrongpass);
				free(setname);
				return;
			}
			sess->user = check_user(cfg, arg(rq, i + 1), arg(rq, i + 2))->name;
			sess->parser.authenticated = true;
			i += 2;
		} else if (is(rq, i, "SETNAME") && i + 1 < rq->argc) {
			free(setname);
			setname = dup_arg(rq, ++i);
		} else {
			local_error(sess, "ERR Syntax error in HELLO option '%.*s'",
				    (int)SG_MIN(rq->argv[i].len, 64u),
				    rq->argv[i].ptr != NULL ? rq->argv[i].ptr : "");
			free(setname);
			return;
		}
	}
	if (!sess->parser.authenticated) {
		local_error(sess, "NOAUTH HELLO must be called with the client already "
			    "authenticated, otherwise the HELLO <proto> AUTH <user> <pass> "
			    "option can be used to authenticate the client and select the "
			    "RESP protocol version at the same time");
		free(setname);
		return;
	}
	if (setname != NULL) {
		free(sess->name);
		sess->name = setname;
	}
	sess->proto = (uint8_t)proto;
	out = session_local_sink(sess, &r);
	sg_resp_write_map(out, 7, sess->proto);
	write_str(out, "server");
	write_str(out, "redis");
	write_str(out, "version");
	write_str(out, sess->w->p->server_version);
	write_str(out, "proto");
	sg_resp_write_integer(out, sess->proto);
	write_str(out, "id");
	sg_resp_write_integer(out, (int64_t)sess->id);
	write_str(out, "mode");
	write_str(out, "cluster");
	write_str(out, "role");
	write_str(out, "master");
	write_str(out, "modules");
	sg_resp_write_array(out, 0);
	session_local_done(sess, r);
}

/* ---- CLIENT ---- */

static bool
valid_client_name(struct sg_span s)
{
	for (size_t i = 0; i < s.len; i++) {
		if (s.ptr[i] < '!' || s.ptr[i] > '~')
			return false;
	}
	return true;
}

static void
client_info_line(const struct session *sess, char *buf, size_t cap)
{
	char peer[INET_ADDRSTRLEN], local[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &sess->peer.sin_addr, peer, sizeof(peer));
	inet_ntop(AF_INET, &sess->local.sin_addr, local, sizeof(local));
	snprintf(buf, cap,
		 "id=%llu addr=%s:%u laddr=%s:%u fd=-1 name=%s age=%llu idle=%llu flags=%s "
		 "db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 "
		 "multi-mem=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=%s "
		 "user=%s redir=-1 resp=%u lib-name=%s lib-ver=%s\n",
		 (unsigned long long)sess->id, peer, ntohs(sess->peer.sin_port), local,
		 ntohs(sess->local.sin_port), sess->name != NULL ? sess->name : "",
		 (unsigned long long)((sess->w->now_ns - sess->created_ns) / SG_NS_PER_S),
		 (unsigned long long)((sess->w->now_ns - sess->last_active_ns) / SG_NS_PER_S),
		 sess->readonly ? "r" : "N",
		 sess->last_cmd != NULL ? sess->last_cmd->name : "NULL",
		 sess->user != NULL ? sess->user : "default",
		 sess->proto, sess->lib_name != NULL ? sess->lib_name : "",
		 sess->lib_ver != NULL ? sess->lib_ver : "");
}

/* One CLIENT LIST line per session of worker w, appended to text (up to
 * its limit: the listing is cut rather than the reply refused). */
void
proxy_client_list_text(struct sg_proxy_worker *w, struct sg_membuf *text)
{
	struct session *x;
	char line[768];

	TAILQ_FOREACH(x, &w->sessions, link) {
		client_info_line(x, line, sizeof(line));
		if (sg_membuf_append(text, line, strlen(line)) != 0)
			break;
	}
}

static void
cmd_client(struct session *sess, const struct sg_command *cmd,
	   const struct sg_resp_request *rq)
{
	struct sg_sink *out;
	struct req *r;

	switch (cmd->id) {
	case SG_CMD_CLIENT_SETNAME:
		if (!valid_client_name(arg(rq, 2))) {
			local_error(sess, "ERR Client names cannot contain spaces, newlines "
				    "or special characters.");
			return;
		}
		free(sess->name);
		sess->name = rq->argv[2].len > 0 ? dup_arg(rq, 2) : NULL;
		break;
	case SG_CMD_CLIENT_GETNAME:
		out = session_local_sink(sess, &r);
		if (sess->name != NULL)
			write_str(out, sess->name);
		else
			sg_resp_write_null(out, sess->proto);
		session_local_done(sess, r);
		return;
	case SG_CMD_CLIENT_ID:
		out = session_local_sink(sess, &r);
		sg_resp_write_integer(out, (int64_t)sess->id);
		session_local_done(sess, r);
		return;
	case SG_CMD_CLIENT_SETINFO: {
		char **slot = is(rq, 2, "LIB-NAME") ? &sess->lib_name :
			      is(rq, 2, "LIB-VER") ? &sess->lib_ver : NULL;

		if (slot == NULL) {
			local_error(sess, "ERR Unrecognized option '%.*s'",
				    (int)SG_MIN(rq->argv[2].len, 64u),
				    rq->argv[2].ptr != NULL ? rq->argv[2].ptr : "");
			return;
		}
		if (!valid_client_name(arg(rq, 3))) {
			local_error(sess, "ERR %s cannot contain spaces, newlines or special "
				    "characters.", slot == &sess->lib_name ? "lib-name" : "lib-ver");
			return;
		}
		free(*slot);
		*slot = dup_arg(rq, 3);
		break;
	}
	case SG_CMD_CLIENT_INFO: {
		char line[768];

		client_info_line(sess, line, sizeof(line));
		out = session_local_sink(sess, &r);
		write_text(out, sess, line, strlen(line));
		session_local_done(sess, r);
		return;
	}
	case SG_CMD_CLIENT_NO_EVICT:
	case SG_CMD_CLIENT_NO_TOUCH:
		if (!is(rq, 2, "ON") && !is(rq, 2, "OFF")) {
			local_error(sess, "ERR syntax error");
			return;
		}
		break;
	case SG_CMD_CLIENT_REPLY:
		if (!is(rq, 2, "ON")) {
			local_error(sess, "ERR shardgate: CLIENT REPLY OFF and SKIP are not "
				    "supported through the proxy");
			return;
		}
		break;
	case SG_CMD_CLIENT_CAPA:
		break;
	case SG_CMD_CLIENT_LIST: {
		/* every worker's sessions; one worker answers alone */
		struct sg_membuf text;

		if (gather_client_list(sess))
			return;
		sg_membuf_init(&text, GATHER_MAX_TEXT);
		proxy_client_list_text(sess->w, &text);
		out = session_local_sink(sess, &r);
		write_text(out, sess, text.data != NULL ? text.data : "", text.len);
		session_local_done(sess, r);
		sg_membuf_free(&text);
		return;
	}
	default:
		local_error(sess, "ERR shardgate: '%s' is not supported through the proxy",
			    cmd->name);
		return;
	}
	out = session_local_sink(sess, &r);
	sg_resp_write_simple(out, "OK", 2);
	session_local_done(sess, r);
}

/* ---- CLUSTER ---- */

static void
cluster_info_text(const struct session *sess, char *buf, size_t cap)
{
	const struct sg_cluster_topology *t = sess->w->topo;
	bool ok = t != NULL && t->nshards > 0;

	snprintf(buf, cap,
		 "cluster_state:%s\r\n"
		 "cluster_slots_assigned:16384\r\n"
		 "cluster_slots_ok:16384\r\n"
		 "cluster_slots_pfail:0\r\n"
		 "cluster_slots_fail:0\r\n"
		 "cluster_known_nodes:1\r\n"
		 "cluster_size:1\r\n"
		 "cluster_current_epoch:1\r\n"
		 "cluster_my_epoch:1\r\n"
		 "cluster_stats_messages_sent:0\r\n"
		 "cluster_stats_messages_received:0\r\n"
		 "total_cluster_links_buffer_limit_exceeded:0\r\n",
		 ok ? "ok" : "fail");
}

static void
cmd_cluster(struct session *sess, const struct sg_command *cmd,
	    const struct sg_resp_request *rq)
{
	char id[41], ip[INET_ADDRSTRLEN], text[1024];
	uint16_t port = local_port(sess);
	struct sg_sink *out;
	struct req *r;

	node_id(sess, id, 0);
	local_ip(sess, ip);
	switch (cmd->id) {
	case SG_CMD_CLUSTER_SLOTS:
		out = session_local_sink(sess, &r);
		sg_resp_write_array(out, 1);
		sg_resp_write_array(out, 3);
		sg_resp_write_integer(out, 0);
		sg_resp_write_integer(out, SG_CLUSTER_SLOTS - 1);
		sg_resp_write_array(out, 3);
		write_str(out, ip);
		sg_resp_write_integer(out, port);
		write_str(out, id);
		break;
	case SG_CMD_CLUSTER_SHARDS:
		out = session_local_sink(sess, &r);
		sg_resp_write_array(out, 1);
		sg_resp_write_map(out, 2, sess->proto);
		write_str(out, "slots");
		sg_resp_write_array(out, 2);
		sg_resp_write_integer(out, 0);
		sg_resp_write_integer(out, SG_CLUSTER_SLOTS - 1);
		write_str(out, "nodes");
		sg_resp_write_array(out, 1);
		sg_resp_write_map(out, 7, sess->proto);
		write_str(out, "id");
		write_str(out, id);
		write_str(out, "port");
		sg_resp_write_integer(out, port);
		write_str(out, "ip");
		write_str(out, ip);
		write_str(out, "endpoint");
		write_str(out, ip);
		write_str(out, "role");
		write_str(out, "master");
		write_str(out, "replication-offset");
		sg_resp_write_integer(out, 0);
		write_str(out, "health");
		write_str(out, "online");
		break;
	case SG_CMD_CLUSTER_NODES:
		snprintf(text, sizeof(text),
			 "%s %s:%u@%u myself,master - 0 0 1 connected 0-16383\n", id, ip,
			 port, (unsigned)port + 10000u > 65535u ? 0u : port + 10000u);
		out = session_local_sink(sess, &r);
		write_text(out, sess, text, strlen(text));
		break;
	case SG_CMD_CLUSTER_INFO:
		cluster_info_text(sess, text, sizeof(text));
		out = session_local_sink(sess, &r);
		write_text(out, sess, text, strlen(text));
		break;
	case SG_CMD_CLUSTER_MYID:
		out = session_local_sink(sess, &r);
		write_str(out, id);
		break;
	case SG_CMD_CLUSTER_MYSHARDID:
		node_id(sess, id, 1);
		out = session_local_sink(sess, &r);
		write_str(out, id);
		break;
	case SG_CMD_CLUSTER_KEYSLOT: {
		const struct sg_arg *a = &rq->argv[2];
		char *copy = a->ptr == NULL ? malloc(a->len ? a->len : 1) : NULL;
		int64_t slot;

		if (a->ptr == NULL) {
			if (copy == NULL) {
				local_error(sess, "ERR shardgate: out of memory");
				return;
			}
			inbuf_copy(&sess->in, a->off, a->len, copy);
		}
		slot = sg_cluster_slot(a->ptr != NULL ? a->ptr : copy, a->len);
		free(copy);
		out = session_local_sink(sess, &r);
		sg_resp_write_integer(out, slot);
		break;
	}
	case SG_CMD_CLUSTER_LINKS:
		out = session_local_sink(sess, &r);
		sg_resp_write_array(out, 0);
		break;
	case SG_CMD_CLUSTER_REPLICAS:
	case SG_CMD_CLUSTER_SLAVES:
		if (!is(rq, 2, id)) {
			local_error(sess, "ERR Unknown node %.*s", (int)SG_MIN(rq->argv[2].len, 64u),
				    rq->argv[2].ptr != NULL ? rq->argv[2].ptr : "");
			return;
		}
		out = session_local_sink(sess, &r);
		sg_resp_write_array(out, 0);
		break;
	case SG_CMD_CLUSTER_COUNTKEYSINSLOT:
	case SG_CMD_CLUSTER_GETKEYSINSLOT: {
		int64_t slot;

		if (sg_span_to_i64(arg(rq, 2), &slot) != 0) {
			local_error(sess, "ERR value is not an integer or out of range");
			return;
		}
		if (slot < 0 || slot >= SG_CLUSTER_SLOTS) {
			local_error(sess, "ERR Invalid slot");
			return;
		}
		/* the owner of that slot answers */
		route_forward_slot(sess, rq, cmd, (uint16_t)slot);
		return;
	}
	default:
		local_error(sess, "ERR shardgate: 'CLUSTER %s' is not supported through "
			    "the proxy", cmd->name + sizeof("cluster|") - 1);
		return;
	}
	session_local_done(sess, r);
}

/* ---- INFO ---- */

static void SG_PRINTF(2, 3)
add(struct sg_membuf *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		sg_membuf_append(b, line, SG_MIN((size_t)n, sizeof(line) - 1));
}

static bool
want(const char *section, const char *name)
{
	return section == NULL || strcasecmp(section, "all") == 0 ||
	       strcasecmp(section, "everything") == 0 ||
	       strcasecmp(section, "default") == 0 || strcasecmp(section, name) == 0;
}

int
proxy_info_text(struct sg_proxy_worker *w, struct session *sess, struct sg_membuf *out,
		const char *section)
{
	struct sg_telemetry_snapshot *s = malloc(sizeof(*s));
	const struct sg_cluster_topology *t = w->topo;

	if (s == NULL)
		return -ENOMEM;
	sg_telemetry_snapshot(s);
	if (want(section, "server")) {
		add(out, "# Server\r\n");
		add(out, "redis_version:%s\r\n", w->p->server_version);
		add(out, "shardgate_version:%s\r\n", SG_VERSION);
		add(out, "redis_mode:cluster\r\n");
		add(out, "io_mode:%s\r\n", w->cfg->io.mode == SG_CONFIG_IO_DPDK ? "dpdk" : "kernel");
		add(out, "process_id:%d\r\n", (int)getpid());
		add(out, "workers:%u\r\n", w->p->nworkers);
		if (sess != NULL)
			add(out, "tcp_port:%u\r\n", local_port(sess));
		add(out, "uptime_in_seconds:%llu\r\n",
		    (unsigned long long)(s->uptime_ns / SG_NS_PER_S));
		add(out, "\r\n");
	}
	if (want(section, "clients")) {
		add(out, "# Clients\r\n");
		add(out, "connected_clients:%lld\r\n", (long long)s->gauge[SG_TM_G_clients]);
		add(out, "maxclients:%u\r\n", w->cfg->limits.max_clients);
		add(out, "\r\n");
	}
	if (want(section, "stats")) {
		add(out, "# Stats\r\n");
		add(out, "total_connections_received:%llu\r\n",
		    (unsigned long long)s->counter[SG_TM_clients_accepted]);
		add(out, "total_commands_processed:%llu\r\n",
		    (unsigned long long)s->counter[SG_TM_commands]);
		add(out, "total_net_input_bytes:%llu\r\n",
		    (unsigned long long)s->counter[SG_TM_bytes_in]);
		add(out, "total_net_output_bytes:%llu\r\n",
		    (unsigned long long)s->counter[SG_TM_bytes_out]);
		add(out, "rejected_connections:%llu\r\n",
		    (unsigned long long)s->counter[SG_TM_clients_refused]);
		add(out, "\r\n");
	}
	if (want(section, "shardgate")) {
		add(out, "# Shardgate\r\n");
		for (unsigned g = 0; g < SG_TM_NGAUGES; g++)
			add(out, "%s:%lld\r\n", sg_telemetry_gauge_name(g), (long long)s->gauge[g]);
		for (unsigned c = 0; c < SG_TM_NCOUNTERS; c++)
			add(out, "%s:%llu\r\n", sg_telemetry_counter_name(c),
			    (unsigned long long)s->counter[c]);
		add(out, "\r\n");
	}
	if (want(section, "latency")) {
		add(out, "# Latency\r\n");
		for (unsigned k = 0; k < SG_TM_NCLASSES; k++) {
			const struct sg_telemetry_hist *h = &s->latency[k];

			add(out, "latency_%s:count=%llu,p50_us=%llu,p99_us=%llu,p999_us=%llu,max_us=%llu\r\n",
			    sg_telemetry_class_name(k), (unsigned long long)h->count,
			    (unsigned long long)(sg_telemetry_hist_quantile(h, 0.5) / 1000),
			    (unsigned long long)(sg_telemetry_hist_quantile(h, 0.99) / 1000),
			    (unsigned long long)(sg_telemetry_hist_quantile(h, 0.999) / 1000),
			    (unsigned long long)(h->max_ns / 1000));
		}
		add(out, "hold:count=%llu,p99_us=%llu,max_us=%llu\r\n",
		    (unsigned long long)s->hold.count,
		    (unsigned long long)(sg_telemetry_hist_quantile(&s->hold, 0.99) / 1000),
		    (unsigned long long)(s->hold.max_ns / 1000));
		add(out, "\r\n");
	}
	if (want(section, "cluster")) {
		add(out, "# Cluster\r\n");
		add(out, "cluster_enabled:1\r\n");
		add(out, "topology_version:%llu\r\n",
		    (unsigned long long)(t != NULL ? t->version : 0));
		add(out, "topology_shards:%u\r\n", t != NULL ? t->nshards : 0);
		add(out, "topology_nodes:%u\r\n", t != NULL ? t->nnodes : 0);
		add(out, "topology_slots_served:%u\r\n", t != NULL ? t->slots_served : 0);
		add(out, "topology_age_ms:%llu\r\n",
		    (unsigned long long)(t != NULL ? (sg_clock_ns() - t->built_ns) / SG_NS_PER_MS : 0));
		add(out, "\r\n");
	}
	free(s);
	return out->len > 0 || section != NULL ? 0 : -EINVAL;
}

static void
cmd_info(struct session *sess, const struct sg_resp_request *rq)
{
	struct sg_membuf text;
	struct sg_sink *out;
	char section[32] = "";
	struct req *r;

	sg_membuf_init(&text, 1 << 20);
	if (rq->argc >= 2 && rq->argv[1].ptr != NULL && rq->argv[1].len < sizeof(section)) {
		memcpy(section, rq->argv[1].ptr, rq->argv[1].len);
		section[rq->argv[1].len] = '\0';
	}
	proxy_info_text(sess->w, sess, &text, rq->argc >= 2 ? section : NULL);
	out = session_local_sink(sess, &r);
	write_text(out, sess, text.data != NULL ? text.data : "", text.len);
	session_local_done(sess, r);
	sg_membuf_free(&text);
}

/* ---- the dispatcher ---- */

void
local_command(struct session *sess, const struct sg_command *cmd,
	      const struct sg_resp_request *rq)
{
	const struct sg_command *top = cmd->parent != NULL ? cmd->parent : cmd;
	struct sg_sink *out;
	struct req *r;

	if (top->id == SG_CMD_CLIENT) {
		cmd_client(sess, cmd, rq);
		return;
	}
	if (top->id == SG_CMD_CLUSTER) {
		cmd_cluster(sess, cmd, rq);
		return;
	}
	if (top->id == SG_CMD_COMMAND) {
		/* the backends' own view is the right one: they run the commands */
		route_forward_any(sess, rq, cmd);
		return;
	}
	switch (cmd->id) {
	case SG_CMD_PING:
		if (rq->argc > 2) {
			local_error(sess, "ERR wrong number of arguments for 'ping' command");
			return;
		}
		out = session_local_sink(sess, &r);
		if (rq->argc > 1)
			write_arg_bulk(out, sess, &rq->argv[1]);
		else
			sg_resp_write_simple(out, "PONG", 4);
		break;
	case SG_CMD_ECHO:
		out = session_local_sink(sess, &r);
		write_arg_bulk(out, sess, &rq->argv[1]);
		break;
	case SG_CMD_HELLO:
		cmd_hello(sess, rq);
		return;
	case SG_CMD_AUTH:
		cmd_auth(sess, rq);
		return;
	case SG_CMD_READONLY:
	case SG_CMD_READWRITE:
		sess->readonly = cmd->id == SG_CMD_READONLY;
		out = session_local_sink(sess, &r);
		sg_resp_write_simple(out, "OK", 2);
		break;
	case SG_CMD_SELECT:
		if (!is(rq, 1, "0")) {
			local_error(sess, "ERR SELECT is not allowed in cluster mode");
			return;
		}
		out = session_local_sink(sess, &r);
		sg_resp_write_simple(out, "OK", 2);
		break;
	case SG_CMD_QUIT:
		out = session_local_sink(sess, &r);
		sg_resp_write_simple(out, "OK", 2);
		sess->closing = true;
		break;
	case SG_CMD_RESET:
		sess->proto = 2;
		sess->readonly = false;
		free(sess->name);
		sess->name = NULL;
		if (sess->w->cfg->n_users > 0) {
			sess->user = NULL;
			sess->parser.authenticated = false;
		}
		out = session_local_sink(sess, &r);
		sg_resp_write_simple(out, "RESET", 5);
		break;
	case SG_CMD_INFO:
		cmd_info(sess, rq);
		return;
	case SG_CMD_ASKING:
		out = session_local_sink(sess, &r);
		sg_resp_write_simple(out, "OK", 2);
		break;
	case SG_CMD_ROLE:
		out = session_local_sink(sess, &r);
		sg_resp_write_array(out, 3);
		write_str(out, "master");
		sg_resp_write_integer(out, 0);
		sg_resp_write_array(out, 0);
		break;
	case SG_CMD_ACL_WHOAMI:
		out = session_local_sink(sess, &r);
		write_str(out, sess->user != NULL ? sess->user : "default");
		break;
	default:
		local_error(sess, "ERR shardgate: '%s' is not supported through the proxy",
			    cmd->name);
		return;
	}
	session_local_done(sess, r);
}
