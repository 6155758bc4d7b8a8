/* What the machine lends its devices (platform.h). */
#include <errno.h>

#include "devices/platform.h"
#include "lib/log.h"

/* Slots go in creation order, so -device order fixes addresses and GSIs. */
int platform_virtio_mmio_slot(struct platform *pf, uint64_t *base, unsigned *gsi)
{
	unsigned i = pf->virtio_mmio_used;

	if (i >= pf->virtio_mmio_slots) {
		err_msg("no free virtio-mmio slot (the machine has %u)", pf->virtio_mmio_slots);
		return -ENOSPC;
	}
	*base = pf->virtio_mmio_base + (uint64_t)i * pf->virtio_mmio_size;
	*gsi = pf->virtio_mmio_gsi_base + i;
	pf->virtio_mmio_used++;
	return 0;
}
