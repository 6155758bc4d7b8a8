/* The epoll event loop; see loop.h. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"

/*
 * Handlers live in a table indexed by fd, so dispatch is a lookup. The epoll
 * cookie carries the fd and a generation: an event already fetched for an
 * fd that a handler of the same batch removed (and maybe re-added) is
 * skipped instead of reaching the wrong handler.
 */
struct slot {
	loop_fn fn;
	void *opaque;
	uint32_t gen;
};

struct loop {
	int epfd;
	int stopfd;		/* eventfd written by loop_stop() */
	struct slot *slots;
	unsigned nslots;
	uint32_t gen;
	uint64_t stop;		/* 0, or STOPPED | (uint32_t)status; atomic */
};

#define STOP_COOKIE UINT64_MAX
#define STOPPED (1ULL << 32)

static uint64_t cookie(int fd, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint32_t)fd;
}

struct loop *loop_new(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = STOP_COOKIE };
	struct loop *l = calloc(1, sizeof(*l));

	if (!l) {
		err_msg("event loop: out of memory");
		return NULL;
	}
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->epfd < 0 || l->stopfd < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stopfd, &ev)) {
		err_msg("event loop: %s", strerror(errno));
		loop_free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->stopfd >= 0)
		close(l->stopfd);
	free(l->slots);
	free(l);
}

static int grow(struct loop *l, int fd)
{
	unsigned n = MAX(MAX((unsigned)fd + 1, l->nslots * 2), 64u);
	struct slot *s;

	if ((unsigned)fd < l->nslots)
		return 0;
	s = realloc(l->slots, n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s + l->nslots, 0, (n - l->nslots) * sizeof(*s));
	l->slots = s;
	l->nslots = n;
	return 0;
}

/*
 * The kernel refuses a second registration of the same fd (-EEXIST). A slot
 * left over from an fd closed without loop_del() is simply reused: closing
 * removed it from the epoll set already.
 */
int loop_add(struct loop *l, int fd, uint32_t events, loop_fn fn, void *opaque)
{
	struct epoll_event ev = { .events = events };
	uint32_t gen;

	if (fd < 0 || !fn)
		return -EINVAL;
	if (grow(l, fd))
		return -ENOMEM;
	gen = ++l->gen;
	ev.data.u64 = cookie(fd, gen);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	l->slots[fd] = (struct slot){ .fn = fn, .opaque = opaque, .gen = gen };
	return 0;
}

static struct slot *slot_of(struct loop *l, int fd)
{
	if (fd < 0 || (unsigned)fd >= l->nslots || !l->slots[fd].fn)
		return NULL;
	return &l->slots[fd];
}

int loop_mod(struct loop *l, int fd, uint32_t events)
{
	struct slot *s = slot_of(l, fd);
	struct epoll_event ev = { .events = events };

	if (!s)
		return -ENOENT;
	ev.data.u64 = cookie(fd, s->gen);
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev))
		return -errno;
	return 0;
}

int loop_del(struct loop *l, int fd)
{
	struct slot *s = slot_of(l, fd);

	if (!s)
		return -ENOENT;
	/* EBADF/ENOENT: the fd was closed first, which removed it already. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(s, 0, sizeof(*s));
	return 0;
}

static void drain(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
}

int loop_run(struct loop *l)
{
	struct epoll_event ev[64];
	uint64_t st;
	int n;

	for (;;) {
		st = __atomic_load_n(&l->stop, __ATOMIC_ACQUIRE);
		if (st) {
			/* Rearm, so the loop can be run again (tests, reset). */
			__atomic_store_n(&l->stop, 0, __ATOMIC_RELEASE);
			drain(l->stopfd);
			return (int)(uint32_t)st;
		}
		n = epoll_wait(l->epfd, ev, ARRAY_SIZE(ev), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_msg("event loop: epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			uint64_t c = ev[i].data.u64;
			int fd = (int)(uint32_t)c;
			struct slot *s;

			if (c == STOP_COOKIE) {
				drain(l->stopfd);
			} else {
				s = slot_of(l, fd);
				if (s && s->gen == (uint32_t)(c >> 32))
					s->fn(s->opaque, ev[i].events);
			}
			/* Stop promptly; pending events stay level-triggered. */
			if (__atomic_load_n(&l->stop, __ATOMIC_RELAXED))
				break;
		}
	}
}

void loop_stop(struct loop *l, int status)
{
	uint64_t none = 0, v = 1;
	int saved = errno;

	/* Only an atomic and write(): this runs in signal handlers too. */
	__atomic_compare_exchange_n(&l->stop, &none, STOPPED | (uint32_t)status,
				    false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	if (write(l->stopfd, &v, sizeof(v)) < 0) {
		/* Counter full: the loop has a wakeup pending anyway. */
	}
	errno = saved;
}
