/* loop: fd dispatch and stopping from other threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <sys/timerfd.h>

#include "lib/log.h"
#include "lib/loop.h"

static int setup(void **state)
{
	log_set_quiet(1);
	return 0;
}

struct reader {
	struct loop *l;
	int fd;
	int calls;
	uint32_t events;
	char got[64];
	size_t len;
	int stop_with;		/* loop_stop() status after a read, or 0 */
	struct reader *victim;	/* deleted and closed from our handler */
};

static void on_read(void *opaque, uint32_t events)
{
	struct reader *r = opaque;
	ssize_t n;

	r->calls++;
	r->events = events;
	n = read(r->fd, r->got + r->len, sizeof(r->got) - 1 - r->len);
	if (n > 0)
		r->len += n;
	if (r->victim) {
		assert_int_equal(loop_del(r->l, r->victim->fd), 0);
		r->victim = NULL;
	}
	if (r->stop_with)
		loop_stop(r->l, r->stop_with);
}

static void t_dispatch(void **state)
{
	struct loop *l = loop_new();
	struct reader r = { .l = l, .stop_with = 42 };
	int p[2];

	assert_non_null(l);
	assert_int_equal(pipe(p), 0);
	r.fd = p[0];
	assert_int_equal(loop_add(l, p[0], EPOLLIN, on_read, &r), 0);
	assert_int_equal(write(p[1], "abc", 3), 3);
	assert_int_equal(loop_run(l), 42);
	assert_int_equal(r.calls, 1);
	assert_true(r.events & EPOLLIN);
	assert_int_equal(r.len, 3);
	assert_memory_equal(r.got, "abc", 3);

	/* the loop can be run again after a stop */
	r.stop_with = 7;
	assert_int_equal(write(p[1], "de", 2), 2);
	assert_int_equal(loop_run(l), 7);
	assert_int_equal(r.calls, 2);
	assert_memory_equal(r.got, "abcde", 5);

	/* one registration per fd */
	assert_int_equal(loop_add(l, p[0], EPOLLIN, on_read, &r), -EEXIST);
	assert_int_equal(loop_add(l, -1, EPOLLIN, on_read, &r), -EINVAL);
	assert_int_equal(loop_mod(l, p[1], EPOLLOUT), -ENOENT);
	assert_int_equal(loop_del(l, p[1]), -ENOENT);
	assert_int_equal(loop_del(l, 100000), -ENOENT);

	assert_int_equal(loop_del(l, p[0]), 0);
	assert_int_equal(loop_del(l, p[0]), -ENOENT);
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

static void t_stop_before_run(void **state)
{
	struct loop *l = loop_new();

	loop_stop(l, 3);
	loop_stop(l, 4);	/* the first status wins */
	assert_int_equal(loop_run(l), 3);
	loop_stop(l, -5);
	assert_int_equal(loop_run(l), -5);
	loop_free(l);
}

struct stopper {
	struct loop *l;
	int status;
};

static void *stop_thread(void *arg)
{
	struct stopper *s = arg;

	usleep(20000);
	loop_stop(s->l, s->status);
	loop_stop(s->l, s->status + 1);
	return NULL;
}

static void t_stop_from_thread(void **state)
{
	struct stopper s = { .l = loop_new(), .status = 99 };
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, stop_thread, &s), 0);
	assert_int_equal(loop_run(s.l), 99);
	pthread_join(th, NULL);
	loop_free(s.l);
}

struct ticker {
	struct loop *l;
	int fd;
	int ticks;
};

static void on_tick(void *opaque, uint32_t events)
{
	struct ticker *t = opaque;
	uint64_t n;

	assert_int_equal(read(t->fd, &n, sizeof(n)), sizeof(n));
	if (++t->ticks == 3)
		loop_stop(t->l, 1);
}

static void t_mod_and_timer(void **state)
{
	struct itimerspec its = { .it_interval.tv_nsec = 1000000, .it_value.tv_nsec = 1000000 };
	struct ticker t = { .l = loop_new() };
	struct reader r = { .l = t.l };
	int p[2];

	t.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	assert_true(t.fd >= 0);
	assert_int_equal(timerfd_settime(t.fd, 0, &its, NULL), 0);
	assert_int_equal(loop_add(t.l, t.fd, EPOLLIN, on_tick, &t), 0);

	/* a readable pipe with EPOLLIN masked off is not dispatched */
	assert_int_equal(pipe(p), 0);
	r.fd = p[0];
	assert_int_equal(loop_add(t.l, p[0], EPOLLIN, on_read, &r), 0);
	assert_int_equal(loop_mod(t.l, p[0], 0), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(loop_run(t.l), 1);
	assert_int_equal(t.ticks, 3);
	assert_int_equal(r.calls, 0);

	assert_int_equal(loop_mod(t.l, p[0], EPOLLIN), 0);
	r.stop_with = 2;
	assert_int_equal(loop_run(t.l), 2);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.got[0], 'x');

	close(p[0]);
	close(p[1]);
	close(t.fd);
	loop_free(t.l);
}

/* A handler removing an fd whose event is already fetched: it is skipped. */
static void t_del_during_dispatch(void **state)
{
	struct itimerspec its = { .it_value.tv_nsec = 20000000 };
	struct loop *l = loop_new();
	struct reader a = { .l = l }, b = { .l = l };
	struct ticker t = { .l = l, .ticks = 2 };
	int pa[2], pb[2];

	assert_int_equal(pipe(pa), 0);
	assert_int_equal(pipe(pb), 0);
	a.fd = pa[0];
	b.fd = pb[0];
	a.victim = &b;
	b.victim = &a;
	assert_int_equal(loop_add(l, pa[0], EPOLLIN, on_read, &a), 0);
	assert_int_equal(loop_add(l, pb[0], EPOLLIN, on_read, &b), 0);
	assert_int_equal(write(pa[1], "1", 1), 1);
	assert_int_equal(write(pb[1], "2", 1), 1);
	/*
	 * Both are ready in one epoll_wait. Stopping from the handler would
	 * hide a stale dispatch, so a timer stops the loop (on its 3rd tick).
	 */
	t.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	assert_int_equal(timerfd_settime(t.fd, 0, &its, NULL), 0);
	assert_int_equal(loop_add(l, t.fd, EPOLLIN, on_tick, &t), 0);
	assert_int_equal(loop_run(l), 1);
	assert_int_equal(a.calls + b.calls, 1);
	close(t.fd);
	close(pa[0]);
	close(pa[1]);
	close(pb[0]);
	close(pb[1]);
	loop_free(l);
}

/* An fd closed without loop_del() leaves a stale slot that is reused. */
static void t_closed_fd_reused(void **state)
{
	struct loop *l = loop_new();
	struct reader r = { .l = l, .stop_with = 8 };
	int p[2], q[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_add(l, p[0], EPOLLIN, on_read, &r), 0);
	close(p[0]);
	close(p[1]);
	assert_int_equal(pipe(q), 0);
	assert_int_equal(q[0], p[0]);	/* lowest free fd */
	r.fd = q[0];
	assert_int_equal(loop_add(l, q[0], EPOLLIN, on_read, &r), 0);
	assert_int_equal(write(q[1], "z", 1), 1);
	assert_int_equal(loop_run(l), 8);
	assert_int_equal(r.calls, 1);
	close(q[0]);
	close(q[1]);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_dispatch),
		cmocka_unit_test(t_stop_before_run),
		cmocka_unit_test(t_stop_from_thread),
		cmocka_unit_test(t_mod_and_timer),
		cmocka_unit_test(t_del_during_dispatch),
		cmocka_unit_test(t_closed_fd_reused),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
