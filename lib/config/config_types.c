/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scalar types: text -> field, with one clear message per kind of
 * mistake, and field -> text in the same spelling the parser accepts, so
 * that printing and loading again gives the same value.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

uint64_t
cf_load_uint(const void *field, size_t width)
{
	switch (width) {
	case 1: return *(const uint8_t *)field;
	case 2: return *(const uint16_t *)field;
	case 4: return *(const uint32_t *)field;
	default: return *(const uint64_t *)field;
	}
}

void
cf_store_uint(void *field, size_t width, uint64_t v)
{
	switch (width) {
	case 1: *(uint8_t *)field = (uint8_t)v; break;
	case 2: *(uint16_t *)field = (uint16_t)v; break;
	case 4: *(uint32_t *)field = (uint32_t)v; break;
	default: *(uint64_t *)field = v; break;
	}
}

static char
lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static bool
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

bool
cf_is_null(const struct cf_node *n)
{
	if (n == NULL)
		return true;
	if (n->kind != CF_SCALAR || !(n->flags & CF_NODE_PLAIN))
		return false;
	return n->len == 0 || strcmp(n->text, "~") == 0 ||
	       strcmp(n->text, "null") == 0 || strcmp(n->text, "Null") == 0 ||
	       strcmp(n->text, "NULL") == 0;
}

/* Leading decimal digits of s (no sign, leading zeros allowed only for
 * "0" itself). Returns the number of digits, 0 when none or on overflow
 * (*overflow set). */
static size_t
parse_digits(const char *s, size_t len, uint64_t *v, bool *overflow)
{
	size_t i = 0;
	uint64_t acc = 0;

	*overflow = false;
	while (i < len && is_digit(s[i])) {
		unsigned d = (unsigned)(s[i] - '0');

		if (acc > (UINT64_MAX - d) / 10) {
			*overflow = true;
			return 0;
		}
		acc = acc * 10 + d;
		i++;
	}
	if (i > 1 && s[0] == '0')
		return 0;
	*v = acc;
	return i;
}

/* ------------------------------------------------------------------ */
/* Sizes and durations                                                 */
/* ------------------------------------------------------------------ */

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit size_units[] = {
	{ "", 1 }, { "b", 1 },
	{ "k", 1ull << 10 }, { "kb", 1ull << 10 },
	{ "m", 1ull << 20 }, { "mb", 1ull << 20 },
	{ "g", 1ull << 30 }, { "gb", 1ull << 30 },
	{ "t", 1ull << 40 }, { "tb", 1ull << 40 },
};

/* Largest first: the formatter picks the first unit that divides. */
static const struct unit size_out[] = {
	{ "tb", 1ull << 40 }, { "gb", 1ull << 30 },
	{ "mb", 1ull << 20 }, { "kb", 1ull << 10 },
};

static const struct unit time_units[] = {
	{ "ns", 1 }, { "us", SG_NS_PER_US }, { "ms", SG_NS_PER_MS },
	{ "s", SG_NS_PER_S }, { "m", 60 * SG_NS_PER_S },
	{ "h", 3600 * SG_NS_PER_S },
};

/* Minutes are left out on purpose: "60s" reads better than "1m". */
static const struct unit time_out[] = {
	{ "h", 3600 * SG_NS_PER_S }, { "s", SG_NS_PER_S },
	{ "ms", SG_NS_PER_MS }, { "us", SG_NS_PER_US },
};

static bool
unit_eq(const char *s, size_t len, const char *name)
{
	size_t i;

	for (i = 0; i < len && name[i] != '\0'; i++) {
		if (lower(s[i]) != name[i])
			return false;
	}
	return i == len && name[i] == '\0';
}

/* Number followed by a unit from `units` (the empty unit means a bare
 * number). Returns 0, -EINVAL or -ERANGE; *bare tells a bare number. */
static int
parse_with_unit(const char *s, size_t len, const struct unit *units,
		size_t n_units, uint64_t *out, bool *bare)
{
	uint64_t v;
	bool overflow;
	size_t nd = parse_digits(s, len, &v, &overflow);

	if (overflow)
		return -ERANGE;
	if (nd == 0)
		return -EINVAL;
	*bare = nd == len;
	if (*bare) {
		*out = v;
		return 0;
	}
	for (size_t i = 0; i < n_units; i++) {
		if (!unit_eq(s + nd, len - nd, units[i].name))
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return -ERANGE;
		*out = v * units[i].mult;
		return 0;
	}
	return -EINVAL;
}

static void
format_units(char *buf, size_t cap, uint64_t v, const struct unit *units,
	     size_t n_units)
{
	if (v != 0) {
		for (size_t i = 0; i < n_units; i++) {
			if (v % units[i].mult == 0) {
				snprintf(buf, cap, "%llu%s",
					 (unsigned long long)(v / units[i].mult),
					 units[i].name);
				return;
			}
		}
	}
	snprintf(buf, cap, "%llu", (unsigned long long)v);
}

void
cf_format_size(char *buf, size_t cap, uint64_t bytes)
{
	format_units(buf, cap, bytes, size_out, SG_ARRAY_SIZE(size_out));
}

void
cf_format_duration(char *buf, size_t cap, uint64_t ns)
{
	format_units(buf, cap, ns, time_out, SG_ARRAY_SIZE(time_out));
	if (ns != 0 && ns % SG_NS_PER_US != 0)
		snprintf(buf, cap, "%lluns", (unsigned long long)ns);
}

/* ------------------------------------------------------------------ */
/* Addresses                                                           */
/* ------------------------------------------------------------------ */

/* Strict dotted quad: four parts 0..255, digits only, no leading zeros. */
static bool
parse_ipv4(const char *s, size_t len, struct in_addr *out)
{
	uint32_t a = 0;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		uint64_t v;
		bool overflow;
		size_t nd;

		if (part > 0) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
		nd = parse_digits(s + i, len - i, &v, &overflow);
		if (nd == 0 || nd > 3 || v > 255)
			return false;
		a = (a << 8) | (uint32_t)v;
		i += nd;
	}
	if (i != len)
		return false;
	out->s_addr = htonl(a);
	return true;
}

/* Only digits and dots: meant as an address, so it must be one. */
static bool
looks_numeric(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]) && s[i] != '.')
			return false;
	}
	return true;
}

/* RFC 1123 host name: dot-separated labels of letters, digits and '-',
 * 1..63 bytes, not starting or ending with '-'; at most 253 bytes. */
static bool
valid_hostname(const char *s, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char ch = i < len ? s[i] : '.';

		if (ch == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool ok = is_digit(ch) || (lower(ch) >= 'a' && lower(ch) <= 'z') ||
			  ch == '-';

		if (!ok || (label == 0 && ch == '-'))
			return false;
		label++;
	}
	return true;
}

void
cf_format_endpoint(char *buf, size_t cap, const struct sg_config_endpoint *e)
{
	snprintf(buf, cap, "%s:%u", e->host, (unsigned)e->port);
}

/* ------------------------------------------------------------------ */
/* Quoting                                                             */
/* ------------------------------------------------------------------ */

char *
cf_quote(char *out, size_t cap, const char *s, size_t len)
{
	size_t o = 0;
	size_t shown = len > 64 ? 64 : len;

	for (size_t i = 0; i < shown && o + 5 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	if (shown < len && o + 4 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* Decodes one UTF-8 sequence; returns its length, 0 when malformed. */
static size_t
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;
	uint32_t v;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		v = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		v = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		v = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	*cp = v;
	return n;
}

/*
 * YAML double-quoted: printable ASCII as is, escapes for the rest. Every
 * non-ASCII character is written as \u/\U so that no reader folds a
 * Unicode line break (U+0085, U+2028) inside the quotes.
 */
void
cf_print_quoted(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str);

	fputc('"', f);
	for (size_t i = 0; i < len;) {
		unsigned char ch = s[i];
		uint32_t cp;
		size_t n;

		if (ch == '"' || ch == '\\') {
			fputc('\\', f);
			fputc(ch, f);
			i++;
		} else if (ch >= 0x20 && ch < 0x7f) {
			fputc(ch, f);
			i++;
		} else if (ch < 0x80) {
			fprintf(f, "\\x%02x", ch);
			i++;
		} else if ((n = utf8_decode(s + i, len - i, &cp)) == 0) {
			fprintf(f, "\\x%02x", ch);
			i++;
		} else {
			if (cp > 0xffff)
				fprintf(f, "\\U%08x", (unsigned)cp);
			else
				fprintf(f, "\\u%04x", (unsigned)cp);
			i += n;
		}
	}
	fputc('"', f);
}

/* ------------------------------------------------------------------ */
/* Parsing one scalar                                                  */
/* ------------------------------------------------------------------ */

const char *
cf_kind_name(enum cf_kind k)
{
	switch (k) {
	case CF_SEQ: return "a sequence";
	case CF_MAP: return "a mapping";
	case CF_ALIAS: return "an alias";
	default: return "a scalar";
	}
}

static void
format_bound(char *buf, size_t cap, const struct cf_directive *d, uint64_t v)
{
	if (d->type == CF_T_SIZE)
		cf_format_size(buf, cap, v);
	else if (d->type == CF_T_DURATION && d->plain_unit != d->unit)
		cf_format_duration(buf, cap, v);
	else if (d->type == CF_T_DURATION)
		snprintf(buf, cap, "%llu", (unsigned long long)(v / d->unit));
	else
		snprintf(buf, cap, "%llu", (unsigned long long)v);
}

static int
range_error(struct cf_ctx *c, const struct cf_directive *d,
	    const struct cf_node *n, const char *q)
{
	char lo[32], hi[32];

	format_bound(lo, sizeof(lo), d, d->min);
	format_bound(hi, sizeof(hi), d, d->max);
	cf_error_here(c, n->mark, "must be between %s and %s, got \"%s\"", lo,
		      hi, q);
	return -EINVAL;
}

static int
parse_string(struct cf_ctx *c, const struct cf_directive *d,
	     const struct cf_node *n, char **field, const char *q)
{
	const char *s = cf_is_null(n) ? "" : n->text;
	size_t len = cf_is_null(n) ? 0 : n->len;
	const char *problem;

	if (len > SG_CONFIG_STRING_MAX) {
		cf_error_here(c, n->mark, "must be at most %u bytes long, got %zu",
			      SG_CONFIG_STRING_MAX, len);
		return -EINVAL;
	}
	if (memchr(s, '\0', len) != NULL) {
		cf_error_here(c, n->mark, "must not contain a NUL byte, got \"%s\"", q);
		return -EINVAL;
	}
	if ((d->flags & CF_SECRET) && strcmp(s, SG_CONFIG_REDACTED) == 0 &&
	    !(c->flags & SG_CONFIG_LOAD_ALLOW_REDACTED)) {
		cf_error_here(c, n->mark,
			      "\"%s\" is the placeholder --check prints for a secret; "
			      "write the real value", SG_CONFIG_REDACTED);
		return -EINVAL;
	}
	if (d->check != NULL && (problem = d->check(s, len)) != NULL) {
		cf_error_here(c, n->mark, "%s, got \"%s\"", problem, q);
		return -EINVAL;
	}
	char *copy = malloc(len + 1);

	if (copy == NULL) {
		c->nomem = true;
		return -ENOMEM;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	free(*field);
	*field = copy;
	return 0;
}

static int
parse_endpoint(struct cf_ctx *c, const struct cf_node *n,
	       struct sg_config_endpoint *e, const char *q)
{
	const char *s = n->text;
	const char *colon = NULL;
	uint64_t port;
	bool overflow;
	size_t hlen, nd;
	struct in_addr a;

	for (size_t i = 0; i < n->len; i++) {
		if (s[i] == ':')
			colon = s + i;
	}
	if (colon == NULL || colon == s || colon == s + n->len - 1) {
		cf_error_here(c, n->mark,
			      "must be host:port like 127.0.0.1:7000, got \"%s\"", q);
		return -EINVAL;
	}
	hlen = (size_t)(colon - s);
	nd = parse_digits(colon + 1, n->len - hlen - 1, &port, &overflow);
	if (nd != n->len - hlen - 1 || port < 1 || port > 65535) {
		cf_error_here(c, n->mark,
			      "must be host:port with a port between 1 and 65535, got \"%s\"",
			      q);
		return -EINVAL;
	}
	if (looks_numeric(s, hlen)) {
		if (!parse_ipv4(s, hlen, &a)) {
			cf_error_here(c, n->mark,
				      "host is not an IPv4 address: \"%s\"", q);
			return -EINVAL;
		}
	} else if (!valid_hostname(s, hlen)) {
		cf_error_here(c, n->mark,
			      "host must be an IPv4 address or a host name, got \"%s\"", q);
		return -EINVAL;
	}
	memcpy(e->host, s, hlen);
	e->host[hlen] = '\0';
	e->port = (uint16_t)port;
	return 0;
}

static int
parse_cidr(struct cf_ctx *c, const struct cf_node *n,
	   struct sg_config_cidr *out, const char *q)
{
	const char *slash = memchr(n->text, '/', n->len);
	size_t alen = slash != NULL ? (size_t)(slash - n->text) : 0;
	uint64_t plen = 0;
	bool overflow;
	struct in_addr a;

	if (slash == NULL || !parse_ipv4(n->text, alen, &a) ||
	    parse_digits(slash + 1, n->len - alen - 1, &plen, &overflow) !=
		    n->len - alen - 1 ||
	    plen < 1 || plen > 32) {
		cf_error_here(c, n->mark,
			      "must be an IPv4 address with a prefix length like "
			      "198.18.0.2/24, got \"%s\"", q);
		return -EINVAL;
	}
	out->addr = a;
	out->prefix_len = (uint8_t)plen;
	memcpy(out->text, n->text, n->len);
	out->text[n->len] = '\0';
	return 0;
}

int
cf_parse_scalar(struct cf_ctx *c, const struct cf_directive *d,
		const struct cf_node *n, void *field)
{
	char q[300];
	uint64_t v = 0;
	bool bare = false, overflow;
	int rc;

	if (n->kind != CF_SCALAR) {
		cf_error_here(c, n->mark, "must be a scalar, got %s",
			      cf_kind_name(n->kind));
		return -EINVAL;
	}
	cf_quote(q, sizeof(q), n->text, n->len);
	switch (d->type) {
	case CF_T_STRING:
		return parse_string(c, d, n, field, q);
	case CF_T_BOOL:
		if (strcmp(n->text, "true") == 0 && n->len == 4) {
			*(bool *)field = true;
		} else if (strcmp(n->text, "false") == 0 && n->len == 5) {
			*(bool *)field = false;
		} else {
			cf_error_here(c, n->mark, "must be true or false, got \"%s\"", q);
			return -EINVAL;
		}
		return 0;
	case CF_T_ENUM:
		for (size_t i = 0; d->names[i] != NULL; i++) {
			if (strlen(d->names[i]) == n->len &&
			    memcmp(d->names[i], n->text, n->len) == 0) {
				cf_store_uint(field, d->width, i);
				return 0;
			}
		}
		{
			char list[200];
			size_t o = 0;

			list[0] = '\0';
			for (size_t i = 0; d->names[i] != NULL; i++)
				o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
						      i > 0 ? ", " : "", d->names[i]);
			cf_error_here(c, n->mark, "must be one of %s; got \"%s\"", list, q);
		}
		return -EINVAL;
	case CF_T_INT:
	case CF_T_PORT:
		if (parse_digits(n->text, n->len, &v, &overflow) != n->len ||
		    n->len == 0 || v < d->min || v > d->max ||
		    ((d->flags & CF_POW2) && (v & (v - 1)) != 0)) {
			if (d->type == CF_T_PORT)
				cf_error_here(c, n->mark, "must be a port number "
					      "between %llu and 65535, got \"%s\"",
					      (unsigned long long)d->min, q);
			else
				cf_error_here(c, n->mark,
					      "must be %s between %llu and %llu, got \"%s\"",
					      (d->flags & CF_POW2) ? "a power of two" :
								     "an integer",
					      (unsigned long long)d->min,
					      (unsigned long long)d->max, q);
			return -EINVAL;
		}
		cf_store_uint(field, d->type == CF_T_PORT ? 2 : d->width, v);
		return 0;
	case CF_T_SIZE:
		rc = parse_with_unit(n->text, n->len, size_units,
				     SG_ARRAY_SIZE(size_units), &v, &bare);
		if (rc == -EINVAL) {
			cf_error_here(c, n->mark,
				      "must be a size like 64mb or 1gb, got \"%s\"", q);
			return -EINVAL;
		}
		if (rc == -ERANGE || v < d->min || v > d->max)
			return range_error(c, d, n, q);
		*(uint64_t *)field = v;
		return 0;
	case CF_T_DURATION:
		rc = parse_with_unit(n->text, n->len, time_units,
				     SG_ARRAY_SIZE(time_units), &v, &bare);
		if (rc == 0 && bare) {
			if (d->plain_unit == 0 && v != 0)
				rc = -EINVAL;
			else if (d->plain_unit != 0 && v > UINT64_MAX / d->plain_unit)
				rc = -ERANGE;
			else
				v *= d->plain_unit;
		}
		if (rc == -EINVAL) {
			cf_error_here(c, n->mark,
				      "must be a duration like 500ms or 5s, got \"%s\"", q);
			return -EINVAL;
		}
		if (rc == -ERANGE || v < d->min || v > d->max)
			return range_error(c, d, n, q);
		if (v % d->unit != 0) {
			char u[32];

			cf_format_duration(u, sizeof(u), d->unit);
			cf_error_here(c, n->mark, "must be a whole number of %s, got \"%s\"",
				      u, q);
			return -EINVAL;
		}
		cf_store_uint(field, d->width, v / d->unit);
		return 0;
	case CF_T_IPV4: {
		struct sg_config_ipv4 *ip = field;

		if ((d->flags & CF_EMPTY_OK) && (n->len == 0 || cf_is_null(n))) {
			memset(ip, 0, sizeof(*ip));
			return 0;
		}
		if (!parse_ipv4(n->text, n->len, &ip->addr)) {
			cf_error_here(c, n->mark, "not an IPv4 address: \"%s\"", q);
			return -EINVAL;
		}
		memcpy(ip->text, n->text, n->len);
		ip->text[n->len] = '\0';
		return 0;
	}
	case CF_T_CIDR:
		if ((d->flags & CF_EMPTY_OK) && (n->len == 0 || cf_is_null(n))) {
			memset(field, 0, sizeof(struct sg_config_cidr));
			return 0;
		}
		return parse_cidr(c, n, field, q);
	case CF_T_ENDPOINT:
		return parse_endpoint(c, n, field, q);
	default:
		return -EINVAL;
	}
}
