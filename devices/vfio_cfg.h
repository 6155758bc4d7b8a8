/*
 * The part of VFIO PCI pass-through that reads a host device's config space
 * (vfio.c gets the bytes from the VFIO config region): its identity, its
 * BARs and its capability list. The device is not trusted: every offset,
 * length and loop in what it returns is checked here.
 */
#ifndef EMBER_VFIO_CFG_H
#define EMBER_VFIO_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/pci.h"

/* A capability list holds at most (256 - 64) / 4 entries. */
#define VFIO_CFG_MAX_CAPS	48

struct vfio_cfg_ids {
	uint16_t vendor, device, subsys_vendor, subsys_id;
	uint32_t class;		/* base << 16 | sub << 8 | prog-if */
	uint8_t revision;
};

struct vfio_cfg_cap {
	uint8_t id;
	uint8_t off;
};

/*
 * A capability the guest sees, at the device's own offset (drivers may
 * know it): ember emulates MSI and MSI-X; @pass ones (Power Management,
 * vendor-specific) read and write the device's bytes after their 2-byte
 * header, which is ember's (the list's links).
 */
struct vfio_cfg_shown {
	uint8_t id, off, len;
	bool pass;
};

/*
 * The capabilities of @cfg the guest sees, in list order, into @out (at
 * most @max), as QEMU's vfio-pci on a conventional PCI bus shows them: PM,
 * MSI, MSI-X and vendor-specific ones. Every other one is hidden: PCI
 * Express (ember's bus is conventional PCI, so the extended config space
 * with SR-IOV, ARI, resizable BARs... stays hidden too), PCI-X, Advanced
 * Features (its FLR is VFIO's), and ids ember does not know. So are a
 * malformed MSI capability, a vendor one shorter than its header, and one
 * that runs past 256 bytes or overlaps one shown before it. Returns how
 * many, or vfio_cfg_caps' error for a list that loops or points outside.
 */
int vfio_cfg_shown_caps(const uint8_t *cfg, struct vfio_cfg_shown *out, unsigned max);

/*
 * Rewrites the list of the 256-byte header @cfg to link exactly @s[0..@n)
 * in that order, which unlinks the rest; no capability: the status bit
 * and the pointer are cleared.
 */
void vfio_cfg_link(uint8_t *cfg, const struct vfio_cfg_shown *s, unsigned n);

struct vfio_cfg_bar {
	uint64_t size;		/* 0: no BAR */
	enum pci_bar_type type;
	bool prefetch;
};

/*
 * The identity of the 256-byte header @cfg. -EINVAL when no device answers
 * (vendor 0 or 0xffff) or the header is not type 0 (bridges cannot be passed).
 */
int vfio_cfg_ids(const uint8_t *cfg, struct vfio_cfg_ids *out);

/*
 * The standard capability list of @cfg into @out (at most @max): offsets
 * dword-aligned in 0x40-0xfc, each visited once. Returns how many were
 * found, or -ELOOP for a list that revisits an offset, -EINVAL for a
 * pointer outside 0x40-0xfc; 0 when the status register says there is none.
 */
int vfio_cfg_caps(const uint8_t *cfg, struct vfio_cfg_cap *out, unsigned max);

/*
 * BAR @bar from its register in @cfg and the size of its VFIO region.
 * Returns 2 for a 64-bit BAR (which uses @bar + 1 too), 1 for another, 0
 * for none (size 0, or the upper half of the BAR before), -EINVAL for a
 * size that is not a power of two or does not fit its type (a 64-bit BAR
 * in BAR 5, an I/O BAR over 256 bytes, memory under 16 bytes).
 */
int vfio_cfg_bar(const uint8_t *cfg, int bar, uint64_t region_size,
		 bool prev_was_64, struct vfio_cfg_bar *out);

struct vfio_cfg_msix {
	unsigned nvec;			/* 1-2048 */
	int table_bar, pba_bar;
	uint32_t table_off, pba_off;	/* in their BARs */
};

/*
 * The MSI-X capability at @off of @cfg, checked against the BAR sizes in
 * @bar_size (0: no BAR): the table and PBA must lie inside BARs that
 * exist, table entries 16 bytes, PBA 8 bytes per 64 vectors. -EINVAL else.
 */
int vfio_cfg_msix(const uint8_t *cfg, unsigned off, const uint64_t *bar_size,
		  struct vfio_cfg_msix *out);

struct vfio_cfg_msi {
	unsigned nvec;		/* 1-32: what Multiple Message Capable offers */
	bool is64, maskable;	/* 64-bit address; per-vector mask and pending bits */
	unsigned size;		/* bytes of the capability: 10, 14, 20 or 24 */
};

/*
 * The MSI capability at @off of @cfg: its vector count, address width and
 * masking, as long as the whole capability fits in the 256 bytes. -EINVAL
 * else (or a reserved Multiple Message Capable value over 32 vectors).
 */
int vfio_cfg_msi(const uint8_t *cfg, unsigned off, struct vfio_cfg_msi *out);

/*
 * Whether VFIO's ROM region of @size bytes can be a ROM BAR: a power of
 * two from 2 KiB (the smallest the register decodes) to 16 MiB.
 */
bool vfio_cfg_rom_ok(uint64_t size);

/* Pieces of a BAR that are mmap'd and given to the guest as memory. */
#define VFIO_CFG_MAX_AREAS	8
#define VFIO_CFG_PAGE		4096u

struct vfio_cfg_area {
	uint64_t off, size;	/* in the BAR; page-aligned */
};

/*
 * The parts of BAR @bar (a VFIO region of @region_size bytes) that can be
 * mapped into the guest: the region's capability chain @info (the
 * kernel's struct vfio_region_info and what follows it, @len bytes) may
 * list sparse mmap areas, else the whole region can be mapped when
 * @mmap_ok. Each area is clipped to the region and to whole pages, and the
 * pages holding @msix's table and PBA are left out (ember traps those).
 * Returns how many areas went into @out (at most VFIO_CFG_MAX_AREAS; the
 * rest stay trapped), or -EINVAL for a chain that points outside @info or
 * loops.
 */
int vfio_cfg_mmap_areas(const void *info, size_t len, uint64_t region_size, bool mmap_ok,
			const struct vfio_cfg_msix *msix, int bar, struct vfio_cfg_area *out);

/*
 * QEMU's host= of vfio-pci: "DDDD:BB:DD.F" or "BB:DD.F" (domain 0), hex,
 * into the canonical "dddd:bb:dd.f" of sysfs. -EINVAL for anything else
 * (nothing but hex digits, ':' and '.' reaches a path).
 */
int vfio_parse_bdf(const char *s, char *out, size_t size);

#endif
