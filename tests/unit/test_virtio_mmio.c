/*
 * The virtio core through the virtio-mmio registers, as Linux's virtio_mmio
 * driver drives them: a fake platform (an MMIO bus, a recorded interrupt
 * line, no KVM) and a fake device with two queues and a small config space.
 * The last tests add fake KVM eventfd plumbing and run the event loop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "devices/aml.h"
#include "devices/platform.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "lib/loop.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"
#include "mmio_driver.h"
#include "vcpu_thread.h"

#define RAM_SIZE	0x100000
#define F(bit)		(1ull << (bit))
#define DEV_FEATURES	(F(0) | F(40))

/* --- the interrupt line --- */
static int level = -1, level_changes;

static void irq_set(void *opaque, unsigned gsi, int l)
{
	assert_int_equal(gsi, GSI);
	if (l != level)
		level_changes++;
	level = l;
}

/* --- the device --- */
#define FAKE_ID		VIRTIO_ID_CONSOLE
#define FAKE_CFG_SIZE	12
#include "fake_vdev.h"

/* Set by a test that waits in the loop for a kick. */
static struct loop *stop_on_kick;
/* The thread that served the last kick. */
static pthread_t kick_thread;

static void fake_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	/* Called with the device lock held. */
	assert_int_not_equal(pthread_mutex_trylock(&vdev->lock), 0);
	kick_thread = pthread_self();
	fk.kicks[q]++;
	if (stop_on_kick)
		loop_stop(stop_on_kick, 0);
}

/* --- a driver --- */

/* Split ring areas of queue @q, in RAM. */
static uint64_t desc_of(unsigned q) { return 0x10000 + q * 0x10000; }
static uint64_t avail_of(unsigned q) { return desc_of(q) + 0x1000; }
static uint64_t used_of(unsigned q) { return desc_of(q) + 0x2000; }

static void setup_queue(unsigned q, uint32_t num, uint64_t desc)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, q);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	wr(VIRTIO_MMIO_QUEUE_NUM, num);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, desc >> 32);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail_of(q));
	wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used_of(q));
	wr(VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 1);
}

static void driver_ok(void)
{
	wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

/* The whole bring-up, split rings without EVENT_IDX. */
static void bring_up(void)
{
	int activates = fk.activates;

	assert_true(negotiate(F(VIRTIO_F_VERSION_1) | F(0)) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(0, 64, desc_of(0));
	setup_queue(1, 64, desc_of(1));
	driver_ok();
	assert_int_equal(fk.activates, activates + 1);
}

/* --- fixtures --- */

static int group_setup(void **state)
{
	ram = aligned_alloc(4096, RAM_SIZE);
	return !ram || gmem_add(&mem, 0, RAM_SIZE, ram, -1, 0);
}

static int group_teardown(void **state)
{
	free(ram);
	return 0;
}

static int setup(void **state)
{
	memset(ram, 0, RAM_SIZE);
	mmio_platform(irq_set, 2);
	memset(&fk, 0, sizeof(fk));
	stop_on_kick = NULL;
	level = -1;
	level_changes = 0;
	if (virtio_dev_init(&fk.vdev, &fake_ops, &pf, 2, 256, "fake0"))
		return -1;
	return virtio_mmio_attach(&fk.vdev, &pf);
}

static int teardown(void **state)
{
	virtio_mmio_detach(&fk.vdev);
	bus_destroy(&pf.mmio);
	return 0;
}

/* --- tests --- */

static void t_ids(void **state)
{
	uint16_t v16 = 0xffff;
	uint64_t v64 = ~0ull;

	assert_int_equal(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd(VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	assert_int_equal(rd(VIRTIO_MMIO_VENDOR_ID), 0x52424d45);
	/* Registers are 32-bit only; anything else reads 0. */
	assert_true(bus_read(&pf.mmio, BASE + VIRTIO_MMIO_MAGIC_VALUE, &v16, 2));
	assert_int_equal(v16, 0);
	assert_true(bus_read(&pf.mmio, BASE + VIRTIO_MMIO_MAGIC_VALUE, &v64, 8));
	assert_int_equal(v64, 0);
	assert_int_equal(rd(VIRTIO_MMIO_MAGIC_VALUE + 2), 0);	/* unaligned */
	assert_int_equal(rd(0x0f0), 0);				/* unused */
	assert_int_equal(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);	/* no SHM */
}

static void t_features(void **state)
{
	uint64_t f = dev_features();

	assert_int_equal(f, DEV_FEATURES | F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_PACKED) |
			 F(VIRTIO_F_EVENT_IDX) | F(VIRTIO_F_INDIRECT_DESC));
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);

	assert_true(negotiate(F(VIRTIO_F_VERSION_1) | F(40) | F(VIRTIO_F_EVENT_IDX)) &
		    VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(fk.vdev.guest_features, F(VIRTIO_F_VERSION_1) | F(40) |
			 F(VIRTIO_F_EVENT_IDX));
	/* Fixed from FEATURES_OK on. */
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	assert_int_equal(fk.vdev.guest_features, F(VIRTIO_F_VERSION_1) | F(40) |
			 F(VIRTIO_F_EVENT_IDX));
}

static void t_features_rejected(void **state)
{
	/* No VERSION_1 (a legacy driver): FEATURES_OK does not stick. */
	assert_false(negotiate(F(0)) & VIRTIO_STATUS_FEATURES_OK);
	/* A feature that was not offered. */
	assert_false(negotiate(F(VIRTIO_F_VERSION_1) | F(1)) & VIRTIO_STATUS_FEATURES_OK);
	assert_true(negotiate(F(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK);
}

static void t_queue_setup(void **state)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, 2);		/* the device has two */
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	assert_true(negotiate(F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_PACKED)) &
		    VIRTIO_STATUS_FEATURES_OK);
	setup_queue(0, 32, desc_of(0));
	setup_queue(1, 5, desc_of(1));		/* packed: any size */
	assert_int_equal(fk.vdev.vqs[1].size, 5);
	assert_int_equal(fk.vdev.vqs[1].desc_gpa, desc_of(1));
	assert_int_equal(fk.vdev.vqs[1].driver_gpa, avail_of(1));
	assert_int_equal(fk.vdev.vqs[1].device_gpa, used_of(1));
	assert_int_equal(fk.activates, 0);
	driver_ok();
	assert_int_equal(fk.activates, 1);
	assert_true(fk.vdev.vqs[0].packed && fk.vdev.vqs[1].packed);
	assert_ptr_equal(fk.vdev.vqs[0].mem, &mem);
	assert_false(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	/* Only the first DRIVER_OK starts the device. */
	driver_ok();
	assert_int_equal(fk.activates, 1);
}

/* A queue the driver did not enable is not started. */
static void t_queue_unused(void **state)
{
	assert_true(negotiate(F(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(0, 64, desc_of(0));
	driver_ok();
	assert_int_equal(fk.activates, 1);
	assert_non_null(fk.vdev.vqs[0].mem);
	assert_null(fk.vdev.vqs[1].mem);
}

static void t_queue_regs_locked(void **state)
{
	assert_true(negotiate(F(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(0, 64, desc_of(0));
	/* Ready: size and addresses stay. */
	wr(VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 1);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, 0x3000);
	assert_int_equal(fk.vdev.vqs[0].size, 64);
	assert_int_equal(fk.vdev.vqs[0].desc_gpa, desc_of(0));
	assert_int_equal(fk.vdev.vqs[0].driver_gpa, avail_of(0));
	assert_int_equal(fk.vdev.vqs[0].device_gpa, used_of(0));
	/* After DRIVER_OK, not even for a queue that is not ready. */
	driver_ok();
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(fk.vdev.vqs[1].size, 256);
	assert_int_equal(fk.vdev.vqs[1].desc_gpa, 0);
	assert_false(fk.vdev.vqs[1].enabled);
	/* Writes to the selector of a queue that does not exist go nowhere. */
	wr(VIRTIO_MMIO_QUEUE_SEL, 7);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 0);
}

static void t_notify(void **state)
{
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);	/* before DRIVER_OK: dropped */
	assert_int_equal(fk.kicks[1], 0);
	bring_up();
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 2);	/* no such queue */
	assert_int_equal(fk.kicks[0], 1);
	assert_int_equal(fk.kicks[1], 2);
}

static void t_interrupt(void **state)
{
	bring_up();
	assert_int_not_equal(level, 1);
	virtio_notify(&fk.vdev, 0);
	assert_int_equal(level, 1);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_QUEUE);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
	assert_int_equal(level, 0);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	/* The driver asked for no interrupts on queue 1. */
	memset(ram + avail_of(1), 1, 1);	/* VRING_AVAIL_F_NO_INTERRUPT */
	virtio_notify(&fk.vdev, 1);
	assert_int_equal(level, 0);

	/* Config change: generation and bit 1; the line stays up until both are acked. */
	virtio_notify(&fk.vdev, 0);
	virtio_config_changed(&fk.vdev);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG_GENERATION), 1);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
	assert_int_equal(level, 1);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_CONFIG);
	assert_int_equal(level, 0);
}

/* No config interrupt before the driver has a handler for it. */
static void t_config_change_early(void **state)
{
	virtio_config_changed(&fk.vdev);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG_GENERATION), 1);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_not_equal(level, 1);
}

static void t_config(void **state)
{
	uint8_t v8 = 0xaa;
	uint16_t v16 = 0xbbbb;
	uint64_t v64 = 1;

	for (unsigned i = 0; i < sizeof(fk.cfg); i++)
		fk.cfg[i] = i + 1;
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG), 0x04030201);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG + 8), 0x0c0b0a09);
	assert_true(bus_read(&pf.mmio, BASE + VIRTIO_MMIO_CONFIG + 3, &v8, 1));
	assert_int_equal(v8, 4);
	assert_true(bus_read(&pf.mmio, BASE + VIRTIO_MMIO_CONFIG + 10, &v16, 2));
	assert_int_equal(v16, 0x0c0b);
	/* Past the end, unaligned or 8 bytes wide: reads 0. */
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG + 12), 0);
	assert_true(bus_read(&pf.mmio, BASE + VIRTIO_MMIO_CONFIG + 11, &v16, 2));
	assert_int_equal(v16, 0);
	assert_true(bus_read(&pf.mmio, BASE + VIRTIO_MMIO_CONFIG, &v64, 8));
	assert_int_equal(v64, 0);
	assert_int_equal(rd(SLOT_SIZE - 4), 0);

	wr(VIRTIO_MMIO_CONFIG + 4, 0x11223344);
	assert_int_equal(fk.cfg[4], 0x44);
	assert_int_equal(fk.cfg[7], 0x11);
	v8 = 0x55;
	assert_true(bus_write(&pf.mmio, BASE + VIRTIO_MMIO_CONFIG + 11, &v8, 1));
	assert_int_equal(fk.cfg[11], 0x55);
	wr(VIRTIO_MMIO_CONFIG + 12, 0x66666666);	/* ignored */
	wr(VIRTIO_MMIO_CONFIG + 10, 0x66666666);	/* unaligned: ignored */
	assert_int_equal(fk.cfg[10], 11);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
}

/*
 * A snapshot's round trip (virtio/snap.c): after a reset, the load brings
 * back features, status, the queues' layout and ring indexes, started as
 * at DRIVER_OK (activate), and the pending interrupt.
 */
static void t_snapshot(void **state)
{
	struct snapw w;
	struct snap s;
	uint64_t features;

	bring_up();
	features = fk.vdev.guest_features;
	fk.vdev.vqs[1].last_avail = 7;
	fk.vdev.vqs[1].used_idx = 5;
	virtio_notify(&fk.vdev, 0);
	assert_int_equal(level, 1);
	snapw_init(&w, "microvm", 0);
	snapw_begin(&w, "fake/0");
	virtio_save(&fk.vdev, &w, NULL);
	snapw_end(&w);
	assert_int_equal(snapw_finish(&w), 0);
	wr(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(level, 0);
	assert_int_equal(fk.vdev.vqs[1].last_avail, 0);

	assert_int_equal(snap_parse(&s, w.p, w.len), 0);
	assert_int_equal(virtio_load(&fk.vdev, s.sect[0].data, s.sect[0].len), 0);
	assert_int_equal(fk.activates, 2);
	assert_int_equal(fk.vdev.guest_features, features);
	assert_int_equal(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);
	for (unsigned q = 0; q < 2; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 1);
		assert_int_equal(fk.vdev.vqs[q].desc_gpa, desc_of(q));
		assert_int_equal(fk.vdev.vqs[q].size, 64);
		assert_non_null(fk.vdev.vqs[q].mem);
	}
	assert_int_equal(fk.vdev.vqs[1].last_avail, 7);
	assert_int_equal(fk.vdev.vqs[1].used_idx, 5);
	assert_int_equal(level, 1);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_QUEUE);

	/* Another device's section, or a short one: refused, nothing changed. */
	fk.vdev.host_features ^= F(1);
	assert_int_equal(virtio_load(&fk.vdev, s.sect[0].data, s.sect[0].len), -EINVAL);
	assert_string_equal(log_last(),
			    "state file: fake0 had other features or queues (other device options)");
	fk.vdev.host_features ^= F(1);
	assert_int_equal(virtio_load(&fk.vdev, s.sect[0].data, 10), -EINVAL);
	assert_non_null(strstr(log_last(), "fake0's section has 10 bytes"));
	snap_free(&s);
	snapw_free(&w);
}

/* A chain the device popped and holds goes back to the ring: popped again after the load. */
static void t_snapshot_held(void **state)
{
	struct vring_desc d = { .addr = 0x40000, .len = 16, .flags = VRING_DESC_F_WRITE };
	uint16_t head = 0, idx = 1;
	struct virtq_held held[2] = { { 0 } };
	struct virtq_elem e;
	struct snapw w;
	struct snap s;

	bring_up();
	memcpy(ram + desc_of(0), &d, sizeof(d));
	memcpy(ram + avail_of(0) + 4, &head, 2);
	memcpy(ram + avail_of(0) + 2, &idx, 2);
	assert_int_equal(virtq_pop(&fk.vdev.vqs[0], &e), 1);
	assert_int_equal(fk.vdev.vqs[0].last_avail, 1);
	held[0] = (struct virtq_held){ 1, e.ndescs };
	snapw_init(&w, "microvm", 0);
	snapw_begin(&w, "fake/0");
	virtio_save(&fk.vdev, &w, held);
	snapw_end(&w);
	assert_int_equal(snapw_finish(&w), 0);
	wr(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(snap_parse(&s, w.p, w.len), 0);
	assert_int_equal(virtio_load(&fk.vdev, s.sect[0].data, s.sect[0].len), 0);
	assert_int_equal(fk.vdev.vqs[0].last_avail, 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(virtq_pop(&fk.vdev.vqs[0], &e), 1);
	assert_int_equal(e.id, 0);
	assert_int_equal(e.in_len, 16);
	snap_free(&s);
	snapw_free(&w);
}

static void t_reset(void **state)
{
	bring_up();
	virtio_notify(&fk.vdev, 0);
	assert_int_equal(level, 1);
	wr(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(fk.resets, 2);		/* one from negotiate() */
	assert_int_equal(rd(VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(level, 0);
	assert_int_equal(fk.vdev.guest_features, 0);
	for (unsigned q = 0; q < 2; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 0);
		assert_null(fk.vdev.vqs[q].mem);
		assert_int_equal(fk.vdev.vqs[q].desc_gpa, 0);
		assert_int_equal(fk.vdev.vqs[q].size, 256);
	}
	/* And it comes back up. */
	bring_up();
	assert_int_equal(fk.activates, 2);
}

/*
 * Machine reset (the transport's reset op, as the machine calls it): the
 * device's own reset, the line low, the selectors at 0; the guest's next
 * boot brings it up from scratch.
 */
static void t_machine_reset(void **state)
{
	bring_up();
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	virtio_notify(&fk.vdev, 0);
	assert_int_equal(level, 1);
	fk.vdev.tops->reset(&fk.vdev);
	assert_int_equal(fk.resets, 2);		/* one from negotiate() */
	assert_int_equal(level, 0);
	assert_int_equal(rd(VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(fk.vdev.guest_features, 0);
	/* Selector 0: the low word of the features, queue 0. */
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_FEATURES), (uint32_t)fk.vdev.host_features);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	for (unsigned q = 0; q < 2; q++) {
		assert_false(fk.vdev.vqs[q].enabled);
		assert_int_equal(fk.vdev.vqs[q].desc_gpa, 0);
		assert_int_equal(fk.vdev.vqs[q].size, 256);
	}
	bring_up();
	assert_int_equal(fk.activates, 2);
}

static void t_needs_reset(void **state)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);

	/* What the user sees at the default level, in a stream of our own. */
	log_set_file(f);
	log_set_quiet(0);
	bring_up();
	virtio_needs_reset(&fk.vdev, "first reason");
	assert_non_null(strstr(log_last(), "fake0 needs reset: first reason"));
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_CONFIG);
	assert_int_equal(level, 1);
	assert_true(fk.vdev.vqs[0].broken && fk.vdev.vqs[1].broken);
	/* Said once per device. */
	virtio_needs_reset(&fk.vdev, "second reason");
	log_set_quiet(1);
	log_set_file(NULL);
	fclose(f);
	/* The second reason goes to the debug log only. */
	assert_non_null(strstr(out, "warning: fake0 needs reset: first reason"));
	assert_null(strstr(out, "second reason"));
	assert_non_null(strstr(log_last(), "second reason"));
	free(out);
	/* Kicks go nowhere; the driver cannot clear the bit but by a reset. */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(fk.kicks[0], 0);
	wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS) & ~VIRTIO_STATUS_NEEDS_RESET);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_CONFIG);
	bring_up();
	assert_false(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_false(fk.vdev.vqs[0].broken);
}

static void t_activate_fails(void **state)
{
	fk.activate_ret = -EIO;
	bring_up();
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_CONFIG);
	assert_int_equal(level, 1);
}

static void t_bad_ring(void **state)
{
	assert_true(negotiate(F(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(0, 64, RAM_SIZE - 0x100);	/* descriptors past the end of RAM */
	driver_ok();
	assert_int_equal(fk.activates, 0);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_non_null(strstr(log_last(), "queue 0"));

	/* Larger than QueueNumMax, and not a power of 2 for a split ring. */
	assert_true(negotiate(F(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(0, 512, desc_of(0));
	driver_ok();
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(negotiate(F(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(0, 48, desc_of(0));
	driver_ok();
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(fk.activates, 0);
}

static void t_driver_ok_without_features_ok(void **state)
{
	assert_false(negotiate(F(0)) & VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(fk.activates, 0);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

static void t_slots(void **state)
{
	struct fake other = { 0 }, third = { 0 };
	struct aml a;
	uint32_t v = 0;

	assert_int_equal(virtio_dev_init(&other.vdev, &fake_ops, &pf, 1, 16, "other"), 0);
	assert_int_equal(virtio_mmio_attach(&other.vdev, &pf), 0);
	assert_int_equal(virtio_dev_init(&third.vdev, &fake_ops, &pf, 1, 16, "third"), 0);
	assert_int_equal(virtio_mmio_attach(&third.vdev, &pf), -ENOSPC);
	assert_string_equal(log_last(), "no free virtio-mmio slot (the machine has 2)");
	assert_null(third.vdev.transport);

	/* The second slot: next base, its own registers. */
	assert_true(bus_read(&pf.mmio, BASE + SLOT_SIZE + VIRTIO_MMIO_QUEUE_NUM_MAX, &v, 4));
	assert_int_equal(v, 16);
	aml_init(&a);
	virtio_mmio_aml(&other.vdev, &a);
	assert_int_equal(a.err, 0);
	assert_true(a.len > 0);
	assert_non_null(memmem(a.buf, a.len, "VR01", 4));
	aml_free(&a);
	virtio_mmio_detach(&other.vdev);
	assert_false(bus_read(&pf.mmio, BASE + SLOT_SIZE, &v, 4));
}

static void t_init_checks(void **state)
{
	struct fake other = { 0 };

	assert_int_equal(virtio_dev_init(&other.vdev, &fake_ops, &pf, 0, 16, "x"), -EINVAL);
	assert_int_equal(virtio_dev_init(&other.vdev, &fake_ops, &pf, VIRTIO_MAX_QUEUES + 1,
					 16, "x"), -EINVAL);
	assert_int_equal(virtio_dev_init(&other.vdev, &fake_ops, &pf, 1, 0, "x"), -EINVAL);
	assert_int_equal(virtio_dev_init(&other.vdev, &fake_ops, &pf, 1, VIRTQ_MAX_SIZE + 1,
					 "x"), -EINVAL);
}

/* --- with KVM's eventfds, faked: ioeventfd and irqfd registrations --- */

static struct {
	int kick_fds[2], irq_fd, resample_fd;
	uint64_t addr[2];
	int nio, nirq;
} kvm;

static int fake_ioeventfd(void *opaque, uint64_t addr, unsigned len, int pio, int fd,
			  int use_datamatch, uint64_t datamatch, int deassign)
{
	assert_int_equal(len, 4);
	assert_false(pio);
	assert_true(use_datamatch && datamatch < 2);
	kvm.kick_fds[datamatch] = deassign ? -1 : fd;
	kvm.addr[datamatch] = addr;
	kvm.nio += deassign ? -1 : 1;
	return 0;
}

static int fake_irqfd(void *opaque, unsigned gsi, int fd, int resample_fd, int deassign)
{
	assert_int_equal(gsi, GSI);
	kvm.irq_fd = deassign ? -1 : fd;
	kvm.resample_fd = deassign ? -1 : resample_fd;
	kvm.nirq += deassign ? -1 : 1;
	return 0;
}

static void signal_fd(int fd)
{
	uint64_t one = 1;

	assert_int_equal(write(fd, &one, 8), 8);
}

static int kvm_setup(void **state)
{
	memset(ram, 0, RAM_SIZE);
	mmio_platform(irq_set, 2);
	memset(&kvm, 0, sizeof(kvm));
	pf.loop = loop_new();
	pf.ioeventfd = fake_ioeventfd;
	pf.irqfd = fake_irqfd;
	memset(&fk, 0, sizeof(fk));
	stop_on_kick = NULL;
	level = -1;
	if (!pf.loop || virtio_dev_init(&fk.vdev, &fake_ops, &pf, 2, 256, "fake0"))
		return -1;
	return virtio_mmio_attach(&fk.vdev, &pf);
}

static int kvm_teardown(void **state)
{
	virtio_mmio_detach(&fk.vdev);
	/* Everything registered was taken back. */
	assert_int_equal(kvm.nio, 0);
	assert_int_equal(kvm.nirq, 0);
	loop_free(pf.loop);
	bus_destroy(&pf.mmio);
	return 0;
}

static void t_kvm_kick(void **state)
{
	assert_int_equal(kvm.nio, 2);
	assert_int_equal(kvm.addr[1], BASE + VIRTIO_MMIO_QUEUE_NOTIFY);
	bring_up();
	stop_on_kick = pf.loop;
	signal_fd(kvm.kick_fds[1]);
	assert_int_equal(loop_run(pf.loop), 0);
	assert_int_equal(fk.kicks[1], 1);
	assert_int_equal(fk.kicks[0], 0);
}

/* Queue 1's QueueNotify as a register write: one KVM's ioeventfd did not take. */
static void notify_queue_1(void)
{
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
}

/*
 * A QueueNotify write that exits to ember's vCPU thread with KVM's
 * ioeventfds in place goes to the loop, as the ioeventfd's kick would:
 * queue handlers and their back ends must not run on a vCPU.
 */
static void t_kvm_doorbell(void **state)
{
	bring_up();
	on_vcpu(notify_queue_1);
	assert_int_equal(fk.kicks[1], 0);
	run_loop_once();
	assert_int_equal(fk.kicks[1], 1);
	assert_int_equal(fk.kicks[0], 0);
	assert_true(pthread_equal(kick_thread, pthread_self()));
	/* A queue that does not exist has no kick fd: dropped right away. */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	assert_int_equal(fk.kicks[0] + fk.kicks[1], 1);
}

static void t_kvm_irqfd(void **state)
{
	assert_int_equal(kvm.nirq, 1);
	assert_true(kvm.resample_fd >= 0);
	bring_up();
	virtio_notify(&fk.vdev, 0);
	assert_int_equal(take(kvm.irq_fd), 1);
	assert_int_equal(level, -1);		/* irq_set is not used */

	/* EOI with the status still set: raised again. */
	signal_fd(kvm.resample_fd);
	run_loop_once();
	assert_int_equal(take(kvm.irq_fd), 1);

	/* Acked first: not raised. */
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
	assert_int_equal(take(kvm.irq_fd), 0);
	signal_fd(kvm.resample_fd);
	run_loop_once();
	assert_int_equal(take(kvm.irq_fd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(t_features, setup, teardown),
		cmocka_unit_test_setup_teardown(t_features_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(t_queue_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(t_queue_unused, setup, teardown),
		cmocka_unit_test_setup_teardown(t_queue_regs_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(t_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(t_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(t_config_change_early, setup, teardown),
		cmocka_unit_test_setup_teardown(t_config, setup, teardown),
		cmocka_unit_test_setup_teardown(t_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(t_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(t_snapshot_held, setup, teardown),
		cmocka_unit_test_setup_teardown(t_machine_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(t_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(t_activate_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bad_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(t_driver_ok_without_features_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(t_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(t_init_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(t_kvm_kick, kvm_setup, kvm_teardown),
		cmocka_unit_test_setup_teardown(t_kvm_doorbell, kvm_setup, kvm_teardown),
		cmocka_unit_test_setup_teardown(t_kvm_irqfd, kvm_setup, kvm_teardown),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
