/*
 * virtio-net from arbitrary guest memory: transmit chains come out of
 * virtq_pop and go through vnet_tx_check (a frame that passes must be as
 * long as the chain says and carry a header the negotiated features allow),
 * control-queue chains through vnet_ctrl_apply, receive chains through the
 * mergeable-buffer split; no tap. The input is a small header (ring and
 * feature parameters), then the RAM image, a heap block of exactly its size
 * so ASan sees any access outside guest RAM.
 */
#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/util.h"
#include "virtio/net.h"
#include "virtio/virtq.h"
#include "fuzz_ring.h"

#define HDR		12
#define ROUNDS		64

/* Bits 0-2 of the flags byte are the ring's (fuzz_ring.h). */
enum { P_CTRL = 8, P_RX = 16 };

static struct virtq vq;
static struct virtq_elem e;
static uint8_t cmd[VNET_CTRL_MAX];

static void tx(uint64_t features)
{
	struct virtio_net_hdr_v1 h;
	const char *why = NULL;
	uint8_t gso;

	if (vnet_tx_check(&e, features, &h, &why)) {
		if (!why)
			__builtin_trap();
		return;
	}
	if (e.out_len < VNET_HDR_LEN + VNET_ETH_HLEN || e.out_len > VNET_HDR_LEN + VNET_MAX_FRAME)
		__builtin_trap();
	gso = h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	if (gso && (!h.gso_size || !(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)))
		__builtin_trap();
	if ((h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    le16toh(h.csum_start) + le16toh(h.csum_offset) + 2u > e.out_len - VNET_HDR_LEN)
		__builtin_trap();
}

static void ctrl(struct vnet_ctrl_state *s, uint64_t features, uint16_t max_pairs)
{
	struct vnet_ctrl_state before = *s;
	unsigned chg;
	uint8_t ack;

	if (e.out_len > VNET_CTRL_MAX)
		return;
	if (iov_read(e.iov, e.out_num, 0, cmd, e.out_len) != e.out_len)
		__builtin_trap();
	ack = vnet_ctrl_apply(s, features, max_pairs, cmd, e.out_len, &chg);
	if (ack == VIRTIO_NET_ERR && (chg || memcmp(&before, s, sizeof(*s))))
		__builtin_trap();
	if (ack != VIRTIO_NET_OK && ack != VIRTIO_NET_ERR)
		__builtin_trap();
	if (s->pairs < 1 || s->pairs > max_pairs || s->nuni > VNET_MAC_TABLE ||
	    s->nmulti > VNET_MAC_TABLE || (s->offloads & ~VNET_GUEST_OFFLOADS))
		__builtin_trap();
	iov_write(&e.iov[e.out_num], e.in_num, 0, &ack, 1);
	vnet_rx_accept(s, cmd);
}

static void rx(uint32_t len)
{
	uint32_t cap[1] = { e.in_len }, used[1];
	unsigned k = vnet_rx_split(cap, 1, len, used);

	if (k > 1 || (k && used[0] > e.in_len))
		__builtin_trap();
	if (e.in_len >= VNET_HDR_LEN)
		vnet_rx_set_buffers(&e.iov[e.out_num], e.in_num, k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnet_ctrl_state s;
	uint8_t flags;
	uint64_t features;
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };

	if (size < HDR)
		return 0;
	flags = data[0];
	memcpy(&features, data + 2, 8);
	if (ring_setup(&vq, flags, data[1], data + HDR, size - HDR))
		return 0;
	vq.last_avail = data[10] | data[11] << 8;
	vnet_ctrl_reset(&s, mac, features & VNET_GUEST_OFFLOADS);

	for (int i = 0; i < ROUNDS; i++) {
		int ret = virtq_pop(&vq, &e);

		if (ret <= 0)
			break;
		if (flags & P_CTRL)
			ctrl(&s, features, 1 + (data[1] >> 4));
		else if (flags & P_RX)
			rx(features >> 32);
		else
			tx(features);
		virtq_push(&vq, &e, 0);
		virtq_should_notify(&vq);
	}
	return 0;
}
