/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * YAML text -> node tree, through libyaml's event parser.
 *
 * The event parser (rather than yaml_parser_load) lets us bound the depth
 * and the number of nodes as we go, keep every node's position, and keep
 * aliases as nodes of their own so the walker can refuse them by key path
 * instead of resolving them.
 *
 *   events:  MAPPING-START  SCALAR(k) SCALAR(v) ... MAPPING-END
 *   stack:   [root map] ----> children appended to the top of the stack
 *            a collection start pushes, its end pops
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_internal.h"

/* ------------------------------------------------------------------ */
/* Arena                                                               */
/* ------------------------------------------------------------------ */

#define CHUNK_SIZE 16384

struct cf_chunk {
	struct cf_chunk *next;
	size_t used;
	size_t cap;
	max_align_t data[];
};

void *
cf_arena_alloc(struct cf_arena *a, size_t n)
{
	struct cf_chunk *ch = a->head;
	size_t need = (n + 15) & ~(size_t)15;

	if (ch == NULL || ch->cap - ch->used < need) {
		size_t cap = need > CHUNK_SIZE ? need : CHUNK_SIZE;

		ch = malloc(sizeof(*ch) + cap);
		if (ch == NULL)
			return NULL;
		ch->used = 0;
		ch->cap = cap;
		ch->next = a->head;
		a->head = ch;
	}
	void *p = (char *)ch->data + ch->used;

	ch->used += need;
	memset(p, 0, n);
	return p;
}

void
cf_arena_free(struct cf_arena *a)
{
	struct cf_chunk *ch = a->head;

	while (ch != NULL) {
		struct cf_chunk *next = ch->next;

		free(ch);
		ch = next;
	}
	a->head = NULL;
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */
/* ------------------------------------------------------------------ */

static struct cf_mark
mark_of(yaml_mark_t m)
{
	struct cf_mark r = { (uint32_t)m.line + 1, (uint32_t)m.column + 1 };

	return r;
}

/* libyaml reports reader errors (bad UTF-8, control bytes) by offset. */
static struct cf_mark
mark_at_offset(const char *text, size_t len, size_t off)
{
	struct cf_mark m = { 1, 1 };

	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			m.line++;
			m.col = 1;
		} else {
			m.col++;
		}
	}
	return m;
}

static void
syntax_error(struct cf_ctx *c, const yaml_parser_t *p, const char *text,
	     size_t len)
{
	struct cf_mark m;
	const char *what = p->problem != NULL ? p->problem : "unreadable input";

	if (p->error == YAML_READER_ERROR)
		m = mark_at_offset(text, len, p->problem_offset);
	else
		m = mark_of(p->problem_mark);
	cf_error(c, m, NULL, "YAML syntax error: %s", what);
}

static struct cf_node *
new_node(struct cf_ctx *c, enum cf_kind kind, yaml_mark_t m)
{
	struct cf_node *n = cf_arena_alloc(&c->arena, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->kind = kind;
	n->mark = mark_of(m);
	return n;
}

static void
append(struct cf_node *parent, struct cf_node *child)
{
	if (parent->last == NULL)
		parent->first = child;
	else
		parent->last->next = child;
	parent->last = child;
	parent->n++;
}

int
cf_yaml_parse(struct cf_ctx *c, const char *text, size_t len,
	      struct cf_node **rootp)
{
	struct cf_node *stack[SG_CONFIG_DEPTH_MAX];
	size_t depth = 0, nodes = 0;
	unsigned docs = 0;
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = 0;
	bool done = false;

	*rootp = NULL;
	if (!yaml_parser_initialize(&p)) {
		c->nomem = true;
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done) {
		struct cf_node *n = NULL;
		const char *anchor = NULL, *tag = NULL;

		if (!yaml_parser_parse(&p, &ev)) {
			if (p.error == YAML_MEMORY_ERROR) {
				c->nomem = true;
				rc = -ENOMEM;
			} else {
				syntax_error(c, &p, text, len);
				rc = -EINVAL;
			}
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				cf_error(c, mark_of(ev.start_mark), NULL,
					 "only one YAML document is allowed");
				rc = -EINVAL;
				done = true;
			}
			break;
		case YAML_SCALAR_EVENT:
			n = new_node(c, CF_SCALAR, ev.start_mark);
			if (n == NULL)
				break;
			anchor = (const char *)ev.data.scalar.anchor;
			tag = (const char *)ev.data.scalar.tag;
			if (ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
				n->flags |= CF_NODE_PLAIN;
			n->len = ev.data.scalar.length;
			{
				char *t = cf_arena_alloc(&c->arena, n->len + 1);

				if (t == NULL) {
					n = NULL;
					break;
				}
				memcpy(t, ev.data.scalar.value, n->len);
				n->text = t;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
			n = new_node(c, CF_SEQ, ev.start_mark);
			anchor = (const char *)ev.data.sequence_start.anchor;
			tag = (const char *)ev.data.sequence_start.tag;
			break;
		case YAML_MAPPING_START_EVENT:
			n = new_node(c, CF_MAP, ev.start_mark);
			anchor = (const char *)ev.data.mapping_start.anchor;
			tag = (const char *)ev.data.mapping_start.tag;
			break;
		case YAML_ALIAS_EVENT:
			n = new_node(c, CF_ALIAS, ev.start_mark);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0) {
				depth--;
				/* A mapping's n counts pairs, not children. */
				if (stack[depth]->kind == CF_MAP)
					stack[depth]->n /= 2;
			}
			break;
		default:
			break;
		}
		bool is_node = ev.type == YAML_SCALAR_EVENT ||
			       ev.type == YAML_SEQUENCE_START_EVENT ||
			       ev.type == YAML_MAPPING_START_EVENT ||
			       ev.type == YAML_ALIAS_EVENT;

		if (is_node && n == NULL) {
			yaml_event_delete(&ev);
			c->nomem = true;
			rc = -ENOMEM;
			break;
		}
		if (is_node) {
			if (anchor != NULL)
				n->flags |= CF_NODE_ANCHOR;
			if (tag != NULL)
				n->flags |= CF_NODE_TAG;
			if (++nodes > SG_CONFIG_NODES_MAX) {
				cf_error(c, n->mark, NULL,
					 "too many YAML nodes (more than %u)",
					 SG_CONFIG_NODES_MAX);
				rc = -EINVAL;
				done = true;
			} else if (depth > 0) {
				append(stack[depth - 1], n);
			} else if (*rootp == NULL) {
				*rootp = n;
			}
			if (!done && (n->kind == CF_SEQ || n->kind == CF_MAP)) {
				if (depth == SG_CONFIG_DEPTH_MAX) {
					cf_error(c, n->mark, NULL,
						 "YAML nesting deeper than %u levels",
						 SG_CONFIG_DEPTH_MAX);
					rc = -EINVAL;
					done = true;
				} else {
					stack[depth++] = n;
				}
			}
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}
