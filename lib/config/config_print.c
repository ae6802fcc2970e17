/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Printing the effective configuration as YAML, every key in table order,
 * values spelled the way the parsers read them (sizes and durations in
 * their largest exact unit, strings and endpoints double-quoted), secrets
 * as "<redacted>". The annotated form adds each key's help text with its
 * range and default, generated from the same table row; that output is
 * config/shardgate.yaml.
 */
#include <errno.h>
#include <string.h>

#include "config_internal.h"

#define WRAP 78

struct printer {
	FILE *f;
	bool annotate;
};

static void
spaces(FILE *f, int n)
{
	for (int i = 0; i < n; i++)
		fputc(' ', f);
}

/* Word-wraps `text` into "# " comment lines at `indent`; the first line
 * starts with `prefix`, the next ones with as many spaces. `inline_first`:
 * the caller already wrote the first line's indentation ("- "). */
static void
comment_at(struct printer *p, int indent, const char *prefix, const char *text,
	   bool inline_first)
{
	int plen = (int)strlen(prefix);
	int room = WRAP - indent - 2 - plen;
	const char *s = text;
	bool first = true;

	if (room < 20)
		room = 20;
	do {
		int n = (int)strlen(s), cut = n;

		if (n > room) {
			cut = room;
			while (cut > 0 && s[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = room;
		}
		if (!first || !inline_first)
			spaces(p->f, indent);
		if (first)
			fprintf(p->f, "# %s%.*s\n", prefix, cut, s);
		else
			fprintf(p->f, "# %*s%.*s\n", plen, "", cut, s);
		s += cut;
		while (*s == ' ')
			s++;
		first = false;
	} while (*s != '\0');
}

static void
comment(struct printer *p, int indent, const char *prefix, const char *text)
{
	comment_at(p, indent, prefix, text, false);
}

static void
format_value(const struct cf_directive *d, const void *field, char *buf,
	     size_t cap)
{
	uint64_t v;

	switch (d->type) {
	case CF_T_INT:
	case CF_T_PORT:
		snprintf(buf, cap, "%llu",
			 (unsigned long long)cf_load_uint(field, d->width));
		break;
	case CF_T_BOOL:
		snprintf(buf, cap, "%s", *(const bool *)field ? "true" : "false");
		break;
	case CF_T_ENUM: {
		const char *name = d->names[cf_load_uint(field, d->width)];

		snprintf(buf, cap, name[0] >= '0' && name[0] <= '9' ? "\"%s\"" : "%s",
			 name);
		break;
	}
	case CF_T_IPV4: {
		const struct sg_config_ipv4 *ip = field;

		snprintf(buf, cap, ip->text[0] != '\0' ? "%s" : "\"%s\"", ip->text);
		break;
	}
	case CF_T_CIDR: {
		const struct sg_config_cidr *cidr = field;

		snprintf(buf, cap, cidr->text[0] != '\0' ? "%s" : "\"%s\"", cidr->text);
		break;
	}
	case CF_T_SIZE:
		cf_format_size(buf, cap, *(const uint64_t *)field);
		break;
	case CF_T_DURATION:
		v = cf_load_uint(field, d->width);
		if (d->plain_unit == d->unit)
			snprintf(buf, cap, "%llu", (unsigned long long)v);
		else
			cf_format_duration(buf, cap, v * d->unit);
		break;
	default:
		buf[0] = '\0';
		break;
	}
}

/* Strings and endpoints go through the quoting printer. */
static void
print_scalar(struct printer *p, const struct cf_directive *d, const void *field)
{
	char buf[300];

	if (d->type == CF_T_STRING) {
		const char *s = *(char *const *)field;

		if ((d->flags & CF_SECRET) && s[0] != '\0')
			s = SG_CONFIG_REDACTED;
		cf_print_quoted(p->f, s);
		return;
	}
	if (d->type == CF_T_ENDPOINT) {
		cf_format_endpoint(buf, sizeof(buf), field);
		cf_print_quoted(p->f, buf);
		return;
	}
	format_value(d, field, buf, sizeof(buf));
	fputs(buf, p->f);
}

/* The help text, then "Range 1..64. Default 2." (or "Required.", "One of
 * a, b.") from the row itself. */
static void
help_text(const struct cf_directive *d, char *buf, size_t cap)
{
	char lo[32] = "", hi[32] = "";
	size_t o = 0;

#define ADD(...)                                                        \
	do {                                                            \
		if (o < cap)                                            \
			o += (size_t)snprintf(buf + o, cap - o, __VA_ARGS__); \
	} while (0)

	ADD("%s", d->help != NULL ? d->help : "");
	switch (d->type) {
	case CF_T_INT:
	case CF_T_PORT:
		snprintf(lo, sizeof(lo), "%llu", (unsigned long long)d->min);
		snprintf(hi, sizeof(hi), "%llu", (unsigned long long)d->max);
		break;
	case CF_T_SIZE:
		cf_format_size(lo, sizeof(lo), d->min);
		cf_format_size(hi, sizeof(hi), d->max);
		break;
	case CF_T_DURATION:
		if (d->plain_unit == d->unit) {
			snprintf(lo, sizeof(lo), "%llu", (unsigned long long)(d->min / d->unit));
			snprintf(hi, sizeof(hi), "%llu", (unsigned long long)(d->max / d->unit));
		} else {
			cf_format_duration(lo, sizeof(lo), d->min);
			cf_format_duration(hi, sizeof(hi), d->max);
		}
		break;
	case CF_T_ENUM:
		ADD(" One of");
		for (size_t i = 0; d->names[i] != NULL; i++)
			ADD("%s %s", i > 0 ? "," : "", d->names[i]);
		ADD(".");
		break;
	default:
		break;
	}
	if (lo[0] != '\0')
		ADD(" Range %s..%s%s.", lo, hi,
		    (d->flags & CF_POW2) ? ", a power of two" : "");
	if (d->flags & CF_REQUIRED)
		ADD(" Required.");
	else if (d->def != NULL && d->type != CF_T_LIST && d->type != CF_T_MAP)
		ADD(" Default %s%s%s.",
		    d->type == CF_T_STRING || d->def[0] == '\0' ? "\"" : "", d->def,
		    d->type == CF_T_STRING || d->def[0] == '\0' ? "\"" : "");
#undef ADD
	if (o >= cap)
		buf[cap - 1] = '\0';
}

static void print_section(struct printer *p, const struct cf_section *s,
			  const void *base, int indent, bool dash, bool top);

/* Under an empty list of mappings: its keys and an example entry. */
static void
describe_entries(struct printer *p, const struct cf_section *s, int indent)
{
	char help[1024], prefix[80];

	comment(p, indent, "", "Each entry has these keys:");
	for (size_t i = 0; i < s->n; i++) {
		help_text(&s->keys[i], help, sizeof(help));
		snprintf(prefix, sizeof(prefix), "  %s: ", s->keys[i].name);
		comment(p, indent, prefix, help);
	}
	comment(p, indent, "", "For example:");
	for (size_t i = 0; i < s->n; i++) {
		const struct cf_directive *d = &s->keys[i];

		if (!(d->flags & CF_REQUIRED))
			continue;
		spaces(p->f, indent);
		fprintf(p->f, "#   %s %s: %s\n", i == 0 ? "-" : " ", d->name,
			d->example != NULL ? d->example : "app");
	}
}

static void
print_directive(struct printer *p, const struct cf_directive *d,
		const void *base, int indent, bool *dash)
{
	const char *field = (const char *)base + d->off;
	char help[1024];

	if (p->annotate) {
		help_text(d, help, sizeof(help));
		if (*dash) {
			/* "- # help" then the key below, aligned. */
			spaces(p->f, indent - 2);
			fputs("- ", p->f);
			comment_at(p, indent, "", help, true);
			*dash = false;
		} else {
			comment(p, indent, "", help);
		}
	}
	if (*dash) {
		spaces(p->f, indent - 2);
		fputs("- ", p->f);
		*dash = false;
	} else {
		spaces(p->f, indent);
	}
	fprintf(p->f, "%s:", d->name);
	switch (d->type) {
	case CF_T_SECTION:
		fputc('\n', p->f);
		print_section(p, d->sub, field, indent + 2, false, false);
		break;
	case CF_T_LIST: {
		size_t n = *(const size_t *)((const char *)base + d->count_off);
		const char *items = *(char *const *)field;

		if (n == 0) {
			fputs(" []\n", p->f);
			if (p->annotate && d->sub != NULL)
				describe_entries(p, d->sub, indent);
			break;
		}
		fputc('\n', p->f);
		for (size_t i = 0; i < n; i++) {
			const char *elem = items + i * d->elem_size;

			if (d->sub != NULL) {
				bool ann = p->annotate;

				/* Comments on the first entry are enough. */
				p->annotate = ann && i == 0;
				print_section(p, d->sub, elem, indent + 4, true, false);
				p->annotate = ann;
			} else {
				spaces(p->f, indent + 2);
				fputs("- ", p->f);
				print_scalar(p, d->elem, elem + d->elem->off);
				fputc('\n', p->f);
			}
		}
		break;
	}
	case CF_T_MAP: {
		size_t n = *(const size_t *)((const char *)base + d->count_off);
		const char *items = *(char *const *)field;

		if (n == 0) {
			fputs(" {}\n", p->f);
			break;
		}
		fputc('\n', p->f);
		for (size_t i = 0; i < n; i++) {
			const char *elem = items + i * d->elem_size;

			spaces(p->f, indent + 2);
			print_scalar(p, d->mkey, elem + d->mkey->off);
			fputs(": ", p->f);
			print_scalar(p, d->elem, elem + d->elem->off);
			fputc('\n', p->f);
		}
		break;
	}
	default:
		fputc(' ', p->f);
		print_scalar(p, d, field);
		fputc('\n', p->f);
		break;
	}
}

static void
print_section(struct printer *p, const struct cf_section *s, const void *base,
	      int indent, bool dash, bool top)
{
	for (size_t i = 0; i < s->n; i++) {
		if (top && i > 0)
			fputc('\n', p->f);
		print_directive(p, &s->keys[i], base, indent, &dash);
	}
}

static const char header[] =
	"shardgate configuration: every key with its meaning, range and "
	"default. `shardgate --config FILE --check` validates a file and "
	"prints its effective configuration. Sizes are bytes with binary "
	"units (512, 64kb, 512mb, 1gb; k/m/g/t also work). Durations take a "
	"unit (100us, 250ms, 5s, 2m, 1h); a bare number is allowed only for "
	"0 and for keys whose name has a unit (hold_ms). This file is "
	"generated from lib/config/config_schema.c; tests/unit/config checks "
	"that it matches (SG_CONFIG_REGEN=1 rewrites it).";

static int
print(const struct sg_config *c, FILE *f, bool annotate)
{
	struct printer p = { f, annotate };

	if (annotate) {
		comment(&p, 0, "", header);
		fputc('\n', f);
	}
	print_section(&p, &cf_root, c, 0, false, true);
	return ferror(f) ? -EIO : 0;
}

int
sg_config_print(const struct sg_config *c, FILE *f)
{
	return print(c, f, false);
}

int
sg_config_print_annotated(const struct sg_config *c, FILE *f)
{
	return print(c, f, true);
}
