/*
 * A hostile passed-through device: its 256-byte config space and the six
 * BAR region sizes VFIO reports (input: 256 bytes, then 6 little-endian
 * u64, then a host= string) through devices/vfio_cfg.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/vfio_cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t cfg[PCI_CFG_SIZE] = { 0 };
	struct vfio_cfg_cap caps[VFIO_CFG_MAX_CAPS];
	struct vfio_cfg_ids ids;
	uint64_t sizes[PCI_NUM_BARS] = { 0 };
	bool prev64 = false;
	char bdf[32], host[64] = "";
	size_t n;
	int ret, ncaps;

	memcpy(cfg, data, size < sizeof(cfg) ? size : sizeof(cfg));
	if (size > sizeof(cfg)) {
		n = size - sizeof(cfg);
		memcpy(sizes, data + sizeof(cfg), n < sizeof(sizes) ? n : sizeof(sizes));
	}
	if (size > sizeof(cfg) + sizeof(sizes)) {
		n = size - sizeof(cfg) - sizeof(sizes);
		memcpy(host, data + sizeof(cfg) + sizeof(sizes), n < sizeof(host) - 1 ? n : sizeof(host) - 1);
	}

	vfio_cfg_ids(cfg, &ids);
	ncaps = ret = vfio_cfg_caps(cfg, caps, VFIO_CFG_MAX_CAPS);
	if (ret > VFIO_CFG_MAX_CAPS)
		abort();
	for (int i = 0; i < ret; i++)
		if (caps[i].off < PCI_STD_HEADER_SIZEOF || caps[i].off % 4 || caps[i].id != cfg[caps[i].off])
			abort();
	/* a short table never overruns */
	if (vfio_cfg_caps(cfg, caps + VFIO_CFG_MAX_CAPS - 1, 1) > 1)
		abort();
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		struct vfio_cfg_bar b;

		ret = vfio_cfg_bar(cfg, i, sizes[i], prev64, &b);
		if (ret > 0 && (!b.size || (b.size & (b.size - 1)) ||
				(b.type == PCI_BAR_MEM64 && i == PCI_NUM_BARS - 1) ||
				(b.type == PCI_BAR_IO && b.size > 256) || (b.type != PCI_BAR_IO && b.size < 16)))
			abort();
		prev64 = ret == 2;
	}
	for (int i = 0; i < ncaps; i++) {
		struct vfio_cfg_msix m;
		struct vfio_cfg_msi msi;

		if (caps[i].id == PCI_CAP_ID_MSI && !vfio_cfg_msi(cfg, caps[i].off, &msi) &&
		    (msi.nvec < 1 || msi.nvec > 32 || (msi.nvec & (msi.nvec - 1)) ||
		     caps[i].off + msi.size > PCI_CFG_SIZE))
			abort();
		if (caps[i].id == PCI_CAP_ID_MSIX && !vfio_cfg_msix(cfg, caps[i].off, sizes, &m) &&
		    (m.nvec < 1 || m.nvec > 2048 ||
		     m.table_off + (uint64_t)m.nvec * 16 > sizes[m.table_bar] ||
		     m.pba_off + (m.nvec + 63) / 64 * 8ULL > sizes[m.pba_bar]))
			abort();
	}
	/* what the guest sees: in bounds, apart, and a well-formed list once linked */
	{
		struct vfio_cfg_shown sh[VFIO_CFG_MAX_CAPS];
		uint8_t linked[PCI_CFG_SIZE], used[PCI_CFG_SIZE] = { 0 };
		int k = vfio_cfg_shown_caps(cfg, sh, VFIO_CFG_MAX_CAPS);

		for (int i = 0; i < k; i++) {
			if (sh[i].off < PCI_STD_HEADER_SIZEOF || sh[i].off % 4 || sh[i].len < 2 ||
			    sh[i].off + sh[i].len > PCI_CFG_SIZE || sh[i].id != cfg[sh[i].off])
				abort();
			for (unsigned b = 0; b < sh[i].len; b++)
				if (used[sh[i].off + b]++)
					abort();
		}
		if (k >= 0) {
			memcpy(linked, cfg, sizeof(linked));
			vfio_cfg_link(linked, sh, (unsigned)k);
			if (vfio_cfg_caps(linked, caps, VFIO_CFG_MAX_CAPS) != k)
				abort();
			for (int i = 0; i < k; i++)
				if (caps[i].off != sh[i].off)
					abort();
		}
	}
	if (!vfio_parse_bdf(host, bdf, sizeof(bdf)) &&
	    (strlen(bdf) != 12 || strspn(bdf, "0123456789abcdef:.") != 12))
		abort();
	return 0;
}
