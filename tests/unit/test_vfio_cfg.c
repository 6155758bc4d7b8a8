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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(t_ids, edu),
		cmocka_unit_test_setup(t_ids_refused, edu),
		cmocka_unit_test_setup(t_caps_chain, edu),
		cmocka_unit_test_setup(t_caps_hostile, edu),
		cmocka_unit_test_setup(t_caps_full, edu),
		cmocka_unit_test_setup(t_bars, edu),
		cmocka_unit_test_setup(t_bars_refused, edu),
		cmocka_unit_test(t_bdf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
