/*
 * Parsing a passed-through device's config space (see vfio_cfg.h): what
 * the host device returns is treated as hostile input.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/vfio.h>

#include "devices/vfio_cfg.h"
#include "lib/util.h"

static uint32_t get(const uint8_t *cfg, unsigned off, unsigned len)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < len; i++)
		v |= (uint32_t)cfg[off + i] << (8 * i);
	return v;
}

int vfio_cfg_ids(const uint8_t *cfg, struct vfio_cfg_ids *out)
{
	uint16_t vendor = get(cfg, PCI_VENDOR_ID, 2);

	if (vendor == 0 || vendor == 0xffff)
		return -EINVAL;
	if ((cfg[PCI_HEADER_TYPE] & 0x7f) != PCI_HEADER_TYPE_NORMAL)
		return -EINVAL;
	out->vendor = vendor;
	out->device = get(cfg, PCI_DEVICE_ID, 2);
	out->revision = cfg[PCI_REVISION_ID];
	out->class = get(cfg, PCI_CLASS_PROG, 3);
	out->subsys_vendor = get(cfg, PCI_SUBSYSTEM_VENDOR_ID, 2);
	out->subsys_id = get(cfg, PCI_SUBSYSTEM_ID, 2);
	return 0;
}

int vfio_cfg_caps(const uint8_t *cfg, struct vfio_cfg_cap *out, unsigned max)
{
	bool seen[PCI_CFG_SIZE / 4] = { false };
	unsigned n = 0, off;

	if (!(get(cfg, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	/* The bottom two bits of every pointer are reserved (PCI 3.0 6.7). */
	off = cfg[PCI_CAPABILITY_LIST] & ~3u;
	while (off) {
		if (off < PCI_STD_HEADER_SIZEOF || off > PCI_CFG_SIZE - 4)
			return -EINVAL;
		if (seen[off / 4])
			return -ELOOP;
		seen[off / 4] = true;
		if (n < max)
			out[n] = (struct vfio_cfg_cap){ .id = cfg[off], .off = (uint8_t)off };
		n++;
		off = cfg[off + PCI_CAP_LIST_NEXT] & ~3u;
	}
	return n < max ? (int)n : (int)max;
}

int vfio_cfg_shown_caps(const uint8_t *cfg, struct vfio_cfg_shown *out, unsigned max)
{
	struct vfio_cfg_cap caps[VFIO_CFG_MAX_CAPS];
	bool used[PCI_CFG_SIZE] = { false };
	int n = vfio_cfg_caps(cfg, caps, VFIO_CFG_MAX_CAPS);
	unsigned k = 0;

	for (int i = 0; i < n && k < max; i++) {
		struct vfio_cfg_shown sh = { .id = caps[i].id, .off = caps[i].off };
		struct vfio_cfg_msi msi;
		unsigned len = 0;

		switch (caps[i].id) {
		case PCI_CAP_ID_PM:
			len = PCI_PM_SIZEOF;
			sh.pass = true;
			break;
		case PCI_CAP_ID_VNDR:
			len = cfg[sh.off + 2];	/* its length byte */
			sh.pass = true;
			if (len < 3)
				len = 0;
			break;
		case PCI_CAP_ID_MSI:
			if (!vfio_cfg_msi(cfg, sh.off, &msi))
				len = msi.size;
			break;
		case PCI_CAP_ID_MSIX:
			len = PCI_CAP_MSIX_SIZEOF;
			break;
		}
		if (!len || sh.off + len > PCI_CFG_SIZE)
			continue;
		for (unsigned b = 0; b < len; b++)
			if (used[sh.off + b])
				len = 0;
		if (!len)
			continue;
		memset(used + sh.off, true, len);
		sh.len = (uint8_t)len;
		out[k++] = sh;
	}
	return n < 0 ? n : (int)k;
}

void vfio_cfg_link(uint8_t *cfg, const struct vfio_cfg_shown *s, unsigned n)
{
	unsigned prev = PCI_CAPABILITY_LIST;

	for (unsigned i = 0; i < n; i++) {
		cfg[prev] = s[i].off;
		prev = s[i].off + PCI_CAP_LIST_NEXT;
	}
	cfg[prev] = 0;
	if (n)
		cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	else
		cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_CAP_LIST;
}

int vfio_cfg_bar(const uint8_t *cfg, int bar, uint64_t region_size,
		 bool prev_was_64, struct vfio_cfg_bar *out)
{
	uint32_t reg;

	memset(out, 0, sizeof(*out));
	if (bar < 0 || bar >= PCI_NUM_BARS)
		return -EINVAL;
	if (prev_was_64 || !region_size)
		return 0;
	if (region_size & (region_size - 1))
		return -EINVAL;
	reg = get(cfg, PCI_BASE_ADDRESS_0 + 4 * bar, 4);
	out->size = region_size;
	if (reg & PCI_BASE_ADDRESS_SPACE_IO) {
		out->type = PCI_BAR_IO;
		if (region_size < 4 || region_size > 256)
			return -EINVAL;
		return 1;
	}
	if (region_size < 16)
		return -EINVAL;
	out->prefetch = reg & PCI_BASE_ADDRESS_MEM_PREFETCH;
	switch (reg & PCI_BASE_ADDRESS_MEM_TYPE_MASK) {
	case PCI_BASE_ADDRESS_MEM_TYPE_64:
		if (bar == PCI_NUM_BARS - 1)
			return -EINVAL;
		out->type = PCI_BAR_MEM64;
		return 2;
	case PCI_BASE_ADDRESS_MEM_TYPE_32:
		if (region_size > (2ULL << 30))
			return -EINVAL;
		out->type = PCI_BAR_MEM32;
		return 1;
	default:	/* 1M (legacy) or reserved: refused */
		return -EINVAL;
	}
}

/* Adds [off, end) minus the page-rounded holes @h (sorted, @nh) to @out. */
static void add_area(uint64_t off, uint64_t end, const struct vfio_cfg_area *h, unsigned nh,
		     struct vfio_cfg_area *out, unsigned *n)
{
	off = (off + VFIO_CFG_PAGE - 1) & ~(uint64_t)(VFIO_CFG_PAGE - 1);
	end &= ~(uint64_t)(VFIO_CFG_PAGE - 1);
	for (unsigned i = 0; i <= nh && off < end; i++) {
		uint64_t stop = i < nh ? MIN(end, h[i].off) : end;

		if (off < stop && *n < VFIO_CFG_MAX_AREAS)
			out[(*n)++] = (struct vfio_cfg_area){ off, stop - off };
		if (i < nh)
			off = MAX(off, h[i].off + h[i].size);
	}
}

/* Whole pages around [off, off + size). */
static struct vfio_cfg_area page_hole(uint64_t off, uint64_t size)
{
	uint64_t end = (off + size + VFIO_CFG_PAGE - 1) & ~(uint64_t)(VFIO_CFG_PAGE - 1);

	off &= ~(uint64_t)(VFIO_CFG_PAGE - 1);
	return (struct vfio_cfg_area){ off, end - off };
}

int vfio_cfg_mmap_areas(const void *info, size_t len, uint64_t region_size, bool mmap_ok,
			const struct vfio_cfg_msix *msix, int bar, struct vfio_cfg_area *out)
{
	const struct vfio_region_info *ri = info;
	const uint8_t *base = info;
	const struct vfio_region_info_cap_sparse_mmap *sparse = NULL;
	struct vfio_cfg_area holes[2];
	unsigned nh = 0, n = 0, hops = 0;

	if (len < sizeof(*ri))
		return -EINVAL;
	if (ri->flags & VFIO_REGION_INFO_FLAG_CAPS) {
		for (uint32_t at = ri->cap_offset; at; hops++) {
			const struct vfio_info_cap_header *h;

			if (hops > 64 || at < sizeof(*ri) || at > len || len - at < sizeof(*h) || at % 8)
				return -EINVAL;
			h = (const void *)(base + at);
			if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
				const struct vfio_region_info_cap_sparse_mmap *sp = (const void *)h;

				if (len - at < sizeof(*sp) ||
				    (len - at - sizeof(*sp)) / sizeof(sp->areas[0]) < sp->nr_areas)
					return -EINVAL;
				sparse = sp;
			}
			at = h->next;
		}
	}
	if (!mmap_ok || region_size < VFIO_CFG_PAGE)
		return 0;
	if (msix && msix->nvec) {
		if (msix->table_bar == bar)
			holes[nh++] = page_hole(msix->table_off,
						(uint64_t)msix->nvec * PCI_MSIX_ENTRY_SIZE);
		if (msix->pba_bar == bar)
			holes[nh++] = page_hole(msix->pba_off, (msix->nvec + 63) / 64 * 8ULL);
		if (nh == 2 && holes[1].off < holes[0].off) {
			struct vfio_cfg_area t = holes[0];

			holes[0] = holes[1];
			holes[1] = t;
		}
	}
	if (!sparse) {
		add_area(0, region_size, holes, nh, out, &n);
		return (int)n;
	}
	for (uint32_t i = 0; i < sparse->nr_areas; i++) {
		uint64_t o = sparse->areas[i].offset, sz = sparse->areas[i].size;

		if (o >= region_size)
			continue;
		add_area(o, o + MIN(sz, region_size - o), holes, nh, out, &n);
	}
	return (int)n;
}

/* 0000:00:03.0 or 00:03.0 (domain 0000); nothing else reaches a path. */
int vfio_parse_bdf(const char *s, char *out, size_t size)
{
	unsigned dom = 0, bus, dev, fn;
	int n = 0;

	if (!s || size < 13)
		return -EINVAL;
	if (sscanf(s, "%4x:%2x:%2x.%1u%n", &dom, &bus, &dev, &fn, &n) != 4 || s[n]) {
		n = 0;
		dom = 0;
		if (sscanf(s, "%2x:%2x.%1u%n", &bus, &dev, &fn, &n) != 3 || s[n])
			return -EINVAL;
	}
	for (const char *p = s; *p; p++)
		if (!strchr("0123456789abcdefABCDEF:.", *p))
			return -EINVAL;
	if (dev > 31 || fn > 7)
		return -EINVAL;
	snprintf(out, size, "%04x:%02x:%02x.%u", dom, bus, dev, fn);
	return 0;
}

static bool inside(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

int vfio_cfg_msix(const uint8_t *cfg, unsigned off, const uint64_t *bar_size,
		  struct vfio_cfg_msix *out)
{
	uint32_t table, pba;

	if (off < PCI_STD_HEADER_SIZEOF || off > PCI_CFG_SIZE - PCI_CAP_MSIX_SIZEOF ||
	    cfg[off] != PCI_CAP_ID_MSIX)
		return -EINVAL;
	table = get(cfg, off + PCI_MSIX_TABLE, 4);
	pba = get(cfg, off + PCI_MSIX_PBA, 4);
	out->nvec = (get(cfg, off + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1;
	out->table_bar = table & PCI_MSIX_TABLE_BIR;
	out->table_off = table & PCI_MSIX_TABLE_OFFSET;
	out->pba_bar = pba & PCI_MSIX_PBA_BIR;
	out->pba_off = pba & PCI_MSIX_PBA_OFFSET;
	if (out->table_bar >= PCI_NUM_BARS || out->pba_bar >= PCI_NUM_BARS ||
	    !inside(out->table_off, (uint64_t)out->nvec * PCI_MSIX_ENTRY_SIZE,
		    bar_size[out->table_bar]) ||
	    !inside(out->pba_off, (out->nvec + 63) / 64 * 8ULL, bar_size[out->pba_bar]))
		return -EINVAL;
	return 0;
}

int vfio_cfg_msi(const uint8_t *cfg, unsigned off, struct vfio_cfg_msi *out)
{
	uint16_t ctl;
	unsigned mmc;

	if (off < PCI_STD_HEADER_SIZEOF || off > PCI_CFG_SIZE - 4 || cfg[off] != PCI_CAP_ID_MSI)
		return -EINVAL;
	ctl = get(cfg, off + PCI_MSI_FLAGS, 2);
	mmc = (ctl & PCI_MSI_FLAGS_QMASK) >> 1;
	if (mmc > 5)
		return -EINVAL;
	out->nvec = 1u << mmc;
	out->is64 = ctl & PCI_MSI_FLAGS_64BIT;
	out->maskable = ctl & PCI_MSI_FLAGS_MASKBIT;
	out->size = (out->is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32) + 2;
	if (out->maskable)
		out->size = (out->is64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32) + 4;
	if (off + out->size > PCI_CFG_SIZE)
		return -EINVAL;
	return 0;
}

bool vfio_cfg_rom_ok(uint64_t size)
{
	return size >= 2048 && size <= (16u << 20) && !(size & (size - 1));
}
