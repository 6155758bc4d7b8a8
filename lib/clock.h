/*
 * Where timed devices read the time. The machine leaves the platform's clock
 * NULL (the host's clocks); a unit test hands in one it moves by hand, so no
 * test of a device's timing waits on the wall clock or on a busy machine.
 */
#ifndef EMBER_CLOCK_H
#define EMBER_CLOCK_H

#include <time.h>

struct clock_src {
	struct timespec (*now)(void *opaque, clockid_t id);
	void *opaque;
};

/* @c NULL (or without @now): clock_gettime(@id). */
static inline struct timespec clock_now(const struct clock_src *c, clockid_t id)
{
	struct timespec ts = { 0, 0 };

	if (c && c->now)
		return c->now(c->opaque, id);
	clock_gettime(id, &ts);
	return ts;
}

#endif
