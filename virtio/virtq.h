/*
 * Virtqueues, split and packed (virtio 1.2 section 2.7/2.8), with indirect
 * descriptors and event suppression (EVENT_IDX). Every address, length,
 * index and chain read from guest memory is checked here, through gmem,
 * before a device sees it: devices get host iovecs that are known to lie
 * inside guest RAM, with the right direction.
 */
#ifndef EMBER_VIRTQ_H
#define EMBER_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct gmem;

#define VIRTQ_MAX_SIZE		32768
/* Longest chain a device accepts (direct + indirect descriptors). */
#define VIRTQ_MAX_IOV		256

struct virtq {
	/* Set up by the driver through the transport. */
	uint16_t size;			/* entries; power of 2 for split rings */
	bool enabled;			/* queue_enable / QueueReady */
	uint64_t desc_gpa;		/* descriptor area */
	uint64_t driver_gpa;		/* avail ring / driver event suppression */
	uint64_t device_gpa;		/* used ring / device event suppression */
	uint16_t msix_vector;

	/* Negotiated features, fixed at DRIVER_OK. */
	bool packed, event_idx, indirect;

	/* Device-side ring state. */
	struct gmem *mem;
	uint16_t last_avail;		/* split: next avail idx; packed: next desc */
	uint16_t used_idx;		/* split: next used idx; packed: next used slot */
	bool avail_wrap, used_wrap;	/* packed ring wrap counters */
	uint16_t signalled_used;	/* EVENT_IDX: used idx at the last interrupt */
	bool signalled_valid;
	bool broken;			/* a malformed chain was seen: stop */
	char why[96];			/* what was malformed, for the user */
	unsigned index;

	int kick_fd;			/* ioeventfd, -1 if none */
	int call_fd;			/* irqfd, -1 if none */
};

struct virtq_elem {
	uint16_t id;			/* split: head index; packed: buffer id */
	uint16_t ndescs;		/* descriptors used (packed ring advance) */
	unsigned out_num;		/* device-readable segments, first */
	unsigned in_num;		/* device-writable segments, after them */
	uint32_t out_len, in_len;	/* total bytes of each direction */
	struct iovec iov[VIRTQ_MAX_IOV];
};

/*
 * Checks the ring addresses and size against guest RAM (alignment, power
 * of two for split, all ring bytes inside RAM) and resets the ring state.
 * Returns 0 or -EINVAL (the caller marks the device NEEDS_RESET).
 */
int virtq_start(struct virtq *vq, struct gmem *mem, bool packed, bool event_idx,
		bool indirect);
void virtq_reset(struct virtq *vq);
/*
 * Takes the next available chain. 1: @e filled; 0: nothing available;
 * -EIO: malformed (address outside RAM, length that wraps, loop or chain
 * longer than the queue, a device-readable descriptor after a writable one,
 * nested indirect, impossible avail->idx jump): the queue is marked broken
 * and vq->why says what was wrong.
 */
int virtq_pop(struct virtq *vq, struct virtq_elem *e);
/* Returns chain @e to the driver with @len bytes written. */
void virtq_push(struct virtq *vq, const struct virtq_elem *e, uint32_t len);
/* Does the driver want an interrupt for what was pushed since the last one? */
bool virtq_should_notify(struct virtq *vq);
/*
 * A split ring's used index as it is in guest RAM (another process, a
 * vhost-user back end, served the ring): 0, or -EFAULT when the ring is not
 * in RAM, -EINVAL for a packed or unset ring.
 */
int virtq_used_idx_in_ram(const struct virtq *vq, struct gmem *mem, uint16_t *idx);
/* Event suppression for the device side: ask for kicks or not. */
void virtq_set_notification(struct virtq *vq, bool enable);

#endif
