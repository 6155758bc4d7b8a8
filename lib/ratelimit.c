/* Token buckets and the rate limiter on the loop; see ratelimit.h. */
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/timerfd.h>

#include "lib/log.h"
#include "lib/loop.h"
#include "lib/ratelimit.h"
#include "lib/util.h"

#define NSEC 1000000000ULL

void tbucket_init(struct tbucket *b, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	if (!burst)
		burst = MAX(rate / 10, 1);
	b->rate = rate;
	b->burst = MIN(burst, (uint64_t)INT64_MAX);
	b->tokens = (int64_t)b->burst;
	b->last_ns = now_ns;
	b->frac = 0;
}

/*
 * The fraction of a token earned is kept for the next refill: frequent
 * refills (one per packet) must not lose or gain against the rate.
 */
void tbucket_refill(struct tbucket *b, uint64_t now_ns)
{
	unsigned __int128 acc;
	uint64_t add;

	if (!b->rate || now_ns <= b->last_ns)
		return;
	acc = (unsigned __int128)(now_ns - b->last_ns) * b->rate + b->frac;
	b->last_ns = now_ns;
	if (acc / NSEC >= (unsigned __int128)((__int128)b->burst - b->tokens)) {
		b->tokens = (int64_t)b->burst;
		b->frac = 0;
		return;
	}
	add = (uint64_t)(acc / NSEC);
	b->tokens += (int64_t)add;
	b->frac = (uint64_t)(acc % NSEC);
}

bool tbucket_ready(struct tbucket *b, uint64_t now_ns)
{
	if (!b->rate)
		return true;
	tbucket_refill(b, now_ns);
	return b->tokens > 0;
}

void tbucket_charge(struct tbucket *b, uint64_t n)
{
	if (!b->rate)
		return;
	/* Clamp so the debt cannot wrap int64; a year at 1 token/s is far less. */
	n = MIN(n, (uint64_t)INT64_MAX / 2);
	if (b->tokens < INT64_MIN / 2 + (int64_t)n)
		b->tokens = INT64_MIN / 2;
	else
		b->tokens -= (int64_t)n;
}

uint64_t tbucket_delay_ns(const struct tbucket *b)
{
	unsigned __int128 need, ns;

	if (!b->rate || b->tokens > 0)
		return 0;
	need = (unsigned __int128)(1 - (__int128)b->tokens) * NSEC - b->frac;
	ns = (need + b->rate - 1) / b->rate;
	return ns > INT64_MAX ? INT64_MAX : (uint64_t)ns;
}

/* --- the limiter ----------------------------------------------------- */

static uint64_t clock_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

static uint64_t (*clock_fn)(void) = clock_real;

uint64_t ratelimit_now_ns(void)
{
	return clock_fn();
}

void ratelimit_set_clock(uint64_t (*fn)(void))
{
	clock_fn = fn ? fn : clock_real;
}

static void on_timer(void *opaque, uint32_t events)
{
	struct ratelimit *rl = opaque;
	uint64_t v;

	if (read(rl->timer_fd, &v, sizeof(v)) < 0 && errno == EAGAIN)
		return;
	rl->waiting = false;
	if (rl->resume)
		rl->resume(rl->opaque);
}

int ratelimit_init(struct ratelimit *rl, const struct ratelimit_cfg *cfg,
		   struct loop *loop, void (*resume)(void *opaque), void *opaque,
		   const char *owner)
{
	uint64_t now = ratelimit_now_ns();
	int r;

	memset(rl, 0, sizeof(*rl));
	rl->timer_fd = -1;
	if ((cfg->bps_burst && !cfg->bps) || (cfg->ops_burst && !cfg->ops)) {
		err_msg("%s: a rate limit burst needs a rate", owner);
		return -EINVAL;
	}
	tbucket_init(&rl->bytes, cfg->bps, cfg->bps_burst, now);
	tbucket_init(&rl->ops, cfg->ops, cfg->ops_burst, now);
	rl->loop = loop;
	rl->resume = resume;
	rl->opaque = opaque;
	if (!ratelimit_active(rl))
		return 0;
	rl->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (rl->timer_fd < 0) {
		r = -errno;
		err_msg("%s: rate limit timer: %s", owner, strerror(errno));
		return r;
	}
	r = loop_add(loop, rl->timer_fd, EPOLLIN, on_timer, rl);
	if (r) {
		err_msg("%s: rate limit timer: %s", owner, strerror(-r));
		close(rl->timer_fd);
		rl->timer_fd = -1;
		return r;
	}
	return 0;
}

void ratelimit_destroy(struct ratelimit *rl)
{
	if (rl->timer_fd >= 0) {
		loop_del(rl->loop, rl->timer_fd);
		close(rl->timer_fd);
	}
	rl->timer_fd = -1;
	rl->waiting = false;
}

bool ratelimit_active(const struct ratelimit *rl)
{
	return rl->bytes.rate || rl->ops.rate;
}

static bool arm(struct ratelimit *rl, uint64_t delay)
{
	struct itimerspec its = { 0 };

	/* A zero it_value would disarm the timer. */
	delay = MAX(delay, 1);
	its.it_value.tv_sec = (time_t)(delay / NSEC);
	its.it_value.tv_nsec = (long)(delay % NSEC);
	if (timerfd_settime(rl->timer_fd, 0, &its, NULL)) {
		warn_once("rate limit timer: %s", strerror(errno));
		return false;
	}
	rl->waiting = true;
	return true;
}

/* Time from @now until @b has tokens; its delay counts from its last refill. */
static uint64_t wait_ns(const struct tbucket *b, uint64_t now)
{
	uint64_t d = tbucket_delay_ns(b), since = now - b->last_ns;

	return d > since ? d - since : 0;
}

bool ratelimit_ready(struct ratelimit *rl)
{
	uint64_t now, delay;
	bool bytes_ok, ops_ok;

	if (!ratelimit_active(rl))
		return true;
	/* One timer at a time; its resume lets the caller ask again. */
	if (rl->waiting)
		return false;
	now = ratelimit_now_ns();
	/* Refill both, so the delay below is right for each. */
	bytes_ok = tbucket_ready(&rl->bytes, now);
	ops_ok = tbucket_ready(&rl->ops, now);
	if (bytes_ok && ops_ok)
		return true;
	delay = MAX(wait_ns(&rl->bytes, now), wait_ns(&rl->ops, now));
	/* A timer that cannot be set (never with a valid fd) must not stall. */
	return !arm(rl, delay);
}

void ratelimit_kick(struct ratelimit *rl)
{
	struct itimerspec its = { .it_value.tv_nsec = 1 };

	/* @waiting is the loop's: an early on_timer is harmless. */
	if (rl->timer_fd >= 0 && timerfd_settime(rl->timer_fd, 0, &its, NULL))
		warn_once("rate limit timer: %s", strerror(errno));
}

void ratelimit_charge(struct ratelimit *rl, uint64_t bytes)
{
	tbucket_charge(&rl->bytes, bytes);
	tbucket_charge(&rl->ops, 1);
}

bool ratelimit_take(struct ratelimit *rl, uint64_t bytes)
{
	if (!ratelimit_ready(rl))
		return false;
	ratelimit_charge(rl, bytes);
	return true;
}
