/*
 * Fakes of what the device models reach outside their files, shared by the
 * unit tests and the fuzz targets that run devices alone: the chardev
 * registry (fake_chardev.c), and the event loop's one timer and the clock
 * (fake_loop.c). Each program links the .c files it needs.
 */
#ifndef EMBER_TESTS_FAKE_PLATFORM_H
#define EMBER_TESTS_FAKE_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "backends/chardev.h"
#include "lib/clock.h"
#include "lib/loop.h"

/* --- chardevs "c0", "c1" and "c2" that keep what they are sent --- */
struct chardev {
	const char *id;
	chr_input_fn fn;	/* the front end attached, or NULL */
	void *opaque;
	uint8_t out[1024];	/* the first bytes written */
	size_t out_len;
	int accepts;		/* chardev_accept_input() calls */
};

#define FAKE_CHARDEVS	3
extern struct chardev fake_chrs[FAKE_CHARDEVS];

/* Detached and empty again. */
void fake_chardevs_reset(void);
/* @len bytes typed on @c: what its front end took. */
size_t fake_chardev_input(struct chardev *c, const void *buf, size_t len);

/* --- an event loop that hands its one handler (the RTC's timer) to the test --- */
extern loop_fn fake_timer_fn;		/* NULL when none is registered */
extern void *fake_timer_opaque;
extern struct loop *const fake_loop;	/* for pf.loop; never dereferenced */

/* --- CLOCK_REALTIME as the test sets it --- */
extern int64_t fake_ns;
extern clockid_t fake_clock_last_id;	/* the clock last asked for */
extern const struct clock_src fake_clock;

#endif
