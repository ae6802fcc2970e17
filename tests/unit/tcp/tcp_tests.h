/* SPDX-License-Identifier: BSD-3-Clause */
/* Suites of the lib/tcp unit test program (test_tcp_rfc.c). */
#ifndef TCP_TESTS_H
#define TCP_TESTS_H

#include "sg_unit.h"

extern const struct sg_unit_test handshake_tests[];
extern const struct sg_unit_test close_tests[];
extern const struct sg_unit_test reset_tests[];
extern const struct sg_unit_test option_tests[];
extern const struct sg_unit_test window_tests[];
extern const struct sg_unit_test rexmit_tests[];
extern const struct sg_unit_test ack_tests[];
extern const struct sg_unit_test timer_tests[];
extern const struct sg_unit_test listen_tests[];
extern const struct sg_unit_test memory_tests[];
extern const struct sg_unit_test wire_tests[];

#endif /* TCP_TESTS_H */
