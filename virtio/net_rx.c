/* Mergeable receive buffers: how one read is spread over the guest's chains. */
#include <endian.h>

#include "lib/util.h"
#include "virtio/net.h"

uint32_t vnet_rx_need(bool mergeable, bool guest_gso)
{
	/* Without mergeable buffers each chain must hold a packet by itself. */
	(void)mergeable;
	return VNET_HDR_LEN + (guest_gso ? VNET_MAX_FRAME : VNET_MAX_PLAIN_FRAME);
}

unsigned vnet_rx_split(const uint32_t *cap, unsigned n, uint32_t len, uint32_t *used)
{
	unsigned k = 0;

	while (len && k < n) {
		used[k] = MIN(len, cap[k]);
		len -= used[k];
		k++;
	}
	return k;
}

void vnet_rx_set_buffers(const struct iovec *iov, unsigned n, uint16_t num_buffers)
{
	uint16_t v = htole16(num_buffers);

	iov_write(iov, n, offsetof(struct virtio_net_hdr_v1, num_buffers), &v, sizeof(v));
}
