/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sg_common.h: the small things every shardgate library shares.
 *
 * This library uses libc only. It must never include a DPDK header, so
 * that config, resp, command and cluster (which build on it) stay
 * portable and fuzzable anywhere.
 *
 * What is here:
 *  - compiler helpers (likely/unlikely, container_of, array size);
 *  - struct sg_span, a (pointer, length) view of bytes owned by someone
 *    else, with strict integer parsing and case-insensitive comparison;
 *  - struct sg_sink, a writer that asks its owner for room segment by
 *    segment, so a serializer can write into mbufs without knowing them;
 *  - struct sg_membuf, a bounded growable heap buffer (and a sink on it);
 *  - a monotonic clock and a hashed timer wheel that any poll loop can
 *    drive;
 *  - edit distance, used to suggest the nearest valid name.
 *
 * Conventions (STYLE.md): functions returning int give 0 or a count on
 * success and -errno on failure.
 */
#ifndef SG_COMMON_H
#define SG_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SG_LIKELY(x) __builtin_expect(!!(x), 1)
#define SG_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SG_MAX(a, b) ((a) > (b) ? (a) : (b))
#define SG_CONTAINER_OF(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define SG_CACHE_LINE 64
#define SG_CACHE_ALIGNED __attribute__((aligned(SG_CACHE_LINE)))
#define SG_UNUSED __attribute__((unused))
#define SG_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ------------------------------------------------------------------ */
/* Spans                                                               */
/* ------------------------------------------------------------------ */

/* A view of bytes someone else owns. Not NUL-terminated. */
struct sg_span {
	const char *ptr;
	size_t len;
};

/*
 * One argument of a parsed request, as the RESP parser returns it and the
 * command table reads it. `ptr` points at `len` contiguous bytes, or is
 * NULL when a long argument straddles input buffers and was not copied;
 * `off` then says where it starts, counted from the request's first byte,
 * so the owner of the buffers can find it.
 */
struct sg_arg {
	const char *ptr;
	uint64_t off;
	size_t len;
};

static inline struct sg_span
sg_arg_span(const struct sg_arg *a)
{
	struct sg_span s = { a->ptr, a->len };
	return s;
}

#define SG_SPAN_LIT(s) ((struct sg_span){ (s), sizeof(s) - 1 })

static inline struct sg_span
sg_span_make(const char *ptr, size_t len)
{
	struct sg_span s = { ptr, len };
	return s;
}

/* True when the span equals the NUL-terminated ASCII string `lit`,
 * ignoring ASCII case. */
bool sg_span_eq_nocase(struct sg_span s, const char *lit);

/* Strict decimal parse of the whole span: optional '-', digits only, no
 * spaces, no '+', no leading zeros other than "0" itself.
 * Returns 0, -EINVAL (empty or not a number) or -ERANGE (overflow). */
int sg_span_to_i64(struct sg_span s, int64_t *out);

/* As sg_span_to_i64, unsigned and without '-'. */
int sg_span_to_u64(struct sg_span s, uint64_t *out);

/* Writes `v` in decimal at `buf` (room for 20 bytes), returns the length. */
size_t sg_u64_to_dec(char *buf, uint64_t v);

/* Writes `v` in decimal at `buf` (room for 20 bytes), returns the length. */
size_t sg_i64_to_dec(char *buf, int64_t v);

/* Levenshtein distance between two strings, or SIZE_MAX when either is
 * longer than 64 bytes (suggestions are for short names only). */
size_t sg_edit_distance(const char *a, size_t alen, const char *b,
			size_t blen);

/* ------------------------------------------------------------------ */
/* Sinks                                                               */
/* ------------------------------------------------------------------ */

/*
 * A sink is where serializers write. The owner hands out one contiguous
 * segment at a time ([pos, end)); when a writer needs more room it calls
 * more(), which must make at least `min` contiguous bytes available
 * (starting a new segment if needed) or fail. `min` is never more than
 * SG_SINK_MAX_RESERVE, so owners with fixed-size segments can always
 * satisfy it. Errors are sticky: after one failure every write is a
 * no-op and `err` says why, so callers check once at the end.
 *
 *     writer                       owner
 *     sg_sink_reserve(s, n) --->  more(s, n) when end - pos < n
 *     ... fill ...                 (e.g. append an mbuf, point pos/end
 *     sg_sink_commit(s, p)          into its data room)
 */
#define SG_SINK_MAX_RESERVE 256

struct sg_sink {
	char *pos;	/* next free byte of the current segment */
	char *end;	/* one past the last free byte */
	int (*more)(struct sg_sink *s, size_t min);
	void *owner;	/* for more() */
	size_t written;	/* bytes committed since init, all segments */
	int err;	/* first error (-ENOMEM, -ENOBUFS...), sticky */
};

/* Returns a pointer to at least n (<= SG_SINK_MAX_RESERVE) contiguous
 * free bytes, or NULL (and err set) when the owner has no more room. */
static inline char *
sg_sink_reserve(struct sg_sink *s, size_t n)
{
	if (SG_UNLIKELY(s->err != 0))
		return NULL;
	if (SG_UNLIKELY((size_t)(s->end - s->pos) < n)) {
		int rc = s->more(s, n);
		if (rc != 0 || (size_t)(s->end - s->pos) < n) {
			s->err = rc != 0 ? rc : -ENOBUFS;
			return NULL;
		}
	}
	return s->pos;
}

/* Marks the bytes from the last reserve up to `upto` as written. */
static inline void
sg_sink_commit(struct sg_sink *s, char *upto)
{
	s->written += (size_t)(upto - s->pos);
	s->pos = upto;
}

/* Copies n bytes, across as many segments as needed. */
void sg_sink_write(struct sg_sink *s, const void *p, size_t n);

/* A growable heap buffer with a hard limit. */
struct sg_membuf {
	char *data;
	size_t len;
	size_t cap;
	size_t limit;	/* growth past this fails with -ENOBUFS; 0: none */
};

void sg_membuf_init(struct sg_membuf *b, size_t limit);
void sg_membuf_free(struct sg_membuf *b);
/* Makes room for `extra` more bytes. Returns 0, -ENOBUFS or -ENOMEM. */
int sg_membuf_reserve(struct sg_membuf *b, size_t extra);
int sg_membuf_append(struct sg_membuf *b, const void *p, size_t n);

/* A sink that appends to `b`. Call sg_membuf_sink_done() to settle b->len
 * after writing (the sink writes ahead of len). */
void sg_membuf_sink(struct sg_membuf *b, struct sg_sink *s);
void sg_membuf_sink_done(struct sg_membuf *b, struct sg_sink *s);

/* ------------------------------------------------------------------ */
/* Time and timers                                                     */
/* ------------------------------------------------------------------ */

/* CLOCK_MONOTONIC in nanoseconds. Control paths only: the data path uses
 * the TSC through its own loop clock. */
uint64_t sg_clock_ns(void);

#define SG_NS_PER_US 1000ull
#define SG_NS_PER_MS 1000000ull
#define SG_NS_PER_S 1000000000ull

/*
 * A hashed timer wheel for one thread: SG_TIMER_SLOTS slots of
 * `tick_ns` each. A timer sits in the slot of its expiry tick modulo the
 * wheel size and carries its absolute expiry tick, so timers further out
 * than one revolution simply wait for their turn. Arming, re-arming and
 * cancelling are O(1); advancing costs the number of timers in the slots
 * passed. A callback may arm, re-arm or cancel any timer, itself
 * included. Timers fire no earlier than asked and at most one tick late
 * (plus however late the loop calls advance).
 *
 *  slots: [0] -> t -> t      expires = absolute tick
 *         [1]
 *         [2] -> t           now_tick moves forward in advance()
 *         ...
 */
#define SG_TIMER_SLOTS 1024

struct sg_timer;
typedef void (*sg_timer_cb)(struct sg_timer *t, void *arg);

struct sg_timer {
	struct sg_timer *next;
	struct sg_timer **pprev;	/* NULL when not armed */
	uint64_t expires;		/* absolute tick */
	sg_timer_cb cb;
	void *arg;
};

struct sg_timer_wheel {
	uint64_t tick_ns;
	uint64_t now_tick;	/* every tick <= now_tick has been run */
	uint64_t armed;		/* number of armed timers */
	struct sg_timer *slot[SG_TIMER_SLOTS];
};

void sg_timer_wheel_init(struct sg_timer_wheel *w, uint64_t tick_ns,
			 uint64_t now_ns);
void sg_timer_init(struct sg_timer *t, sg_timer_cb cb, void *arg);

static inline bool
sg_timer_armed(const struct sg_timer *t)
{
	return t->pprev != NULL;
}

/* Arms (or moves) `t` to fire at absolute time `when_ns`. A time in the
 * past fires on the next advance. */
void sg_timer_arm_at(struct sg_timer_wheel *w, struct sg_timer *t,
		     uint64_t when_ns);
void sg_timer_cancel(struct sg_timer_wheel *w, struct sg_timer *t);

/* Runs every timer due at `now_ns`. Returns how many fired. */
unsigned sg_timer_wheel_advance(struct sg_timer_wheel *w, uint64_t now_ns);

/* Nanoseconds from `now_ns` until the next armed timer is due, at most
 * `cap_ns`; 0 when one is due already. For idle sleeps. */
uint64_t sg_timer_wheel_idle_ns(const struct sg_timer_wheel *w,
				uint64_t now_ns, uint64_t cap_ns);

#ifdef __cplusplus
}
#endif

#endif /* SG_COMMON_H */
