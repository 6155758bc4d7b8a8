/*
 * Shared by the device fuzzers that drive one split or packed ring from a
 * RAM image: the first input byte picks the ring layout, the rest after the
 * target's header is copied into guest RAM, so descriptors, avail and used
 * ring all come from the fuzzer. RAM is a heap block of exactly its size so
 * ASan sees any access outside it.
 */
#ifndef EMBER_FUZZ_RING_H
#define EMBER_FUZZ_RING_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/gmem.h"
#include "lib/log.h"
#include "virtio/virtq.h"

#define RING_GPA	0x1000ull
#define RING_RAM_SIZE	0x10000ull

enum { RING_PACKED = 1, RING_EVENT_IDX = 2, RING_INDIRECT = 4 };

static uint8_t *ring_ram;
static struct gmem ring_mem;

/*
 * Sets vq up from flags (RING_* bits) and qsize_byte (sizes 1..256: a split
 * ring of 256 fits in RAM with room for buffers), with the rings at the start
 * of RAM so that the image fills them in. Returns 0, or -1 when the ring
 * cannot start (the input is then of no use).
 */
static int ring_setup(struct virtq *vq, uint8_t flags, uint8_t qsize_byte,
		      const uint8_t *image, size_t len)
{
	uint16_t qsize = 1u << (qsize_byte % 9);
	uint64_t avail = RING_GPA + 16ull * qsize;

	if (!ring_ram) {
		log_set_quiet(1);
		ring_ram = malloc(RING_RAM_SIZE);
		if (!ring_ram || gmem_add(&ring_mem, RING_GPA, RING_RAM_SIZE, ring_ram, -1, 0))
			abort();
	}
	memset(vq, 0, sizeof(*vq));
	vq->kick_fd = vq->call_fd = -1;
	vq->size = qsize;
	vq->enabled = true;
	vq->desc_gpa = RING_GPA;
	vq->driver_gpa = avail;
	vq->device_gpa = (avail + 6 + 2ull * qsize + 3) & ~3ull;
	memset(ring_ram, 0, RING_RAM_SIZE);
	memcpy(ring_ram, image, len < RING_RAM_SIZE ? len : RING_RAM_SIZE);
	if (virtq_start(vq, &ring_mem, flags & RING_PACKED, flags & RING_EVENT_IDX,
			flags & RING_INDIRECT))
		return -1;
	return 0;
}

#endif
