/*
 * The data path: one io_uring per queue of the front end, its completion
 * eventfd on the event loop. Each ring has a pool of as many request
 * trackers as its depth, so nothing is allocated per request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "backends/block_internal.h"
#include "backends/uring.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"

/* What a request is doing on the ring. */
enum io_stage {
	IO_RW,			/* readv/writev, maybe resumed after a short one */
	IO_PUNCH,		/* WRITE_ZEROES by punching a hole */
	IO_ZERO_RANGE,		/* WRITE_ZEROES by FALLOC_FL_ZERO_RANGE */
	IO_ZERO_WRITE,		/* WRITE_ZEROES by writing zeroes */
	IO_OTHER,		/* fsync, discard, nop: one step */
	IO_FORMAT,		/* qcow2: done in place at prep, completed by a nop */
};

struct blk_io {
	struct blk_req *r;
	struct blk_queue *q;
	enum io_stage stage;
	uint64_t total;		/* bytes the request covers */
	uint64_t done;		/* bytes transferred so far */
	uint64_t seq;		/* place in the throttle queue */
	int res;		/* IO_FORMAT: the result */
	struct blk_io *next;	/* free list, backlog, or throttle queue */
};

struct blk_queue {
	struct blk *b;
	struct blk *file;
	unsigned index;
	struct uring u;
	bool stopping;
	struct blk_io *ios, *free;
	struct blk_io *backlog, *backlog_tail;	/* waiting for a free SQE */
	unsigned inflight;
};

/* Zeroes to write when the file system cannot fallocate them. */
#define ZERO_CHUNK	(64 * 1024)
#define ZERO_IOVS	16
static uint8_t zero_buf[ZERO_CHUNK] __attribute__((aligned(4096)));
static struct iovec zero_iov[ZERO_IOVS];

static uint64_t iov_total(const struct iovec *iov, unsigned n, bool *wraps)
{
	uint64_t t = 0;

	*wraps = false;
	for (unsigned i = 0; i < n; i++) {
		if (t + iov[i].iov_len < t)
			*wraps = true;
		t += iov[i].iov_len;
	}
	return t;
}

/* Fills @sqe for the next step of @io. */
static void prep(struct blk_queue *q, struct blk_io *io, struct io_uring_sqe *sqe)
{
	struct blk_req *r = io->r;
	int fd = q->file->fd;
	uint64_t off = r->offset + io->done, rest = io->total - io->done;
	unsigned k = 0;
	size_t skip = io->done;

	switch (io->stage) {
	case IO_RW:
		/* Resume at the iovec where a short transfer stopped. */
		while (k < r->iovcnt && skip >= r->iov[k].iov_len)
			skip -= r->iov[k++].iov_len;
		if (skip && r->op == BLK_READ)
			io_uring_prep_read(sqe, fd, (char *)r->iov[k].iov_base + skip,
					   r->iov[k].iov_len - skip, off);
		else if (skip)
			io_uring_prep_write(sqe, fd, (char *)r->iov[k].iov_base + skip,
					    r->iov[k].iov_len - skip, off);
		else if (r->op == BLK_READ)
			io_uring_prep_readv(sqe, fd, r->iov + k, r->iovcnt - k, off);
		else
			io_uring_prep_writev(sqe, fd, r->iov + k, r->iovcnt - k, off);
		/* No volatile write cache: QEMU's FUA writes */
		if (r->op == BLK_WRITE && q->b->write_through)
			sqe->rw_flags |= RWF_DSYNC;
		break;
	case IO_PUNCH:
		io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					r->offset, r->len);
		break;
	case IO_ZERO_RANGE:
		io_uring_prep_fallocate(sqe, fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
					r->offset, r->len);
		break;
	case IO_ZERO_WRITE:
		if (rest >= ZERO_CHUNK)
			io_uring_prep_writev(sqe, fd, zero_iov,
					     MIN(rest / ZERO_CHUNK, (uint64_t)ZERO_IOVS), off);
		else
			io_uring_prep_write(sqe, fd, zero_buf, rest, off);
		break;
	case IO_FORMAT:
		io->res = qcow2_request(blk_format(q->b), r, q->b->write_through);
		io_uring_prep_nop(sqe);
		break;
	case IO_OTHER:
		if (r->op == BLK_FLUSH && !q->b->ro && !blk_stack_no_flush(q->b))
			io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		else if (r->op == BLK_DISCARD && q->b->discard)
			io_uring_prep_fallocate(sqe, fd,
						FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						r->offset, r->len);
		else
			io_uring_prep_nop(sqe);	/* nothing to do, but complete later */
		break;
	}
	io_uring_sqe_set_data(sqe, io);
}

static void submit(struct blk_queue *q)
{
	int ret = uring_submit(&q->u);

	if (ret < 0)
		warn_once("block node '%s': io_uring_submit: %s", q->b->obj.id,
			  strerror(-ret));
}

static struct io_uring_sqe *get_sqe(struct blk_queue *q)
{
	return uring_sqe(&q->u);
}

/* Puts @io on the ring, or at the back of the backlog: never dropped. */
static void queue_io(struct blk_queue *q, struct blk_io *io)
{
	struct io_uring_sqe *sqe = q->backlog ? NULL : get_sqe(q);

	if (sqe) {
		prep(q, io, sqe);
		return;
	}
	io->next = NULL;
	if (q->backlog_tail)
		q->backlog_tail->next = io;
	else
		q->backlog = io;
	q->backlog_tail = io;
}

static void drain_backlog(struct blk_queue *q)
{
	struct io_uring_sqe *sqe;

	while (q->backlog && (sqe = get_sqe(q))) {
		struct blk_io *io = q->backlog;

		q->backlog = io->next;
		if (!q->backlog)
			q->backlog_tail = NULL;
		prep(q, io, sqe);
	}
}

static void finish(struct blk_queue *q, struct blk_io *io, int res, bool callbacks)
{
	struct blk_req *r = io->r;

	io->r = NULL;
	io->next = q->free;
	q->free = io;
	q->inflight--;
	if (callbacks)
		r->done(r, res);
}

/* The next step of @io; none once the ring is being torn down. */
static void next_step(struct blk_queue *q, struct blk_io *io, bool callbacks)
{
	if (q->stopping)
		finish(q, io, -ECANCELED, callbacks);
	else
		queue_io(q, io);
}

/* One completion: the request is done, or its next step is queued. */
static void complete(struct blk_queue *q, struct blk_io *io, int res, bool callbacks)
{
	struct blk_req *r = io->r;

	switch (io->stage) {
	case IO_RW:
	case IO_ZERO_WRITE:
		if (res == 0)
			res = -EIO;	/* the file shrank under us */
		if (res < 0)
			break;
		io->done += res;
		if (io->done < io->total) {
			next_step(q, io, callbacks);
			return;
		}
		res = io->stage == IO_RW ? (int)MIN(io->total, (uint64_t)INT32_MAX) : 0;
		break;
	case IO_PUNCH:
	case IO_ZERO_RANGE:
		/* Not every file system (or device) can; fall back step by step. */
		if (res == -EOPNOTSUPP || res == -EINVAL) {
			io->stage = io->stage == IO_PUNCH ? IO_ZERO_RANGE : IO_ZERO_WRITE;
			next_step(q, io, callbacks);
			return;
		}
		break;
	case IO_FORMAT:
		res = io->res;
		break;
	case IO_OTHER:
		/* Discard is a hint: a file system that cannot is not an error. */
		if (r->op == BLK_DISCARD && res == -EOPNOTSUPP)
			res = 0;
		break;
	}
	finish(q, io, res < 0 || r->op == BLK_READ || r->op == BLK_WRITE ? res : 0,
	       callbacks);
}

/* Handles what completed; returns how many requests finished or moved on. */
static unsigned reap(struct blk_queue *q, bool callbacks)
{
	struct io_uring_cqe *cqe;
	unsigned n = 0;

	while (io_uring_peek_cqe(&q->u.ring, &cqe) == 0) {
		struct blk_io *io = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&q->u.ring, cqe);
		if (!io)
			continue;	/* a cancel request's own completion */
		complete(q, io, res, callbacks);
		n++;
	}
	return n;
}

static void on_completion(void *opaque)
{
	struct blk_queue *q = opaque;
	struct blk *b = q->b;

	if (!reap(q, true))
		return;
	/* Next steps of short transfers, and what the callbacks submitted. */
	drain_backlog(q);
	if (io_uring_sq_ready(&q->u.ring))
		submit(q);
	if (b->batch_end)
		b->batch_end(b->batch_opaque, q->index);
}

/* ---- throttling (the limits come from block_throttle.c) ---- */

/* QEMU throttles reads and writes; flushes and discards only keep their place. */
static bool throttled(const struct blk_req *r)
{
	return r->op == BLK_READ || r->op == BLK_WRITE;
}

/* May @io start? Then it is charged to the node's limits. */
static bool throttle_take(struct blk *b, const struct blk_io *io)
{
	struct ratelimit *all = &b->throttle[BLK_TH_TOTAL], *dir;

	if (!throttled(io->r))
		return true;
	dir = &b->throttle[io->r->op == BLK_READ ? BLK_TH_READ : BLK_TH_WRITE];
	if (!ratelimit_ready(all) || !ratelimit_ready(dir))
		return false;
	ratelimit_charge(all, io->total);
	ratelimit_charge(dir, io->total);
	return true;
}

static void throttle_push(struct blk *b, struct blk_io *io)
{
	io->next = NULL;
	io->seq = b->tseq;
	__atomic_store_n(&b->tseq, b->tseq + 1, __ATOMIC_RELEASE);
	if (b->ttail)
		b->ttail->next = io;
	else
		b->thead = io;
	b->ttail = io;
}

static struct blk_io *throttle_pop(struct blk *b)
{
	struct blk_io *io = b->thead;

	if (io) {
		b->thead = io->next;
		if (!b->thead)
			b->ttail = NULL;
	}
	return io;
}

/* The throttle's timer: start what the limits allow now, in order. */
static void throttle_resume(void *opaque)
{
	struct blk *b = opaque;
	uint64_t drop = __atomic_load_n(&b->tdrop, __ATOMIC_ACQUIRE);
	struct blk_io *io;
	bool dropped = false;

	while ((io = b->thead)) {
		bool stale = io->seq < drop;

		if (!stale && !throttle_take(b, io))
			break;
		throttle_pop(b);
		if (stale) {
			finish(io->q, io, -ECANCELED, true);
			dropped = true;
		} else {
			queue_io(io->q, io);
		}
	}
	for (unsigned i = 0; i < b->nqueues; i++) {
		blk_flush_queue(b, i);
		/* The front end may be waiting for free slots to go on. */
		if (dropped && b->batch_end)
			b->batch_end(b->batch_opaque, i);
	}
}

/*
 * Runs on the thread of the front end's reset (a vCPU's, for virtio): it
 * only marks what waits now and has the loop's timer fire at once.
 */
void blk_drop_waiting(struct blk *b)
{
	__atomic_store_n(&b->tdrop, __atomic_load_n(&b->tseq, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	/* Any limiter's timer runs the same resume. */
	for (unsigned i = 0; i < BLK_TH_N; i++) {
		if (ratelimit_active(&b->throttle[i])) {
			ratelimit_kick(&b->throttle[i]);
			break;
		}
	}
}

static bool cfg_set(const struct ratelimit_cfg *c)
{
	for (unsigned i = 0; i < BLK_TH_N; i++)
		if (c[i].bps || c[i].ops)
			return true;
	return false;
}

static const struct ratelimit_cfg *throttle_cfg(const struct blk *b, const char *owner)
{
	static const struct ratelimit_cfg none[BLK_TH_N];
	const struct blk *set = NULL;

	for (const struct blk *n = b; n; n = n->file) {
		if (!cfg_set(n->throttle_cfg))
			continue;
		if (set) {
			err_msg("%s: drive '%s': throttling.* is set on node '%s' and on "
				"node '%s' below it: give it once", owner, b->obj.id,
				set->obj.id, n->obj.id);
			return NULL;
		}
		set = n;
	}
	return set ? set->throttle_cfg : none;
}

static void throttle_stop(struct blk *b)
{
	for (unsigned i = 0; i < BLK_TH_N; i++)
		ratelimit_destroy(&b->throttle[i]);
}

static int throttle_start(struct blk *b, const char *owner)
{
	const struct ratelimit_cfg *cfg = throttle_cfg(b, owner);
	int ret = 0;

	if (!cfg)
		return -EINVAL;
	for (unsigned i = 0; i < BLK_TH_N; i++)
		b->throttle[i].timer_fd = -1;
	for (unsigned i = 0; i < BLK_TH_N && !ret; i++)
		ret = ratelimit_init(&b->throttle[i], &cfg[i], b->loop, throttle_resume, b,
				     owner);
	if (ret)
		throttle_stop(b);
	return ret;
}

int blk_submit(struct blk *b, unsigned queue, struct blk_req *r)
{
	uint64_t size = blk_size(b);
	struct blk_queue *q;
	struct blk_io *io;
	uint64_t len = r->len;
	bool wraps = false;

	if (queue >= b->nqueues)
		return -EINVAL;
	q = &b->queues[queue];
	if (q->stopping)
		return -ECANCELED;
	if (r->op == BLK_READ || r->op == BLK_WRITE)
		len = iov_total(r->iov, r->iovcnt, &wraps);
	else if (r->op != BLK_FLUSH && r->op != BLK_DISCARD && r->op != BLK_WRITE_ZEROES)
		return -EINVAL;
	if (b->ro && r->op != BLK_READ && r->op != BLK_FLUSH)
		return -EROFS;
	if (r->op != BLK_FLUSH &&
	    (wraps || r->offset > size || len > size - r->offset))
		return -EINVAL;
	/* A front end keeps at most @depth requests in flight per queue. */
	io = q->free;
	if (!io)
		return -EAGAIN;
	q->free = io->next;
	q->inflight++;
	*io = (struct blk_io){ .r = r, .q = q, .total = len, .stage = IO_OTHER };
	if (r->op == BLK_READ || r->op == BLK_WRITE)
		io->stage = IO_RW;
	else if (r->op == BLK_WRITE_ZEROES)
		io->stage = r->unmap && b->discard ? IO_PUNCH : IO_ZERO_RANGE;
	/* qcow2 frees the clusters of a discard itself (discard=unmap). */
	if (blk_format(b) && r->op != BLK_FLUSH)
		io->stage = IO_FORMAT;
	/* Behind waiting requests even if not throttled itself: order is kept. */
	if (b->thead || !throttle_take(b, io))
		throttle_push(b, io);
	else
		queue_io(q, io);
	return 0;
}

void blk_flush_queue(struct blk *b, unsigned queue)
{
	struct blk_queue *q;

	if (queue >= b->nqueues)
		return;
	q = &b->queues[queue];
	drain_backlog(q);
	if (io_uring_sq_ready(&q->u.ring))
		submit(q);
}

void blk_drain(struct blk *b)
{
	struct io_uring_cqe *cqe;

	/* What blk_drop_waiting marked goes now, not at the timer. */
	throttle_resume(b);
	for (unsigned i = 0; i < b->nqueues; i++) {
		struct blk_queue *q = &b->queues[i];

		while (q->u.ok && q->inflight) {
			int ret;

			blk_flush_queue(b, i);
			ret = io_uring_wait_cqe(&q->u.ring, &cqe);
			if (ret == -EINTR)
				continue;
			if (ret < 0) {
				warn_msg("block node '%s': cannot wait for %u requests: %s",
					 b->obj.id, q->inflight, strerror(-ret));
				break;
			}
			reap(q, true);
		}
	}
}

static void queue_stop(struct blk_queue *q, bool callbacks)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct blk_io *io;

	q->stopping = true;
	uring_unwatch(&q->u);
	/* Never started: complete without I/O. */
	while ((io = q->backlog)) {
		q->backlog = io->next;
		finish(q, io, -ECANCELED, callbacks);
	}
	q->backlog_tail = NULL;
	if (q->u.ok && q->inflight) {
		/* Reads and writes of files run to their end; the rest may go. */
		sqe = get_sqe(q);
		if (sqe) {
			io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
			io_uring_sqe_set_data(sqe, NULL);
		}
		submit(q);
		while (q->inflight) {
			int ret = io_uring_wait_cqe(&q->u.ring, &cqe);

			if (ret == -EINTR)
				continue;
			if (ret < 0) {
				warn_msg("block node '%s': %u requests lost at exit: %s",
					 q->b->obj.id, q->inflight, strerror(-ret));
				break;
			}
			reap(q, callbacks);
		}
	}
	uring_exit(&q->u);
	free(q->ios);
}

void blk_io_stop(struct blk *b, bool callbacks)
{
	struct blk_io *io;

	/* Never started: complete without I/O, before the rings go. */
	while ((io = throttle_pop(b)))
		finish(io->q, io, -ECANCELED, callbacks);
	throttle_stop(b);
	for (unsigned i = 0; i < b->nqueues; i++)
		queue_stop(&b->queues[i], callbacks);
	free(b->queues);
	b->queues = NULL;
	b->nqueues = 0;
}

static int queue_start(struct blk *b, struct blk_queue *q, unsigned index,
		       unsigned depth)
{
	q->b = b;
	q->file = blk_bottom(b);
	q->index = index;
	q->u.efd = -1;
	q->ios = calloc(depth, sizeof(*q->ios));
	if (!q->ios)
		return -ENOMEM;
	for (unsigned i = depth; i-- > 0;) {
		q->ios[i].next = q->free;
		q->free = &q->ios[i];
	}
	return uring_init(&q->u, depth, b->loop, on_completion, q);
}

int blk_io_start(struct blk *b, unsigned queues, unsigned depth, const char *owner)
{
	int ret = 0;

	if (!zero_iov[0].iov_base)
		for (unsigned i = 0; i < ZERO_IOVS; i++)
			zero_iov[i] = (struct iovec){ zero_buf, ZERO_CHUNK };
	if (!b->loop) {
		err_msg("%s: drive '%s': no event loop", owner, b->obj.id);
		return -EINVAL;
	}
	ret = throttle_start(b, owner);
	if (ret)
		return ret;
	b->queues = calloc(queues, sizeof(*b->queues));
	if (!b->queues) {
		throttle_stop(b);
		err_msg("%s: out of memory", owner);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < queues && !ret; i++) {
		b->nqueues = i + 1;
		ret = queue_start(b, &b->queues[i], i, depth);
	}
	if (ret) {
		err_msg("%s: drive '%s': cannot set up io_uring: %s", owner, b->obj.id,
			strerror(-ret));
		blk_io_stop(b, false);
	}
	return ret;
}
