/* io_uring rings served on the event loop (uring.h). */
#include <errno.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "backends/uring.h"

static void on_efd(void *opaque, uint32_t events)
{
	struct uring *u = opaque;
	uint64_t v;

	if (read(u->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: completions were reaped already; look anyway. */
	}
	u->fn(u->opaque);
}

int uring_init(struct uring *u, unsigned depth, struct loop *loop,
	       void (*fn)(void *opaque), void *opaque)
{
	int ret;

	u->ok = false;
	u->efd = -1;
	u->loop = NULL;
	u->fn = fn;
	u->opaque = opaque;
	ret = io_uring_queue_init(depth, &u->ring, 0);
	if (ret)
		return ret;
	u->ok = true;
	u->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->efd < 0)
		return -errno;
	ret = io_uring_register_eventfd(&u->ring, u->efd);
	if (ret)
		return ret;
	ret = loop_add(loop, u->efd, EPOLLIN, on_efd, u);
	if (!ret)
		u->loop = loop;
	return ret;
}

void uring_unwatch(struct uring *u)
{
	if (u->loop)
		loop_del(u->loop, u->efd);
	u->loop = NULL;
}

void uring_exit(struct uring *u)
{
	uring_unwatch(u);
	if (u->ok)
		io_uring_queue_exit(&u->ring);
	if (u->efd >= 0)
		close(u->efd);
	u->ok = false;
	u->efd = -1;
}

int uring_submit(struct uring *u)
{
	int ret;

	do
		ret = io_uring_submit(&u->ring);
	while (ret == -EINTR);
	/* -EAGAIN/-EBUSY: the SQEs stay queued for the next submit. */
	return ret < 0 && ret != -EAGAIN && ret != -EBUSY ? ret : 0;
}

struct io_uring_sqe *uring_sqe(struct uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) {
		uring_submit(u);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}
