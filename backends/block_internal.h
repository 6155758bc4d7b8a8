/* Shared by the block layer's files; front ends use block.h only. */
#ifndef EMBER_BLOCK_INTERNAL_H
#define EMBER_BLOCK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "backends/block.h"
#include "backends/block_batch.h"
#include "backends/object.h"
#include "lib/keyval.h"
#include "lib/props.h"
#include "lib/ratelimit.h"

struct blk_queue;
struct blk_io;
struct qcow2;

/* throttling.*: the -total limits and the -read / -write ones. */
enum { BLK_TH_TOTAL, BLK_TH_READ, BLK_TH_WRITE, BLK_TH_N };

struct blk {
	struct object obj;		/* obj.id: the node-name; obj.owner: who claimed it */
	const char *driver;		/* "file", "raw" or "qcow2" */
	struct blk *file;		/* raw, qcow2: the node it stacks over */
	struct qcow2 *qcow2;		/* qcow2 nodes: the open image */
	struct blk *backing;		/* qcow2 backing=NODE: claimed by this node */
	bool ro;
	bool no_flush;			/* cache.no-flush=on: flushes do nothing */
	bool write_through;		/* blk_set_write_through: RWF_DSYNC writes */
	struct loop *loop;

	/* file nodes */
	char *filename;
	int fd;
	uint64_t size;
	bool direct;
	bool discard;			/* discard=unmap */

	struct ratelimit_cfg throttle_cfg[BLK_TH_N];	/* throttling.* of this node */

	/* Set by blk_attach on the node a front end claimed. */
	struct blk_queue *queues;
	unsigned nqueues;
	blk_batch_fn batch_end;
	void *batch_opaque;
	/*
	 * The throttle of the node's stack, and the requests it holds back in
	 * arrival order (all queues), numbered from @tseq; those numbered below
	 * @tdrop are to be dropped (set by blk_drop_waiting on any thread).
	 */
	struct ratelimit throttle[BLK_TH_N];
	struct blk_io *thead, *ttail;
	uint64_t tseq, tdrop;
};

/* discard=unmap|on: 1, ignore|off: 0, else -EINVAL after a message. */
int blk_parse_discard(const char *s, const char *owner);

/* block_file.c: opens the image of a file node from its options. */
extern const struct prop blk_file_props[];
int blk_file_open(struct blk *b, struct keyval *kv, const char *owner);
void blk_file_close(struct blk *b);

/* block_throttle.c: takes the throttling.* keys out of @kv into @cfg. */
int blk_throttle_parse(struct keyval *kv, struct ratelimit_cfg cfg[BLK_TH_N],
		       const char *owner);
void blk_throttle_help(FILE *f);

/* block_io.c: the io_uring rings of an attached node. */
int blk_io_start(struct blk *b, unsigned queues, unsigned depth, const char *owner);
/* Waits for (or cancels) what is in flight; @callbacks: still call done. */
void blk_io_stop(struct blk *b, bool callbacks);

/* block_qcow2.c: the qcow2 format, I/O done in place on the calling thread. */
#define QCOW2_MAX_CHAIN	16	/* backing files below an image, at most */
enum qcow2_backing {
	QCOW2_BACKING_HEADER,	/* the one the header names, if any */
	QCOW2_BACKING_NONE,	/* backing=null */
	QCOW2_BACKING_NODE,	/* backing=NODE */
};
/* The backing image of QCOW2_BACKING_NODE: a qcow2 one, or raw bytes of @fd. */
struct qcow2_backing_src {
	enum qcow2_backing mode;
	struct qcow2 *q;
	int fd;
	uint64_t size;
};
/* @fd stays the caller's; messages name @name and @owner. */
int qcow2_open(struct qcow2 **out, int fd, const char *name, bool ro, bool no_flush,
	       const struct qcow2_backing_src *backing, const char *owner);
void qcow2_close(struct qcow2 *q);
uint64_t qcow2_size(const struct qcow2 *q);
/* 0 or -errno (-EIO after a message for a corrupt image). */
int qcow2_read(struct qcow2 *q, void *buf, uint64_t len, uint64_t off);
int qcow2_write(struct qcow2 *q, const void *buf, uint64_t len, uint64_t off);
/*
 * Whole clusters: DISCARD frees them (discard=unmap only), WRITE_ZEROES
 * gives them the zero flag (version 3), freeing them if @unmap and
 * discard=unmap; parts of clusters get zeroes written (WRITE_ZEROES only).
 */
void qcow2_set_discard(struct qcow2 *q, bool unmap);
int qcow2_discard(struct qcow2 *q, uint64_t len, uint64_t off);
int qcow2_write_zeroes(struct qcow2 *q, uint64_t len, uint64_t off, bool unmap);
/* Tests: called after a discard's L2 entries are synced; nonzero stops it. */
extern int (*qcow2_test_fault)(void);
/* A READ, WRITE, WRITE_ZEROES or DISCARD of block.h: bytes or -errno. */
int qcow2_request(struct qcow2 *q, const struct blk_req *r, bool write_through);

/* The qcow2 node of @b's stack, or NULL. */
static inline struct qcow2 *blk_format(const struct blk *b)
{
	for (; b; b = b->file)
		if (b->qcow2)
			return b->qcow2;
	return NULL;
}

/* cache.no-flush=on on @b or a node below it: QEMU's cache=unsafe. */
static inline bool blk_stack_no_flush(const struct blk *b)
{
	for (; b; b = b->file)
		if (b->no_flush)
			return true;
	return false;
}

/* The file node under @b (itself for a file node). */
static inline struct blk *blk_bottom(const struct blk *b)
{
	while (b->file)
		b = b->file;
	return (struct blk *)b;
}

#endif
