/*
 * A request queue's pump, shared by the devices that pop chains into slots
 * pre-allocated per queue and complete them later from the block layer
 * (virtio-blk, virtio-scsi): popping with kicks off, the stall when every
 * slot is in flight, one notification per batch. Loop thread, under
 * vdev->lock.
 */
#ifndef EMBER_VIRTIO_REQQ_H
#define EMBER_VIRTIO_REQQ_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtq.h"

struct virtio_dev;

/* The start of a device's slot. */
struct reqq_slot {
	struct reqq_slot *next;		/* free list */
	struct virtq_elem elem;
};

struct reqq {
	struct virtio_dev *vdev;
	unsigned index;			/* the virtqueue */
	struct reqq_slot *free;
	bool stalled;			/* every slot in flight: popping paused */
	bool pushed;			/* used entries since the last notify */
	/* A popped chain in @s: answered now (reqq_push) or handed on. */
	void (*handle)(struct reqq *q, struct reqq_slot *s);
};

void reqq_slot_free(struct reqq *q, struct reqq_slot *s);
/* Returns @s's chain to the driver with @len bytes written, and frees @s. */
void reqq_push(struct reqq *q, struct reqq_slot *s, uint32_t len);
/*
 * Handles chains until the ring is empty, no slot is free (stalled: call
 * again after a completion) or the ring is broken (DEVICE_NEEDS_RESET).
 */
void reqq_process(struct reqq *q);
/* The used-buffer notification for what was pushed since the last one. */
void reqq_notify(struct reqq *q);

#endif
