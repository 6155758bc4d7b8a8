/*
 * virtio-blk requests from arbitrary guest memory: chains come out of
 * virtq_pop and go through blk_parse, the status write and the data
 * segments a back end would read or fill, then back with virtq_push; no
 * io_uring. The input is a small header (ring and device parameters), then
 * the RAM image, a heap block of exactly its size so ASan sees any access
 * outside guest RAM. blk_parse's results are checked against the chain.
 */
#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/gmem.h"
#include "lib/log.h"
#include "virtio/blk.h"
#include "virtio/virtq.h"
#include "fuzz_ring.h"

#define HDR		8
#define ROUNDS		64

/* Bits 0-2 of the flags byte are the ring's (fuzz_ring.h). */
enum { P_RO = 8, P_DISCARD = 16, P_WZ = 32, P_BS4K = 64 };

static struct virtq vq;
static struct virtq_elem e;

static bool in_ram(const void *p, size_t len)
{
	const uint8_t *q = p;

	return q >= ring_ram && len <= RING_RAM_SIZE &&
	       (size_t)(q - ring_ram) <= RING_RAM_SIZE - len;
}

/* What a back end would do with the data segments: read or fill them. */
static uint64_t touch_data(const struct blk_parsed *p, bool fill)
{
	volatile uint8_t sink = 0;
	uint64_t total = 0;

	for (unsigned i = 0; i < p->iov_count; i++) {
		struct iovec *v = &e.iov[p->iov_first + i];
		uint8_t *b = v->iov_base;

		if (p->iov_first + i >= e.out_num + e.in_num)
			__builtin_trap();
		if (!v->iov_len)
			continue;
		if (!in_ram(b, v->iov_len))
			__builtin_trap();
		if (fill)
			memset(b, 0x5a, v->iov_len);
		else
			sink += b[0] + b[v->iov_len - 1];
		total += v->iov_len;
	}
	(void)sink;
	return total;
}

static void check(const struct blk_parsed *p, const struct blk_limits *lim)
{
	uint64_t bytes;

	if (!in_ram(p->status_byte, 1))
		__builtin_trap();
	*p->status_byte = 0xee;
	blk_trim_iov(&e, p);
	if (p->status != VIRTIO_BLK_S_OK)
		return;
	if (p->type == VIRTIO_BLK_T_GET_ID) {
		if (blk_write_id(&e, p, "fuzz-serial") > VIRTIO_BLK_ID_BYTES)
			__builtin_trap();
		return;
	}
	switch (p->op) {
	case BLK_READ:
	case BLK_WRITE:
		if (lim->ro && p->op == BLK_WRITE)
			__builtin_trap();
		bytes = touch_data(p, p->op == BLK_READ);
		if (bytes != p->len || (p->op == BLK_READ && bytes != p->in_data))
			__builtin_trap();
		break;
	case BLK_DISCARD:
	case BLK_WRITE_ZEROES:
		if (lim->ro || p->iov_count || p->len > VIRTIO_BLK_MAX_DWZ_SECTORS * 512ull)
			__builtin_trap();
		break;
	case BLK_FLUSH:
		return;
	}
	/* Inside the disk, on block boundaries. */
	if (p->offset % lim->block_size || p->len % lim->block_size ||
	    p->offset / 512 > lim->capacity || p->len / 512 > lim->capacity - p->offset / 512)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct blk_limits lim;
	struct blk_parsed p;
	uint8_t flags;

	if (size < HDR)
		return 0;
	flags = data[0];
	lim = (struct blk_limits){
		.capacity = (uint64_t)(data[2] | data[3] << 8 | data[4] << 16) << (data[5] & 31),
		.block_size = flags & P_BS4K ? 4096 : 512,
		.ro = flags & P_RO,
		.discard = flags & P_DISCARD,
		.write_zeroes = flags & P_WZ,
	};
	if (ring_setup(&vq, flags, data[1], data + HDR, size - HDR))
		return 0;
	vq.last_avail = data[6] | data[7] << 8;

	for (int i = 0; i < ROUNDS; i++) {
		int ret = virtq_pop(&vq, &e);

		if (ret <= 0)
			break;
		if (blk_parse(&e, &lim, &p) < 0) {
			/* No status byte: the device would need a reset. */
			if (e.in_num && e.in_len)
				__builtin_trap();
			continue;
		}
		check(&p, &lim);
		virtq_push(&vq, &e, p.status == VIRTIO_BLK_S_OK ? p.in_data + 1 : 1);
		virtq_should_notify(&vq);
	}
	return 0;
}
