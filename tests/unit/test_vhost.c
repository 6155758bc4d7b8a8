/*
 * vhost.c against a fake kernel: ioctl() is wrapped at link time
 * (-Wl,--wrap=ioctl) and records what ember hands over for one fake vhost
 * fd, so the memory table, the rings, the eventfds and the order of the
 * hand-over are checked on a host without /dev/vhost-*. The device is a
 * virtio-mmio one with the event loop and fake KVM ioeventfds, driven
 * through its registers. vhost-vsock-device is tested the same way, with
 * open() of /dev/vhost-vsock wrapped too. t_real_kernel opens the real
 * /dev/vhost-vsock and is skipped (and reported so) where the host has none.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/vhost.h>
#include <linux/virtio_mmio.h>

#include "devices/device.h"
#include "devices/platform.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "virtio/transport.h"
#include "virtio/vhost.h"
#include "virtio/virtio.h"
#include "mmio_driver.h"

#define RAM_SIZE	0x100000
#define RAM2_GPA	0x100000000ull
#define F(bit)		(1ull << (bit))

static uint8_t *ram2;
static int level = -1;

/* --- the fake kernel --- */

static struct {
	int fd;				/* the fake vhost fd */
	int calls;
	unsigned long order[32];	/* requests, in order */
	uint64_t features;
	struct vhost_mem_buf mem;
	struct vhost_vring_state num[2], base[2];
	struct vhost_vring_addr addr[2];
	int kick[2], call[2];
	uint16_t next_base[2];		/* what GET_VRING_BASE answers */
	unsigned long fail_req;		/* this request fails with fail_errno */
	int fail_errno;
	uint64_t offer;			/* GET_FEATURES */
	uint64_t cid;
	int running, opens;
	bool no_dev;			/* open(/dev/vhost-vsock) fails */
	bool real_dev;			/* open(/dev/vhost-vsock) is the real one */
} k;

int __real_ioctl(int fd, unsigned long req, ...);
int __real_open(const char *path, int flags, ...);
int __real_open64(const char *path, int flags, ...);

static int fake_open(const char *path)
{
	k.opens++;
	if (k.no_dev) {
		errno = ENOENT;
		return -1;
	}
	k.fd = eventfd(0, EFD_CLOEXEC);
	return k.fd;
}

static int open_or_fake(int (*real)(const char *, int, ...), const char *path, int flags,
			va_list ap)
{
	if (!strcmp(path, "/dev/vhost-vsock") && !k.real_dev)
		return fake_open(path);
	return real(path, flags, va_arg(ap, int));
}

int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	int ret;

	va_start(ap, flags);
	ret = open_or_fake(__real_open, path, flags, ap);
	va_end(ap);
	return ret;
}

int __wrap_open64(const char *path, int flags, ...)
{
	va_list ap;
	int ret;

	va_start(ap, flags);
	ret = open_or_fake(__real_open64, path, flags, ap);
	va_end(ap);
	return ret;
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != k.fd || fd < 0)
		return __real_ioctl(fd, req, arg);
	if (k.calls < 32)
		k.order[k.calls] = req;
	k.calls++;
	if (req == k.fail_req) {
		errno = k.fail_errno ? k.fail_errno : EBUSY;
		return -1;
	}
	switch (req) {
	case VHOST_SET_OWNER:
		break;
	case VHOST_GET_FEATURES:
		*(uint64_t *)arg = k.offer;
		break;
	case VHOST_VSOCK_SET_GUEST_CID:
		k.cid = *(uint64_t *)arg;
		break;
	case VHOST_VSOCK_SET_RUNNING:
		k.running = *(int *)arg;
		break;
	case VHOST_SET_FEATURES:
		k.features = *(uint64_t *)arg;
		break;
	case VHOST_SET_MEM_TABLE:
		memcpy(&k.mem, arg, sizeof(k.mem.hdr) +
		       ((struct vhost_memory *)arg)->nregions * sizeof(k.mem.r[0]));
		break;
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_BASE: {
		struct vhost_vring_state *s = arg;

		assert_true(s->index < 2);
		(req == VHOST_SET_VRING_NUM ? k.num : k.base)[s->index] = *s;
		break;
	}
	case VHOST_GET_VRING_BASE: {
		struct vhost_vring_state *s = arg;

		assert_true(s->index < 2);
		s->num = k.next_base[s->index];
		break;
	}
	case VHOST_SET_VRING_ADDR: {
		struct vhost_vring_addr *a = arg;

		assert_true(a->index < 2);
		k.addr[a->index] = *a;
		break;
	}
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL: {
		struct vhost_vring_file *f = arg;

		assert_true(f->index < 2);
		(req == VHOST_SET_VRING_KICK ? k.kick : k.call)[f->index] = f->fd;
		break;
	}
	default:
		fail_msg("unexpected vhost ioctl %#lx", req);
	}
	return 0;
}

/* --- the device: queues 1 and 2 to the kernel, 0 stays --- */

static struct {
	struct virtio_dev vdev;
	struct vhost vh;
	int start_ret, kicks[3];
} fk;

static int fake_activate(struct virtio_dev *vdev)
{
	fk.start_ret = vhost_start(&fk.vh, vdev, vdev->guest_features, 1, 2);
	return fk.start_ret;
}

static void fake_reset(struct virtio_dev *vdev)
{
	vhost_stop(&fk.vh, vdev);
}

static void fake_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	fk.kicks[q]++;
}

static uint64_t fake_features(struct virtio_dev *vdev) { return F(1); }

static const struct virtio_dev_ops fake_ops = {
	.device_id = VIRTIO_ID_VSOCK,
	.get_features = fake_features,
	.activate = fake_activate,
	.reset = fake_reset,
	.queue_notify = fake_queue_notify,
};

/* --- fake KVM --- */

static int ioev_fd[3];

static int fake_ioeventfd(void *opaque, uint64_t addr, unsigned len, int pio, int fd,
			  int use_datamatch, uint64_t datamatch, int deassign)
{
	assert_true(datamatch < 3);
	ioev_fd[datamatch] = deassign ? -1 : fd;
	return 0;
}

static void irq_set(void *opaque, unsigned gsi, int l)
{
	level = l;
}

/* --- a driver --- */

static uint64_t desc_of(unsigned q) { return 0x10000 + q * 0x10000; }

static void bring_up(uint64_t f)
{
	negotiate(f);
	for (unsigned q = 0; q < 3; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, 128);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, desc_of(q));
		wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, desc_of(q) + 0x1000);
		wr(VIRTIO_MMIO_QUEUE_USED_LOW, desc_of(q) + 0x2000);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

/* --- fixtures --- */

static int group_setup(void **state)
{
	ram = aligned_alloc(4096, RAM_SIZE);
	ram2 = aligned_alloc(4096, RAM_SIZE);
	return !ram || !ram2 || gmem_add(&mem, 0, RAM_SIZE, ram, -1, 0) ||
	       gmem_add(&mem, RAM2_GPA, RAM_SIZE, ram2, -1, 0);
}

static int group_teardown(void **state)
{
	free(ram);
	free(ram2);
	return 0;
}

/* An MMIO slot, the loop and KVM's ioeventfds; the fake kernel reset. */
static void platform_setup(void)
{
	memset(ram, 0, RAM_SIZE);
	memset(&k, 0, sizeof(k));
	memset(&fk, 0, sizeof(fk));
	log_set_quiet(1);
	level = -1;
	mmio_platform(irq_set, 1);
	pf.loop = loop_new();
	pf.ioeventfd = fake_ioeventfd;
}

static int setup(void **state)
{
	platform_setup();
	k.fd = eventfd(0, 0);		/* any fd of our own */
	fk.vh.fd = k.fd;
	fk.vh.features = F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_EVENT_IDX) |
			 F(VIRTIO_F_INDIRECT_DESC) | F(VHOST_F_LOG_ALL) | F(1);
	strcpy(fk.vh.owner, "-device fake");
	strcpy(fk.vh.path, "/dev/vhost-fake");
	if (!pf.loop || virtio_dev_init(&fk.vdev, &fake_ops, &pf, 3, 256, "fake0"))
		return -1;
	fk.vdev.host_features = vhost_features(&fk.vh, fk.vdev.host_features);
	return virtio_mmio_attach(&fk.vdev, &pf);
}

static int teardown(void **state)
{
	virtio_mmio_detach(&fk.vdev);
	loop_free(pf.loop);
	bus_destroy(&pf.mmio);
	close(k.fd);
	return 0;
}

/* virtio-pci is not under test here. */
int virtio_pci_attach(struct virtio_dev *vdev, struct platform *p,
		      const struct virtio_pci_opts *o)
{
	return -ENODEV;
}

void virtio_pci_detach(struct virtio_dev *vdev)
{
}

struct pci_dev *virtio_pci_dev(struct virtio_dev *vdev)
{
	return NULL;
}

/* --- tests --- */

/* Ring and transport bits only as the kernel serves them; never packed rings. */
static void t_features(void **state)
{
	struct vhost vh = { .features = F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_PACKED) |
					F(VHOST_F_LOG_ALL) | F(VIRTIO_F_EVENT_IDX) };
	uint64_t want = F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_PACKED) |
			F(VIRTIO_F_INDIRECT_DESC) | F(VIRTIO_F_EVENT_IDX) | F(VHOST_F_LOG_ALL) |
			F(5) | F(0);

	assert_true(vhost_features(&vh, want) ==
		    (F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_EVENT_IDX) | F(5) | F(0)));
	/* The device as set up: virtio_dev_init's packed ring is gone. */
	assert_false(fk.vdev.host_features & F(VIRTIO_F_RING_PACKED));
	assert_true(fk.vdev.host_features & F(VIRTIO_F_VERSION_1));
}

static void t_mem_table(void **state)
{
	struct vhost_mem_buf b;
	struct gmem big = { .nr = GMEM_MAX_REGIONS + 1 };

	assert_int_equal(vhost_mem_table(&mem, &b), 0);
	assert_int_equal(b.hdr.nregions, 2);
	assert_true(b.r[0].guest_phys_addr == 0);
	assert_true(b.r[0].memory_size == RAM_SIZE);
	assert_true(b.r[0].userspace_addr == (uintptr_t)ram);
	assert_true(b.r[1].guest_phys_addr == RAM2_GPA);
	assert_true(b.r[1].userspace_addr == (uintptr_t)ram2);
	assert_true(b.r[1].flags_padding == 0);
	/* The buffer is what the kernel reads: header, then the regions. */
	assert_ptr_equal((void *)b.hdr.regions, (void *)b.r);
	assert_int_equal(vhost_mem_table(&big, &b), -E2BIG);
}

static void t_ring_addr(void **state)
{
	struct virtq vq = { .size = 256, .desc_gpa = RAM2_GPA, .driver_gpa = 0x4000,
			    .device_gpa = 0x8000 };
	struct vhost_vring_addr a;

	assert_int_equal(vhost_ring_addr(&vq, &mem, 1, &a), 0);
	assert_int_equal(a.index, 1);
	assert_true(a.desc_user_addr == (uintptr_t)ram2);
	assert_true(a.avail_user_addr == (uintptr_t)(ram + 0x4000));
	assert_true(a.used_user_addr == (uintptr_t)(ram + 0x8000));
	/* A used ring running off the end of RAM. */
	vq.device_gpa = RAM_SIZE - 4 - 8 * 256 + 2;
	assert_int_equal(vhost_ring_addr(&vq, &mem, 1, &a), -EINVAL);
	vq.device_gpa = RAM_SIZE - 4 - 8 * 256;
	assert_int_equal(vhost_ring_addr(&vq, &mem, 1, &a), 0);
	vq.event_idx = true;	/* avail_event after the used ring */
	assert_int_equal(vhost_ring_addr(&vq, &mem, 1, &a), -EINVAL);
	vq.event_idx = false;
	vq.packed = true;
	assert_int_equal(vhost_ring_addr(&vq, &mem, 1, &a), -EINVAL);
}

/* DRIVER_OK hands queues 1 and 2 over, in the order the kernel needs. */
static void t_start(void **state)
{
	struct virtio_dev *vdev = &fk.vdev;

	bring_up(F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_EVENT_IDX) | F(1));
	assert_int_equal(fk.start_ret, 0);
	assert_false(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(fk.vh.started);
	assert_true(k.order[0] == VHOST_SET_FEATURES);
	assert_true(k.order[1] == VHOST_SET_MEM_TABLE);
	assert_true(k.features == (F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_EVENT_IDX) | F(1)));
	assert_int_equal(k.mem.hdr.nregions, 2);
	assert_true(k.mem.r[1].userspace_addr == (uintptr_t)ram2);
	for (unsigned i = 0; i < 2; i++) {
		unsigned q = i + 1;

		assert_int_equal(k.num[i].num, 128);
		assert_int_equal(k.base[i].num, 0);
		assert_true(k.addr[i].desc_user_addr == (uintptr_t)(ram + desc_of(q)));
		assert_true(k.addr[i].avail_user_addr == (uintptr_t)(ram + desc_of(q) + 0x1000));
		assert_true(k.addr[i].used_user_addr == (uintptr_t)(ram + desc_of(q) + 0x2000));
		assert_int_equal(k.kick[i], vdev->vqs[q].kick_fd);
		assert_int_equal(k.kick[i], ioev_fd[q]);
		assert_int_equal(k.call[i], vdev->call_fd);
	}
	assert_true(vdev->call_fd >= 0);
	assert_int_equal(virtio_call_fd(vdev, 2), vdev->call_fd);
	assert_true(vdev->kernel_kicks == (F(1) | F(2)));
}

/* The kernel's kicks are not the loop's; queue 0's still are. */
static void t_kicks(void **state)
{
	uint64_t one = 1;

	bring_up(F(VIRTIO_F_VERSION_1));
	assert_int_equal(write(ioev_fd[1], &one, 8), 8);
	assert_int_equal(write(ioev_fd[0], &one, 8), 8);
	run_loop_once();
	assert_int_equal(fk.kicks[0], 1);
	assert_int_equal(fk.kicks[1], 0);
	assert_int_equal(take(ioev_fd[1]), 1);	/* still there for the kernel */
	/* A doorbell through the register goes to the kernel's eventfd. */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	assert_int_equal(fk.kicks[2], 0);
	assert_int_equal(take(ioev_fd[2]), 1);
}

/* The kernel writes the call fd: the loop raises ISR and the line. */
static void t_call(void **state)
{
	uint64_t one = 1;

	bring_up(F(VIRTIO_F_VERSION_1));
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(write(k.call[1], &one, 8), 8);
	run_loop_once();
	assert_int_equal(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_ISR_QUEUE);
	assert_int_equal(level, 1);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
	assert_int_equal(level, 0);
}

/* Reset: ring state back from the kernel, eventfds unbound, kicks to the loop. */
static void t_reset(void **state)
{
	uint64_t one = 1;
	int kick_fd;

	k.next_base[0] = 7;
	k.next_base[1] = 9;
	bring_up(F(VIRTIO_F_VERSION_1));
	kick_fd = ioev_fd[1];
	vhost_stop(&fk.vh, &fk.vdev);	/* as a device's reset does it */
	assert_int_equal(fk.vdev.vqs[1].last_avail, 7);
	assert_int_equal(fk.vdev.vqs[2].last_avail, 9);
	assert_int_equal(k.kick[0], VHOST_FILE_UNBIND);
	assert_int_equal(k.call[1], VHOST_FILE_UNBIND);
	assert_true(fk.vdev.kernel_kicks == 0);
	assert_false(fk.vh.started);

	/* The driver's reset starts the rings over. */
	wr(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(fk.vdev.vqs[1].last_avail, 0);
	bring_up(F(VIRTIO_F_VERSION_1));
	wr(VIRTIO_MMIO_STATUS, 0);	/* vhost_stop from the reset op */
	assert_false(fk.vh.started);
	assert_int_equal(k.kick[1], VHOST_FILE_UNBIND);
	/* Back on the loop: a kick now reaches the device model. */
	bring_up(F(VIRTIO_F_VERSION_1));
	vhost_stop(&fk.vh, &fk.vdev);
	assert_int_equal(write(kick_fd, &one, 8), 8);
	run_loop_once();
	assert_int_equal(fk.kicks[1], 1);
}

/* A kernel that refuses: one message, NEEDS_RESET, nothing left bound. */
static void t_start_fails(void **state)
{
	k.fail_req = VHOST_SET_VRING_KICK;
	bring_up(F(VIRTIO_F_VERSION_1));
	assert_int_equal(fk.start_ret, -EBUSY);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_false(fk.vh.started);
	assert_true(fk.vdev.kernel_kicks == 0);

	/* A queue the driver left disabled cannot go to the kernel. */
	k.fail_req = 0;
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(fk.start_ret, -EINVAL);
	assert_false(fk.vh.started);
}

/* The message names the device and the path. */
static void t_open_missing(void **state)
{
	struct vhost vh;

	assert_int_equal(vhost_open(&vh, "/nonexistent/vhost-vsock", "-device x"), -ENOENT);
	assert_int_equal(vh.fd, -1);
	assert_string_equal(vh.owner, "-device x");
	vhost_close(&vh);
}

/* The real kernel, where this host has it. */
static void t_real_kernel(void **state)
{
	struct vhost vh;

	if (access("/dev/vhost-vsock", R_OK | W_OK)) {
		print_message("[  SKIPPED ] no usable /dev/vhost-vsock on this host\n");
		skip();
	}
	close(k.fd);
	k.fd = -1;
	/* Past the wrapped open(), or this would be the fake kernel again. */
	k.real_dev = true;
	assert_int_equal(vhost_open(&vh, "/dev/vhost-vsock", "-device x"), 0);
	k.real_dev = false;
	assert_int_equal(k.opens, 0);
	assert_true(vh.features & F(VIRTIO_F_VERSION_1));
	assert_false(vhost_features(&vh, ~0ull) & F(VIRTIO_F_RING_PACKED));
	vhost_close(&vh);
}

/* --- vhost-vsock-device --- */

static int vsock_setup(void **state)
{
	platform_setup();
	k.fd = -1;
	k.offer = F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_EVENT_IDX) | F(VIRTIO_F_INDIRECT_DESC) |
		  F(VHOST_F_LOG_ALL) | F(VIRTIO_F_ACCESS_PLATFORM) | F(1);
	return !pf.loop;
}

static int vsock_teardown(void **state)
{
	device_destroy_all(&pf);
	loop_free(pf.loop);
	bus_destroy(&pf.mmio);
	return 0;
}

static unsigned order_of(unsigned long req, int nth)
{
	for (int i = 0; i < k.calls && i < 32; i++)
		if (k.order[i] == req && nth-- == 0)
			return i;
	fail_msg("request %#lx not seen", req);
	return 0;
}

/* The CID is claimed at realize; the guest reads it from config space. */
static void t_vsock_config(void **state)
{
	uint64_t f;

	assert_int_equal(device_create(&pf, "vhost-vsock-device,guest-cid=0x12345678a"), -EINVAL);
	assert_int_equal(k.opens, 0);
	assert_int_equal(device_create(&pf, "vhost-vsock-device,guest-cid=70000"), 0);
	assert_int_equal(k.opens, 1);
	assert_true(k.order[0] == VHOST_SET_OWNER);
	assert_true(k.cid == 70000);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_VSOCK);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG), 70000);
	assert_int_equal(rd(VIRTIO_MMIO_CONFIG + 4), 0);
	f = dev_features();
	/* SEQPACKET and the ring features the kernel has; never packed rings. */
	assert_true(f == (F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_EVENT_IDX) |
			  F(VIRTIO_F_INDIRECT_DESC) | F(1)));
}

/* DRIVER_OK: rings to the kernel, then RUNNING; reset: RUNNING 0 first. */
static void t_vsock_run(void **state)
{
	assert_int_equal(device_create(&pf, "vhost-vsock-device,guest-cid=3"), 0);
	bring_up(F(VIRTIO_F_VERSION_1) | F(1));
	assert_false(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(k.running, 1);
	assert_true(k.features == (F(VIRTIO_F_VERSION_1) | F(1)));
	/* rx and tx are the kernel's: the device's queues 0 and 1. */
	assert_true(k.addr[0].desc_user_addr == (uintptr_t)(ram + desc_of(0)));
	assert_true(k.addr[1].desc_user_addr == (uintptr_t)(ram + desc_of(1)));
	assert_true(order_of(VHOST_VSOCK_SET_RUNNING, 0) > order_of(VHOST_SET_VRING_KICK, 1));
	k.next_base[1] = 4;
	wr(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(k.running, 0);
	assert_true(order_of(VHOST_VSOCK_SET_RUNNING, 1) < order_of(VHOST_GET_VRING_BASE, 0));
	assert_int_equal(k.kick[0], VHOST_FILE_UNBIND);
	/* Up again after the reset. */
	bring_up(F(VIRTIO_F_VERSION_1));
	assert_int_equal(k.running, 1);
	assert_int_equal(k.kick[1], ioev_fd[1]);
}

/* The errors a user can meet, each -errno after one message. */
static void t_vsock_errors(void **state)
{
	k.fail_req = VHOST_VSOCK_SET_GUEST_CID;
	k.fail_errno = EADDRINUSE;
	assert_int_equal(device_create(&pf, "vhost-vsock-device,guest-cid=9"), -EADDRINUSE);
	assert_int_equal(fcntl(k.fd, F_GETFD), -1);	/* closed again */
	k.fail_req = 0;
	k.no_dev = true;
	assert_int_equal(device_create(&pf, "vhost-vsock-device,guest-cid=9"), -ENOENT);
	assert_int_equal(device_create(&pf, "vhost-vsock-device,guest-cid=2"), -EINVAL);
	assert_int_equal(device_create(&pf, "vhost-vsock-device"), -EINVAL);
	assert_int_equal(k.opens, 2);
	assert_int_equal(pf.mmio.nr, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_features, setup, teardown),
		cmocka_unit_test_setup_teardown(t_mem_table, setup, teardown),
		cmocka_unit_test_setup_teardown(t_ring_addr, setup, teardown),
		cmocka_unit_test_setup_teardown(t_start, setup, teardown),
		cmocka_unit_test_setup_teardown(t_kicks, setup, teardown),
		cmocka_unit_test_setup_teardown(t_call, setup, teardown),
		cmocka_unit_test_setup_teardown(t_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(t_start_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(t_open_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(t_real_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(t_vsock_config, vsock_setup, vsock_teardown),
		cmocka_unit_test_setup_teardown(t_vsock_run, vsock_setup, vsock_teardown),
		cmocka_unit_test_setup_teardown(t_vsock_errors, vsock_setup, vsock_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
