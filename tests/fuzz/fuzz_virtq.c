/*
 * Virtqueues against arbitrary guest memory. The input is a small header
 * (queue parameters and a restored ring position) followed by the memory
 * image: RAM region A, then region B right after it in guest-physical
 * space (a buffer may not span the two). Both are heap blocks of exactly
 * their size, so ASan catches any access outside guest RAM; every iovec a
 * pop returns is also checked to lie inside one region and is touched at
 * both ends.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/gmem.h"
#include "lib/log.h"
#include "virtio/virtq.h"

#define A_GPA	0x1000ull
#define A_SIZE	0x10000ull
#define B_GPA	(A_GPA + A_SIZE)
#define B_SIZE	0x1000ull
#define HDR	16
#define ROUNDS	64

enum {
	P_PACKED = 1, P_EVENT_IDX = 2, P_INDIRECT = 4, P_RAW_SIZE = 8, P_LOW_GPA = 16,
};

static uint8_t *a, *b;
static struct gmem mem;
static struct virtq vq;
static struct virtq_elem e;

static uint16_t le16(const uint8_t *p) { return p[0] | p[1] << 8; }

static bool inside(const uint8_t *p, size_t len, const uint8_t *base, size_t size)
{
	return p >= base && len <= size && (size_t)(p - base) <= size - len;
}

static void check_elem(void)
{
	uint32_t out = 0, in = 0;
	volatile uint8_t sink = 0;

	if (e.out_num + e.in_num > VIRTQ_MAX_IOV)
		__builtin_trap();
	for (unsigned i = 0; i < e.out_num + e.in_num; i++) {
		uint8_t *p = e.iov[i].iov_base;
		size_t len = e.iov[i].iov_len;

		if (!len || (!inside(p, len, a, A_SIZE) && !inside(p, len, b, B_SIZE)))
			__builtin_trap();
		if (i < e.out_num) {
			out += len;
			sink += p[0] + p[len - 1];
		} else {
			in += len;
			p[0] = p[len - 1] = 0x5a;
		}
	}
	if (out != e.out_len || in != e.in_len)
		__builtin_trap();
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *h = data;
	uint64_t base;
	uint16_t qsize;
	size_t n;

	if (!a) {
		log_set_quiet(1);
		a = malloc(A_SIZE);
		b = malloc(B_SIZE);
		if (!a || !b || gmem_add(&mem, A_GPA, A_SIZE, a, -1, 0) ||
		    gmem_add(&mem, B_GPA, B_SIZE, b, -1, 0))
			abort();
	}
	if (size < HDR)
		return 0;
	data += HDR;
	size -= HDR;
	n = size < A_SIZE ? size : A_SIZE;
	memcpy(a, data, n);
	memset(a + n, 0, A_SIZE - n);
	data += n;
	size -= n;
	n = size < B_SIZE ? size : B_SIZE;
	memcpy(b, data, n);
	memset(b + n, 0, B_SIZE - n);

	/* Mostly sizes a driver would pick; P_RAW_SIZE tries any. */
	qsize = le16(h + 1);
	if (!(h[0] & P_RAW_SIZE))
		qsize = h[0] & P_PACKED ? qsize % 256 + 1 : 1u << (qsize % 9);
	base = h[0] & P_LOW_GPA ? 0 : A_GPA;

	vq.kick_fd = vq.call_fd = -1;
	virtq_reset(&vq);
	vq.size = qsize;
	vq.enabled = true;
	vq.desc_gpa = base + le16(h + 8);
	vq.driver_gpa = base + le16(h + 10);
	vq.device_gpa = base + le16(h + 12);
	if (virtq_start(&vq, &mem, h[0] & P_PACKED, h[0] & P_EVENT_IDX, h[0] & P_INDIRECT))
		return 0;
	/* A restored position (as after migration): anything goes. */
	vq.last_avail = le16(h + 3);
	vq.used_idx = le16(h + 5);
	vq.avail_wrap = h[7] & 1;
	vq.used_wrap = h[7] & 2;

	for (unsigned i = 0; i < ROUNDS; i++) {
		int ret = virtq_pop(&vq, &e);

		if (ret <= 0)
			break;
		check_elem();
		virtq_push(&vq, &e, h[14] & 1 ? e.in_len : h[15]);
		virtq_should_notify(&vq);
		virtq_set_notification(&vq, i & 1);
	}
	return 0;
}
