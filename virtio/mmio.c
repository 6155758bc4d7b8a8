/*
 * virtio-mmio, version 2 (virtio 1.2, 4.2.2): one slot of the machine's
 * virtio-mmio window per device, found by Linux through the DSDT.
 *
 * Register handlers run on vCPU threads under vdev->lock. QueueNotify has
 * an ioeventfd per queue (datamatch = queue index), so a kick is an eventfd
 * the event loop reads, and the loop calls ops->queue_notify under
 * vdev->lock. A QueueNotify write that reaches ember anyway is passed to
 * the same eventfd (virtio_queue_doorbell), so queues are served on the
 * loop whichever way the kick came; only without KVM's ioeventfds (unit
 * tests) does the register path call queue_notify itself.
 *
 * The interrupt is a level line. With KVM, a level irqfd raises it and KVM
 * lowers it at the guest's EOI, signalling the resample fd; we raise it
 * again if InterruptStatus is still non-zero then. Without KVM, irq_set
 * follows InterruptStatus != 0. irq_lock orders isr changes against the
 * line, since devices raise interrupts from the loop without vdev->lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <linux/virtio_mmio.h>

#include "devices/aml.h"
#include "devices/bus.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"

#define MMIO_MAGIC	0x74726976	/* "virt" */
#define MMIO_VERSION	2
#define MMIO_VENDOR	0x52424d45	/* "EMBR" */

struct virtio_mmio {
	struct virtio_dev *vdev;
	struct platform *pf;
	uint64_t base;
	uint32_t size;
	unsigned gsi;
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	pthread_mutex_t irq_lock;
	int irq_fd, resample_fd;	/* -1 without irqfd */
	bool registered;
};

static void eventfd_drain(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		warn_once("virtio-mmio: eventfd read: %s", strerror(errno));
}

static void eventfd_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0)
		warn_once("virtio-mmio: eventfd write: %s", strerror(errno));
}

/* Under irq_lock. */
static void update_line(struct virtio_mmio *m)
{
	uint8_t isr = __atomic_load_n(&m->vdev->isr, __ATOMIC_RELAXED);

	if (m->irq_fd >= 0) {
		if (isr)
			eventfd_signal(m->irq_fd);
	} else if (m->pf->irq_set) {
		m->pf->irq_set(m->pf->irq_opaque, m->gsi, isr != 0);
	}
}

static void raise_isr(struct virtio_mmio *m, uint8_t bit)
{
	pthread_mutex_lock(&m->irq_lock);
	__atomic_fetch_or(&m->vdev->isr, bit, __ATOMIC_RELAXED);
	update_line(m);
	pthread_mutex_unlock(&m->irq_lock);
}

static void ack_isr(struct virtio_mmio *m, uint8_t bits)
{
	pthread_mutex_lock(&m->irq_lock);
	__atomic_fetch_and(&m->vdev->isr, (uint8_t)~bits, __ATOMIC_RELAXED);
	if (m->irq_fd < 0)	/* with an irqfd, KVM lowers the line at EOI */
		update_line(m);
	pthread_mutex_unlock(&m->irq_lock);
}

static void notify_queue(struct virtio_dev *vdev, unsigned q)
{
	raise_isr(vdev->transport, VIRTIO_ISR_QUEUE);
}

static void notify_config(struct virtio_dev *vdev)
{
	raise_isr(vdev->transport, VIRTIO_ISR_CONFIG);
}

static void reset(struct virtio_mmio *m);

/* Machine reset: as a status write of 0, and the selectors back to 0. */
static void machine_reset(struct virtio_dev *vdev)
{
	struct virtio_mmio *m = vdev->transport;

	pthread_mutex_lock(&vdev->lock);
	reset(m);
	m->dev_features_sel = m->drv_features_sel = m->queue_sel = 0;
	pthread_mutex_unlock(&vdev->lock);
}

static const struct virtio_transport_ops mmio_tops = {
	.notify_queue = notify_queue,
	.notify_config = notify_config,
	.reset = machine_reset,
};

static void on_resample(void *opaque, uint32_t events)
{
	struct virtio_mmio *m = opaque;

	eventfd_drain(m->resample_fd);
	pthread_mutex_lock(&m->irq_lock);
	update_line(m);
	pthread_mutex_unlock(&m->irq_lock);
}

/* The selected queue, if the driver may still change its setup (4.2.2.3). */
static struct virtq *setup_vq(struct virtio_mmio *m)
{
	struct virtio_dev *vdev = m->vdev;

	if (m->queue_sel >= vdev->num_queues || (vdev->status & VIRTIO_STATUS_DRIVER_OK) ||
	    vdev->vqs[m->queue_sel].enabled)
		return NULL;
	return &vdev->vqs[m->queue_sel];
}

/* QueueDesc/Driver/Device: a low word at 0x80/0x90/0xa0, the high one after it. */
static uint64_t *ring_addr(struct virtq *vq, uint64_t off)
{
	switch (off & ~4ull) {
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		return &vq->desc_gpa;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		return &vq->driver_gpa;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		return &vq->device_gpa;
	default:
		return NULL;
	}
}

static void set_half(uint64_t *reg, bool high, uint32_t val)
{
	*reg = high ? (*reg & 0xffffffffull) | (uint64_t)val << 32
		    : (*reg & ~0xffffffffull) | val;
}

static uint32_t reg_read(struct virtio_mmio *m, uint64_t off)
{
	struct virtio_dev *vdev = m->vdev;
	bool have_q = m->queue_sel < vdev->num_queues;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return vdev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return virtio_get_device_features(vdev, m->dev_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return have_q ? vdev->max_queue_size : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return have_q && vdev->vqs[m->queue_sel].enabled;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&vdev->isr, __ATOMIC_RELAXED);
	case VIRTIO_MMIO_STATUS:
		return __atomic_load_n(&vdev->status, __ATOMIC_RELAXED);
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		return 0xffffffff;	/* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return __atomic_load_n(&vdev->config_generation, __ATOMIC_ACQUIRE);
	default:
		return 0;
	}
}

/* Status 0: the device resets; isr is clear, so the line goes low. vdev->lock held. */
static void reset(struct virtio_mmio *m)
{
	virtio_set_status(m->vdev, 0);
	pthread_mutex_lock(&m->irq_lock);
	if (m->irq_fd < 0)
		update_line(m);
	pthread_mutex_unlock(&m->irq_lock);
}

static void reg_write(struct virtio_mmio *m, uint64_t off, uint32_t val)
{
	struct virtio_dev *vdev = m->vdev;
	struct virtq *vq = setup_vq(m);
	uint64_t *addr;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		m->dev_features_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_set_driver_features(vdev, m->drv_features_sel, val);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		m->drv_features_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		m->queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (vq)	/* too large: 0, which DRIVER_OK refuses */
			vq->size = val <= VIRTQ_MAX_SIZE ? val : 0;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (val == 1 && vq)
			vq->enabled = true;
		else if (val == 0 && m->queue_sel < vdev->num_queues)
			vdev->vqs[m->queue_sel].enabled = false;
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		virtio_queue_doorbell(vdev, val);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		ack_isr(m, val);
		break;
	case VIRTIO_MMIO_STATUS:
		if (val & 0xff)
			virtio_set_status(vdev, val & 0xff);
		else
			reset(m);
		break;
	default:
		if (vq && (addr = ring_addr(vq, off)))
			set_half(addr, off & 4, val);
		break;
	}
}

/* Registers are 32-bit; config space takes 1, 2 or 4 bytes, aligned. */
static bool is_config(uint64_t off, unsigned len)
{
	return off >= VIRTIO_MMIO_CONFIG && (len == 1 || len == 2 || len == 4) &&
	       IS_ALIGNED(off, len);
}

static void mmio_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct virtio_mmio *m = opaque;
	uint32_t val;

	memset(data, 0, len);
	pthread_mutex_lock(&m->vdev->lock);
	if (is_config(off, len)) {
		virtio_read_config(m->vdev, off - VIRTIO_MMIO_CONFIG, data, len);
	} else if (off < VIRTIO_MMIO_CONFIG && len == 4 && IS_ALIGNED(off, 4)) {
		val = reg_read(m, off);
		memcpy(data, &val, 4);
	}
	pthread_mutex_unlock(&m->vdev->lock);
}

static void mmio_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct virtio_mmio *m = opaque;
	uint32_t val;

	pthread_mutex_lock(&m->vdev->lock);
	if (is_config(off, len)) {
		virtio_write_config(m->vdev, off - VIRTIO_MMIO_CONFIG, data, len);
	} else if (off < VIRTIO_MMIO_CONFIG && len == 4 && IS_ALIGNED(off, 4)) {
		memcpy(&val, data, 4);
		reg_write(m, off, val);
	}
	pthread_mutex_unlock(&m->vdev->lock);
}

static const struct bus_ops mmio_ops = {
	.read = mmio_read,
	.write = mmio_write,
};

static int new_eventfd(struct virtio_dev *vdev)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), err = errno;

	if (fd >= 0)
		return fd;
	err_msg("%s: eventfd: %s", vdev->name, strerror(err));
	return -err;
}

/*
 * An ioeventfd per queue on QueueNotify, told apart by the value written.
 * A queue has a kick_fd only while KVM has it, so detach knows what to undo.
 */
static int attach_kicks(struct virtio_mmio *m)
{
	struct virtio_dev *vdev = m->vdev;
	struct platform *pf = m->pf;
	int ret;

	for (unsigned q = 0; q < vdev->num_queues; q++) {
		ret = virtio_kick_fd_open(vdev, q);
		if (ret < 0)
			return ret;
		ret = pf->ioeventfd(pf->kvm_opaque, m->base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0,
				    vdev->vqs[q].kick_fd, 1, q, 0);
		if (ret < 0) {
			virtio_kick_fd_close(vdev, q);
			return ret;
		}
	}
	return 0;
}

static int attach_irqfd(struct virtio_mmio *m)
{
	struct platform *pf = m->pf;
	int ret;

	ret = new_eventfd(m->vdev);
	if (ret < 0)
		return ret;
	m->irq_fd = ret;
	ret = new_eventfd(m->vdev);
	if (ret < 0)
		return ret;
	m->resample_fd = ret;
	ret = pf->irqfd(pf->kvm_opaque, m->gsi, m->irq_fd, m->resample_fd, 0);
	if (ret < 0) {
		close(m->irq_fd);
		close(m->resample_fd);
		m->irq_fd = m->resample_fd = -1;
		return ret;
	}
	ret = loop_add(pf->loop, m->resample_fd, EPOLLIN, on_resample, m);
	if (ret < 0)
		err_msg("%s: cannot watch the interrupt resample fd: %s", m->vdev->name,
			strerror(-ret));
	return ret;
}

int virtio_mmio_attach(struct virtio_dev *vdev, struct platform *pf)
{
	struct virtio_mmio *m;
	int ret;

	if ((uint64_t)pf->virtio_mmio_size < VIRTIO_MMIO_CONFIG + vdev->ops->config_size) {
		err_msg("%s: virtio-mmio slots of %#x bytes are too small for its config space",
			vdev->name, pf->virtio_mmio_size);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		err_msg("%s: out of memory", vdev->name);
		return -ENOMEM;
	}
	ret = platform_virtio_mmio_slot(pf, &m->base, &m->gsi);
	if (ret < 0) {
		free(m);
		return ret;
	}
	m->vdev = vdev;
	m->pf = pf;
	m->size = pf->virtio_mmio_size;
	m->irq_fd = m->resample_fd = -1;
	pthread_mutex_init(&m->irq_lock, NULL);
	vdev->transport = m;
	vdev->tops = &mmio_tops;

	ret = bus_register(&pf->mmio, m->base, m->size, &mmio_ops, m, vdev->name);
	if (ret < 0)
		goto fail;
	m->registered = true;
	if (pf->ioeventfd && (ret = attach_kicks(m)) < 0)
		goto fail;
	if (pf->irqfd && (ret = attach_irqfd(m)) < 0)
		goto fail;
	if (pf->loop && (ret = virtio_call_fd_open(vdev)) < 0)
		goto fail;
	return 0;
fail:
	virtio_mmio_detach(vdev);
	return ret;
}

void virtio_mmio_detach(struct virtio_dev *vdev)
{
	struct virtio_mmio *m = vdev->transport;
	struct platform *pf;

	if (!m)
		return;
	pf = m->pf;
	for (unsigned q = 0; q < vdev->num_queues; q++) {
		if (vdev->vqs[q].kick_fd < 0)
			continue;
		pf->ioeventfd(pf->kvm_opaque, m->base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0,
			      vdev->vqs[q].kick_fd, 1, q, 1);
		virtio_kick_fd_close(vdev, q);
	}
	virtio_call_fd_close(vdev);
	if (m->irq_fd >= 0 && m->resample_fd >= 0) {
		loop_del(pf->loop, m->resample_fd);
		pf->irqfd(pf->kvm_opaque, m->gsi, m->irq_fd, m->resample_fd, 1);
	}
	if (m->irq_fd >= 0)
		close(m->irq_fd);
	if (m->resample_fd >= 0)
		close(m->resample_fd);
	if (m->registered)
		bus_unregister(&pf->mmio, m->base);
	pthread_mutex_destroy(&m->irq_lock);
	free(m);
	vdev->transport = NULL;
	vdev->tops = NULL;
}

void virtio_mmio_aml(struct virtio_dev *vdev, struct aml *dsdt)
{
	struct virtio_mmio *m = vdev->transport;

	if (m)
		acpi_dsdt_add_virtio_mmio(dsdt, (m->base - m->pf->virtio_mmio_base) / m->size,
					  m->base, m->size, m->gsi);
}
