/* virtio-net transmit headers, from guest memory: checked before the tap. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "lib/util.h"
#include "virtio/net.h"

static size_t iov_copy(const struct iovec *iov, unsigned n, size_t off, uint8_t *buf,
		       size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len, k;
		uint8_t *p;

		if (off >= l) {
			off -= l;
			continue;
		}
		p = (uint8_t *)iov[i].iov_base + off;
		k = MIN(l - off, len - done);
		memcpy(to_iov ? p : buf + done, to_iov ? buf + done : p, k);
		done += k;
		off = 0;
	}
	return done;
}

size_t iov_read(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
	return iov_copy(iov, n, off, buf, len, false);
}

size_t iov_write(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len)
{
	return iov_copy(iov, n, off, (uint8_t *)buf, len, true);
}

static int bad(const char **why, const char *what)
{
	*why = what;
	return -EINVAL;
}

/*
 * The kernel checks the header again (virtio_net_hdr_to_skb), but a frame
 * that breaks what the driver negotiated is the guest's bug: dropped here,
 * where it is counted and can be fuzzed.
 */
int vnet_tx_check(const struct virtq_elem *e, uint64_t features,
		  struct virtio_net_hdr_v1 *hdr, const char **why)
{
	uint32_t frame;
	uint16_t csum_start, csum_offset, gso_size;
	uint8_t gso;

	if (e->out_len < VNET_HDR_LEN + VNET_ETH_HLEN)
		return bad(why, "shorter than a header and an Ethernet header");
	frame = e->out_len - VNET_HDR_LEN;
	if (frame > VNET_MAX_FRAME)
		return bad(why, "frame longer than 65550 bytes");
	if (iov_read(e->iov, e->out_num, 0, hdr, VNET_HDR_LEN) != VNET_HDR_LEN)
		return bad(why, "header cut short");
	csum_start = le16toh(hdr->csum_start);
	csum_offset = le16toh(hdr->csum_offset);
	gso_size = le16toh(hdr->gso_size);
	gso = hdr->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	if (hdr->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return bad(why, "flags other than NEEDS_CSUM on transmit");
	if (hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!(features & BIT(VIRTIO_NET_F_CSUM)))
			return bad(why, "NEEDS_CSUM without the CSUM feature");
		if ((uint32_t)csum_start + csum_offset + 2 > frame)
			return bad(why, "checksum position beyond the frame");
	}
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		if (hdr->gso_type & VIRTIO_NET_HDR_GSO_ECN)
			return bad(why, "ECN bit without GSO");
		return 0;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!(features & BIT(VIRTIO_NET_F_HOST_TSO4)))
			return bad(why, "TSO4 frame without HOST_TSO4");
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!(features & BIT(VIRTIO_NET_F_HOST_TSO6)))
			return bad(why, "TSO6 frame without HOST_TSO6");
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
		if (!(features & BIT(VIRTIO_NET_F_HOST_UFO)))
			return bad(why, "UFO frame without HOST_UFO");
		break;
	default:
		return bad(why, "unknown GSO type");
	}
	if ((hdr->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(features & BIT(VIRTIO_NET_F_HOST_ECN)))
		return bad(why, "ECN GSO frame without HOST_ECN");
	if (!(hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return bad(why, "GSO frame without NEEDS_CSUM");
	if (!gso_size)
		return bad(why, "GSO frame with gso_size 0");
	return 0;
}
