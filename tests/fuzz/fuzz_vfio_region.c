/*
 * What VFIO says of a BAR region (struct vfio_region_info and its
 * capability chain) through vfio_cfg_mmap_areas: input 8 bytes of region
 * size, 12 bytes of MSI-X layout (nvec, table and PBA offsets; the BARs
 * are the low bits of the first byte), then the region info itself.
 * Every area it returns must be whole pages inside the region, in order,
 * and clear of the MSI-X table and PBA that ember traps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/vfio_cfg.h"

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static int overlaps(const struct vfio_cfg_area *a, uint64_t off, uint64_t len)
{
	return len && off < a->off + a->size && a->off < off + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vfio_cfg_area a[VFIO_CFG_MAX_AREAS];
	struct vfio_cfg_msix m = { 0 };
	uint64_t region = 0;
	uint8_t *info;
	int n;

	if (size < 20)
		return 0;
	memcpy(&region, data, 8);
	region &= (1ULL << 40) - 1;
	m.nvec = le32(data + 8) % 2049;
	m.table_bar = data[8] & 1;
	m.pba_bar = data[8] >> 1 & 1;
	m.table_off = le32(data + 12) & ~7u;
	m.pba_off = le32(data + 16) & ~7u;
	/* a copy of its own size, so ASan sees reads past what VFIO gave */
	info = malloc(size - 20 ? size - 20 : 1);
	if (!info)
		return 0;
	memcpy(info, data + 20, size - 20);
	n = vfio_cfg_mmap_areas(info, size - 20, region, data[9] & 1, &m, 0, a);
	if (n > VFIO_CFG_MAX_AREAS)
		abort();
	for (int i = 0; i < n; i++) {
		if (!a[i].size || a[i].off % VFIO_CFG_PAGE || a[i].size % VFIO_CFG_PAGE ||
		    a[i].off + a[i].size > region)
			abort();
		if (m.nvec && m.table_bar == 0 && overlaps(&a[i], m.table_off, m.nvec * 16ULL))
			abort();
		if (m.nvec && m.pba_bar == 0 && overlaps(&a[i], m.pba_off, (m.nvec + 63) / 64 * 8ULL))
			abort();
	}
	free(info);
	return 0;
}
