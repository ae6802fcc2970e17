/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sg_resp.h: the RESP wire protocol as a proxy needs it.
 *
 *  - a streaming request parser: RESP arrays of bulk strings and inline
 *    commands, fed chunk by chunk, resumable at any byte, bounded by named
 *    limits checked before any memory is taken;
 *  - a reply framer: finds where one RESP2/RESP3 reply ends without
 *    decoding it, and classifies the cluster errors a proxy acts on;
 *  - writers: replies and requests the proxy builds itself, into a sink.
 *
 * libc and lib/common only: no DPDK header, so this library unit-tests
 * and fuzzes anywhere.
 *
 * Chunks and arguments
 * --------------------
 * The caller owns the input: a chain of buffers (mbufs in shardgate). It
 * feeds them one chunk at a time; the parser keeps its state between
 * calls and never looks back at an earlier chunk. Each argument comes
 * back as a struct sg_arg: a pointer into the caller's chunk when the
 * argument lies within one chunk; a pointer into the parser's own copy
 * when it straddles chunks and is at most `copy_max` bytes long; NULL
 * otherwise, with `off` (from the request's first byte) for the caller to
 * find it. Pointers into chunks stay valid for as long as the caller
 * keeps those chunks; pointers into the parser stay valid until the next
 * call to sg_resp_parse().
 *
 * Zero-length arguments point at a static empty string. Inline commands
 * are decoded (quotes, escapes) into the parser's copy, so all their
 * arguments point there; their `off` is where the token starts on the
 * wire.
 *
 * Protocol errors
 * ---------------
 * Errors are sticky: after one, every call returns -EPROTO again. The
 * text (sg_resp_parser_error()) is the one Valkey/Redis send, ready to go
 * after '-', e.g. "ERR Protocol error: invalid multibulk length"; the
 * caller sends it and closes the connection. Two cases Valkey does not
 * check get texts in the same style: a bulk payload not followed by CRLF
 * ("$3\r\nfooXX": "invalid bulk length", the length did not match the
 * data) and a request over max_request ("too big request"). A header
 * line ("*3", "$5") longer than 30 bytes is "too big mbulk count string"
 * / "too big bulk count string" at any chunking; a '\r' inside it not
 * followed by '\n' makes the length invalid.
 */
#ifndef SG_RESP_H
#define SG_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Request parser                                                      */
/* ------------------------------------------------------------------ */

/* Limits, checked against each length as soon as it is read. */
struct sg_resp_limits {
	uint32_t max_args;		/* elements per request (1048576) */
	uint64_t max_bulk;		/* bytes per argument (512 MiB) */
	uint64_t max_request;		/* wire bytes per request (512 MiB + 64 KiB) */
	uint32_t max_inline;		/* bytes of an inline command line (64 KiB) */
	uint32_t unauth_max_args;	/* before authentication (10) */
	uint64_t unauth_max_bulk;	/* before authentication (16384) */
	uint32_t copy_max;		/* straddling arguments up to this are copied (512) */
};

/* Fills `l` with the defaults above. */
void sg_resp_limits_default(struct sg_resp_limits *l);

/* Longest header line ("*3", "$5", ":12") the parser and framer accept:
 * type byte and digits, without the CRLF. */
#define SG_RESP_LINE_MAX 30

struct sg_resp_request {
	uint32_t argc;
	struct sg_arg *argv;	/* argc entries */
	/* Bytes skipped before the request (empty inline lines), then the
	 * request's own wire bytes: its first byte is at `lead` from where
	 * the previous request ended. */
	uint64_t lead;
	uint64_t size;
	bool is_inline;		/* argv points into the parser's copy */
};

/* Parser state; opaque to callers, public so it can be embedded. */
struct sg_resp_parser {
	const struct sg_resp_limits *limits;
	bool authenticated;	/* selects the tighter limits when false */

	/* private */
	uint8_t state;
	uint8_t line_len;	/* bytes in line[]; CR seen in the CRLF states */
	char line[32];		/* a header line that straddles chunks */
	int64_t remaining;	/* elements still to come */
	uint64_t bulk_left;	/* payload bytes of the current argument */
	uint64_t bulk_cap;	/* tighter of max_bulk and the unauth limit */
	uint64_t pos;		/* bytes of the current request seen so far */
	uint64_t lead;
	struct sg_resp_request req;
	uint32_t argv_cap;
	char *copy;		/* straddling short arguments, inline lines */
	size_t copy_len;
	size_t copy_cap;
	const char *error;	/* sticky error text, NULL when none */
	int err;		/* sticky return value (-EPROTO, -ENOMEM) */
	char errbuf[48];	/* "expected '$', got 'x'" */
};

/* Prepares `p`. `limits` must outlive the parser; NULL selects the
 * defaults. The parser starts unauthenticated (tight limits): set
 * `authenticated` once AUTH succeeded, or right away when the listener
 * needs no password. */
void sg_resp_parser_init(struct sg_resp_parser *p,
			 const struct sg_resp_limits *limits);
/* Frees what the parser allocated. */
void sg_resp_parser_free(struct sg_resp_parser *p);

/*
 * Parses from `chunk` until one request ends or the chunk runs out.
 * Empty requests (blank inline lines, "*0", "*-1") are skipped as Redis
 * does and counted in the next request's `lead`.
 * Returns the number of bytes of `chunk` consumed:
 *   - with *req set when a request ended at that point (the rest of the
 *     chunk belongs to the next request: call again with it);
 *   - with *req NULL when all of `chunk` was consumed and the request is
 *     not complete yet: call again with the next chunk.
 * Returns -EPROTO on a protocol error or a limit broken (text in
 * sg_resp_parser_error()), -ENOMEM when memory ran out (also sticky, text
 * "ERR out of memory").
 * *req and the arguments stay valid until the next call.
 */
ssize_t sg_resp_parse(struct sg_resp_parser *p, const char *chunk, size_t len,
		      const struct sg_resp_request **req);

/* The RESP error text of the sticky error, or NULL. */
const char *sg_resp_parser_error(const struct sg_resp_parser *p);

/* True when the parser is between requests (nothing partial held). */
bool sg_resp_parser_idle(const struct sg_resp_parser *p);

/* ------------------------------------------------------------------ */
/* Reply framer                                                        */
/* ------------------------------------------------------------------ */

enum sg_resp_type {
	SG_RESP_SIMPLE = '+',
	SG_RESP_ERROR = '-',
	SG_RESP_INTEGER = ':',
	SG_RESP_BULK = '$',
	SG_RESP_ARRAY = '*',
	SG_RESP_NULL = '_',
	SG_RESP_BOOL = '#',
	SG_RESP_DOUBLE = ',',
	SG_RESP_BIGNUM = '(',
	SG_RESP_BULK_ERROR = '!',
	SG_RESP_VERBATIM = '=',
	SG_RESP_MAP = '%',
	SG_RESP_SET = '~',
	SG_RESP_ATTRIBUTE = '|',
	SG_RESP_PUSH = '>',
};

/* Errors a proxy acts on, classified by their first word. */
enum sg_resp_error_kind {
	SG_RESP_ERR_NONE = 0,	/* not an error */
	SG_RESP_ERR_OTHER,
	SG_RESP_ERR_MOVED,
	SG_RESP_ERR_ASK,
	SG_RESP_ERR_TRYAGAIN,
	SG_RESP_ERR_CLUSTERDOWN,
	SG_RESP_ERR_LOADING,
	SG_RESP_ERR_READONLY,
	SG_RESP_ERR_MASTERDOWN,
	SG_RESP_ERR_NOAUTH,
};

#define SG_RESP_MAX_DEPTH 64	/* nesting limit of the framer */
#define SG_RESP_TEXT_MAX 256	/* bytes of a simple string / error kept */

/* What the framer learnt about one complete reply. */
struct sg_resp_reply {
	enum sg_resp_type type;	/* of the reply (after any attribute) */
	uint64_t size;		/* wire bytes, attribute included */
	/* INTEGER: the value. BULK, VERBATIM, BULK_ERROR: the length.
	 * ARRAY, MAP, SET, PUSH: the element count (MAP: pairs).
	 * -1 for RESP2 nulls ("$-1", "*-1"). */
	int64_t value;
	bool is_null;		/* "$-1", "*-1" or "_" */
	bool has_attribute;	/* a RESP3 attribute came first */
	/* SIMPLE, ERROR, BULK_ERROR: the first SG_RESP_TEXT_MAX bytes of
	 * the text, without the type byte and CRLF, NUL-terminated when
	 * shorter; text_len is the full length. BOOL: value is 1 or 0. */
	char text[SG_RESP_TEXT_MAX];
	size_t text_len;
	enum sg_resp_error_kind error;
	/* MOVED and ASK: "-MOVED 3999 127.0.0.1:6381". The last ':' of the
	 * address separates the port, so "::1:6380" is host "::1"; brackets
	 * ("[::1]:6380") are removed. A MOVED or ASK whose slot or address
	 * does not parse is classified SG_RESP_ERR_OTHER. */
	uint16_t slot;
	char host[64];		/* NUL-terminated; may be empty ("-MOVED 1 :6380") */
	uint16_t port;
};

struct sg_resp_framer {
	uint32_t max_depth;	/* <= SG_RESP_MAX_DEPTH */
	uint64_t max_bulk;	/* bulk lengths above this are errors */

	/* private */
	uint8_t state;
	uint8_t line_len;	/* bytes in line[]; CR seen in the CRLF states */
	uint8_t elem;		/* type byte of the element being read */
	bool elem_top;		/* that element is the reply itself */
	bool top_attr;		/* a top-level attribute is being read */
	bool busy;		/* a reply has started */
	char line[SG_RESP_TEXT_MAX + 8];
	uint32_t depth;
	int64_t pending[SG_RESP_MAX_DEPTH];	/* elements left per level */
	int64_t bulk_left;
	struct sg_resp_reply cur;
	const char *error;
};

/* Most elements an aggregate may announce (as hiredis' default). */
#define SG_RESP_MAX_ELEMENTS 4294967295ll

/* Prepares `f` with max_depth SG_RESP_MAX_DEPTH and max_bulk 512 MiB;
 * the caller may lower them afterwards. */
void sg_resp_framer_init(struct sg_resp_framer *f);

/*
 * Frames from `chunk` until one reply ends or the chunk runs out.
 * Returns bytes consumed, with *done true when a reply ended there (and
 * *out filled), false when all of `chunk` was consumed mid-reply.
 * Returns -EPROTO when the bytes are not RESP or break the depth or bulk
 * limits (text in sg_resp_framer_error()); sticky.
 */
ssize_t sg_resp_frame(struct sg_resp_framer *f, const char *chunk, size_t len,
		      struct sg_resp_reply *out, bool *done);

const char *sg_resp_framer_error(const struct sg_resp_framer *f);

/* Classifies an error text (without the leading '-'), filling error,
 * slot, host and port of `r`. Exposed for tests and for callers that
 * build replies themselves. */
void sg_resp_classify_error(const char *text, size_t len,
			    struct sg_resp_reply *r);

/* ------------------------------------------------------------------ */
/* Writers                                                             */
/* ------------------------------------------------------------------ */

/*
 * Each writer appends one RESP element to `s` (sg_common.h); failures
 * are sticky in s->err. `proto` is the session's protocol, 2 or 3: the
 * RESP3 types fall back to their RESP2 forms when it is anything but 3
 * (map -> array of 2n, set -> array, null -> "$-1", bool -> integer,
 * push -> array, verbatim -> bulk, double -> bulk).
 * Simple strings and errors cannot carry CR or LF: the writers replace
 * them with spaces, as Valkey does for error texts. Doubles are written
 * in the shortest form that reads back to the same value, "inf", "-inf"
 * or "nan".
 */
void sg_resp_write_simple(struct sg_sink *s, const char *str, size_t len);
/* "-" + msg + CRLF; msg carries its own code ("ERR ...", "CROSSSLOT ..."). */
void sg_resp_write_error(struct sg_sink *s, const char *msg, size_t len);
void sg_resp_write_errorf(struct sg_sink *s, const char *fmt, ...)
	SG_PRINTF(2, 3);
void sg_resp_write_integer(struct sg_sink *s, int64_t v);
void sg_resp_write_bulk(struct sg_sink *s, const void *p, size_t len);
void sg_resp_write_bulk_str(struct sg_sink *s, const char *str);
void sg_resp_write_array(struct sg_sink *s, int64_t n);	/* header only */
void sg_resp_write_map(struct sg_sink *s, int64_t pairs, int proto);
void sg_resp_write_set(struct sg_sink *s, int64_t n, int proto);
void sg_resp_write_push(struct sg_sink *s, int64_t n, int proto);
void sg_resp_write_null(struct sg_sink *s, int proto);	/* "_" or "$-1" */
void sg_resp_write_null_array(struct sg_sink *s, int proto); /* "_" or "*-1" */
void sg_resp_write_bool(struct sg_sink *s, bool v, int proto);
void sg_resp_write_double(struct sg_sink *s, double v, int proto);
/* `fmt` is the three-letter verbatim format, e.g. "txt" (anything else
 * sets s->err to -EINVAL). */
void sg_resp_write_verbatim(struct sg_sink *s, const char *fmt,
			    const void *p, size_t len, int proto);
/* A request: "*argc" then one bulk string per argument. Arguments with a
 * NULL ptr are not allowed here. */
void sg_resp_write_command(struct sg_sink *s, uint32_t argc,
			   const struct sg_span *argv);

/* ------------------------------------------------------------------ */
/* Decoding (control path only)                                        */
/* ------------------------------------------------------------------ */

/*
 * A decoded reply, for the control path (CLUSTER SHARDS, COMMAND, INFO):
 * the data path frames and forwards, it never decodes. Strings point into
 * the buffer given to sg_resp_decode(), which must outlive the tree.
 */
struct sg_resp_value {
	enum sg_resp_type type;
	bool is_null;
	/* INTEGER: value; BOOL: 0/1; BULK...: length; ARRAY, SET, PUSH:
	 * count; MAP: pairs */
	int64_t integer;
	/* SIMPLE, ERROR, BULK, VERBATIM (with its "txt:" prefix), DOUBLE,
	 * BIGNUM, BULK_ERROR */
	const char *str;
	size_t len;
	/* aggregates: the elements, contiguous; MAP: key, value, key, ... */
	struct sg_resp_value *elem;
	size_t nelem;
};

/*
 * Decodes the one reply at the start of buf (RESP2 or RESP3, attributes
 * refused). Returns 0 with *out (free with sg_resp_value_free) and *used
 * (bytes of the reply; may be NULL), -EPROTO when the bytes are not one
 * well-formed reply, -E2BIG when nested deeper than SG_RESP_MAX_DEPTH,
 * -ENOMEM.
 */
int sg_resp_decode(const char *buf, size_t len, struct sg_resp_value **out,
		   size_t *used);
void sg_resp_value_free(struct sg_resp_value *v);

/* In a RESP3 map or a RESP2 flat array of name/value pairs, the value of
 * `key` (any case), or NULL. */
const struct sg_resp_value *sg_resp_value_get(const struct sg_resp_value *map,
					      const char *key);

/* True for non-null simple, bulk and verbatim strings. */
bool sg_resp_value_is_str(const struct sg_resp_value *v);

#ifdef __cplusplus
}
#endif

#endif /* SG_RESP_H */
