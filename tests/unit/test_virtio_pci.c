/*
 * virtio-pci as a driver finds and drives it: walk the capability list,
 * program the BARs, negotiate through the common config, set up queues,
 * ring doorbells, take interrupts. The device is a fake behind the real
 * virtio core; the PCI host, buses and gmem are the real ones, interrupts
 * and KVM's eventfd plumbing are recorded by fakes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sys/eventfd.h>
#include <linux/virtio_pci.h>

#include "devices/pci.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "pci_guest.h"
#include "vcpu_thread.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"

#define SLOT		3
#define GSI		(PCI_INTX_GSI_BASE + SLOT % 4)
#define RAM_SIZE	0x100000
#define BAR4_AT		(MMIO64 + 0x100000)
#define BAR1_AT		(MMIO32 + 0x10000)
#define DEV_FEATURES	(1ULL << 5)

static struct gmem mem;
static uint8_t *ram;

/* --- fakes --- */

static int line;

static void fake_irq_set(void *opaque, unsigned gsi, int level)
{
	assert_int_equal(gsi, GSI);
	line = level;
}

/* KVM's ioeventfds: which fd is assigned where, checked for pairing. */
static struct { uint64_t addr; int fd; bool on; } ioev[4];
static unsigned ioev_calls;

static int fake_ioeventfd(void *opaque, uint64_t addr, unsigned len, int pio, int fd,
			  int use_datamatch, uint64_t datamatch, int deassign)
{
	unsigned q = (addr & 0xfff) / 4;

	assert_int_equal(len, 0);
	assert_false(pio || use_datamatch);
	assert_true(q < 4);
	ioev_calls++;
	assert_int_equal(ioev[q].on, !!deassign);
	if (deassign)
		assert_true(ioev[q].addr == addr && ioev[q].fd == fd);
	ioev[q] = (typeof(ioev[q])){ addr, fd, !deassign };
	return 0;
}

#define FAKE_ID		VIRTIO_ID_BLOCK
#define FAKE_CFG_SIZE	8
#include "fake_vdev.h"

/* The thread that served the last kick. */
static pthread_t kick_thread;

/* Kicks also come from a thread running the loop: counted atomically. */
static void fake_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	assert_true(q < 2);
	kick_thread = pthread_self();
	__atomic_add_fetch(&fk.kicks[q], 1, __ATOMIC_SEQ_CST);
}

/* --- the driver's side --- */

static uint32_t cfg_rd(unsigned reg, unsigned len)
{
	return ecam_read(SLOT, 0, reg, len);
}

static void cfg_wr(unsigned reg, uint32_t v, unsigned len)
{
	ecam_write(SLOT, 0, reg, v, len);
}

/* What the capability walk found: offsets into BAR 4 of each structure. */
static struct {
	unsigned common, isr, device, notify, pcicfg, msix;
	uint32_t device_len, notify_len, notify_mult;
} cap;

static void find_caps(void)
{
	unsigned off, n = 0;

	memset(&cap, 0, sizeof(cap));
	for (off = cfg_rd(PCI_CAPABILITY_LIST, 1); off; off = cfg_rd(off + 1, 1)) {
		unsigned type = cfg_rd(off + VIRTIO_PCI_CAP_CFG_TYPE, 1);
		uint32_t where = cfg_rd(off + VIRTIO_PCI_CAP_OFFSET, 4);

		assert_true(++n < 16 && off >= 0x40 && off % 4 == 0);
		if (cfg_rd(off, 1) == PCI_CAP_ID_MSIX) {
			cap.msix = off;
			continue;
		}
		assert_int_equal(cfg_rd(off, 1), PCI_CAP_ID_VNDR);
		if (type != VIRTIO_PCI_CAP_PCI_CFG)
			assert_int_equal(cfg_rd(off + VIRTIO_PCI_CAP_BAR, 1), 4);
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			assert_true(cfg_rd(off + VIRTIO_PCI_CAP_LENGTH, 4) >= 0x3c);
			cap.common = where;
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			cap.isr = where;
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			cap.device = where;
			cap.device_len = cfg_rd(off + VIRTIO_PCI_CAP_LENGTH, 4);
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			assert_int_equal(cfg_rd(off + VIRTIO_PCI_CAP_LEN, 1), 20);
			cap.notify = where;
			cap.notify_len = cfg_rd(off + VIRTIO_PCI_CAP_LENGTH, 4);
			cap.notify_mult = cfg_rd(off + 16, 4);
			break;
		case VIRTIO_PCI_CAP_PCI_CFG:
			assert_int_equal(cfg_rd(off + VIRTIO_PCI_CAP_LEN, 1), 20);
			cap.pcicfg = off;
			break;
		default:
			fail_msg("unexpected virtio capability type %u", type);
		}
	}
	assert_true(cap.isr && cap.notify && cap.pcicfg && cap.msix && cap.device);
}

static uint64_t common(unsigned field)
{
	return BAR4_AT + cap.common + field;
}

/* Sizes and places both BARs as a guest kernel would, then decodes. */
static void program_bars(void)
{
	cfg_wr(PCI_BASE_ADDRESS_4, 0xffffffff, 4);
	cfg_wr(PCI_BASE_ADDRESS_5, 0xffffffff, 4);
	assert_int_equal(cfg_rd(PCI_BASE_ADDRESS_4, 4), 0xffffc000 | PCI_BASE_ADDRESS_MEM_TYPE_64);
	assert_int_equal(cfg_rd(PCI_BASE_ADDRESS_5, 4), 0xffffffff);
	cfg_wr(PCI_BASE_ADDRESS_1, 0xffffffff, 4);
	assert_int_equal(cfg_rd(PCI_BASE_ADDRESS_1, 4), 0xfffff000);
	cfg_wr(PCI_BASE_ADDRESS_4, (uint32_t)BAR4_AT, 4);
	cfg_wr(PCI_BASE_ADDRESS_5, BAR4_AT >> 32, 4);
	cfg_wr(PCI_BASE_ADDRESS_1, (uint32_t)BAR1_AT, 4);
	cfg_wr(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

static void status(uint8_t s)
{
	mmio_write(common(VIRTIO_PCI_COMMON_STATUS), s, 1);
}

static uint8_t get_status(void)
{
	return mmio_read(common(VIRTIO_PCI_COMMON_STATUS), 1);
}

/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK (3.1.1). */
static void negotiate(uint64_t want)
{
	uint64_t offered;

	status(0);
	assert_int_equal(get_status(), 0);
	status(VIRTIO_STATUS_ACKNOWLEDGE);
	status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_write(common(VIRTIO_PCI_COMMON_DFSELECT), 0, 4);
	offered = mmio_read(common(VIRTIO_PCI_COMMON_DF), 4);
	mmio_write(common(VIRTIO_PCI_COMMON_DFSELECT), 1, 4);
	offered |= mmio_read(common(VIRTIO_PCI_COMMON_DF), 4) << 32;
	assert_true(offered & (1ULL << VIRTIO_F_VERSION_1));
	assert_true(offered & DEV_FEATURES);
	want &= offered;
	for (unsigned w = 0; w < 2; w++) {
		mmio_write(common(VIRTIO_PCI_COMMON_GFSELECT), w, 4);
		mmio_write(common(VIRTIO_PCI_COMMON_GF), (uint32_t)(want >> (32 * w)), 4);
		assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_GF), 4), (uint32_t)(want >> (32 * w)));
	}
	status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	assert_true(get_status() & VIRTIO_STATUS_FEATURES_OK);
}

/* A split ring of @size entries in RAM; @vec is its MSI-X vector. */
static void setup_queue(unsigned q, uint16_t size, uint16_t vec)
{
	uint64_t base = 0x10000 + q * 0x8000;

	mmio_write(common(VIRTIO_PCI_COMMON_Q_SELECT), q, 2);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_SIZE), 2), 256);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_SIZE), size, 2);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_MSIX), vec, 2);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_MSIX), 2), vec);
	/* The descriptor table as a qword, the rings as two dwords each. */
	mmio_write(common(VIRTIO_PCI_COMMON_Q_DESCLO), base, 8);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_AVAILLO), base + 0x2000, 4);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_AVAILHI), 0, 4);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_USEDLO), base + 0x4000, 4);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_USEDHI), 0, 4);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_DESCLO), 4), base);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_USEDLO), 8), base + 0x4000);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_NOFF), 2), q);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_ENABLE), 1, 2);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 1);
}

static void msix_vector(unsigned vec, uint32_t data)
{
	uint64_t e = BAR1_AT + 16 * vec;

	mmio_write(e, 0xfee00000, 4);
	mmio_write(e + 4, 0, 4);
	mmio_write(e + 8, data, 4);
	mmio_write(e + 12, 0, 4);
}

static void msix_enable(bool on)
{
	cfg_wr(cap.msix + PCI_MSIX_FLAGS, on ? PCI_MSIX_FLAGS_ENABLE : 0, 2);
}

/* The driver up to DRIVER_OK: queue 0 on vector 1, queue 1 on 2, config on 0. */
static void bring_up(void)
{
	program_bars();
	find_caps();
	negotiate(1ULL << VIRTIO_F_VERSION_1 | DEV_FEATURES);
	setup_queue(0, 16, 1);
	setup_queue(1, 32, 2);
	mmio_write(common(VIRTIO_PCI_COMMON_MSIX), 0, 2);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_MSIX), 2), 0);
	for (unsigned v = 0; v < 3; v++)
		msix_vector(v, 0x40 + v);
	msix_enable(true);
	status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* --- fixtures --- */

static int setup(void **state)
{
	struct virtio_pci_opts o = { .bus = "pci.0", .slot = SLOT, .function = 0 };

	memset(&pf, 0, sizeof(pf));
	memset(&mem, 0, sizeof(mem));
	memset(ioev, 0, sizeof(ioev));
	line = 0;
	nmsi = ioev_calls = 0;
	log_set_quiet(1);
	ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(ram);
	memset(ram, 0, RAM_SIZE);
	assert_int_equal(gmem_add(&mem, 0, RAM_SIZE, ram, -1, 0), 0);
	bus_init(&pf.pio, "pio");
	bus_init(&pf.mmio, "mmio");
	pf.mem = &mem;
	pf.irq_set = fake_irq_set;
	pf.msi_send = fake_msi_send;
	if (*state) {		/* with the event loop and KVM's ioeventfds */
		pf.loop = loop_new();
		pf.ioeventfd = fake_ioeventfd;
	}
	assert_int_equal(pci_host_create(&pf, ECAM, MMIO32, MMIO32_SIZE, MMIO64,
					 MMIO64_SIZE), 0);
	memset(&fk, 0, sizeof(fk));
	assert_int_equal(virtio_dev_init(&fk.vdev, &fake_ops, &pf, 2, 256, "virtio-blk test0"), 0);
	assert_int_equal(virtio_pci_attach(&fk.vdev, &pf, &o), 0);
	return 0;
}

static int teardown(void **state)
{
	virtio_pci_detach(&fk.vdev);
	for (unsigned q = 0; q < 4; q++)
		assert_false(ioev[q].on);
	pci_host_destroy(&pf);
	assert_int_equal(pf.mmio.nr + pf.pio.nr, 0);
	if (pf.loop)
		loop_free(pf.loop);
	bus_destroy(&pf.pio);
	bus_destroy(&pf.mmio);
	free(ram);
	return 0;
}

/* --- tests --- */

static void t_identity(void **state)
{
	assert_int_equal(cfg_rd(PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg_rd(PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_BLOCK);
	assert_int_equal(cfg_rd(PCI_REVISION_ID, 1), 1);
	assert_int_equal(cfg_rd(PCI_CLASS_REVISION, 4) >> 8, 0x018000);
	assert_int_equal(cfg_rd(PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg_rd(PCI_SUBSYSTEM_ID, 2), VIRTIO_ID_BLOCK);
	assert_int_equal(cfg_rd(PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(cfg_rd(PCI_INTERRUPT_LINE, 1), GSI);
	find_caps();
	assert_int_equal(cap.common, 0);
	assert_int_equal(cap.device_len, sizeof(fk.cfg));
	assert_int_equal(cap.notify_mult, 4);
	assert_int_equal(cap.notify_len, 2 * 4);
	/* num_queues + 1 vectors, table and PBA in BAR 1. */
	assert_int_equal(cfg_rd(cap.msix + PCI_MSIX_FLAGS, 2), 2);
	assert_int_equal(cfg_rd(cap.msix + PCI_MSIX_TABLE, 4), 1);
	assert_int_equal(cfg_rd(cap.msix + PCI_MSIX_PBA, 4) & 7, 1);
	/* Assigned already, as firmware would: BAR 4 above 4 GiB. */
	assert_int_equal(cfg_rd(PCI_BASE_ADDRESS_5, 4), MMIO64 >> 32);
	assert_int_equal(cfg_rd(PCI_BASE_ADDRESS_1, 4), MMIO32);
}

static void t_driver(void **state)
{
	uint32_t v;

	bring_up();
	assert_int_equal(get_status() & VIRTIO_STATUS_NEEDS_RESET, 0);
	assert_int_equal(fk.activates, 1);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_NUMQ), 2), 2);

	/* Doorbells: 16-bit writes of the queue index at notify_off * 4. */
	mmio_write(BAR4_AT + cap.notify + 0 * cap.notify_mult, 0, 2);
	mmio_write(BAR4_AT + cap.notify + 1 * cap.notify_mult, 1, 2);
	mmio_write(BAR4_AT + cap.notify + 1 * cap.notify_mult, 1, 4);
	assert_int_equal(fk.kicks[0], 1);
	assert_int_equal(fk.kicks[1], 2);
	/* Past the last queue, between doorbells: nothing. */
	mmio_write(BAR4_AT + cap.notify + 2 * cap.notify_mult, 2, 2);
	mmio_write(BAR4_AT + cap.notify + 2, 0, 2);
	assert_int_equal(fk.kicks[0] + fk.kicks[1], 3);

	/* Used buffers: the queue's vector. */
	virtio_notify(&fk.vdev, 1);
	assert_int_equal(nmsi, 1);
	assert_true(msi[0].addr == 0xfee00000 && msi[0].data == 0x42);
	virtio_notify(&fk.vdev, 0);
	assert_int_equal(msi[1].data, 0x41);
	assert_int_equal(line, 0);
	/* Config change: generation bumps, config vector fires. */
	v = mmio_read(common(VIRTIO_PCI_COMMON_CFGGENERATION), 1);
	virtio_config_changed(&fk.vdev);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_CFGGENERATION), 1), (v + 1) & 0xff);
	assert_int_equal(nmsi, 3);
	assert_int_equal(msi[2].data, 0x40);
	/* A queue without a vector has no interrupt while MSI-X is on. */
	mmio_write(common(VIRTIO_PCI_COMMON_Q_SELECT), 0, 2);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_MSIX), VIRTIO_MSI_NO_VECTOR, 2);
	virtio_notify(&fk.vdev, 0);
	assert_int_equal(nmsi, 3);

	/* MSI-X off: the ISR bit and INTA, until the driver reads the ISR. */
	mmio_read(BAR4_AT + cap.isr, 1);
	msix_enable(false);
	virtio_notify(&fk.vdev, 0);
	assert_int_equal(nmsi, 3);
	assert_int_equal(line, 1);
	assert_true(cfg_rd(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_int_equal(mmio_read(BAR4_AT + cap.isr, 1), VIRTIO_ISR_QUEUE);
	assert_int_equal(line, 0);
	assert_int_equal(mmio_read(BAR4_AT + cap.isr, 1), 0);
	virtio_config_changed(&fk.vdev);
	assert_int_equal(line, 1);
	assert_int_equal(mmio_read(BAR4_AT + cap.isr, 1), VIRTIO_ISR_CONFIG);
	assert_int_equal(line, 0);
	/* A wider ISR read neither reads nor clears it. */
	virtio_notify(&fk.vdev, 1);
	assert_int_equal(mmio_read(BAR4_AT + cap.isr, 4), 0);
	assert_int_equal(line, 1);

	/* Device config through its structure, bounded by config_size. */
	memcpy(fk.cfg, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	assert_int_equal(mmio_read(BAR4_AT + cap.device, 4), 0x44332211);
	assert_true(mmio_read(BAR4_AT + cap.device, 8) == 0x8877665544332211ULL);
	assert_int_equal(mmio_read(BAR4_AT + cap.device + 6, 2), 0x8877);
	assert_int_equal(mmio_read(BAR4_AT + cap.device + 8, 4), 0);
	mmio_write(BAR4_AT + cap.device + 4, 0xaabb, 2);
	assert_int_equal(fk.cfg[4], 0xbb);
	mmio_write(BAR4_AT + cap.device + 7, 0xaabb, 2);	/* crosses the end: dropped */
	assert_int_equal(fk.cfg[7], 0x88);

	/* A reset drops the line, the vectors and the queues. */
	v = fk.resets;
	status(0);
	assert_int_equal(line, 0);
	assert_int_equal(fk.resets, v + 1);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 0);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_SIZE), 2), 256);
	/* Doorbells before DRIVER_OK go nowhere. */
	mmio_write(BAR4_AT + cap.notify, 0, 2);
	assert_int_equal(fk.kicks[0], 1);
}

/*
 * Machine reset: the device's reset (transport op), then the PCI host's:
 * command 0 and the BARs back where firmware put them (not decoding), the
 * guest's config bits cleared, MSI-X off with every vector masked, INTA
 * low. The next boot's driver brings it up again.
 */
static void t_machine_reset(void **state)
{
	int resets;

	bring_up();
	mmio_write(common(VIRTIO_PCI_COMMON_DFSELECT), 1, 4);
	msix_enable(false);
	virtio_notify(&fk.vdev, 0);
	assert_int_equal(line, 1);
	cfg_wr(PCI_INTERRUPT_LINE, 0x77, 1);
	resets = fk.resets;
	fk.vdev.tops->reset(&fk.vdev);
	pci_host_reset(pf.pci);
	assert_int_equal(fk.resets, resets + 1);
	assert_int_equal(fk.vdev.status, 0);
	assert_int_equal(fk.vdev.guest_features, 0);
	assert_false(fk.vdev.vqs[0].enabled || fk.vdev.vqs[1].enabled);
	assert_int_equal(line, 0);
	assert_int_equal(cfg_rd(PCI_COMMAND, 2), 0);
	assert_int_equal(cfg_rd(PCI_INTERRUPT_LINE, 1), GSI);
	assert_int_equal(cfg_rd(PCI_BASE_ADDRESS_4, 4), (uint32_t)MMIO64 | PCI_BASE_ADDRESS_MEM_TYPE_64);
	assert_int_equal(cfg_rd(PCI_BASE_ADDRESS_5, 4), MMIO64 >> 32);
	assert_int_equal(cfg_rd(PCI_BASE_ADDRESS_1, 4), MMIO32);
	assert_int_equal(cfg_rd(cap.msix + PCI_MSIX_FLAGS, 2), 2);	/* off, table size 3 */
	/* Nothing decodes: the guest's old BAR 4 address is gone. */
	assert_false(bus_read(&pf.pci->mem, BAR4_AT + cap.common, &(uint32_t){ 0 }, 4));
	/* Every vector masked again, with no message. */
	program_bars();
	for (unsigned v = 0; v < 3; v++) {
		assert_int_equal(mmio_read(BAR1_AT + 16 * v + 12, 4), PCI_MSIX_ENTRY_CTRL_MASKBIT);
		assert_int_equal(mmio_read(BAR1_AT + 16 * v + 8, 4), 0);
	}
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_DFSELECT), 4), 0);
	/* The next boot. */
	bring_up();
	assert_int_equal(fk.activates, 2);
	virtio_notify(&fk.vdev, 1);
	assert_true(nmsi >= 1 && msi[nmsi - 1].data == 0x42);
}

/* Queue sizes virtq_start refuses: the device asks for a reset, nothing breaks. */
static void t_bad_queue(void **state)
{
	static const uint16_t bad[] = { 0, 300, 100, 0xffff };

	program_bars();
	find_caps();
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		negotiate(1ULL << VIRTIO_F_VERSION_1);
		setup_queue(0, bad[i], 1);
		status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
		assert_true(get_status() & VIRTIO_STATUS_NEEDS_RESET);
		assert_int_equal(fk.activates, 0);
		mmio_write(BAR4_AT + cap.notify, 0, 2);
		assert_int_equal(fk.kicks[0], 0);
	}
	/* A ring outside RAM is refused the same way. */
	negotiate(1ULL << VIRTIO_F_VERSION_1);
	setup_queue(0, 16, 1);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_SELECT), 1, 2);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_DESCLO), 0x7ffffffff000ULL, 8);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_ENABLE), 1, 2);
	status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	assert_true(get_status() & VIRTIO_STATUS_NEEDS_RESET);
	/* Features without VERSION_1: FEATURES_OK does not stick. */
	status(0);
	status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_write(common(VIRTIO_PCI_COMMON_GFSELECT), 1, 4);
	mmio_write(common(VIRTIO_PCI_COMMON_GF), 0, 4);
	status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	assert_false(get_status() & VIRTIO_STATUS_FEATURES_OK);
}

static void t_registers(void **state)
{
	program_bars();
	find_caps();
	negotiate(1ULL << VIRTIO_F_VERSION_1);
	/* Wrong widths are ignored both ways. */
	mmio_write(common(VIRTIO_PCI_COMMON_Q_SELECT), 1, 4);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_SELECT), 2), 0);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_SELECT), 4), 0);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_STATUS), 2), 0);
	mmio_write(common(VIRTIO_PCI_COMMON_STATUS), 0, 2);
	assert_true(get_status() & VIRTIO_STATUS_FEATURES_OK);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_SIZE), 8, 1);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_SIZE), 2), 256);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_DESCHI), 1, 8);	/* a qword at the high half */
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_DESCLO), 8), 0);
	mmio_write(common(VIRTIO_PCI_COMMON_DF + 1), 0xff, 1);
	/* Read-only fields stay. */
	mmio_write(common(VIRTIO_PCI_COMMON_NUMQ), 9, 2);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_NOFF), 9, 2);
	mmio_write(common(VIRTIO_PCI_COMMON_CFGGENERATION), 9, 1);
	mmio_write(common(VIRTIO_PCI_COMMON_DF), 0, 4);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_NUMQ), 2), 2);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_NOFF), 2), 0);
	/* Feature selects past the second word read 0. */
	mmio_write(common(VIRTIO_PCI_COMMON_DFSELECT), 7, 4);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_DF), 4), 0);
	/* A queue that does not exist: size 0, no vector, writes ignored. */
	mmio_write(common(VIRTIO_PCI_COMMON_Q_SELECT), 5, 2);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_SIZE), 2), 0);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_ENABLE), 1, 2);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_MSIX), 1, 2);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 0);
	/* Vectors the device does not have read back as NO_VECTOR. */
	mmio_write(common(VIRTIO_PCI_COMMON_Q_SELECT), 0, 2);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_MSIX), 3, 2);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	mmio_write(common(VIRTIO_PCI_COMMON_MSIX), 0x1234, 2);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	/* Once enabled, a queue's setup is fixed; queue_enable 0 is ignored. */
	setup_queue(0, 16, 1);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_SIZE), 64, 2);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_DESCLO), 0x1000, 4);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_ENABLE), 0, 2);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_SIZE), 2), 16);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_DESCLO), 4), 0x10000);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 1);
	/* queue_reset is not offered: reads 0, writes do nothing. */
	mmio_write(common(VIRTIO_PCI_COMMON_Q_RESET), 1, 2);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_RESET), 2), 0);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 1);
	/* Between the structures, past the end of the BAR: nothing. */
	assert_true(mmio_read(BAR4_AT + 0x800, 4) == 0);
	assert_true(mmio_read(BAR4_AT + 0x4000, 4) == 0xffffffff);
}

/* The PCI cfg access capability: BAR 4 through config space (4.1.4.9). */
static void t_cfg_cap(void **state)
{
	unsigned data = cap.pcicfg + 16;

	program_bars();
	find_caps();
	negotiate(1ULL << VIRTIO_F_VERSION_1);
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_BAR, 4, 1);
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_STATUS, 4);
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_LENGTH, 1, 4);
	assert_int_equal(cfg_rd(data, 1), get_status());
	assert_int_equal(cfg_rd(data, 4) & 0xff, get_status());
	/* num_queues, as a word. */
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_NUMQ, 4);
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_LENGTH, 2, 4);
	assert_int_equal(cfg_rd(data, 4) & 0xffff, 2);
	/* A write: queue_select = 1. */
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_Q_SELECT, 4);
	cfg_wr(data, 1, 2);
	assert_int_equal(mmio_read(common(VIRTIO_PCI_COMMON_Q_SELECT), 2), 1);
	/* The MSI-X table through BAR 1. */
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_BAR, 1, 1);
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_OFFSET, 16 + 8, 4);
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_LENGTH, 4, 4);
	cfg_wr(data, 0x4711, 4);
	assert_int_equal(mmio_read(BAR1_AT + 16 + 8, 4), 0x4711);
	/* Unaligned, oversized, past the BAR, or a BAR there is not: ignored. */
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_OFFSET, 16 + 6, 4);
	cfg_wr(data, 0x1111, 4);
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_LENGTH, 8, 4);
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_OFFSET, 16 + 8, 4);
	cfg_wr(data, 0x2222, 4);
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_LENGTH, 4, 4);
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_OFFSET, 0x1000, 4);
	cfg_wr(data, 0x3333, 4);
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_BAR, 3, 1);
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_OFFSET, 0, 4);
	cfg_wr(data, 0x4444, 4);
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_BAR, 0xff, 1);
	cfg_wr(data, 0x5555, 4);
	assert_int_equal(mmio_read(BAR1_AT + 16 + 8, 4), 0x4711);
	/* Its type, length and the other capabilities stay read-only. */
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_CFG_TYPE, 1, 1);
	assert_int_equal(cfg_rd(cap.pcicfg + VIRTIO_PCI_CAP_CFG_TYPE, 1), VIRTIO_PCI_CAP_PCI_CFG);
	cfg_wr(cfg_rd(PCI_CAPABILITY_LIST, 1) + VIRTIO_PCI_CAP_OFFSET, 0x100, 4);
	find_caps();
	assert_int_equal(cap.common, 0);
}

/* With KVM: doorbells are ioeventfds that follow BAR 4 and wake the loop. */
static void t_ioeventfd(void **state)
{
	uint64_t one = 1;
	pthread_t th;

	program_bars();
	find_caps();
	assert_true(ioev[0].on && ioev[1].on && !ioev[2].on);
	assert_true(ioev[0].addr == BAR4_AT + cap.notify);
	assert_true(ioev[1].addr == BAR4_AT + cap.notify + 4);
	assert_int_equal(ioev[0].fd, fk.vdev.vqs[0].kick_fd);
	/* Moved: off the old address, onto the new one. */
	cfg_wr(PCI_BASE_ADDRESS_4, (uint32_t)BAR4_AT + 0x10000, 4);
	assert_true(ioev[1].on && ioev[1].addr == BAR4_AT + 0x10000 + cap.notify + 4);
	/* Decoding off: none. */
	cfg_wr(PCI_COMMAND, 0, 2);
	assert_false(ioev[0].on || ioev[1].on);
	cfg_wr(PCI_BASE_ADDRESS_4, (uint32_t)BAR4_AT, 4);
	cfg_wr(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_true(ioev[0].on && ioev[1].on);

	bring_up();
	/* KVM signals the eventfd; the loop calls queue_notify. */
	assert_int_equal(pthread_create(&th, NULL, loop_thread, pf.loop), 0);
	assert_int_equal(write(ioev[1].fd, &one, 8), 8);
	for (int i = 0; i < 1000 && !__atomic_load_n(&fk.kicks[1], __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	assert_int_equal(__atomic_load_n(&fk.kicks[1], __ATOMIC_SEQ_CST), 1);
	/* A doorbell that reaches ember anyway (no ioeventfd) still works. */
	mmio_write(BAR4_AT + cap.notify, 0, 2);
	for (int i = 0; i < 1000 && !__atomic_load_n(&fk.kicks[0], __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	assert_int_equal(__atomic_load_n(&fk.kicks[0], __ATOMIC_SEQ_CST), 1);
	assert_true(pthread_equal(kick_thread, th));
	loop_stop(pf.loop, 0);
	pthread_join(th, NULL);
}

static void on_stopper(void *opaque, uint32_t events)
{
	uint64_t n;

	if (read(*(int *)opaque, &n, 8) != 8)
		return;
	loop_stop(pf.loop, 0);
}

/* Runs the loop on this thread over everything ready now, then stops. */
static void run_loop_once(void)
{
	int stopper = eventfd(1, EFD_NONBLOCK);

	assert_int_equal(loop_add(pf.loop, stopper, EPOLLIN, on_stopper, &stopper), 0);
	loop_run(pf.loop);
	loop_del(pf.loop, stopper);
	close(stopper);
}

/* Writes @fd as vhost would, and lets the loop see it. */
static void signal_and_run(int fd)
{
	uint64_t one = 1;

	assert_int_equal(write(fd, &one, 8), 8);
	run_loop_once();
}

/* Queue 1's doorbell through the cfg access window, set up by the caller. */
static void ring_through_cfg_cap(void)
{
	cfg_wr(cap.pcicfg + 16, 1, 2);
}

/* Queue 0's doorbell at its notify address (the fake KVM catches none). */
static void ring_notify_area(void)
{
	mmio_write(BAR4_AT + cap.notify, 0, 2);
}

/*
 * Doorbells that reach BAR 4 as register writes on a vCPU thread: through
 * the PCI cfg access capability, which no ioeventfd sees, and at the notify
 * address when KVM has no ioeventfd there. The queue is served by the loop,
 * not inside the vCPU's write: there, virtio-blk's submissions would race
 * the loop's completions, and rng's and the balloon's back ends would call
 * what the vcpu seccomp filter forbids.
 */
static void t_doorbell_on_loop(void **state)
{
	bring_up();
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_BAR, 4, 1);
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_OFFSET, cap.notify + 1 * cap.notify_mult, 4);
	cfg_wr(cap.pcicfg + VIRTIO_PCI_CAP_LENGTH, 2, 4);
	on_vcpu(ring_through_cfg_cap);
	assert_int_equal(fk.kicks[1], 0);
	run_loop_once();
	assert_int_equal(fk.kicks[1], 1);
	assert_true(pthread_equal(kick_thread, pthread_self()));

	/* As if KVM had refused the doorbell's ioeventfd. */
	kick_thread = 0;
	on_vcpu(ring_notify_area);
	assert_int_equal(fk.kicks[0], 0);
	run_loop_once();
	assert_int_equal(fk.kicks[0], 1);
	assert_true(pthread_equal(kick_thread, pthread_self()));
}

/* virtio_call_fd: the queue's MSI-X vector, or the loop's ISR + INTx. */
static void t_call_fd(void **state)
{
	struct virtio_dev *vdev = &fk.vdev;
	struct pci_dev *d = vdev->transport;
	int fd;

	assert_true(vdev->call_fd >= 0);
	assert_int_equal(virtio_call_fd(vdev, 0), vdev->call_fd);	/* MSI-X off */
	assert_int_equal(virtio_call_fd(vdev, 2), -EINVAL);
	bring_up();
	fd = virtio_call_fd(vdev, 0);
	assert_int_equal(fd, d->msix.v[1].fd);
	assert_int_equal(virtio_call_fd(vdev, 1), d->msix.v[2].fd);
	/* Without KVM routes the loop sends it. */
	signal_and_run(fd);
	assert_int_equal(nmsi, 1);
	/* Masked: pending, sent at unmask. */
	mmio_write(BAR1_AT + 16 * 1 + 12, PCI_MSIX_ENTRY_CTRL_MASKBIT, 4);
	signal_and_run(fd);
	assert_int_equal(nmsi, 1);
	mmio_write(BAR1_AT + 16 * 1 + 12, 0, 4);
	assert_int_equal(nmsi, 2);
	/* No vector: the driver wants no interrupt from this queue. */
	mmio_write(common(VIRTIO_PCI_COMMON_Q_SELECT), 1, 2);
	mmio_write(common(VIRTIO_PCI_COMMON_Q_MSIX), VIRTIO_NO_VECTOR, 2);
	assert_int_equal(virtio_call_fd(vdev, 1), -ENOENT);
	/* INTx: the ISR bit and the line. */
	msix_enable(false);
	assert_int_equal(virtio_call_fd(vdev, 0), vdev->call_fd);
	assert_int_equal(line, 0);
	signal_and_run(vdev->call_fd);
	assert_int_equal(line, 1);
	assert_int_equal(mmio_read(BAR4_AT + cap.isr, 1), VIRTIO_ISR_QUEUE);
	assert_int_equal(line, 0);
}

static void t_errors(void **state)
{
	struct virtio_pci_opts o = { .bus = "pci.0", .slot = SLOT, .function = 0 };
	struct fake other;
	struct pci_host *h = pf.pci;

	assert_int_equal(virtio_dev_init(&other.vdev, &fake_ops, &pf, 1, 64, "virtio-blk test1"), 0);
	assert_int_equal(virtio_pci_attach(&other.vdev, &pf, &o), -EEXIST);
	assert_string_equal(log_last(),
			    "virtio-blk test1: slot 3 of pci.0 is taken by virtio-blk test0");
	assert_null(other.vdev.transport);
	o.bus = "pcie.1";
	assert_int_equal(virtio_pci_attach(&other.vdev, &pf, &o), -ENODEV);
	assert_non_null(strstr(log_last(), "'pcie.1'"));
	pf.pci = NULL;
	assert_int_equal(virtio_pci_attach(&other.vdev, &pf, NULL), -ENODEV);
	assert_string_equal(log_last(), "virtio-blk test1: this machine has no PCI bus (add -M pci)");
	pf.pci = h;
	/* NULL options: the first free slot. */
	assert_int_equal(virtio_pci_attach(&other.vdev, &pf, NULL), 0);
	assert_int_equal(cfg_rd(0, 4), 0x10421af4);
	assert_int_equal(((struct pci_dev *)other.vdev.transport)->devfn, 1 << 3);
	virtio_pci_detach(&other.vdev);
	pthread_mutex_destroy(&other.vdev.lock);
}

/* A guest writing anything into config space and BAR 4. */
static void t_random(void **state)
{
	static const unsigned widths[] = { 1, 2, 4, 8 };
	uint64_t r = 0x2545f4914f6cdd1dULL, v;

	bring_up();
	for (int i = 0; i < 100000; i++) {
		unsigned len;

		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		len = widths[(r >> 8) % 4];
		v = r * 0x9e3779b97f4a7c15ULL;
		switch (r % 5) {
		case 0:		/* config space, avoiding the BARs most of the time */
			if ((r >> 20) % 8 || ((r >> 24) & 0xfc) < 0x10 || ((r >> 24) & 0xfc) > 0x24)
				cfg_wr((r >> 24) & 0xff & ~(len - 1), v, len > 4 ? 4 : len);
			break;
		case 1: case 2:
			mmio_write(BAR4_AT + ((r >> 24) % 0x4000), v, len);
			break;
		case 3:
			mmio_read(BAR4_AT + ((r >> 24) % 0x4000), len);
			mmio_write(BAR1_AT + ((r >> 24) % 0x1000 & ~3ULL), v, 4);
			break;
		default:
			virtio_notify(&fk.vdev, (r >> 40) % 3);
			virtio_config_changed(&fk.vdev);
			break;
		}
	}
	/* Still a device: reset and bring it up again. */
	cfg_wr(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	program_bars();
	fk.activates = 0;
	bring_up();
	assert_int_equal(fk.activates, 1);
}

int main(void)
{
	static int with_loop = 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(t_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(t_machine_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bad_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(t_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(t_cfg_cap, setup, teardown),
		cmocka_unit_test_prestate_setup_teardown(t_ioeventfd, setup, teardown, &with_loop),
		cmocka_unit_test_prestate_setup_teardown(t_call_fd, setup, teardown, &with_loop),
		cmocka_unit_test_prestate_setup_teardown(t_doorbell_on_loop, setup, teardown,
							 &with_loop),
		cmocka_unit_test_setup_teardown(t_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(t_random, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
