/*
 * virtio-vsock (virtio 1.2 section 5.10) through the kernel's vhost-vsock:
 * the device types "vhost-vsock-pci" and "vhost-vsock-device" (MMIO).
 *
 * The kernel serves the rx and tx queues (vhost vqs 0 and 1) and routes
 * the guest's connections to host sockets; ember keeps the event queue,
 * whose buffers it only has to accept, and the config space (guest_cid).
 * The CID is claimed at realize (VHOST_VSOCK_SET_GUEST_CID), so a CID in
 * use by another VM fails at start-up; the kernel runs the rings from
 * DRIVER_OK to reset (VHOST_VSOCK_SET_RUNNING).
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/vhost.h>
#include <linux/virtio_vsock.h>

#include "devices/device.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/util.h"
#include "virtio/transport.h"
#include "virtio/vhost.h"
#include "virtio/virtio.h"

#define VSOCK_DEV	"/dev/vhost-vsock"
#define VSOCK_QUEUES	3	/* rx, tx (the kernel's), event (ember's) */
#define VSOCK_QSIZE	128
#define CID_FIRST	3		/* 0..2: hypervisor, local, host */
#define CID_LAST	0xfffffffeu	/* 0xffffffff: VMADDR_CID_ANY */

struct vsock {
	/* Properties. */
	uint64_t guest_cid;
	struct virtio_link link;	/* bus=, addr=; on which transport */

	/* Guest-visible state. */
	struct virtio_dev vdev;
	struct virtio_vsock_config cfg;

	struct vhost vh;
	bool running;
};

static struct vsock *to_vsock(struct virtio_dev *vdev)
{
	return container_of(vdev, struct vsock, vdev);
}

/* ---- virtio_dev_ops (under vdev->lock) ---- */

static uint64_t vsock_get_features(struct virtio_dev *vdev)
{
	return to_vsock(vdev)->vh.features & BIT(VIRTIO_VSOCK_F_SEQPACKET);
}

static void vsock_read_config(struct virtio_dev *vdev, uint32_t off, void *data, unsigned len)
{
	memcpy(data, (uint8_t *)&to_vsock(vdev)->cfg + off, len);
}

/* The kernel takes the rings over; a failure leaves nothing bound. */
static int vsock_activate(struct virtio_dev *vdev)
{
	struct vsock *vs = to_vsock(vdev);
	int on = 1, ret;

	ret = vhost_start(&vs->vh, vdev, vdev->guest_features, 0, 2);
	if (ret < 0)
		return ret;
	if (ioctl(vs->vh.fd, VHOST_VSOCK_SET_RUNNING, &on) < 0) {
		ret = -errno;
		err_msg("%s: %s: cannot start: %s", vs->vh.owner, VSOCK_DEV, strerror(errno));
		vhost_stop(&vs->vh, vdev);
		return ret;
	}
	vs->running = true;
	return 0;
}

/* Before the core resets the rings: the kernel must be off them. */
static void vsock_reset(struct virtio_dev *vdev)
{
	struct vsock *vs = to_vsock(vdev);
	int off = 0;

	if (vs->running && ioctl(vs->vh.fd, VHOST_VSOCK_SET_RUNNING, &off) < 0)
		warn_msg("%s: %s: cannot stop: %s", vs->vh.owner, VSOCK_DEV, strerror(errno));
	vs->running = false;
	vhost_stop(&vs->vh, vdev);
}

/* Only the event queue reaches ember: its buffers wait for an event. */
static void vsock_queue_notify(struct virtio_dev *vdev, unsigned q)
{
}

static const struct virtio_dev_ops vsock_ops = {
	.device_id = VIRTIO_ID_VSOCK,
	.get_features = vsock_get_features,
	.config_size = sizeof(struct virtio_vsock_config),
	.read_config = vsock_read_config,
	.activate = vsock_activate,
	.reset = vsock_reset,
	.queue_notify = vsock_queue_notify,
};

/* ---- creation ---- */

static int claim_cid(struct vsock *vs, const char *owner)
{
	uint64_t cid = vs->guest_cid;

	if (!ioctl(vs->vh.fd, VHOST_VSOCK_SET_GUEST_CID, &cid))
		return 0;
	if (errno == EADDRINUSE)
		err_msg("%s: guest-cid=%" PRIu64 " is in use by another VM on this host",
			owner, cid);
	else
		err_msg("%s: guest-cid=%" PRIu64 ": %s: %s", owner, cid, VSOCK_DEV,
			strerror(errno));
	return -errno;
}

/* Closing the fd stops the kernel's rings and frees the CID: before the transport goes. */
static void vsock_close(struct device *dev, struct platform *pf)
{
	struct vsock *vs = dev->state;

	vhost_close(&vs->vh);
	vs->running = false;
}

static int vsock_realize(struct device *dev, struct platform *pf, const char *owner)
{
	struct vsock *vs = dev->state;
	char name[48];
	int ret;

	vs->vh.fd = -1;
	if (vs->guest_cid < CID_FIRST) {
		err_msg("%s: guest-cid=%" PRIu64 " is reserved (0-2 are the hypervisor, "
			"local and host addresses): use %u..%u", owner, vs->guest_cid,
			CID_FIRST, CID_LAST);
		return -EINVAL;
	}
	if (vs->guest_cid > CID_LAST) {
		err_msg("%s: guest-cid=%" PRIu64 " is out of range: use %u..%u (CIDs are 32-bit, "
			"%u is VMADDR_CID_ANY)", owner, vs->guest_cid, CID_FIRST, CID_LAST,
			CID_LAST + 1);
		return -EINVAL;
	}
	ret = vhost_open(&vs->vh, VSOCK_DEV, owner);
	if (!ret)
		ret = claim_cid(vs, owner);
	if (ret)
		goto fail;
	vs->cfg.guest_cid = htole64(vs->guest_cid);
	if (dev->id)
		snprintf(name, sizeof(name), "vhost-vsock %s", dev->id);
	else
		snprintf(name, sizeof(name), "vhost-vsock cid %" PRIu64, vs->guest_cid);
	ret = virtio_dev_init(&vs->vdev, &vsock_ops, pf, VSOCK_QUEUES, VSOCK_QSIZE, name);
	if (ret)
		goto fail;
	/* No packed rings, and ring features only as the kernel serves them. */
	vs->vdev.host_features = vhost_features(&vs->vh, vs->vdev.host_features);
	return 0;
fail:
	vsock_close(dev, pf);
	return ret;
}

static const struct prop vsock_props[] = {
	{ "guest-cid", PROP_U64, offsetof(struct vsock, guest_cid), NULL,
	  "the guest's vsock address, 3..4294967294, unique on the host",
	  .required = 1 },
	{ NULL }
};

static const struct virtio_dev_type vsock_type = {
	.stem = "vhost-vsock",
	.desc = "virtio-vsock through the kernel's vhost-vsock",
	VIRTIO_STATE(struct vsock),
	.props = vsock_props,
	.realize = vsock_realize,
	.stop = vsock_close,
	.unrealize = vsock_close,
};
VIRTIO_DEV_TYPE(vsock_type)
