/*
 * Block back ends (-blockdev), QEMU's model: a `file` node opens an image
 * (protocol layer), a `raw` node stacks over it (format layer); a front end
 * names the top node with drive=. Requests go through io_uring; the ring's
 * completion eventfd is watched by the event loop, and each completion calls
 * the request's callback there. Nothing is allocated per request.
 */
#ifndef EMBER_BLOCK_H
#define EMBER_BLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct loop;
struct blk;

enum blk_op {
	BLK_READ,
	BLK_WRITE,
	BLK_FLUSH,		/* completes when earlier writes are durable */
	BLK_DISCARD,
	BLK_WRITE_ZEROES,
};

struct blk_req {
	enum blk_op op;
	uint64_t offset;		/* bytes */
	uint64_t len;			/* bytes, for DISCARD / WRITE_ZEROES */
	const struct iovec *iov;	/* READ / WRITE */
	unsigned iovcnt;
	bool unmap;			/* WRITE_ZEROES may deallocate */
	/* Called on the loop thread: bytes transferred or -errno. */
	void (*done)(struct blk_req *r, int result);
	void *opaque;
};

/* "-blockdev driver=file|raw,node-name=N,..." is object_create(OBJ_BLOCKDEV, ...). */
/* The top node called @node_name, or NULL. */
struct blk *blk_find(const char *node_name);

/* What QMP's query-block and query-named-block-nodes say of a node. */
struct blk_info {
	const char *node_name;	/* NULL: anonymous (file.driver=...) */
	const char *driver;	/* "file", "raw" */
	const char *filename;	/* the image (a raw node's: its file node's) */
	const char *child;	/* raw: the node-name of the node below, or NULL */
	bool ro, direct, claimed;	/* claimed: a front end uses it */
	bool no_flush, writeback;	/* QEMU's cache.no-flush and cache.writeback */
	uint64_t size;		/* bytes */
};
/* The node after @prev (NULL: the first), oldest first, and its @info; NULL after the last. */
struct blk *blk_next_info(const struct blk *prev, struct blk_info *info);
/*
 * A front end claims a node (only one may); @queues io_uring rings of
 * @depth entries each are created for it.
 */
int blk_attach(struct blk *b, const char *owner, unsigned queues, unsigned depth);
void blk_detach(struct blk *b);
uint64_t blk_size(const struct blk *b);		/* bytes */
bool blk_read_only(const struct blk *b);
bool blk_discard_supported(const struct blk *b);
/*
 * A front end without a volatile write cache (QEMU's write-cache=off,
 * -drive cache=writethrough|directsync): each write of @b is made durable
 * before it completes (RWF_DSYNC). Before the first request.
 */
void blk_set_write_through(struct blk *b, bool on);
const char *blk_node_name(const struct blk *b);
/*
 * Queues a request on ring @queue (submitted by blk_flush_queue, or when
 * the ring is full). -EROFS for writes to a read-only node, -EINVAL past
 * the end; otherwise 0 and @r->done is called later.
 */
int blk_submit(struct blk *b, unsigned queue, struct blk_req *r);
/* Submits what blk_submit queued (one io_uring_enter per batch). */
void blk_flush_queue(struct blk *b, unsigned queue);
/*
 * For a front end's reset: requests still held back by throttling.* are
 * completed with -ECANCELED without touching the image, soon after from
 * the loop (never from inside this call). Callable from any thread while
 * the front end submits nothing.
 */
void blk_drop_waiting(struct blk *b);
/*
 * For a machine reset, on the loop thread, after the front end's reset:
 * what blk_drop_waiting marked completes, and every request on the rings
 * finishes (its callback runs), so no read lands in guest RAM later.
 */
void blk_drain(struct blk *b);

#endif
