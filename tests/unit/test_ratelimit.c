/* ratelimit: token buckets on a fake clock, the limiter's timer on a real loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/loop.h"
#include "lib/ratelimit.h"

#define MS 1000000ULL
#define SEC 1000000000ULL

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static int setup(void **state)
{
	log_set_quiet(1);
	fake_now = 1000 * SEC;
	ratelimit_set_clock(fake_clock);
	return 0;
}

static int teardown(void **state)
{
	ratelimit_set_clock(NULL);
	return 0;
}

static void t_burst(void **state)
{
	struct tbucket b;

	tbucket_init(&b, 1000, 100, 0);
	assert_true(tbucket_ready(&b, 0));
	tbucket_charge(&b, 60);
	assert_true(tbucket_ready(&b, 0));
	tbucket_charge(&b, 40);
	assert_false(tbucket_ready(&b, 0));
	/* one token takes 1 ms at 1000/s */
	assert_int_equal(tbucket_delay_ns(&b), 1 * MS);
	assert_false(tbucket_ready(&b, 1 * MS - 1));
	assert_true(tbucket_ready(&b, 1 * MS));
	assert_int_equal(b.tokens, 1);

	/* burst 0: 100 ms worth, at least one token */
	tbucket_init(&b, 1000, 0, 0);
	assert_int_equal(b.burst, 100);
	tbucket_init(&b, 3, 0, 0);
	assert_int_equal(b.burst, 1);
}

static void t_refill_capped(void **state)
{
	struct tbucket b;

	tbucket_init(&b, 1000, 100, 0);
	tbucket_charge(&b, 100);
	assert_true(tbucket_ready(&b, 50 * MS));
	assert_int_equal(b.tokens, 50);
	tbucket_refill(&b, 10 * SEC);
	assert_int_equal(b.tokens, 100);
	/* time going backwards (never with CLOCK_MONOTONIC) changes nothing */
	tbucket_refill(&b, 1 * SEC);
	assert_int_equal(b.tokens, 100);
	/* the cap also resets the clock: no credit saved beyond the burst */
	tbucket_charge(&b, 100);
	tbucket_refill(&b, 10 * SEC + 10 * MS);
	assert_int_equal(b.tokens, 10);
}

static void t_debt(void **state)
{
	struct tbucket b;

	/* a 64 KiB operation under a 100-byte burst passes, then is paid for */
	tbucket_init(&b, 1000, 100, 0);
	assert_true(tbucket_ready(&b, 0));
	tbucket_charge(&b, 65536);
	assert_int_equal(b.tokens, 100 - 65536);
	assert_false(tbucket_ready(&b, 0));
	/* 65437 tokens to get to 1 */
	assert_int_equal(tbucket_delay_ns(&b), 65437 * MS);
	assert_false(tbucket_ready(&b, 65437 * MS - 1));
	assert_true(tbucket_ready(&b, 65437 * MS));

	/* absurd charges do not wrap the counter */
	tbucket_init(&b, 1, 1, 0);
	tbucket_charge(&b, UINT64_MAX);
	tbucket_charge(&b, UINT64_MAX);
	assert_true(b.tokens < 0);
	assert_true(tbucket_delay_ns(&b) > 0);
}

/*
 * Many small refills at odd intervals must add up to the rate: the
 * fraction of a token earned between refills is not lost.
 */
static void t_exact_rate(void **state)
{
	const uint64_t rate = 10000003, pkt = 1500;
	struct tbucket b;
	uint64_t now = 0, sent = 0, end = 10 * SEC;

	tbucket_init(&b, rate, 0, 0);
	while (now < end) {
		if (tbucket_ready(&b, now)) {
			tbucket_charge(&b, pkt);
			sent += pkt;
		} else {
			now += 1337;	/* poll often: 13.37 tokens per step */
		}
	}
	/* rate * time plus the initial burst, within one packet */
	assert_true(sent >= rate * 10 + b.burst - pkt);
	assert_true(sent <= rate * 10 + b.burst + pkt);

	/* same with sleeping exactly the delay each time */
	tbucket_init(&b, 7777, 10, 0);
	now = 0;
	sent = 0;
	while (now < end) {
		if (tbucket_ready(&b, now)) {
			tbucket_charge(&b, 333);
			sent += 333;
		} else {
			now += tbucket_delay_ns(&b);
		}
	}
	assert_true(sent >= 7777 * 10 + 10 - 333);
	assert_true(sent <= 7777 * 10 + 10 + 333);
}

static void t_unlimited(void **state)
{
	struct ratelimit_cfg cfg = { 0 };
	struct ratelimit rl;
	struct tbucket b;

	assert_int_equal(ratelimit_init(&rl, &cfg, NULL, NULL, NULL, "t"), 0);
	assert_false(ratelimit_active(&rl));
	assert_int_equal(rl.timer_fd, -1);
	for (int i = 0; i < 1000; i++)
		assert_true(ratelimit_take(&rl, 1 << 20));
	ratelimit_destroy(&rl);

	tbucket_init(&b, 0, 0, 0);
	tbucket_charge(&b, 12345);
	assert_true(tbucket_ready(&b, 0));
	assert_int_equal(tbucket_delay_ns(&b), 0);
}

static void t_bad_cfg(void **state)
{
	struct ratelimit_cfg cfg = { .bps_burst = 100 };
	struct ratelimit rl;

	assert_int_equal(ratelimit_init(&rl, &cfg, NULL, NULL, NULL, "blk0"), -EINVAL);
	assert_non_null(strstr(log_last(), "blk0"));
	cfg = (struct ratelimit_cfg){ .ops_burst = 1 };
	assert_int_equal(ratelimit_init(&rl, &cfg, NULL, NULL, NULL, "x"), -EINVAL);
}

struct waiter {
	struct loop *l;
	int resumed;
};

static void on_resume(void *opaque)
{
	struct waiter *w = opaque;

	w->resumed++;
	loop_stop(w->l, 1);
}

/* Both buckets count; the stricter one decides (fake clock, no loop run). */
static void t_both_buckets(void **state)
{
	struct ratelimit_cfg cfg = { .bps = 1000, .bps_burst = 1000,
				     .ops = 10, .ops_burst = 2 };
	struct waiter w = { .l = loop_new() };
	struct ratelimit rl;

	assert_int_equal(ratelimit_init(&rl, &cfg, w.l, on_resume, &w, "t"), 0);
	assert_true(ratelimit_active(&rl));
	/* ops run out first */
	assert_true(ratelimit_take(&rl, 10));
	assert_true(ratelimit_take(&rl, 10));
	assert_false(ratelimit_take(&rl, 10));
	assert_true(rl.waiting);
	/* while waiting, no re-check even if time passed: resume comes */
	fake_now += 1 * SEC;
	assert_false(ratelimit_ready(&rl));
	rl.waiting = false;	/* as the timer would */
	/* both refilled to their bursts; now the bytes run out */
	assert_true(ratelimit_take(&rl, 1000));
	assert_false(ratelimit_ready(&rl));
	rl.waiting = false;
	fake_now += 100 * MS;	/* 100 bytes and 1 op back */
	assert_true(ratelimit_ready(&rl));
	ratelimit_destroy(&rl);
	loop_free(w.l);
}

/* The timer on a real loop resumes the refused caller, on time. */
static void t_timer_resume(void **state)
{
	struct ratelimit_cfg cfg = { .bps = 100000, .bps_burst = 1000 };
	struct waiter w = { .l = loop_new() };
	struct ratelimit rl;
	uint64_t t0, dt;

	ratelimit_set_clock(NULL);
	assert_non_null(w.l);
	assert_int_equal(ratelimit_init(&rl, &cfg, w.l, on_resume, &w, "t"), 0);
	t0 = ratelimit_now_ns();
	assert_true(ratelimit_take(&rl, 999));
	assert_true(ratelimit_take(&rl, 1000));	/* into debt: -999 */
	assert_false(ratelimit_take(&rl, 1000));
	/* 1000 tokens at 100000/s: 10 ms */
	assert_int_equal(loop_run(w.l), 1);
	dt = ratelimit_now_ns() - t0;
	assert_int_equal(w.resumed, 1);
	assert_false(rl.waiting);
	assert_true(dt >= 10 * MS);
	assert_true(dt < 2 * SEC);
	assert_true(ratelimit_take(&rl, 50000));

	/* kick: resume at once, not after the 500 ms the debt needs */
	assert_false(ratelimit_take(&rl, 1));
	t0 = ratelimit_now_ns();
	ratelimit_kick(&rl);
	assert_int_equal(loop_run(w.l), 1);
	assert_int_equal(w.resumed, 2);
	assert_true(ratelimit_now_ns() - t0 < 250 * MS);
	assert_false(rl.waiting);

	/* destroy with the timer armed: no resume afterwards */
	assert_false(ratelimit_take(&rl, 1));
	assert_true(rl.waiting);
	ratelimit_destroy(&rl);
	assert_false(rl.waiting);
	ratelimit_set_clock(fake_clock);
	loop_free(w.l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_burst),
		cmocka_unit_test(t_refill_capped),
		cmocka_unit_test(t_debt),
		cmocka_unit_test(t_exact_rate),
		cmocka_unit_test(t_unlimited),
		cmocka_unit_test(t_bad_cfg),
		cmocka_unit_test(t_both_buckets),
		cmocka_unit_test(t_timer_resume),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
