/*
 * The virtio-net control queue (virtio 1.2 section 5.1.6.5): commands from
 * the guest, parsed into a copy of the state and committed only when the
 * whole command is well-formed, so a bad one changes nothing.
 */
#include <endian.h>
#include <string.h>

#include "lib/util.h"
#include "virtio/net.h"

void vnet_ctrl_reset(struct vnet_ctrl_state *s, const uint8_t mac[6], uint64_t offloads)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->mac, mac, 6);
	s->promisc = true;	/* until the driver sets its receive mode */
	s->pairs = 1;
	s->offloads = offloads;
}

static uint8_t rx_mode(struct vnet_ctrl_state *s, uint64_t f, uint8_t cmd,
		       const uint8_t *d, size_t len)
{
	bool *flag[] = {
		[VIRTIO_NET_CTRL_RX_PROMISC] = &s->promisc,
		[VIRTIO_NET_CTRL_RX_ALLMULTI] = &s->allmulti,
		[VIRTIO_NET_CTRL_RX_ALLUNI] = &s->alluni,
		[VIRTIO_NET_CTRL_RX_NOMULTI] = &s->nomulti,
		[VIRTIO_NET_CTRL_RX_NOUNI] = &s->nouni,
		[VIRTIO_NET_CTRL_RX_NOBCAST] = &s->nobcast,
	};

	if (!(f & BIT(VIRTIO_NET_F_CTRL_RX)) || cmd > VIRTIO_NET_CTRL_RX_NOBCAST ||
	    (cmd > VIRTIO_NET_CTRL_RX_ALLMULTI && !(f & BIT(VIRTIO_NET_F_CTRL_RX_EXTRA))))
		return VIRTIO_NET_ERR;
	if (len != 1 || d[0] > 1)
		return VIRTIO_NET_ERR;
	*flag[cmd] = d[0];
	return VIRTIO_NET_OK;
}

/* One table: le32 entries, then entries * 6 bytes. Returns bytes taken, 0 if bad. */
static size_t mac_table(const uint8_t *d, size_t len, uint8_t tab[][6], uint8_t *n,
			bool *overflow)
{
	uint32_t entries;

	if (len < 4)
		return 0;
	memcpy(&entries, d, 4);
	entries = le32toh(entries);
	if (entries > (len - 4) / 6)
		return 0;
	*overflow = entries > VNET_MAC_TABLE;
	*n = *overflow ? 0 : entries;
	memcpy(tab, d + 4, 6 * (size_t)*n);
	return 4 + 6 * (size_t)entries;
}

static uint8_t mac_cmd(struct vnet_ctrl_state *s, uint64_t f, uint8_t cmd,
		       const uint8_t *d, size_t len, unsigned *changed)
{
	size_t a, b;

	if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
		if (!(f & BIT(VIRTIO_NET_F_CTRL_MAC_ADDR)) || len != 6 || (d[0] & 1))
			return VIRTIO_NET_ERR;
		memcpy(s->mac, d, 6);
		*changed |= VNET_CHG_MAC;
		return VIRTIO_NET_OK;
	}
	if (cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET || !(f & BIT(VIRTIO_NET_F_CTRL_RX)))
		return VIRTIO_NET_ERR;
	a = mac_table(d, len, s->uni, &s->nuni, &s->uni_overflow);
	if (!a)
		return VIRTIO_NET_ERR;
	b = mac_table(d + a, len - a, s->multi, &s->nmulti, &s->multi_overflow);
	if (!b || a + b != len)
		return VIRTIO_NET_ERR;
	*changed |= VNET_CHG_RX;
	return VIRTIO_NET_OK;
}

uint8_t vnet_ctrl_apply(struct vnet_ctrl_state *st, uint64_t f, uint16_t max_pairs,
			const uint8_t *cmd, size_t len, unsigned *changed)
{
	struct vnet_ctrl_state s = *st;
	const uint8_t *d;
	uint8_t ack = VIRTIO_NET_ERR;
	uint16_t pairs;
	uint64_t off;

	*changed = 0;
	if (len < 2 || !(f & BIT(VIRTIO_NET_F_CTRL_VQ)))
		return VIRTIO_NET_ERR;
	/* Only now: a command may be NULL when its length is 0. */
	d = cmd + 2;
	len -= 2;
	switch (cmd[0]) {
	case VIRTIO_NET_CTRL_RX:
		ack = rx_mode(&s, f, cmd[1], d, len);
		*changed |= VNET_CHG_RX;
		break;
	case VIRTIO_NET_CTRL_MAC:
		ack = mac_cmd(&s, f, cmd[1], d, len, changed);
		break;
	case VIRTIO_NET_CTRL_MQ:
		if (!(f & BIT(VIRTIO_NET_F_MQ)) || cmd[1] != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
		    len != 2)
			break;
		memcpy(&pairs, d, 2);
		pairs = le16toh(pairs);
		if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > max_pairs)
			break;
		s.pairs = pairs;
		*changed |= VNET_CHG_PAIRS;
		ack = VIRTIO_NET_OK;
		break;
	case VIRTIO_NET_CTRL_GUEST_OFFLOADS:
		if (!(f & BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS)) ||
		    cmd[1] != VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET || len != 8)
			break;
		memcpy(&off, d, 8);
		off = le64toh(off);
		/* Only offloads the driver negotiated; segmentation needs checksums. */
		if ((off & ~(f & VNET_GUEST_OFFLOADS)) ||
		    ((off & VNET_GUEST_OFFLOADS & ~BIT(VIRTIO_NET_F_GUEST_CSUM)) &&
		     !(off & BIT(VIRTIO_NET_F_GUEST_CSUM))))
			break;
		s.offloads = off;
		*changed |= VNET_CHG_OFFLOADS;
		ack = VIRTIO_NET_OK;
		break;
	default:
		break;
	}
	if (ack != VIRTIO_NET_OK) {
		*changed = 0;
		return VIRTIO_NET_ERR;
	}
	*st = s;
	return VIRTIO_NET_OK;
}

static bool in_table(const uint8_t tab[][6], unsigned n, const uint8_t mac[6])
{
	for (unsigned i = 0; i < n; i++)
		if (!memcmp(tab[i], mac, 6))
			return true;
	return false;
}

bool vnet_rx_accept(const struct vnet_ctrl_state *s, const uint8_t dst[6])
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (s->promisc)
		return true;
	if (!memcmp(dst, bcast, 6))
		return !s->nobcast;
	if (dst[0] & 1)
		return !s->nomulti && (s->allmulti || s->multi_overflow ||
				       in_table(s->multi, s->nmulti, dst));
	return !s->nouni && (s->alluni || s->uni_overflow || !memcmp(dst, s->mac, 6) ||
			     in_table(s->uni, s->nuni, dst));
}

/*
 * -netdev vhost-user: the daemon serves the data rings, so the offloads and
 * mergeable buffers are what it offers; the config space and the control
 * queue stay ember's (MAC, link status, MAC changes, queue pairs). Receive
 * filters and guest offload changes are not offered: ember never sees the
 * packets and has no way to tell the daemon.
 */
uint64_t vnet_vu_features(uint64_t offered, unsigned npairs)
{
	uint64_t f = offered & VNET_VU_DATA_FEATURES;

	/* What a driver may not take without the feature it depends on. */
	if (!(f & BIT(VIRTIO_NET_F_GUEST_CSUM)))
		f &= ~VNET_GUEST_OFFLOADS;
	if (!(f & (BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6))))
		f &= ~BIT(VIRTIO_NET_F_GUEST_ECN);
	if (!(f & BIT(VIRTIO_NET_F_CSUM)))
		f &= ~(BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |
		       BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_HOST_UFO));
	if (!(f & (BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6))))
		f &= ~BIT(VIRTIO_NET_F_HOST_ECN);
	f |= BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_CTRL_VQ) |
	     BIT(VIRTIO_NET_F_CTRL_MAC_ADDR);
	if (npairs > 1)
		f |= BIT(VIRTIO_NET_F_MQ);
	return f;
}
