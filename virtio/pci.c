/*
 * virtio-pci, modern only (virtio 1.2, 4.1): device id 0x1040 + the virtio
 * id, revision 1. BAR 4 (64-bit memory) holds the common config, ISR,
 * device config and notify structures, 4 KiB apart as QEMU lays them out;
 * BAR 1 holds the MSI-X table and PBA (num_queues + 1 vectors: one per
 * queue and one for config changes, as Linux asks for them).
 *
 * Register handlers run on vCPU threads under vdev->lock, as virtio.c
 * expects. While BAR 4 decodes, each queue's doorbell is an ioeventfd the
 * loop reads, so a kick does not exit to a vCPU thread; the ioeventfds
 * follow BAR 4 when the guest moves it. A doorbell that still arrives as a
 * register write (through the PCI cfg access capability, or one KVM
 * refused) is handed to the loop too (virtio_queue_doorbell).
 *
 * Interrupts: the queue's (or config) MSI-X vector, or with MSI-X off the
 * ISR bit and INTA, which isr_lock keeps in step with the ISR since
 * devices raise interrupts from the loop without vdev->lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <linux/virtio_pci.h>

#include "devices/pci.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040

#define MSIX_BAR		1
#define CFG_BAR			4
#define CFG_BAR_SIZE		0x4000
#define COMMON_OFF		0x0000
#define ISR_OFF			0x1000
#define DEVICE_OFF		0x2000
#define NOTIFY_OFF		0x3000
#define REGION_SIZE		0x1000
#define NOTIFY_MULT		4	/* one 4-byte doorbell per queue */

struct virtio_pci {
	struct pci_dev pci;	/* first: the pci hooks get it */
	struct virtio_dev *vdev;
	struct platform *pf;
	uint32_t dfselect, gfselect;
	uint16_t queue_sel;
	unsigned cfg_cap;	/* offset of the PCI cfg access capability */
	pthread_mutex_t isr_lock;
	bool ioeventfd[VIRTIO_MAX_QUEUES];	/* KVM signals the kick fd while BAR 4 decodes */
};

/* --- interrupts --- */

static void raise_isr(struct virtio_pci *vp, uint8_t bit, bool line)
{
	pthread_mutex_lock(&vp->isr_lock);
	__atomic_fetch_or(&vp->vdev->isr, bit, __ATOMIC_RELAXED);
	if (line)
		pci_intx_set(&vp->pci, true);
	pthread_mutex_unlock(&vp->isr_lock);
}

/* The ISR is read-to-clear (4.1.4.5); the line follows it. */
static uint8_t take_isr(struct virtio_pci *vp)
{
	uint8_t isr;

	pthread_mutex_lock(&vp->isr_lock);
	isr = __atomic_exchange_n(&vp->vdev->isr, 0, __ATOMIC_RELAXED);
	pci_intx_set(&vp->pci, false);
	pthread_mutex_unlock(&vp->isr_lock);
	return isr;
}

static void notify_vector(struct virtio_pci *vp, uint16_t vec, uint8_t isr_bit)
{
	if (pci_msix_enabled(&vp->pci)) {
		if (isr_bit == VIRTIO_ISR_CONFIG)	/* set even with MSI-X (4.1.4.5.1) */
			raise_isr(vp, isr_bit, false);
		if (vec != VIRTIO_NO_VECTOR)
			pci_msix_notify(&vp->pci, vec);
		return;
	}
	raise_isr(vp, isr_bit, true);
}

static void notify_queue(struct virtio_dev *vdev, unsigned q)
{
	struct virtio_pci *vp = vdev->transport;

	notify_vector(vp, __atomic_load_n(&vdev->vqs[q].msix_vector, __ATOMIC_RELAXED),
		      VIRTIO_ISR_QUEUE);
}

static void notify_config(struct virtio_dev *vdev)
{
	struct virtio_pci *vp = vdev->transport;

	notify_vector(vp, __atomic_load_n(&vdev->config_vector, __ATOMIC_RELAXED),
		      VIRTIO_ISR_CONFIG);
}

/* See virtio_call_fd(). */
static int call_fd(struct virtio_dev *vdev, unsigned q)
{
	struct virtio_pci *vp = vdev->transport;
	uint16_t vec = __atomic_load_n(&vdev->vqs[q].msix_vector, __ATOMIC_RELAXED);

	if (!pci_msix_enabled(&vp->pci))
		return vdev->call_fd >= 0 ? vdev->call_fd : -ENODEV;
	if (vec == VIRTIO_NO_VECTOR)
		return -ENOENT;
	/* vector() keeps vec below nvec; the fds are fixed after attach. */
	return vp->pci.msix.v[vec].fd >= 0 ? vp->pci.msix.v[vec].fd : -ENODEV;
}

static void reset(struct virtio_pci *vp);

/* Machine reset: as a status write of 0 (config space is pci_host_reset's). */
static void machine_reset(struct virtio_dev *vdev)
{
	pthread_mutex_lock(&vdev->lock);
	reset(vdev->transport);
	pthread_mutex_unlock(&vdev->lock);
}

static const struct virtio_transport_ops pci_tops = {
	.notify_queue = notify_queue,
	.notify_config = notify_config,
	.call_fd = call_fd,
	.reset = machine_reset,
};

/* --- kicks --- */

static uint64_t doorbell(uint64_t bar, unsigned q)
{
	return bar + NOTIFY_OFF + (uint64_t)q * NOTIFY_MULT;
}

/*
 * BAR 4 started or stopped decoding at @addr (under the host's lock): the
 * doorbells' ioeventfds go with it. Length 0 matches any write width and
 * lets KVM take the fast MMIO path; without an ioeventfd a doorbell is an
 * ordinary register write.
 */
static void bar_map(struct pci_dev *d, int bar, bool mapped, uint64_t addr)
{
	struct virtio_pci *vp = (struct virtio_pci *)d;
	struct virtio_dev *vdev = vp->vdev;
	struct platform *pf = vp->pf;

	if (bar != CFG_BAR || !pf->ioeventfd)
		return;
	for (unsigned q = 0; q < vdev->num_queues; q++) {
		int fd = vdev->vqs[q].kick_fd;

		if (fd < 0)
			continue;
		if (mapped && !vp->ioeventfd[q])
			vp->ioeventfd[q] = !pf->ioeventfd(pf->kvm_opaque, doorbell(addr, q), 0,
							  0, fd, 0, 0, 0);
		else if (!mapped && vp->ioeventfd[q]) {
			pf->ioeventfd(pf->kvm_opaque, doorbell(addr, q), 0, 0, fd, 0, 0, 1);
			vp->ioeventfd[q] = false;
		}
	}
}

/* --- common configuration (4.1.4.3) --- */

/* Each field at its natural width; 64-bit addresses also as two dwords. */
static bool common_width_ok(uint64_t off, unsigned len)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_GFSELECT:
	case VIRTIO_PCI_COMMON_GF:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		return len == 4;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
		return len == 4 || len == 8;
	case VIRTIO_PCI_COMMON_STATUS:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return len == 1;
	case VIRTIO_PCI_COMMON_MSIX:
	case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_Q_SELECT:
	case VIRTIO_PCI_COMMON_Q_SIZE:
	case VIRTIO_PCI_COMMON_Q_MSIX:
	case VIRTIO_PCI_COMMON_Q_ENABLE:
	case VIRTIO_PCI_COMMON_Q_NOFF:
	case VIRTIO_PCI_COMMON_Q_NDATA:
	case VIRTIO_PCI_COMMON_Q_RESET:
		return len == 2;
	default:
		return false;
	}
}

/* The ring address field at @off of @vq. */
static uint64_t *ring_field(struct virtq *vq, uint64_t off)
{
	switch (off & ~7ULL) {
	case VIRTIO_PCI_COMMON_Q_DESCLO:
		return &vq->desc_gpa;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
		return &vq->driver_gpa;
	default:
		return &vq->device_gpa;
	}
}

static uint64_t common_read(struct virtio_pci *vp, uint64_t off)
{
	struct virtio_dev *vdev = vp->vdev;
	struct virtq *vq = vp->queue_sel < vdev->num_queues ? &vdev->vqs[vp->queue_sel] : NULL;

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		return vp->dfselect;
	case VIRTIO_PCI_COMMON_DF:
		return virtio_get_device_features(vdev, vp->dfselect);
	case VIRTIO_PCI_COMMON_GFSELECT:
		return vp->gfselect;
	case VIRTIO_PCI_COMMON_GF:
		return vp->gfselect < 2 ? (uint32_t)(vdev->guest_features >> (32 * vp->gfselect)) : 0;
	case VIRTIO_PCI_COMMON_MSIX:
		return vdev->config_vector;
	case VIRTIO_PCI_COMMON_NUMQ:
		return vdev->num_queues;
	case VIRTIO_PCI_COMMON_STATUS:
		return __atomic_load_n(&vdev->status, __ATOMIC_ACQUIRE);
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return (uint8_t)__atomic_load_n(&vdev->config_generation, __ATOMIC_ACQUIRE);
	case VIRTIO_PCI_COMMON_Q_SELECT:
		return vp->queue_sel;
	}
	if (!vq)	/* queue_size 0: no such queue */
		return off == VIRTIO_PCI_COMMON_Q_MSIX ? VIRTIO_NO_VECTOR : 0;
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return vq->size;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		return vq->msix_vector;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return vq->enabled;
	case VIRTIO_PCI_COMMON_Q_NOFF:
	case VIRTIO_PCI_COMMON_Q_NDATA:
		return vp->queue_sel;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
		return *ring_field(vq, off);
	case VIRTIO_PCI_COMMON_Q_DESCHI:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		return *ring_field(vq, off) >> 32;
	default:		/* queue_reset: VIRTIO_F_RING_RESET is not offered */
		return 0;
	}
}

/* A vector the device has, or NO_VECTOR, which the driver reads back (4.1.5.1.2). */
static uint16_t vector(struct virtio_pci *vp, uint64_t v)
{
	return v < vp->pci.msix.nvec ? v : VIRTIO_NO_VECTOR;
}

/* The selected queue, if the driver may still set it up (4.1.4.3.2). */
static struct virtq *setup_vq(struct virtio_pci *vp)
{
	struct virtio_dev *vdev = vp->vdev;

	if (vp->queue_sel >= vdev->num_queues || (vdev->status & VIRTIO_STATUS_DRIVER_OK) ||
	    vdev->vqs[vp->queue_sel].enabled)
		return NULL;
	return &vdev->vqs[vp->queue_sel];
}

/* Status 0: the device resets; the ISR is clear, so INTA goes low. vdev->lock held. */
static void reset(struct virtio_pci *vp)
{
	virtio_set_status(vp->vdev, 0);
	take_isr(vp);
	vp->dfselect = vp->gfselect = vp->queue_sel = 0;
}

static void common_write(struct virtio_pci *vp, uint64_t off, uint64_t v, unsigned len)
{
	struct virtio_dev *vdev = vp->vdev;
	struct virtq *vq = setup_vq(vp);
	uint64_t *f;

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		vp->dfselect = v;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT:
		vp->gfselect = v;
		break;
	case VIRTIO_PCI_COMMON_GF:
		virtio_set_driver_features(vdev, vp->gfselect, v);
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		__atomic_store_n(&vdev->config_vector, vector(vp, v), __ATOMIC_RELAXED);
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		if (v)
			virtio_set_status(vdev, v);
		else
			reset(vp);
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		vp->queue_sel = v;
		break;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		if (vq)	/* too large: 0, which DRIVER_OK refuses */
			vq->size = v <= VIRTQ_MAX_SIZE ? v : 0;
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		if (vp->queue_sel < vdev->num_queues)
			__atomic_store_n(&vdev->vqs[vp->queue_sel].msix_vector, vector(vp, v),
					 __ATOMIC_RELAXED);
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if (v == 1 && vq)	/* 0 is the driver's to write only with queue_reset */
			vq->enabled = true;
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		if (!vq)
			break;
		f = ring_field(vq, off);
		if (len == 8)
			*f = v;
		else if (off & 4)
			*f = (*f & 0xffffffffULL) | v << 32;
		else
			*f = (*f & ~0xffffffffULL) | (uint32_t)v;
		break;
	default:	/* read-only fields */
		break;
	}
}

/* --- BAR 4 --- */

static void bar_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct virtio_pci *vp = opaque;
	struct virtio_dev *vdev = vp->vdev;
	uint64_t v;

	memset(data, 0, len);
	if (off == ISR_OFF && len == 1) {
		*(uint8_t *)data = take_isr(vp);
		return;
	}
	pthread_mutex_lock(&vdev->lock);
	if (off < COMMON_OFF + REGION_SIZE && common_width_ok(off - COMMON_OFF, len)) {
		v = common_read(vp, off - COMMON_OFF);
		memcpy(data, &v, len);
	} else if (off >= DEVICE_OFF && off < DEVICE_OFF + REGION_SIZE) {
		virtio_read_config(vdev, off - DEVICE_OFF, data, len);
	}
	pthread_mutex_unlock(&vdev->lock);
}

static void bar_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct virtio_pci *vp = opaque;
	struct virtio_dev *vdev = vp->vdev;
	uint64_t v = 0;

	memcpy(&v, data, MIN(len, 8u));
	pthread_mutex_lock(&vdev->lock);
	if (off < COMMON_OFF + REGION_SIZE && common_width_ok(off - COMMON_OFF, len))
		common_write(vp, off - COMMON_OFF, v, len);
	else if (off >= DEVICE_OFF && off < DEVICE_OFF + REGION_SIZE)
		virtio_write_config(vdev, off - DEVICE_OFF, data, len);
	else if (off >= NOTIFY_OFF && off < NOTIFY_OFF + REGION_SIZE &&
		 (off - NOTIFY_OFF) % NOTIFY_MULT == 0 && len <= 4)
		virtio_queue_doorbell(vdev, (off - NOTIFY_OFF) / NOTIFY_MULT);
	pthread_mutex_unlock(&vdev->lock);
}

static const struct bus_ops bar_ops = { .read = bar_read, .write = bar_write };

/* --- the PCI cfg access capability (4.1.4.9): BAR access from config space --- */

/* The access the capability describes, if it is a valid one. */
static const struct pci_bar *cfg_cap_target(struct virtio_pci *vp, uint32_t *off,
					    uint32_t *len)
{
	const struct pci_dev *d = &vp->pci;
	unsigned c = vp->cfg_cap;
	uint8_t bar = pci_cfg_get(d, c + VIRTIO_PCI_CAP_BAR, 1);
	const struct pci_bar *b = bar < PCI_NUM_BARS ? &d->bar[bar] : NULL;

	*off = pci_cfg_get(d, c + VIRTIO_PCI_CAP_OFFSET, 4);
	*len = pci_cfg_get(d, c + VIRTIO_PCI_CAP_LENGTH, 4);
	if (!b || !b->size || (*len != 1 && *len != 2 && *len != 4) || *off % *len ||
	    *off >= b->size || b->size - *off < *len)
		return NULL;
	return b;
}

static bool touches_cfg_data(struct virtio_pci *vp, unsigned off, unsigned len)
{
	unsigned data = vp->cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);

	return off < data + 4 && data < off + len;
}

static void cfg_read(struct pci_dev *d, unsigned off, void *data, unsigned len)
{
	struct virtio_pci *vp = (struct virtio_pci *)d;
	unsigned cd = vp->cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);
	const struct pci_bar *b;
	uint32_t boff, blen, v = 0;

	if (!touches_cfg_data(vp, off, len) || !(b = cfg_cap_target(vp, &boff, &blen)))
		return;
	b->ops->read(b->opaque, boff, &v, blen);
	pci_cfg_set(d, cd, v, blen);
	memcpy(data, d->cfg + off, len);
}

static void cfg_write(struct pci_dev *d, unsigned off, const void *data, unsigned len)
{
	struct virtio_pci *vp = (struct virtio_pci *)d;
	unsigned cd = vp->cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);
	const struct pci_bar *b;
	uint32_t boff, blen, v;

	if (!touches_cfg_data(vp, off, len) || !(b = cfg_cap_target(vp, &boff, &blen)))
		return;
	v = pci_cfg_get(d, cd, blen);
	b->ops->write(b->opaque, boff, &v, blen);
}

/* --- attach --- */

static int add_cap(struct virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len,
		   unsigned cap_len)
{
	struct pci_dev *d = &vp->pci;
	int c = pci_cap_add(d, PCI_CAP_ID_VNDR, cap_len);

	if (c < 0)
		return c;
	pci_cfg_set(d, c + VIRTIO_PCI_CAP_LEN, cap_len, 1);
	pci_cfg_set(d, c + VIRTIO_PCI_CAP_CFG_TYPE, type, 1);
	pci_cfg_set(d, c + VIRTIO_PCI_CAP_BAR, type == VIRTIO_PCI_CAP_PCI_CFG ? 0 : CFG_BAR, 1);
	pci_cfg_set(d, c + VIRTIO_PCI_CAP_OFFSET, off, 4);
	pci_cfg_set(d, c + VIRTIO_PCI_CAP_LENGTH, len, 4);
	return c;
}

static int add_caps(struct virtio_pci *vp)
{
	struct virtio_dev *vdev = vp->vdev;
	struct pci_dev *d = &vp->pci;
	uint32_t cfg_len = vdev->ops->config_size;
	int c;

	if (cfg_len > REGION_SIZE) {
		err_msg("%s: a %u-byte config space does not fit virtio-pci's %u bytes",
			vdev->name, cfg_len, REGION_SIZE);
		return -EINVAL;
	}
	if ((c = add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, COMMON_OFF, REGION_SIZE,
			 sizeof(struct virtio_pci_cap))) < 0 ||
	    (c = add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, ISR_OFF, REGION_SIZE,
			 sizeof(struct virtio_pci_cap))) < 0 ||
	    (cfg_len && (c = add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, DEVICE_OFF, cfg_len,
				     sizeof(struct virtio_pci_cap))) < 0))
		return c;
	c = add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, NOTIFY_OFF,
		    vdev->num_queues * NOTIFY_MULT, sizeof(struct virtio_pci_notify_cap));
	if (c < 0)
		return c;
	pci_cfg_set(d, c + offsetof(struct virtio_pci_notify_cap, notify_off_multiplier),
		    NOTIFY_MULT, 4);
	/* The access window's bar, offset, length and data are the driver's. */
	c = add_cap(vp, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, sizeof(struct virtio_pci_cfg_cap));
	if (c < 0)
		return c;
	vp->cfg_cap = c;
	pci_cfg_wmask(d, c + VIRTIO_PCI_CAP_BAR, 0xff, 1);
	pci_cfg_wmask(d, c + VIRTIO_PCI_CAP_OFFSET, 0xffffffff, 4);
	pci_cfg_wmask(d, c + VIRTIO_PCI_CAP_LENGTH, 0xffffffff, 4);
	pci_cfg_wmask(d, c + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data), 0xffffffff, 4);
	return 0;
}

/* Each queue's doorbell: an eventfd the loop reads, bound to KVM by bar_map. */
static int add_kicks(struct virtio_pci *vp)
{
	struct virtio_dev *vdev = vp->vdev;
	int ret = virtio_call_fd_open(vdev);

	for (unsigned q = 0; !ret && q < vdev->num_queues; q++)
		ret = virtio_kick_fd_open(vdev, q);
	return ret;
}

static uint32_t class_of(uint32_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_BLOCK:
		return 0x018000;	/* mass storage, other */
	case VIRTIO_ID_NET:
		return 0x020000;	/* ethernet */
	default:
		return 0xff0000;	/* unassigned class */
	}
}

struct pci_dev *virtio_pci_dev(struct virtio_dev *vdev)
{
	return &((struct virtio_pci *)vdev->transport)->pci;
}

int virtio_pci_attach(struct virtio_dev *vdev, struct platform *pf,
		      const struct virtio_pci_opts *o)
{
	uint32_t id = vdev->ops->device_id;
	struct virtio_pci *vp;
	int ret;

	if (!pf->pci) {
		err_msg("%s: this machine has no PCI bus (add -M pci)", vdev->name);
		return -ENODEV;
	}
	vp = calloc(1, sizeof(*vp));
	if (!vp) {
		err_msg("%s: out of memory", vdev->name);
		return -ENOMEM;
	}
	vp->vdev = vdev;
	vp->pf = pf;
	pthread_mutex_init(&vp->isr_lock, NULL);
	vdev->transport = vp;
	vdev->tops = &pci_tops;
	pci_dev_init(&vp->pci, pf, VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BASE + id,
		     class_of(id), 1, VIRTIO_PCI_VENDOR, id, PCI_CFG_SIZE);
	snprintf(vp->pci.owner, sizeof(vp->pci.owner), "%s", vdev->name);
	vp->pci.cfg_read = cfg_read;
	vp->pci.cfg_write = cfg_write;
	vp->pci.bar_map = bar_map;
	vp->pci.opaque = vp;

	ret = pci_bar_init(&vp->pci, CFG_BAR, PCI_BAR_MEM64, CFG_BAR_SIZE, false, &bar_ops, vp);
	if (!ret)
		ret = add_caps(vp);
	if (!ret) {
		ret = pci_msix_init(&vp->pci, vdev->num_queues + 1, MSIX_BAR);
		ret = MIN(ret, 0);
	}
	if (!ret && pf->loop)
		ret = add_kicks(vp);
	if (!ret)
		ret = pci_dev_register(pf->pci, &vp->pci, o ? o->bus : NULL, o ? o->slot : -1,
				       o ? o->function : 0, vdev->name);
	if (ret)
		virtio_pci_detach(vdev);
	return ret;
}

void virtio_pci_detach(struct virtio_dev *vdev)
{
	struct virtio_pci *vp = vdev->transport;

	if (!vp)
		return;
	/* Unmapping BAR 4 takes the ioeventfds away; then no vCPU is inside. */
	pci_dev_unregister(&vp->pci);
	pci_dev_destroy(&vp->pci);
	for (unsigned q = 0; q < vdev->num_queues; q++)
		virtio_kick_fd_close(vdev, q);
	virtio_call_fd_close(vdev);
	pthread_mutex_destroy(&vp->isr_lock);
	free(vp);
	vdev->transport = NULL;
	vdev->tops = NULL;
}
