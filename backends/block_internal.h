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

/* throttling.*: the -total limits and the -read / -write ones. */
enum { BLK_TH_TOTAL, BLK_TH_READ, BLK_TH_WRITE, BLK_TH_N };

struct blk {
	struct object obj;		/* obj.id: the node-name; obj.owner: who claimed it */
	const char *driver;		/* "file" or "raw" */
	struct blk *file;		/* raw: the node it stacks over */
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
