/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK transport: lib/tcp over lib/net. Until the userspace stack is
 * joined to lib/io, creating a DPDK-mode worker fails with ENOTSUP, as
 * sg_io_worker_create() documents for a mode that is not built.
 */
#include <errno.h>

#include "io_internal.h"

static int
dpdk_init(struct sg_io_worker *w)
{
	return -ENOTSUP;
}

const struct io_transport io_dpdk_transport = {
	.name = "dpdk",
	.init = dpdk_init,
};
