/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Monotonic clock and the hashed timer wheel (picture in sg_common.h).
 *
 * Each slot is a doubly linked list threaded through the timers
 * (next, pprev), so cancel is O(1) without knowing the slot. advance()
 * detaches a slot's list before walking it: a callback may then arm or
 * cancel anything, including timers still on the detached list, because
 * cancel only needs pprev.
 */
#include <time.h>

#include "sg_common.h"

uint64_t
sg_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SG_NS_PER_S + (uint64_t)ts.tv_nsec;
}

void
sg_timer_wheel_init(struct sg_timer_wheel *w, uint64_t tick_ns,
		    uint64_t now_ns)
{
	memset(w, 0, sizeof(*w));
	w->tick_ns = tick_ns != 0 ? tick_ns : SG_NS_PER_MS;
	w->now_tick = now_ns / w->tick_ns;
}

void
sg_timer_init(struct sg_timer *t, sg_timer_cb cb, void *arg)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expires = 0;
	t->cb = cb;
	t->arg = arg;
}

static void
list_insert(struct sg_timer **head, struct sg_timer *t)
{
	t->next = *head;
	if (t->next != NULL)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

static void
list_unlink(struct sg_timer *t)
{
	*t->pprev = t->next;
	if (t->next != NULL)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

void
sg_timer_cancel(struct sg_timer_wheel *w, struct sg_timer *t)
{
	if (t->pprev == NULL)
		return;
	list_unlink(t);
	w->armed--;
}

static void
wheel_insert(struct sg_timer_wheel *w, struct sg_timer *t)
{
	/* A timer due now or in the past goes to the next tick to run. */
	if (t->expires <= w->now_tick)
		t->expires = w->now_tick + 1;
	list_insert(&w->slot[t->expires % SG_TIMER_SLOTS], t);
}

void
sg_timer_arm_at(struct sg_timer_wheel *w, struct sg_timer *t,
		uint64_t when_ns)
{
	/* Round up so a timer never fires before its time. */
	uint64_t tick = (when_ns + w->tick_ns - 1) / w->tick_ns;

	sg_timer_cancel(w, t);
	t->expires = tick;
	wheel_insert(w, t);
	w->armed++;
}

/* Fires the timers of slot `slot_tick` that are due by `due_tick`; the
 * others wait in place for a later revolution. */
static unsigned
run_slot(struct sg_timer_wheel *w, uint64_t slot_tick, uint64_t due_tick)
{
	struct sg_timer *pending = NULL;
	struct sg_timer **head = &w->slot[slot_tick % SG_TIMER_SLOTS];
	unsigned fired = 0;

	if (*head == NULL)
		return 0;
	/* Detach the slot onto a local list. */
	pending = *head;
	*head = NULL;
	pending->pprev = &pending;

	while (pending != NULL) {
		struct sg_timer *t = pending;

		list_unlink(t);
		if (t->expires > due_tick) {
			/* a later revolution */
			list_insert(&w->slot[t->expires % SG_TIMER_SLOTS], t);
			continue;
		}
		w->armed--;
		fired++;
		t->cb(t, t->arg);
	}
	return fired;
}

unsigned
sg_timer_wheel_advance(struct sg_timer_wheel *w, uint64_t now_ns)
{
	uint64_t target = now_ns / w->tick_ns;
	unsigned fired = 0;

	if (target <= w->now_tick)
		return 0;
	if (w->armed == 0) {
		w->now_tick = target;
		return 0;
	}
	/* After a long stall, visit every slot once and then jump: a slot
	 * holds every timer whose tick maps to it, so one pass is enough. */
	if (target - w->now_tick > SG_TIMER_SLOTS) {
		/* Callbacks that arm timers see the new time. */
		w->now_tick = target;
		for (uint64_t tick = target - SG_TIMER_SLOTS + 1; tick <= target; tick++)
			fired += run_slot(w, tick, target);
		return fired;
	}
	while (w->now_tick < target) {
		w->now_tick++;
		fired += run_slot(w, w->now_tick, w->now_tick);
		if (w->armed == 0) {
			w->now_tick = target;
			break;
		}
	}
	return fired;
}

uint64_t
sg_timer_wheel_idle_ns(const struct sg_timer_wheel *w, uint64_t now_ns,
		       uint64_t cap_ns)
{
	uint64_t cap_ticks = cap_ns / w->tick_ns;
	uint64_t best = UINT64_MAX;

	if (w->armed == 0)
		return cap_ns;
	if (cap_ticks > SG_TIMER_SLOTS)
		cap_ticks = SG_TIMER_SLOTS;
	/* Scan forward from the first tick not yet run. */
	for (uint64_t i = 1; i <= cap_ticks + 1; i++) {
		const struct sg_timer *t = w->slot[(w->now_tick + i) % SG_TIMER_SLOTS];

		for (; t != NULL; t = t->next) {
			if (t->expires < best)
				best = t->expires;
		}
		if (best <= w->now_tick + i)
			break;
	}
	if (best == UINT64_MAX)
		return cap_ns;
	if (best * w->tick_ns <= now_ns)
		return 0;
	return SG_MIN(best * w->tick_ns - now_ns, cap_ns);
}
