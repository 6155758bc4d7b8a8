/*
 * An io_uring whose completions are served on the event loop: the ring's
 * eventfd is watched by the loop, which calls the owner's function. Shared
 * by the block layer and the network back end's users.
 */
#ifndef EMBER_URING_H
#define EMBER_URING_H

#include <liburing.h>
#include <stdbool.h>

#include "lib/loop.h"

struct uring {
	struct io_uring ring;
	bool ok;		/* ring set up */
	int efd;		/* completion eventfd on @loop; -1 if none */
	struct loop *loop;
	void (*fn)(void *opaque);
	void *opaque;
};

/*
 * A ring of @depth entries; @fn(@opaque) runs on @loop's thread when
 * completions arrive (it reaps them itself). -errno; uring_exit undoes a
 * partial set-up.
 */
int uring_init(struct uring *u, unsigned depth, struct loop *loop,
	       void (*fn)(void *opaque), void *opaque);
void uring_exit(struct uring *u);
/* Takes the loop's watch off (teardown waits for completions itself). */
void uring_unwatch(struct uring *u);
/* io_uring_submit, retried on EINTR; 0 or a negative errno other than EAGAIN/EBUSY. */
int uring_submit(struct uring *u);
/* An SQE, submitting what is queued when the ring is full; NULL if still full. */
struct io_uring_sqe *uring_sqe(struct uring *u);

#endif
