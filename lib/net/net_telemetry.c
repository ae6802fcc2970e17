/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * <prefix>/port: the port's device counters, link, every worker counter
 * summed (drops included) and the device's non-zero extended counters.
 *
 * The telemetry thread may ask while the main lcore closes the port, so
 * the one published port pointer is read and cleared under a spinlock;
 * this is control-path only (never taken by a worker).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_spinlock.h>

#include "sg_telemetry.h"
#include "net_internal.h"

/* Extended counters listed at most (replies stay under 16 KB). */
#define XSTATS_MAX 128

static rte_spinlock_t tel_lock = RTE_SPINLOCK_INITIALIZER;
static struct sg_net_port *tel_port;

static void
add_xstats(struct sg_net_port *p, struct rte_tel_data *d)
{
	struct sg_net_xstat *xs;
	struct rte_tel_data *x;
	int n;

	n = sg_net_xstats(p, NULL, 0);
	if (n <= 0)
		return;
	xs = calloc((size_t)n, sizeof(*xs));
	x = rte_tel_data_alloc();
	if (xs == NULL || x == NULL)
		goto out;
	n = sg_net_xstats(p, xs, (unsigned)n);
	rte_tel_data_start_dict(x);
	for (int i = 0, shown = 0; i < n && shown < XSTATS_MAX; i++) {
		if (xs[i].value == 0)
			continue;
		rte_tel_data_add_dict_u64(x, xs[i].name, xs[i].value);
		shown++;
	}
	rte_tel_data_add_dict_u64(d, "xstats_count", (uint64_t)(n > 0 ? n : 0));
	if (rte_tel_data_add_dict_container(d, "xstats", x, 0) == 0)
		x = NULL;
out:
	if (x != NULL)
		rte_tel_data_free(x);
	free(xs);
}

static int
cmd_port(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sg_net_stats *st;
	struct sg_net_port *p;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	st = malloc(sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(d);
	rte_spinlock_lock(&tel_lock);
	p = tel_port;
	if (p != NULL) {
		sg_net_stats(p, st);
		rte_tel_data_add_dict_u64(d, "port_id", sg_net_port_id(p));
		rte_tel_data_add_dict_u64(d, "queues", sg_net_port_queues(p));
		rte_tel_data_add_dict_u64(d, "workers", p->n_workers);
		rte_tel_data_add_dict_u64(d, "mtu", sg_net_port_mtu(p));
		for (unsigned i = 0; i < SG_NET_PSTAT_MAX; i++)
			rte_tel_data_add_dict_u64(d, sg_net_port_stat_name(i), st->port[i]);
		for (unsigned i = 0; i < SG_NET_STAT_MAX; i++)
			rte_tel_data_add_dict_u64(d, sg_net_stat_name(i), st->w[i]);
		add_xstats(p, d);
	}
	rte_spinlock_unlock(&tel_lock);
	free(st);
	return 0;
}

int
sg_net_register_telemetry(struct sg_net_port *p, const char *prefix)
{
	static bool registered;
	int rc = 0;

	rte_spinlock_lock(&tel_lock);
	tel_port = p;
	rte_spinlock_unlock(&tel_lock);
	/* DPDK cannot unregister a command: register once per process and
	 * let later calls only change the port it reports. */
	if (!registered) {
		rc = sg_telemetry_register(prefix, "/port", cmd_port,
					   "Port: device counters, link, worker counters "
					   "summed (drops, steering), non-zero xstats.");
		if (rc == 0)
			registered = true;
	}
	return rc;
}

int
sg_net_telemetry_stats(struct sg_net_stats *out)
{
	int rc = -ENODEV;

	memset(out, 0, sizeof(*out));
	rte_spinlock_lock(&tel_lock);
	if (tel_port != NULL)
		rc = sg_net_stats(tel_port, out);
	rte_spinlock_unlock(&tel_lock);
	return rc;
}

void
net_telemetry_forget(struct sg_net_port *p)
{
	rte_spinlock_lock(&tel_lock);
	if (tel_port == p)
		tel_port = NULL;
	rte_spinlock_unlock(&tel_lock);
}
