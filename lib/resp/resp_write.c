/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writers: one RESP element per call into a sink. Headers and short
 * elements take one reservation (at most SG_SINK_MAX_RESERVE bytes);
 * payloads go through sg_sink_write, which spans segments.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sg_resp.h"

/* "<c><n>\r\n": type byte, up to 20 digits and a sign, CRLF. */
#define HDR_ROOM 24

static inline void
write_header(struct sg_sink *s, char type, int64_t n)
{
	char *p = sg_sink_reserve(s, HDR_ROOM);

	if (p == NULL)
		return;
	*p = type;
	p += 1 + sg_i64_to_dec(p + 1, n);
	p[0] = '\r';
	p[1] = '\n';
	sg_sink_commit(s, p + 2);
}

static inline void
write_lit(struct sg_sink *s, const char *lit, size_t n)
{
	char *p = sg_sink_reserve(s, n);

	if (p == NULL)
		return;
	memcpy(p, lit, n);
	sg_sink_commit(s, p + n);
}

/* Copies text with CR and LF turned into spaces, so a simple string or
 * an error stays one line whatever the caller put in it. */
static void
write_line_text(struct sg_sink *s, const char *str, size_t n)
{
	while (n > 0) {
		size_t room, k, j;
		char *p;

		p = sg_sink_reserve(s, 1);
		if (p == NULL)
			return;
		room = (size_t)(s->end - s->pos);
		k = SG_MIN(room, n);
		for (j = 0; j < k; j++) {
			char c = str[j];

			p[j] = (c == '\r' || c == '\n') ? ' ' : c;
		}
		sg_sink_commit(s, p + k);
		str += k;
		n -= k;
	}
}

static void
write_line(struct sg_sink *s, char type, const char *str, size_t len)
{
	char t[1] = { type };

	write_lit(s, t, 1);
	write_line_text(s, str, len);
	write_lit(s, "\r\n", 2);
}

void
sg_resp_write_simple(struct sg_sink *s, const char *str, size_t len)
{
	write_line(s, '+', str, len);
}

void
sg_resp_write_error(struct sg_sink *s, const char *msg, size_t len)
{
	write_line(s, '-', msg, len);
}

void
sg_resp_write_errorf(struct sg_sink *s, const char *fmt, ...)
{
	char small[256], *buf = small;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		s->err = s->err != 0 ? s->err : -EINVAL;
		return;
	}
	if ((size_t)n >= sizeof(small)) {
		buf = malloc((size_t)n + 1);
		if (buf == NULL) {
			s->err = s->err != 0 ? s->err : -ENOMEM;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(buf, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	write_line(s, '-', buf, (size_t)n);
	if (buf != small)
		free(buf);
}

void
sg_resp_write_integer(struct sg_sink *s, int64_t v)
{
	write_header(s, ':', v);
}

void
sg_resp_write_bulk(struct sg_sink *s, const void *ptr, size_t len)
{
	char *p;

	if (len <= SG_SINK_MAX_RESERVE - HDR_ROOM - 2) {
		/* small: header, payload and CRLF in one reservation */
		p = sg_sink_reserve(s, HDR_ROOM + len + 2);
		if (p == NULL)
			return;
		*p = '$';
		p += 1 + sg_u64_to_dec(p + 1, len);
		p[0] = '\r';
		p[1] = '\n';
		if (len != 0)
			memcpy(p + 2, ptr, len);
		p[2 + len] = '\r';
		p[3 + len] = '\n';
		sg_sink_commit(s, p + 4 + len);
		return;
	}
	write_header(s, '$', (int64_t)len);
	sg_sink_write(s, ptr, len);
	write_lit(s, "\r\n", 2);
}

void
sg_resp_write_bulk_str(struct sg_sink *s, const char *str)
{
	sg_resp_write_bulk(s, str, strlen(str));
}

void
sg_resp_write_array(struct sg_sink *s, int64_t n)
{
	write_header(s, '*', n);
}

void
sg_resp_write_map(struct sg_sink *s, int64_t pairs, int proto)
{
	if (proto == 3)
		write_header(s, '%', pairs);
	else
		write_header(s, '*', pairs * 2);
}

void
sg_resp_write_set(struct sg_sink *s, int64_t n, int proto)
{
	write_header(s, proto == 3 ? '~' : '*', n);
}

void
sg_resp_write_push(struct sg_sink *s, int64_t n, int proto)
{
	write_header(s, proto == 3 ? '>' : '*', n);
}

void
sg_resp_write_null(struct sg_sink *s, int proto)
{
	if (proto == 3)
		write_lit(s, "_\r\n", 3);
	else
		write_lit(s, "$-1\r\n", 5);
}

void
sg_resp_write_null_array(struct sg_sink *s, int proto)
{
	if (proto == 3)
		write_lit(s, "_\r\n", 3);
	else
		write_lit(s, "*-1\r\n", 5);
}

void
sg_resp_write_bool(struct sg_sink *s, bool v, int proto)
{
	if (proto == 3)
		write_lit(s, v ? "#t\r\n" : "#f\r\n", 4);
	else
		write_lit(s, v ? ":1\r\n" : ":0\r\n", 4);
}

/* The shortest %.*g that reads back as the same double. */
static int
format_double(char *buf, size_t size, double v)
{
	int prec, n = 0;

	if (isnan(v))
		return snprintf(buf, size, "nan");
	if (isinf(v))
		return snprintf(buf, size, v > 0 ? "inf" : "-inf");
	for (prec = 1; prec <= 17; prec++) {
		n = snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return n;
}

void
sg_resp_write_double(struct sg_sink *s, double v, int proto)
{
	char buf[40];
	int n = format_double(buf, sizeof(buf), v);

	if (n < 0 || (size_t)n >= sizeof(buf)) {
		s->err = s->err != 0 ? s->err : -EINVAL;
		return;
	}
	if (proto == 3) {
		write_lit(s, ",", 1);
		write_lit(s, buf, (size_t)n);
		write_lit(s, "\r\n", 2);
	} else {
		sg_resp_write_bulk(s, buf, (size_t)n);
	}
}

void
sg_resp_write_verbatim(struct sg_sink *s, const char *fmt, const void *ptr,
		       size_t len, int proto)
{
	if (fmt == NULL || strlen(fmt) != 3) {
		s->err = s->err != 0 ? s->err : -EINVAL;
		return;
	}
	if (proto != 3) {
		sg_resp_write_bulk(s, ptr, len);
		return;
	}
	write_header(s, '=', (int64_t)len + 4);
	write_lit(s, fmt, 3);
	write_lit(s, ":", 1);
	sg_sink_write(s, ptr, len);
	write_lit(s, "\r\n", 2);
}

void
sg_resp_write_command(struct sg_sink *s, uint32_t argc, const struct sg_span *argv)
{
	uint32_t i;

	write_header(s, '*', argc);
	for (i = 0; i < argc; i++)
		sg_resp_write_bulk(s, argv[i].ptr, argv[i].len);
}
