/* Fake event loop (one handler) and clock for tests and fuzzers (fake_platform.h). */
#include "tests/common/fake_platform.h"

loop_fn fake_timer_fn;
void *fake_timer_opaque;
static int loop_token;
struct loop *const fake_loop = (struct loop *)&loop_token;

int loop_add(struct loop *l, int fd, uint32_t events, loop_fn fn, void *opaque)
{
	fake_timer_fn = fn;
	fake_timer_opaque = opaque;
	return 0;
}

int loop_del(struct loop *l, int fd)
{
	fake_timer_fn = NULL;
	return 0;
}

int64_t fake_ns;
clockid_t fake_clock_last_id = -1;

static struct timespec fake_now(void *opaque, clockid_t id)
{
	fake_clock_last_id = id;
	return (struct timespec){ fake_ns / 1000000000, fake_ns % 1000000000 };
}

const struct clock_src fake_clock = { .now = fake_now };
