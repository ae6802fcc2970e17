/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loading: the node tree walked with the directive table.
 *
 *   file/buffer --cf_yaml_parse--> nodes --walk_section(cf_root)--> struct
 *        |                                  | per mapping, in file order:
 *        |                                  |   unknown key -> suggestion
 *        |                                  |   duplicate key -> first line
 *        |                                  |   known key -> parse_value
 *        |                                  | then every key not in the
 *        |                                  | file: required -> error,
 *        |                                  | otherwise its default
 *        +--(no error so far)--> cf_cross_check --> valid / errors
 *
 * Defaults go through the same parsers as the file (a default is YAML
 * text in the table), so a default can never be a value the file could
 * not hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config_internal.h"

/* ------------------------------------------------------------------ */
/* Errors and key paths                                                */
/* ------------------------------------------------------------------ */

static void
add_line(struct sg_config_errors *e, const char *line)
{
	if (e->n < SG_CONFIG_ERRORS_MAX) {
		snprintf(e->msg[e->n], SG_CONFIG_ERROR_LEN, "%s", line);
		e->n++;
	}
	e->total++;
}

static void __attribute__((format(printf, 4, 0)))
verror(struct cf_ctx *c, struct cf_mark m, const char *path, const char *fmt,
       va_list ap)
{
	char line[SG_CONFIG_ERROR_LEN];
	int n;

	if (path != NULL && path[0] != '\0')
		n = snprintf(line, sizeof(line), "%s:%u:%u: %s: ", c->name, m.line,
			     m.col, path);
	else
		n = snprintf(line, sizeof(line), "%s:%u:%u: ", c->name, m.line, m.col);
	if (n >= 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	add_line(c->errs, line);
}

void
cf_error(struct cf_ctx *c, struct cf_mark m, const char *path,
	 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(c, m, path, fmt, ap);
	va_end(ap);
}

void
cf_error_here(struct cf_ctx *c, struct cf_mark m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(c, m, c->path, fmt, ap);
	va_end(ap);
}

int
sg_config_errors_print(const struct sg_config_errors *e, FILE *f)
{
	for (unsigned i = 0; i < e->n; i++)
		fprintf(f, "%s\n", e->msg[i]);
	if (e->total > e->n)
		fprintf(f, "... and %u more\n", e->total - e->n);
	return ferror(f) ? -EIO : 0;
}

static size_t
path_append(struct cf_ctx *c, const char *s)
{
	size_t saved = c->path_len;
	size_t room = sizeof(c->path) - c->path_len;
	int n = snprintf(c->path + c->path_len, room, "%s", s);

	c->path_len += (size_t)n < room ? (size_t)n : room - 1;
	return saved;
}

size_t
cf_path_push_key(struct cf_ctx *c, const char *key, size_t len)
{
	char q[300];
	size_t saved = c->path_len;

	if (c->path_len > 0)
		path_append(c, ".");
	path_append(c, cf_quote(q, sizeof(q), key, len));
	return saved;
}

size_t
cf_path_push_index(struct cf_ctx *c, size_t i)
{
	char b[32];

	snprintf(b, sizeof(b), "[%zu]", i);
	return path_append(c, b);
}

size_t
cf_path_push_mapkey(struct cf_ctx *c, const char *key, size_t len)
{
	char q[300], b[310];

	snprintf(b, sizeof(b), "[\"%s\"]", cf_quote(q, sizeof(q), key, len));
	return path_append(c, b);
}

void
cf_path_pop(struct cf_ctx *c, size_t len)
{
	c->path_len = len;
	c->path[len] = '\0';
}

/* ------------------------------------------------------------------ */
/* Positions for the cross-field rules                                 */
/* ------------------------------------------------------------------ */

static const struct cf_node *
map_get(const struct cf_node *map, const char *name, size_t len,
	const struct cf_node **key)
{
	for (const struct cf_node *k = map->first; k != NULL && k->next != NULL;
	     k = k->next->next) {
		if (k->kind == CF_SCALAR && k->len == len &&
		    memcmp(k->text, name, len) == 0) {
			*key = k;
			return k->next;
		}
	}
	return NULL;
}

struct cf_mark
cf_mark_of(const struct cf_ctx *c, const char *path)
{
	struct cf_mark best = { 1, 1 };
	const struct cf_node *cur = c->root;
	const char *p = path;

	if (cur != NULL)
		best = cur->mark;
	while (*p != '\0' && cur != NULL) {
		const struct cf_node *next = NULL, *key = NULL;

		if (*p == '.')
			p++;
		if (*p == '[') {
			char *end;
			unsigned long i = strtoul(p + 1, &end, 10);

			p = *end == ']' ? end + 1 : end;
			if (cur->kind == CF_SEQ) {
				next = cur->first;
				while (next != NULL && i-- > 0)
					next = next->next;
			}
			if (next == NULL)
				return best;
			best = next->mark;
		} else {
			size_t len = strcspn(p, ".[");

			if (cur->kind == CF_MAP)
				next = map_get(cur, p, len, &key);
			p += len;
			if (next == NULL)
				return best;
			best = key->mark;
		}
		cur = next;
	}
	return cur != NULL ? cur->mark : best;
}

/* ------------------------------------------------------------------ */
/* The walk                                                            */
/* ------------------------------------------------------------------ */

static void parse_value(struct cf_ctx *c, const struct cf_directive *d,
			const struct cf_node *n, struct cf_mark where,
			void *base);
static void walk_section(struct cf_ctx *c, const struct cf_section *s,
			 const struct cf_node *map, struct cf_mark where,
			 void *base);

/* Aliases, anchors and tags are refused wherever they appear. */
static bool
node_ok(struct cf_ctx *c, const struct cf_node *n)
{
	if (n->kind == CF_ALIAS)
		cf_error_here(c, n->mark, "YAML aliases are not supported");
	else if (n->flags & CF_NODE_ANCHOR)
		cf_error_here(c, n->mark, "YAML anchors are not supported");
	else if (n->flags & CF_NODE_TAG)
		cf_error_here(c, n->mark, "YAML tags are not supported");
	else
		return true;
	return false;
}

static void *
alloc_items(struct cf_ctx *c, size_t n, size_t size)
{
	void *p = calloc(n == 0 ? 1 : n, size);

	if (p == NULL)
		c->nomem = true;
	return p;
}

static void
parse_list(struct cf_ctx *c, const struct cf_directive *d,
	   const struct cf_node *n, void *base)
{
	void **items = (void **)((char *)base + d->off);
	size_t *count = (size_t *)((char *)base + d->count_off);
	size_t i = 0;

	if (!cf_is_null(n) && n->kind != CF_SEQ) {
		cf_error_here(c, n->mark, "must be a list, got %s",
			      cf_kind_name(n->kind));
		return;
	}
	if (cf_is_null(n) || n->n == 0) {
		if ((d->flags & CF_NONEMPTY) && n != NULL)
			cf_error_here(c, n->mark, "must not be empty");
		return;
	}
	if (n->n > d->max_items) {
		cf_error_here(c, n->mark, "must have at most %zu entries, got %zu",
			      d->max_items, n->n);
		return;
	}
	*items = alloc_items(c, n->n, d->elem_size);
	if (*items == NULL)
		return;
	*count = n->n;
	for (const struct cf_node *it = n->first; it != NULL; it = it->next, i++) {
		size_t saved = cf_path_push_index(c, i);
		char *elem = (char *)*items + i * d->elem_size;

		if (node_ok(c, it)) {
			if (d->sub != NULL)
				walk_section(c, d->sub, it, it->mark, elem);
			else
				parse_value(c, d->elem, it, it->mark, elem);
		}
		cf_path_pop(c, saved);
	}
}

/* backend.zones: "host:port": zone. Keys are endpoints, compared as such. */
static void
parse_map(struct cf_ctx *c, const struct cf_directive *d,
	  const struct cf_node *n, void *base)
{
	void **items = (void **)((char *)base + d->off);
	size_t *count = (size_t *)((char *)base + d->count_off);
	size_t i = 0;

	if (cf_is_null(n))
		return;
	if (n->kind != CF_MAP) {
		cf_error_here(c, n->mark, "must be a mapping, got %s",
			      cf_kind_name(n->kind));
		return;
	}
	if (n->n > d->max_items) {
		cf_error_here(c, n->mark, "must have at most %zu entries, got %zu",
			      d->max_items, n->n);
		return;
	}
	if (n->n == 0)
		return;
	*items = alloc_items(c, n->n, d->elem_size);
	if (*items == NULL)
		return;
	*count = n->n;
	for (const struct cf_node *k = n->first; k != NULL && k->next != NULL;
	     k = k->next->next, i++) {
		const struct cf_node *v = k->next;
		char *elem = (char *)*items + i * d->elem_size;
		struct sg_config_endpoint *ep =
			(struct sg_config_endpoint *)(elem + d->mkey->off);
		size_t saved;

		if (k->kind != CF_SCALAR) {
			if (node_ok(c, k))
				cf_error_here(c, k->mark, "keys must be scalars, got %s",
					      cf_kind_name(k->kind));
			continue;
		}
		saved = cf_path_push_mapkey(c, k->text, k->len);
		if (node_ok(c, k)) {
			size_t before = c->errs->total;

			parse_value(c, d->mkey, k, k->mark, elem);
			/* Compare with the keys before it that parsed. */
			const struct cf_node *pk = n->first;

			for (size_t j = 0; before == c->errs->total && j < i;
			     j++, pk = pk->next->next) {
				char *prev = (char *)*items + j * d->elem_size;
				struct sg_config_endpoint *pe =
					(struct sg_config_endpoint *)(prev + d->mkey->off);

				if (pe->port == ep->port && pe->host[0] != '\0' &&
				    strcasecmp(pe->host, ep->host) == 0) {
					cf_error_here(c, k->mark,
						      "duplicate key (first at line %u)",
						      pk->mark.line);
					break;
				}
			}
		}
		if (node_ok(c, v))
			parse_value(c, d->elem, v, v->mark, elem);
		cf_path_pop(c, saved);
	}
}

static void
parse_value(struct cf_ctx *c, const struct cf_directive *d,
	    const struct cf_node *n, struct cf_mark where, void *base)
{
	switch (d->type) {
	case CF_T_SECTION:
		walk_section(c, d->sub, n, where, (char *)base + d->off);
		break;
	case CF_T_LIST:
		parse_list(c, d, n, base);
		break;
	case CF_T_MAP:
		parse_map(c, d, n, base);
		break;
	default:
		if (cf_parse_scalar(c, d, n, (char *)base + d->off) == -ENOMEM)
			c->nomem = true;
		break;
	}
}

static void
apply_default(struct cf_ctx *c, const struct cf_directive *d,
	      struct cf_mark where, void *base)
{
	struct cf_node fake = { .kind = CF_SCALAR, .flags = CF_NODE_PLAIN };
	struct cf_node *tree = NULL;

	switch (d->type) {
	case CF_T_SECTION:
		walk_section(c, d->sub, NULL, where, (char *)base + d->off);
		break;
	case CF_T_LIST:
	case CF_T_MAP:
		if (d->def == NULL)
			break;
		if (cf_yaml_parse(c, d->def, strlen(d->def), &tree) == 0)
			parse_value(c, d, tree, where, base);
		break;
	default:
		fake.mark = where;
		fake.text = d->def != NULL ? d->def : "";
		fake.len = strlen(fake.text);
		parse_value(c, d, &fake, where, base);
		break;
	}
}

static void
unknown_key(struct cf_ctx *c, const struct cf_section *s,
	    const struct cf_node *k)
{
	size_t best = SIZE_MAX, bi = 0;

	for (size_t i = 0; i < s->n; i++) {
		const char *name = s->keys[i].name;
		size_t d = sg_edit_distance(k->text, k->len, name, strlen(name));

		if (d < best) {
			best = d;
			bi = i;
		}
	}
	if (best <= 2 && best < strlen(s->keys[bi].name)) {
		cf_error_here(c, k->mark, "unknown key; did you mean \"%s\"?",
			      s->keys[bi].name);
		return;
	}
	char list[SG_CONFIG_ERROR_LEN];
	size_t o = 0;

	list[0] = '\0';
	for (size_t i = 0; i < s->n && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
				      i > 0 ? ", " : "", s->keys[i].name);
	cf_error_here(c, k->mark, "unknown key; valid keys are %s", list);
}

static void
walk_section(struct cf_ctx *c, const struct cf_section *s,
	     const struct cf_node *map, struct cf_mark where, void *base)
{
	const struct cf_node *seen[64] = { NULL };
	bool quiet = false;	/* the mapping itself was wrong: no more noise */

	if (map != NULL && !cf_is_null(map)) {
		if (!node_ok(c, map)) {
			quiet = true;
		} else if (map->kind != CF_MAP) {
			if (c->path_len == 0)
				cf_error(c, map->mark, NULL,
					 "the top level must be a mapping, got %s",
					 cf_kind_name(map->kind));
			else
				cf_error_here(c, map->mark, "must be a mapping, got %s",
					      cf_kind_name(map->kind));
			quiet = true;
		}
	}
	if (map != NULL && map->kind == CF_MAP && !quiet) {
		for (const struct cf_node *k = map->first; k != NULL && k->next != NULL;
		     k = k->next->next) {
			const struct cf_node *v = k->next;
			size_t i, saved;

			if (k->kind != CF_SCALAR) {
				if (node_ok(c, k))
					cf_error_here(c, k->mark,
						      "keys must be scalars, got %s",
						      cf_kind_name(k->kind));
				continue;
			}
			saved = cf_path_push_key(c, k->text, k->len);
			for (i = 0; i < s->n; i++) {
				if (strlen(s->keys[i].name) == k->len &&
				    memcmp(s->keys[i].name, k->text, k->len) == 0)
					break;
			}
			if (!node_ok(c, k)) {
				/* reported */
			} else if (i == s->n) {
				unknown_key(c, s, k);
			} else if (seen[i] != NULL) {
				cf_error_here(c, k->mark, "duplicate key (first at line %u)",
					      seen[i]->mark.line);
			} else {
				seen[i] = k;
				if (node_ok(c, v))
					parse_value(c, &s->keys[i], v, k->mark, base);
			}
			cf_path_pop(c, saved);
		}
	}
	if (quiet)
		c->quiet++;
	for (size_t i = 0; i < s->n; i++) {
		const struct cf_directive *d = &s->keys[i];
		size_t saved;

		if (seen[i] != NULL)
			continue;
		saved = cf_path_push_key(c, d->name, strlen(d->name));
		if (!(d->flags & CF_REQUIRED))
			apply_default(c, d, where, base);
		else if (c->quiet == 0)
			cf_error_here(c, where, "required key is missing");
		cf_path_pop(c, saved);
	}
	if (quiet)
		c->quiet--;
}

/* ------------------------------------------------------------------ */
/* Freeing and comparing                                               */
/* ------------------------------------------------------------------ */

static void
free_directive(const struct cf_directive *d, void *base)
{
	char *field = (char *)base + d->off;

	switch (d->type) {
	case CF_T_STRING:
		free(*(char **)field);
		*(char **)field = NULL;
		break;
	case CF_T_SECTION:
		cf_free_section(d->sub, field);
		break;
	case CF_T_LIST:
	case CF_T_MAP: {
		char *items = *(char **)field;
		size_t n = *(size_t *)((char *)base + d->count_off);

		for (size_t i = 0; items != NULL && i < n; i++) {
			char *elem = items + i * d->elem_size;

			if (d->sub != NULL)
				cf_free_section(d->sub, elem);
			if (d->mkey != NULL)
				free_directive(d->mkey, elem);
			if (d->elem != NULL)
				free_directive(d->elem, elem);
		}
		free(items);
		*(char **)field = NULL;
		*(size_t *)((char *)base + d->count_off) = 0;
		break;
	}
	default:
		break;
	}
}

void
cf_free_section(const struct cf_section *s, void *base)
{
	for (size_t i = 0; i < s->n; i++)
		free_directive(&s->keys[i], base);
}

void
sg_config_free(struct sg_config *c)
{
	if (c == NULL)
		return;
	cf_free_section(&cf_root, c);
	free(c);
}

static bool equal_section(const struct cf_section *s, const void *a,
			  const void *b, unsigned flags);

static bool
equal_directive(const struct cf_directive *d, const void *abase,
		const void *bbase, unsigned flags)
{
	const char *a = (const char *)abase + d->off;
	const char *b = (const char *)bbase + d->off;

	switch (d->type) {
	case CF_T_INT:
	case CF_T_ENUM:
	case CF_T_PORT:
	case CF_T_DURATION:
		return cf_load_uint(a, d->width) == cf_load_uint(b, d->width);
	case CF_T_SIZE:
		return *(const uint64_t *)a == *(const uint64_t *)b;
	case CF_T_BOOL:
		return *(const bool *)a == *(const bool *)b;
	case CF_T_STRING:
		if ((d->flags & CF_SECRET) && (flags & SG_CONFIG_EQUAL_IGNORE_SECRETS))
			return true;
		return strcmp(*(char *const *)a, *(char *const *)b) == 0;
	case CF_T_IPV4: {
		const struct sg_config_ipv4 *x = (const void *)a, *y = (const void *)b;

		return x->addr.s_addr == y->addr.s_addr && strcmp(x->text, y->text) == 0;
	}
	case CF_T_CIDR: {
		const struct sg_config_cidr *x = (const void *)a, *y = (const void *)b;

		return x->addr.s_addr == y->addr.s_addr &&
		       x->prefix_len == y->prefix_len && strcmp(x->text, y->text) == 0;
	}
	case CF_T_ENDPOINT: {
		const struct sg_config_endpoint *x = (const void *)a, *y = (const void *)b;

		return x->port == y->port && strcmp(x->host, y->host) == 0;
	}
	case CF_T_SECTION:
		return equal_section(d->sub, a, b, flags);
	case CF_T_LIST:
	case CF_T_MAP: {
		size_t n = *(const size_t *)((const char *)abase + d->count_off);
		const char *ia = *(char *const *)a, *ib = *(char *const *)b;

		if (n != *(const size_t *)((const char *)bbase + d->count_off))
			return false;
		for (size_t i = 0; i < n; i++) {
			const char *ea = ia + i * d->elem_size;
			const char *eb = ib + i * d->elem_size;

			if (d->sub != NULL && !equal_section(d->sub, ea, eb, flags))
				return false;
			if (d->mkey != NULL && !equal_directive(d->mkey, ea, eb, flags))
				return false;
			if (d->elem != NULL && !equal_directive(d->elem, ea, eb, flags))
				return false;
		}
		return true;
	}
	}
	return false;
}

static bool
equal_section(const struct cf_section *s, const void *a, const void *b,
	      unsigned flags)
{
	for (size_t i = 0; i < s->n; i++) {
		if (!equal_directive(&s->keys[i], a, b, flags))
			return false;
	}
	return true;
}

bool
sg_config_equal(const struct sg_config *a, const struct sg_config *b,
		unsigned flags)
{
	return equal_section(&cf_root, a, b, flags);
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

int
sg_config_load_buffer_flags(const char *name, const char *text, size_t len,
			    unsigned flags, struct sg_config **out,
			    struct sg_config_errors *errs)
{
	struct sg_config_errors scratch;	/* when the caller has none */
	struct cf_ctx c = { .name = name, .flags = flags };
	struct sg_config *cfg = NULL;
	struct cf_mark top = { 1, 1 };
	int rc;

	*out = NULL;
	c.errs = errs != NULL ? errs : &scratch;
	c.errs->n = 0;
	c.errs->total = 0;
	if (len > SG_CONFIG_FILE_MAX) {
		cf_error(&c, top, NULL, "too large: %zu bytes, at most %u", len,
			 SG_CONFIG_FILE_MAX);
		return -EFBIG;
	}
	rc = cf_yaml_parse(&c, text, len, &c.root);
	if (rc != 0)
		goto fail;
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		c.nomem = true;
		goto fail;
	}
	if (c.root != NULL)
		top = c.root->mark;
	walk_section(&c, &cf_root, c.root, top, cfg);
	if (!c.nomem && c.errs->total == 0)
		cf_cross_check(&c, cfg);
	if (!c.nomem && c.errs->total == 0) {
		cf_arena_free(&c.arena);
		*out = cfg;
		return 0;
	}
	rc = -EINVAL;
fail:
	if (c.nomem) {
		char line[SG_CONFIG_ERROR_LEN];

		snprintf(line, sizeof(line), "%s: out of memory", name);
		add_line(c.errs, line);
		rc = -ENOMEM;
	}
	cf_arena_free(&c.arena);
	sg_config_free(cfg);
	return rc;
}

int
sg_config_load_buffer(const char *name, const char *text, size_t len,
		      struct sg_config **out, struct sg_config_errors *errs)
{
	return sg_config_load_buffer_flags(name, text, len, 0, out, errs);
}

int
sg_config_load_file(const char *path, struct sg_config **out,
		    struct sg_config_errors *errs)
{
	struct sg_config_errors scratch;
	char line[SG_CONFIG_ERROR_LEN];
	size_t len = 0, cap = 16384;
	char *buf = NULL;
	int fd, rc;

	*out = NULL;
	if (errs == NULL)
		errs = &scratch;
	errs->n = 0;
	errs->total = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	for (;;) {
		ssize_t r;

		if (len == cap || buf == NULL) {
			char *nb;

			cap = buf == NULL ? cap : cap * 2;
			if (cap > SG_CONFIG_FILE_MAX + 1)
				cap = SG_CONFIG_FILE_MAX + 1;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				rc = -ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > SG_CONFIG_FILE_MAX) {
			snprintf(line, sizeof(line), "%s: too large: more than %u bytes",
				 path, SG_CONFIG_FILE_MAX);
			add_line(errs, line);
			rc = -EFBIG;
			goto out;
		}
	}
	rc = sg_config_load_buffer(path, buf, len, out, errs);
	goto out;
fail:
	snprintf(line, sizeof(line), "%s: cannot read: %s", path, strerror(-rc));
	add_line(errs, line);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}
