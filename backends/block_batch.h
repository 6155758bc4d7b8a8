/*
 * Completion batches of a block node, for front ends that raise one
 * interrupt per batch rather than one per request (virtio-blk).
 */
#ifndef EMBER_BLOCK_BATCH_H
#define EMBER_BLOCK_BATCH_H

struct blk;

typedef void (*blk_batch_fn)(void *opaque, unsigned queue);

/*
 * @fn runs on the loop thread after the done callbacks of one batch of
 * completions on ring @queue. The node must be attached; NULL turns it off.
 */
void blk_set_batch_end(struct blk *b, blk_batch_fn fn, void *opaque);

#endif
