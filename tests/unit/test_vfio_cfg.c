/*
 * Reading a passed-through device's config space (devices/vfio_cfg.c):
 * identity, BAR shapes from VFIO region sizes, the capability list of a
 * device that lies (loops, pointers into the header or off the end), and
 * host= addresses.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <linux/vfio.h>

#include "devices/vfio_cfg.h"

static uint8_t cfg[PCI_CFG_SIZE];

static void put(unsigned off, uint32_t v, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		cfg[off + i] = v >> (8 * i);
}

/* QEMU's edu device: 1234:11e8, class 00ff00, one 1 MiB BAR, MSI at 0x40. */
static int edu(void **state)
{
	(void)state;
	memset(cfg, 0, sizeof(cfg));
	put(PCI_VENDOR_ID, 0x1234, 2);
	put(PCI_DEVICE_ID, 0x11e8, 2);
	put(PCI_REVISION_ID, 0x10, 1);
	put(PCI_CLASS_PROG, 0x00ff00, 3);
	put(PCI_SUBSYSTEM_VENDOR_ID, 0x1af4, 2);
	put(PCI_SUBSYSTEM_ID, 0x1100, 2);
	put(PCI_STATUS, PCI_STATUS_CAP_LIST, 2);
	put(PCI_CAPABILITY_LIST, 0x40, 1);
	put(0x40, PCI_CAP_ID_MSI, 1);
	put(0x41, 0, 1);
	put(PCI_BASE_ADDRESS_0, 0xfea00000, 4);
	return 0;
}

static void t_ids(void **state)
{
	struct vfio_cfg_ids ids;

	assert_int_equal(vfio_cfg_ids(cfg, &ids), 0);
	assert_int_equal(ids.vendor, 0x1234);
	assert_int_equal(ids.device, 0x11e8);
	assert_int_equal(ids.class, 0x00ff00);
	assert_int_equal(ids.revision, 0x10);
	assert_int_equal(ids.subsys_vendor, 0x1af4);
	assert_int_equal(ids.subsys_id, 0x1100);
}

static void t_ids_refused(void **state)
{
	struct vfio_cfg_ids ids;

	put(PCI_HEADER_TYPE, PCI_HEADER_TYPE_BRIDGE, 1);
	assert_int_equal(vfio_cfg_ids(cfg, &ids), -EINVAL);
	put(PCI_HEADER_TYPE, 0x80, 1);	/* multi-function, type 0: fine */
	assert_int_equal(vfio_cfg_ids(cfg, &ids), 0);
	put(PCI_VENDOR_ID, 0xffff, 2);
	assert_int_equal(vfio_cfg_ids(cfg, &ids), -EINVAL);
	put(PCI_VENDOR_ID, 0, 2);
	assert_int_equal(vfio_cfg_ids(cfg, &ids), -EINVAL);
}

static void t_caps_chain(void **state)
{
	struct vfio_cfg_cap caps[VFIO_CFG_MAX_CAPS];

	/* MSI at 0x40 -> MSI-X at 0x50 -> PCIe at 0x70; low pointer bits ignored */
	put(0x41, 0x53, 1);
	put(0x50, PCI_CAP_ID_MSIX, 1);
	put(0x51, 0x70, 1);
	put(0x70, PCI_CAP_ID_EXP, 1);
	assert_int_equal(vfio_cfg_caps(cfg, caps, VFIO_CFG_MAX_CAPS), 3);
	assert_int_equal(caps[0].id, PCI_CAP_ID_MSI);
	assert_int_equal(caps[0].off, 0x40);
	assert_int_equal(caps[1].id, PCI_CAP_ID_MSIX);
	assert_int_equal(caps[1].off, 0x50);
	assert_int_equal(caps[2].id, PCI_CAP_ID_EXP);
	assert_int_equal(caps[2].off, 0x70);
	/* fewer slots than capabilities: the first ones, and no overrun */
	assert_int_equal(vfio_cfg_caps(cfg, caps, 2), 2);
	/* the status bit says there is no list: none, whatever the pointer */
	put(PCI_STATUS, 0, 2);
	assert_int_equal(vfio_cfg_caps(cfg, caps, VFIO_CFG_MAX_CAPS), 0);
}

static void t_caps_hostile(void **state)
{
	struct vfio_cfg_cap caps[VFIO_CFG_MAX_CAPS];

	put(0x41, 0x40, 1);		/* points at itself */
	assert_int_equal(vfio_cfg_caps(cfg, caps, VFIO_CFG_MAX_CAPS), -ELOOP);
	put(0x41, 0x50, 1);
	put(0x51, 0x40, 1);		/* a loop of two */
	assert_int_equal(vfio_cfg_caps(cfg, caps, VFIO_CFG_MAX_CAPS), -ELOOP);
	put(0x51, 0x10, 1);		/* into the header */
	assert_int_equal(vfio_cfg_caps(cfg, caps, VFIO_CFG_MAX_CAPS), -EINVAL);
	put(0x51, 0xfd, 1);		/* 0xfc after masking: the last dword is fine */
	put(0xfd, 0, 1);
	assert_int_equal(vfio_cfg_caps(cfg, caps, VFIO_CFG_MAX_CAPS), 3);
	put(PCI_CAPABILITY_LIST, 0x3c, 1);	/* the list starts in the header */
	assert_int_equal(vfio_cfg_caps(cfg, caps, VFIO_CFG_MAX_CAPS), -EINVAL);
}

/*
 * QEMU's NVMe function as L1 sees it: PM, MSI-X, PCI Express; edu's MSI
 * first. The guest sees MSI, PM and MSI-X at their offsets, and the link
 * past the hidden PCI Express capability.
 */
static void t_shown(void **state)
{
	struct vfio_cfg_shown sh[VFIO_CFG_MAX_CAPS];

	put(0x41, 0x60, 1);
	put(0x60, PCI_CAP_ID_PM | 0x70 << 8 | 3 << 16, 4);
	put(0x70, PCI_CAP_ID_MSIX | 0x80 << 8, 2);
	put(0x80, PCI_CAP_ID_EXP | 0xa0 << 8, 2);
	put(0xa0, PCI_CAP_ID_VNDR | 0xb0 << 8 | 0x14 << 16, 4);
	put(0xb0, PCI_CAP_ID_AF | 0xc0 << 8, 2);
	put(0xc0, PCI_CAP_ID_PCIX, 1);
	assert_int_equal(vfio_cfg_shown_caps(cfg, sh, VFIO_CFG_MAX_CAPS), 4);
	assert_int_equal(sh[0].id, PCI_CAP_ID_MSI);
	assert_int_equal(sh[0].len, 10);		/* 32-bit, no masking */
	assert_false(sh[0].pass);
	assert_int_equal(sh[1].id, PCI_CAP_ID_PM);
	assert_int_equal(sh[1].off, 0x60);
	assert_int_equal(sh[1].len, PCI_PM_SIZEOF);
	assert_true(sh[1].pass);
	assert_int_equal(sh[2].id, PCI_CAP_ID_MSIX);
	assert_int_equal(sh[2].len, PCI_CAP_MSIX_SIZEOF);
	assert_int_equal(sh[3].id, PCI_CAP_ID_VNDR);
	assert_int_equal(sh[3].off, 0xa0);
	assert_int_equal(sh[3].len, 0x14);
	assert_true(sh[3].pass);
	/* fewer slots: the first ones */
	assert_int_equal(vfio_cfg_shown_caps(cfg, sh, 2), 2);

	vfio_cfg_shown_caps(cfg, sh, VFIO_CFG_MAX_CAPS);
	vfio_cfg_link(cfg, sh, 4);
	assert_int_equal(cfg[PCI_CAPABILITY_LIST], 0x40);
	assert_int_equal(cfg[0x41], 0x60);
	assert_int_equal(cfg[0x61], 0x70);
	assert_int_equal(cfg[0x71], 0xa0);		/* past PCI Express */
	assert_int_equal(cfg[0xa1], 0);			/* AF and PCI-X after it gone */
	assert_true(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST);
	assert_int_equal(vfio_cfg_caps(cfg, (struct vfio_cfg_cap[8]){ 0 }, 8), 4);
	/* only the second: linked from the header */
	vfio_cfg_link(cfg, sh + 1, 1);
	assert_int_equal(cfg[PCI_CAPABILITY_LIST], 0x60);
	assert_int_equal(cfg[0x61], 0);
	/* none: no list at all */
	vfio_cfg_link(cfg, sh, 0);
	assert_int_equal(cfg[PCI_CAPABILITY_LIST], 0);
	assert_false(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST);
	assert_int_equal(vfio_cfg_caps(cfg, (struct vfio_cfg_cap[8]){ 0 }, 8), 0);
}

/*
 * A device that lies: overlapping capabilities, a vendor one with no
 * length or running off the end, a malformed MSI, a loop.
 */
static void t_shown_hostile(void **state)
{
	struct vfio_cfg_shown sh[VFIO_CFG_MAX_CAPS];

	put(0x42, 6 << 1, 2);				/* MSI: 64 vectors, reserved */
	put(0x41, 0x48, 1);
	put(0x48, PCI_CAP_ID_PM | 0x4c << 8, 2);
	put(0x4c, PCI_CAP_ID_MSIX | 0x50 << 8, 2);	/* inside PM */
	put(0x50, PCI_CAP_ID_VNDR | 0xf8 << 8 | 2 << 16, 4);	/* length under its header */
	put(0xf8, PCI_CAP_ID_VNDR | 0 << 8 | 0x10 << 16, 4);	/* runs past 256 */
	assert_int_equal(vfio_cfg_shown_caps(cfg, sh, VFIO_CFG_MAX_CAPS), 1);
	assert_int_equal(sh[0].id, PCI_CAP_ID_PM);
	assert_int_equal(sh[0].off, 0x48);
	put(0xf9, 0x48, 1);				/* a loop */
	assert_int_equal(vfio_cfg_shown_caps(cfg, sh, VFIO_CFG_MAX_CAPS), -ELOOP);
}

/* Every dword a capability: the longest list there can be, then a loop. */
static void t_caps_full(void **state)
{
	struct vfio_cfg_cap caps[VFIO_CFG_MAX_CAPS];

	for (unsigned off = 0x40; off < 0x100; off += 4)
		put(off + 1, off + 4 < 0x100 ? off + 4 : 0, 1);
	assert_int_equal(vfio_cfg_caps(cfg, caps, VFIO_CFG_MAX_CAPS), VFIO_CFG_MAX_CAPS);
	assert_int_equal(caps[VFIO_CFG_MAX_CAPS - 1].off, 0xfc);
	put(0xfd, 0x40, 1);
	assert_int_equal(vfio_cfg_caps(cfg, caps, VFIO_CFG_MAX_CAPS), -ELOOP);
}

static void t_bars(void **state)
{
	struct vfio_cfg_bar b;

	/* edu's BAR 0: 32-bit, 1 MiB, not prefetchable */
	assert_int_equal(vfio_cfg_bar(cfg, 0, 1 << 20, false, &b), 1);
	assert_int_equal(b.type, PCI_BAR_MEM32);
	assert_int_equal(b.size, 1 << 20);
	assert_false(b.prefetch);
	/* no region: no BAR */
	assert_int_equal(vfio_cfg_bar(cfg, 1, 0, false, &b), 0);
	/* 64-bit prefetchable in BAR 2 uses BAR 3 too */
	put(PCI_BASE_ADDRESS_2, PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH, 4);
	assert_int_equal(vfio_cfg_bar(cfg, 2, 1ULL << 33, false, &b), 2);
	assert_int_equal(b.type, PCI_BAR_MEM64);
	assert_true(b.prefetch);
	assert_int_equal(vfio_cfg_bar(cfg, 3, 1ULL << 33, true, &b), 0);
	/* I/O */
	put(PCI_BASE_ADDRESS_4, 0xc001, 4);
	assert_int_equal(vfio_cfg_bar(cfg, 4, 32, false, &b), 1);
	assert_int_equal(b.type, PCI_BAR_IO);
}

static void t_bars_refused(void **state)
{
	struct vfio_cfg_bar b;

	assert_int_equal(vfio_cfg_bar(cfg, 0, 3 << 20, false, &b), -EINVAL);	/* not 2^n */
	assert_int_equal(vfio_cfg_bar(cfg, 0, 8, false, &b), -EINVAL);	/* memory < 16 */
	assert_int_equal(vfio_cfg_bar(cfg, 0, 4ULL << 30, false, &b), -EINVAL);	/* 32-bit > 2G */
	put(PCI_BASE_ADDRESS_5, PCI_BASE_ADDRESS_MEM_TYPE_64, 4);
	assert_int_equal(vfio_cfg_bar(cfg, 5, 4096, false, &b), -EINVAL);	/* no upper half */
	put(PCI_BASE_ADDRESS_1, PCI_BASE_ADDRESS_MEM_TYPE_1M, 4);
	assert_int_equal(vfio_cfg_bar(cfg, 1, 4096, false, &b), -EINVAL);
	put(PCI_BASE_ADDRESS_1, PCI_BASE_ADDRESS_SPACE_IO, 4);
	assert_int_equal(vfio_cfg_bar(cfg, 1, 512, false, &b), -EINVAL);	/* I/O > 256 */
	assert_int_equal(vfio_cfg_bar(cfg, 6, 4096, false, &b), -EINVAL);
	assert_int_equal(vfio_cfg_bar(cfg, -1, 4096, false, &b), -EINVAL);
}

static void t_bdf(void **state)
{
	char out[32];

	assert_int_equal(vfio_parse_bdf("0000:00:03.0", out, sizeof(out)), 0);
	assert_string_equal(out, "0000:00:03.0");
	assert_int_equal(vfio_parse_bdf("00:1F.7", out, sizeof(out)), 0);
	assert_string_equal(out, "0000:00:1f.7");
	assert_int_equal(vfio_parse_bdf("0001:af:00.1", out, sizeof(out)), 0);
	assert_string_equal(out, "0001:af:00.1");
	const char *bad[] = { "", "00:20.0", "00:03.8", "00:03", "../../x", "0000:00:03.0/..",
			      "0x0:00:03.0", " 00:03.0", "00:03.0 ", "-0:00:03.0", "00:03.0,x",
			      "00000:00:03.0", "0000:000:03.0" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vfio_parse_bdf(bad[i], out, sizeof(out)) != -EINVAL)
			fail_msg("host=%s was taken", bad[i]);
	assert_int_equal(vfio_parse_bdf("0000:00:03.0", out, 8), -EINVAL);
}

/* A region info with a sparse mmap capability of @n areas at its end. */
struct sparse_info {
	struct vfio_region_info ri;
	struct vfio_region_info_cap_sparse_mmap sp;
	struct vfio_region_sparse_mmap_area areas[4];
};

static size_t sparse(struct sparse_info *si, unsigned n, const uint64_t (*a)[2])
{
	memset(si, 0, sizeof(*si));
	si->ri.argsz = sizeof(*si);
	si->ri.flags = VFIO_REGION_INFO_FLAG_CAPS | VFIO_REGION_INFO_FLAG_MMAP;
	si->ri.cap_offset = offsetof(struct sparse_info, sp);
	si->sp.header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	si->sp.header.version = 1;
	si->sp.nr_areas = n;
	for (unsigned i = 0; i < n; i++) {
		si->areas[i].offset = a[i][0];
		si->areas[i].size = a[i][1];
	}
	return sizeof(*si);
}

#define AREA(o, s) ((struct vfio_cfg_area){ (o), (s) })
static void expect_area(const struct vfio_cfg_area *got, struct vfio_cfg_area want)
{
	assert_int_equal(got->off, want.off);
	assert_int_equal(got->size, want.size);
}

static void t_mmap_whole(void **state)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .flags = VFIO_REGION_INFO_FLAG_MMAP };
	struct vfio_cfg_area a[VFIO_CFG_MAX_AREAS];
	struct vfio_cfg_msix other = { .nvec = 4, .table_bar = 2, .pba_bar = 2 };

	(void)state;
	assert_int_equal(vfio_cfg_mmap_areas(&ri, sizeof(ri), 0x100000, true, NULL, 0, a), 1);
	expect_area(&a[0], AREA(0, 0x100000));
	/* the MSI-X table in another BAR leaves this one whole */
	assert_int_equal(vfio_cfg_mmap_areas(&ri, sizeof(ri), 0x4000, true, &other, 0, a), 1);
	expect_area(&a[0], AREA(0, 0x4000));
	/* VFIO will not map it, or less than a page: trapped */
	assert_int_equal(vfio_cfg_mmap_areas(&ri, sizeof(ri), 0x4000, false, NULL, 0, a), 0);
	assert_int_equal(vfio_cfg_mmap_areas(&ri, sizeof(ri), 0x800, true, NULL, 0, a), 0);
}

static void t_mmap_msix_holes(void **state)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .flags = VFIO_REGION_INFO_FLAG_MMAP };
	struct vfio_cfg_area a[VFIO_CFG_MAX_AREAS];
	/* an NVMe controller's layout: table at 0x2000, PBA at 0x3000, in BAR 0 */
	struct vfio_cfg_msix m = { .nvec = 65, .table_bar = 0, .table_off = 0x2000,
				   .pba_bar = 0, .pba_off = 0x3000 };
	/* both in one page, not page-aligned */
	struct vfio_cfg_msix same = { .nvec = 2, .table_bar = 0, .table_off = 0x1100,
				      .pba_bar = 0, .pba_off = 0x1080 };

	(void)state;
	assert_int_equal(vfio_cfg_mmap_areas(&ri, sizeof(ri), 0x8000, true, &m, 0, a), 2);
	expect_area(&a[0], AREA(0, 0x2000));
	expect_area(&a[1], AREA(0x4000, 0x4000));
	assert_int_equal(vfio_cfg_mmap_areas(&ri, sizeof(ri), 0x4000, true, &same, 0, a), 2);
	expect_area(&a[0], AREA(0, 0x1000));
	expect_area(&a[1], AREA(0x2000, 0x2000));
	/* a table of 2048 vectors (32 KiB) spans pages: all of them stay trapped */
	m.nvec = 2048;
	m.pba_off = 0x10000;
	assert_int_equal(vfio_cfg_mmap_areas(&ri, sizeof(ri), 0x20000, true, &m, 0, a), 3);
	expect_area(&a[0], AREA(0, 0x2000));
	expect_area(&a[1], AREA(0xa000, 0x6000));
	expect_area(&a[2], AREA(0x11000, 0xf000));
}

static void t_mmap_sparse(void **state)
{
	struct sparse_info si;
	struct vfio_cfg_area a[VFIO_CFG_MAX_AREAS];
	struct vfio_cfg_msix m = { .nvec = 1, .table_bar = 0, .table_off = 0x3000,
				   .pba_bar = 0, .pba_off = 0x3800 };
	/* unaligned edges shrink to whole pages; an area past the region is dropped */
	const uint64_t areas[][2] = { { 0x0, 0x1800 }, { 0x2000, 0x4000 }, { 0x10000, 0x1000 } };
	size_t len = sparse(&si, 3, areas);

	(void)state;
	assert_int_equal(vfio_cfg_mmap_areas(&si, len, 0x8000, true, &m, 0, a), 3);
	expect_area(&a[0], AREA(0, 0x1000));
	expect_area(&a[1], AREA(0x2000, 0x1000));
	expect_area(&a[2], AREA(0x4000, 0x2000));
}

static void t_mmap_hostile(void **state)
{
	struct sparse_info si;
	struct vfio_cfg_area a[VFIO_CFG_MAX_AREAS];
	const uint64_t areas[][2] = { { 0, 0x1000 } };
	size_t len = sparse(&si, 1, areas);

	(void)state;
	assert_int_equal(vfio_cfg_mmap_areas(&si, len, 0x8000, true, NULL, 0, a), 1);
	si.sp.nr_areas = 0x10000000;	/* more areas than bytes */
	assert_int_equal(vfio_cfg_mmap_areas(&si, len, 0x8000, true, NULL, 0, a), -EINVAL);
	sparse(&si, 1, areas);
	si.ri.cap_offset = (uint32_t)len;	/* past the end */
	assert_int_equal(vfio_cfg_mmap_areas(&si, len, 0x8000, true, NULL, 0, a), -EINVAL);
	si.ri.cap_offset = 8;			/* inside the region info itself */
	assert_int_equal(vfio_cfg_mmap_areas(&si, len, 0x8000, true, NULL, 0, a), -EINVAL);
	sparse(&si, 1, areas);
	si.sp.header.id = 99;			/* a loop of unknown capabilities */
	si.sp.header.next = si.ri.cap_offset;
	assert_int_equal(vfio_cfg_mmap_areas(&si, len, 0x8000, true, NULL, 0, a), -EINVAL);
	assert_int_equal(vfio_cfg_mmap_areas(&si, 8, 0x8000, true, NULL, 0, a), -EINVAL);
}

/* MSI: edu's plain one (1 vector, 32-bit), and the other shapes' sizes. */
static void t_msi(void **state)
{
	struct vfio_cfg_msi m;

	assert_int_equal(vfio_cfg_msi(cfg, 0x40, &m), 0);
	assert_int_equal(m.nvec, 1);
	assert_false(m.is64);
	assert_false(m.maskable);
	assert_int_equal(m.size, 10);
	put(0x42, PCI_MSI_FLAGS_64BIT, 2);
	assert_int_equal(vfio_cfg_msi(cfg, 0x40, &m), 0);
	assert_int_equal(m.size, 14);
	put(0x42, 5 << 1 | PCI_MSI_FLAGS_MASKBIT, 2);
	assert_int_equal(vfio_cfg_msi(cfg, 0x40, &m), 0);
	assert_int_equal(m.nvec, 32);
	assert_int_equal(m.size, 20);
	put(0x42, 2 << 1 | PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT, 2);
	assert_int_equal(vfio_cfg_msi(cfg, 0x40, &m), 0);
	assert_int_equal(m.nvec, 4);
	assert_true(m.is64 && m.maskable);
	assert_int_equal(m.size, 24);
}

/* A device that lies: reserved vector counts, a capability past config space, the wrong id. */
static void t_msi_hostile(void **state)
{
	struct vfio_cfg_msi m;

	put(0x42, 6 << 1, 2);
	assert_int_equal(vfio_cfg_msi(cfg, 0x40, &m), -EINVAL);
	put(0x42, 7 << 1, 2);
	assert_int_equal(vfio_cfg_msi(cfg, 0x40, &m), -EINVAL);
	put(0xf0, PCI_CAP_ID_MSI, 1);
	put(0xf2, PCI_MSI_FLAGS_64BIT, 2);		/* 14 bytes fit */
	assert_int_equal(vfio_cfg_msi(cfg, 0xf0, &m), 0);
	put(0xf2, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT, 2);	/* 24 do not */
	assert_int_equal(vfio_cfg_msi(cfg, 0xf0, &m), -EINVAL);
	assert_int_equal(vfio_cfg_msi(cfg, 0xfc, &m), -EINVAL);
	assert_int_equal(vfio_cfg_msi(cfg, 0x20, &m), -EINVAL);
	put(0x40, PCI_CAP_ID_MSIX, 1);
	assert_int_equal(vfio_cfg_msi(cfg, 0x40, &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(t_ids, edu),
		cmocka_unit_test_setup(t_ids_refused, edu),
		cmocka_unit_test_setup(t_caps_chain, edu),
		cmocka_unit_test_setup(t_caps_hostile, edu),
		cmocka_unit_test_setup(t_caps_full, edu),
		cmocka_unit_test_setup(t_shown, edu),
		cmocka_unit_test_setup(t_shown_hostile, edu),
		cmocka_unit_test_setup(t_bars, edu),
		cmocka_unit_test_setup(t_bars_refused, edu),
		cmocka_unit_test(t_bdf),
		cmocka_unit_test(t_mmap_whole),
		cmocka_unit_test(t_mmap_msix_holes),
		cmocka_unit_test(t_mmap_sparse),
		cmocka_unit_test(t_mmap_hostile),
		cmocka_unit_test_setup(t_msi, edu),
		cmocka_unit_test_setup(t_msi_hostile, edu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
