/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SG_APP_RUNTIME_H
#define SG_APP_RUNTIME_H

#include "sg_config.h"

/* Runs shardgate with a validated configuration until SIGINT/SIGTERM.
 * Returns the process exit code. */
int app_run(const struct sg_config *cfg);

#endif
