/*
 * Rate limiting, Firecracker's model: a token bucket for bytes and one for
 * operations, each with a rate (tokens per second) and a burst (the
 * bucket's size). Used by the virtio-net rx/tx paths, virtio-rng and the
 * block layer's throttling (QEMU's throttling.bps-total / iops-total).
 *
 * Tokens may go negative: one operation larger than what is left is let
 * through and the debt is paid before the next one, so a 64 KiB packet
 * under a small burst still passes and the long-run rate stays exact.
 */
#ifndef EMBER_RATELIMIT_H
#define EMBER_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct loop;

struct tbucket {
	uint64_t rate;		/* tokens per second; 0: unlimited */
	uint64_t burst;		/* bucket size */
	int64_t tokens;		/* may go negative (debt) */
	uint64_t last_ns;	/* CLOCK_MONOTONIC of the last refill */
	uint64_t frac;		/* part of a token earned, in 1e-9 tokens */
};

/* Starts full. @burst 0 means rate / 10 (100 ms worth), at least 1. */
void tbucket_init(struct tbucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns);
/* Refills for the time since the last call, capped at burst. */
void tbucket_refill(struct tbucket *b, uint64_t now_ns);
/* Are there tokens (> 0) after a refill? Unlimited buckets always have. */
bool tbucket_ready(struct tbucket *b, uint64_t now_ns);
/* Takes @n tokens, possibly into debt. */
void tbucket_charge(struct tbucket *b, uint64_t n);
/* Nanoseconds until tokens > 0 again (0 if already). */
uint64_t tbucket_delay_ns(const struct tbucket *b);

struct ratelimit_cfg {
	uint64_t bps, bps_burst;	/* bytes per second; 0: no byte limit */
	uint64_t ops, ops_burst;	/* operations per second; 0: no op limit */
};

struct ratelimit {
	struct tbucket bytes, ops;
	struct loop *loop;
	int timer_fd;			/* timerfd on @loop; -1 when unlimited */
	bool waiting;			/* timer armed, resume pending */
	void (*resume)(void *opaque);
	void *opaque;
};

/*
 * @cfg all zero: unlimited (ratelimit_take is always true, no timer).
 * @resume is called on the loop thread once a refused caller may go on.
 * Returns 0 or a negative errno after one message naming @owner.
 */
int ratelimit_init(struct ratelimit *rl, const struct ratelimit_cfg *cfg,
		   struct loop *loop, void (*resume)(void *opaque), void *opaque,
		   const char *owner);
void ratelimit_destroy(struct ratelimit *rl);
bool ratelimit_active(const struct ratelimit *rl);
/*
 * May one more operation start? false: not now; the timer is armed and
 * @resume will run. Hot path: one clock read, no allocation.
 */
bool ratelimit_ready(struct ratelimit *rl);
/* Charges an operation of @bytes (after the fact, e.g. a received packet). */
void ratelimit_charge(struct ratelimit *rl, uint64_t bytes);
/* ratelimit_ready, then ratelimit_charge(@bytes) when it is. */
bool ratelimit_take(struct ratelimit *rl, uint64_t bytes);
/*
 * Runs @resume from the loop soon, whatever the buckets hold (e.g. after a
 * reset). Only rearms the timer, so any thread may call it; a refill the
 * loop arms meanwhile may put the resume off until then.
 */
void ratelimit_kick(struct ratelimit *rl);

/* The limiter's clock (CLOCK_MONOTONIC); tests may swap it (NULL: real). */
uint64_t ratelimit_now_ns(void);
void ratelimit_set_clock(uint64_t (*fn)(void));

#endif
