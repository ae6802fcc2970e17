/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to lib/config: the YAML node tree, the directive table and the
 * load context shared by config_yaml.c, config_types.c, config_load.c,
 * config_schema.c and config_print.c.
 *
 *   text --libyaml events--> node tree (config_yaml.c, positions kept)
 *        --directive table--> struct sg_config (config_load.c walks
 *                             config_schema.c's table; config_types.c
 *                             parses each scalar)
 *        --cross-field rules--> valid or a list of errors
 */
#ifndef CONFIG_INTERNAL_H
#define CONFIG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sg_common.h"
#include "sg_config.h"

/* A 1-based position in the input. */
struct cf_mark {
	uint32_t line;
	uint32_t col;
};

enum cf_kind {
	CF_SCALAR,
	CF_SEQ,
	CF_MAP,
	CF_ALIAS,	/* kept so the walker can name the key it stands for */
};

#define CF_NODE_PLAIN 0x1	/* scalar written without quotes */
#define CF_NODE_ANCHOR 0x2	/* carried an &anchor */
#define CF_NODE_TAG 0x4		/* carried an explicit !tag */

/*
 * A YAML node. Children form a singly linked list; a mapping's children
 * alternate key, value, key, value... and n counts pairs (items for a
 * sequence). Scalar text is NUL-terminated but may hold NUL bytes
 * ("\0" escapes), so len is authoritative.
 */
struct cf_node {
	enum cf_kind kind;
	unsigned flags;
	struct cf_mark mark;
	const char *text;
	size_t len;
	struct cf_node *first;
	struct cf_node *last;
	struct cf_node *next;
	size_t n;
};

/* Bump allocator for the node tree: freed all at once. */
struct cf_chunk;
struct cf_arena {
	struct cf_chunk *head;
};

void *cf_arena_alloc(struct cf_arena *a, size_t n);
void cf_arena_free(struct cf_arena *a);

/* State of one load. */
struct cf_ctx {
	const char *name;		/* file name for messages */
	struct sg_config_errors *errs;
	unsigned flags;			/* SG_CONFIG_LOAD_* */
	bool nomem;			/* an allocation failed */
	unsigned quiet;			/* > 0: under a mapping already
					 * reported as wrong, so its missing
					 * required keys are not news */
	struct cf_arena arena;
	struct cf_node *root;		/* NULL: empty stream */
	char path[256];			/* key path of the node being read */
	size_t path_len;
};

/* Adds "NAME:LINE:COL: PATH: problem" (no "PATH: " when path is NULL or
 * empty). */
void cf_error(struct cf_ctx *c, struct cf_mark m, const char *path,
	      const char *fmt, ...) SG_PRINTF(4, 5);
/* As cf_error() with the context's current path. */
void cf_error_here(struct cf_ctx *c, struct cf_mark m, const char *fmt, ...)
	SG_PRINTF(3, 4);

/* Path building: each returns the length to restore with cf_path_pop. */
size_t cf_path_push_key(struct cf_ctx *c, const char *key, size_t len);
size_t cf_path_push_index(struct cf_ctx *c, size_t i);
size_t cf_path_push_mapkey(struct cf_ctx *c, const char *key, size_t len);
void cf_path_pop(struct cf_ctx *c, size_t len);

/* Writes `s` for a message: quotes, backslashes and control bytes escaped,
 * cut after 64 bytes with "...". Returns out. */
char *cf_quote(char *out, size_t cap, const char *s, size_t len);

/* Parses the YAML stream into *root (NULL when there is no document),
 * nodes from c->arena. Returns 0, -EINVAL (errors added) or -ENOMEM. */
int cf_yaml_parse(struct cf_ctx *c, const char *text, size_t len,
		  struct cf_node **root);

/* ------------------------------------------------------------------ */
/* The directive table                                                 */
/* ------------------------------------------------------------------ */

enum cf_type {
	CF_T_INT,	/* unsigned integer of `width` bytes, [min, max] */
	CF_T_BOOL,	/* bool: true | false */
	CF_T_STRING,	/* char *, at most SG_CONFIG_STRING_MAX bytes */
	CF_T_ENUM,	/* enum (stored as `width` bytes), names[] */
	CF_T_IPV4,	/* struct sg_config_ipv4 */
	CF_T_PORT,	/* uint16_t, [min, 65535] */
	CF_T_ENDPOINT,	/* struct sg_config_endpoint */
	CF_T_CIDR,	/* struct sg_config_cidr */
	CF_T_SIZE,	/* uint64_t bytes, [min, max] */
	CF_T_DURATION,	/* `width`-byte count of `unit` ns, bounds in ns */
	CF_T_SECTION,	/* a mapping described by `sub` */
	CF_T_LIST,	/* pointer at off, size_t count at count_off */
	CF_T_MAP,	/* as LIST; elements hold key (`mkey`) and value */
};

#define CF_REQUIRED 0x01	/* no default: must be in the file */
#define CF_SECRET 0x02		/* never printed */
#define CF_EMPTY_OK 0x04	/* ipv4/cidr: "" means unset */
#define CF_POW2 0x08		/* integer must be a power of two */
#define CF_NONEMPTY 0x10	/* list must have an entry */

struct cf_section;

struct cf_directive {
	const char *name;
	enum cf_type type;
	unsigned flags;
	size_t off;			/* of the field in the parent */
	size_t width;			/* sizeof the field (INT, ENUM, DURATION) */
	uint64_t min, max;		/* INT, PORT, SIZE, DURATION (ns) */
	uint64_t unit;			/* DURATION: ns per stored unit */
	uint64_t plain_unit;		/* DURATION: ns per bare number, 0: only 0 */
	const char *def;		/* default as YAML text; NULL: zero/empty */
	const char *help;		/* meaning; range and default are added */
	const char *const *names;	/* ENUM: NULL-terminated */
	const struct cf_section *sub;	/* SECTION, LIST of mappings */
	const struct cf_directive *elem;	/* LIST item / MAP value */
	const struct cf_directive *mkey;	/* MAP key */
	size_t count_off;		/* LIST/MAP: size_t count */
	size_t elem_size;		/* LIST/MAP: bytes per element */
	size_t max_items;		/* LIST/MAP */
	/* STRING: extra rule; returns the problem or NULL. */
	const char *(*check)(const char *s, size_t len);
	const char *example;		/* annotated output for required keys */
};

struct cf_section {
	const struct cf_directive *keys;
	size_t n;
};

extern const struct cf_section cf_root;

/* Cross-field rules (config_schema.c); run when every value parsed. */
void cf_cross_check(struct cf_ctx *c, const struct sg_config *cfg);

/* Position to blame for `path` ("listen[1].tls.cert"): its value node when
 * the file has it, else the key of the nearest ancestor that it has. */
struct cf_mark cf_mark_of(const struct cf_ctx *c, const char *path);

/* Scalars (config_types.c). Each parses `n`'s text into `field` for `d`
 * and returns 0, -EINVAL (error added) or -ENOMEM. */
int cf_parse_scalar(struct cf_ctx *c, const struct cf_directive *d,
		    const struct cf_node *n, void *field);
bool cf_is_null(const struct cf_node *n);

/* Value formatting for messages and output. */
void cf_format_size(char *buf, size_t cap, uint64_t bytes);
void cf_format_duration(char *buf, size_t cap, uint64_t ns);
void cf_format_endpoint(char *buf, size_t cap,
			const struct sg_config_endpoint *e);
/* Writes `s` as a YAML double-quoted scalar. */
void cf_print_quoted(FILE *f, const char *s);

/* Unsigned field access by width. */
uint64_t cf_load_uint(const void *field, size_t width);
void cf_store_uint(void *field, size_t width, uint64_t v);

/* Walks the table to free everything a load allocated. */
void cf_free_section(const struct cf_section *s, void *base);

/* "a sequence", "a mapping", ... for messages. */
const char *cf_kind_name(enum cf_kind k);

#endif /* CONFIG_INTERNAL_H */
