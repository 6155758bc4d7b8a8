/*
 * virtio-net (virtio 1.2 section 5.1): the parts that read guest input,
 * kept apart from the device so that they are unit-tested and fuzzed
 * without a tap: the transmit header check (net_hdr.c), the mergeable
 * receive-buffer accounting (net_rx.c) and the control queue (net_ctrl.c).
 */
#ifndef EMBER_VIRTIO_NET_H
#define EMBER_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_net.h>

#include "virtio/virtq.h"

/* With VERSION_1 the header always has num_buffers: 12 bytes. */
#define VNET_HDR_LEN		12
#define VNET_ETH_HLEN		14
/* Largest frame: a 64 KiB GSO packet plus an Ethernet and VLAN header. */
#define VNET_MAX_FRAME		65550
/* Largest frame without guest GSO: 1500 bytes of MTU, Ethernet + VLAN. */
#define VNET_MAX_PLAIN_FRAME	1518
#define VNET_MAC_TABLE		64
/* Longest control command we read: MAC tables of ~1300 entries. */
#define VNET_CTRL_MAX		8192

/* Bytes copied out of / into an iovec array at @off; returns how many. */
size_t iov_read(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len);
size_t iov_write(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len);

/*
 * A transmit chain: its header (which may be split across descriptors) and
 * frame are checked against the negotiated @features. 0: @hdr filled, the
 * chain may go to the tap as it is; -EINVAL: drop it, *@why says why.
 */
int vnet_tx_check(const struct virtq_elem *e, uint64_t features,
		  struct virtio_net_hdr_v1 *hdr, const char **why);

/* Receive: how many bytes one read must be able to take. */
uint32_t vnet_rx_need(bool mergeable, bool guest_gso);
/*
 * A packet of @len bytes (header included) over chains of @cap[0..n)
 * writable bytes, filled in order: returns how many chains it uses and
 * their used lengths in @used; 0 when @len is 0 or there are no chains.
 * Bytes beyond the chains' room are cut off (the tap's read truncates).
 */
unsigned vnet_rx_split(const uint32_t *cap, unsigned n, uint32_t len, uint32_t *used);
/* Writes num_buffers into the header at the start of @iov. */
void vnet_rx_set_buffers(const struct iovec *iov, unsigned n, uint16_t num_buffers);

/* What the driver set through the control queue (guest-visible state). */
struct vnet_ctrl_state {
	uint8_t mac[6];
	bool promisc, allmulti, alluni, nomulti, nouni, nobcast;
	bool uni_overflow, multi_overflow;	/* more entries than we keep: take all */
	uint8_t nuni, nmulti;
	uint8_t uni[VNET_MAC_TABLE][6], multi[VNET_MAC_TABLE][6];
	uint16_t pairs;				/* active queue pairs */
	uint64_t offloads;			/* VIRTIO_NET_F_GUEST_* bits in use */
};

/* What a command changed, for the device to act on. */
enum { VNET_CHG_MAC = 1, VNET_CHG_PAIRS = 2, VNET_CHG_OFFLOADS = 4, VNET_CHG_RX = 8 };

/* The state at reset: the configured MAC, promiscuous, one pair. */
void vnet_ctrl_reset(struct vnet_ctrl_state *s, const uint8_t mac[6], uint64_t offloads);
/*
 * One command, class and cmd bytes first, @len bytes in all. Checked
 * against the negotiated @features and @max_pairs; a malformed or
 * unsupported one changes nothing and gets VIRTIO_NET_ERR. Returns
 * VIRTIO_NET_OK or VIRTIO_NET_ERR; *@changed gets VNET_CHG_* bits.
 */
uint8_t vnet_ctrl_apply(struct vnet_ctrl_state *s, uint64_t features, uint16_t max_pairs,
			const uint8_t *cmd, size_t len, unsigned *changed);
/* Does the receive filter let a frame to @dst through? */
bool vnet_rx_accept(const struct vnet_ctrl_state *s, const uint8_t dst[6]);

/* The guest offloads a feature set enables, as VIRTIO_NET_F_GUEST_* bits. */
#define VNET_GUEST_OFFLOADS						\
	((1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_GUEST_TSO4) | \
	 (1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_ECN) |	\
	 (1ull << VIRTIO_NET_F_GUEST_UFO))

/* The device features a vhost-user daemon serves (it sees every packet). */
#define VNET_VU_DATA_FEATURES						\
	(VNET_GUEST_OFFLOADS | (1ull << VIRTIO_NET_F_CSUM) |		\
	 (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) | \
	 (1ull << VIRTIO_NET_F_HOST_ECN) | (1ull << VIRTIO_NET_F_HOST_UFO) | \
	 (1ull << VIRTIO_NET_F_MRG_RXBUF))
/*
 * The device features to offer over a vhost-user daemon that offered
 * @offered (GET_FEATURES), with @npairs queue pairs: its data features,
 * less those whose dependency it lacks, plus ember's own (MAC, STATUS,
 * CTRL_VQ, CTRL_MAC_ADDR, MQ when @npairs > 1).
 */
uint64_t vnet_vu_features(uint64_t offered, unsigned npairs);

#endif
