/*
 * virtio-console (virtio 1.2 section 5.3) in QEMU's model: a virtio-serial
 * device ("virtio-serial-device" on virtio-mmio, "virtio-serial-pci")
 * provides a virtio-serial-bus; "virtconsole" (a console: the guest's hvc)
 * and "virtserialport" (a named port: /dev/virtio-ports/NAME) plug into it,
 * each on a chardev.
 *
 * Queues: 0/1 are port 0's receiveq/transmitq, 2/3 the control pair, then
 * 2 per port from port 1. The control protocol is console_ctrl.c.
 *
 * Everything runs on the loop thread under vdev->lock: kicks, and chardev
 * input, which is taken only as far as the guest has receive buffers; the
 * chardev keeps the rest and stops reading until a receiveq kick says
 * there is room (chardev_accept_input), so input is never dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/chardev.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "lib/util.h"
#include "virtio/console.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"

#define CTRL_RX	2
#define CTRL_TX	3

struct vport;

struct vser {
	/* Properties. */
	uint32_t max_ports;
	struct virtio_link link;	/* bus=, addr=; on which transport */

	/* Guest-visible state. */
	struct virtio_dev vdev;
	struct virtio_console_config cfg;
	struct vcon_proto proto;

	bool warned;
	struct vport *ports[VCON_MAX_PORTS];
	struct virtq_elem elem;		/* the chain being handled, under the lock */
};

struct vport {
	/* Properties. */
	char *chardev, *name, *bus;
	uint32_t nr;			/* UINT32_MAX: the first free one */

	struct vser *vs;
	struct chardev *chr;
	bool blocked;			/* input refused: wake the chardev on room */
};

static struct vser *to_vser(struct virtio_dev *vdev)
{
	return container_of(vdev, struct vser, vdev);
}

static unsigned rx_queue(unsigned nr)
{
	return nr ? 2 * (nr + 1) : 0;
}

static bool live(struct vser *vs)
{
	uint8_t st = __atomic_load_n(&vs->vdev.status, __ATOMIC_ACQUIRE);

	return vs->link.attached && !vs->link.dying &&
	       (st & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

/* The guest's own mistakes: once per device, then to the debug log. */
static void ignored(struct vser *vs, const char *why)
{
	if (!vs->warned)
		warn_msg("%s: control message ignored: %s", vs->vdev.name, why);
	else
		debug_msg("%s: control message ignored: %s", vs->vdev.name, why);
	vs->warned = true;
}

/* Pops queue @q's next chain into vs->elem: 1, 0 when empty, -1 if broken. */
static int pop(struct vser *vs, unsigned q)
{
	struct virtq *vq = &vs->vdev.vqs[q];
	int ret;

	if (!vq->enabled)
		return 0;
	ret = virtq_pop(vq, &vs->elem);
	if (ret < 0) {
		virtio_needs_reset(&vs->vdev, vq->why);
		return -1;
	}
	return ret;
}

/* Wakes a port's chardev if it was holding input back for lack of room. */
static void unblock(struct vport *p)
{
	if (p && p->blocked) {
		p->blocked = false;
		chardev_accept_input(p->chr);
	}
}

/* Hands the driver what it is owed, as far as it gave control buffers. */
static void ctrl_flush(struct vser *vs)
{
	struct virtq *vq = &vs->vdev.vqs[CTRL_RX];
	bool pushed = false;
	int len;

	while (vs->proto.out_count && pop(vs, CTRL_RX) > 0) {
		len = vcon_ctrl_next(&vs->proto, vs->elem.iov + vs->elem.out_num,
				     vs->elem.in_num);
		if (len < 0) {
			virtio_needs_reset(&vs->vdev, "control buffer shorter than a message");
			return;
		}
		virtq_push(vq, &vs->elem, len);
		pushed = true;
	}
	if (pushed)
		virtio_notify(&vs->vdev, CTRL_RX);
}

static void ctrl_tx(struct vser *vs)
{
	char why[96];
	struct vcon_msg m;
	enum vcon_result r;
	bool pushed = false;

	while (pop(vs, CTRL_TX) > 0) {
		if (vcon_ctrl_read(vs->elem.iov, vs->elem.out_num, &m)) {
			ignored(vs, "shorter than 8 bytes");
		} else {
			r = vcon_ctrl_handle(&vs->proto, &m, why, sizeof(why));
			if (r == VCON_IGNORED)
				ignored(vs, why);
			else if (r == VCON_OPENED)
				unblock(vs->ports[m.id]);
		}
		virtq_push(&vs->vdev.vqs[CTRL_TX], &vs->elem, 0);
		pushed = true;
	}
	if (pushed)
		virtio_notify(&vs->vdev, CTRL_TX);
	ctrl_flush(vs);
}

/* Guest output of port @nr to its chardev; a port nobody plugged eats it. */
static void port_tx(struct vser *vs, unsigned nr, unsigned q)
{
	struct vport *p = nr < VCON_MAX_PORTS ? vs->ports[nr] : NULL;
	bool pushed = false;

	while (pop(vs, q) > 0) {
		for (unsigned i = 0; p && i < vs->elem.out_num; i++)
			chardev_write(p->chr, vs->elem.iov[i].iov_base, vs->elem.iov[i].iov_len);
		virtq_push(&vs->vdev.vqs[q], &vs->elem, 0);
		pushed = true;
	}
	if (pushed)
		virtio_notify(&vs->vdev, q);
}

static void vser_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	struct vser *vs = to_vser(vdev);
	unsigned nr = q < 2 ? 0 : q / 2 - 1;

	if (!live(vs))
		return;
	if (q == CTRL_RX)
		ctrl_flush(vs);
	else if (q == CTRL_TX)
		ctrl_tx(vs);
	else if (q & 1)
		port_tx(vs, nr, q);
	else if (nr < VCON_MAX_PORTS)
		unblock(vs->ports[nr]);	/* new receive buffers */
}

/* Chardev input (loop thread): as much as the port's receiveq holds. */
static size_t port_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct vport *p = opaque;
	struct vser *vs = p->vs;
	unsigned q = rx_queue(p->nr);
	size_t done = 0, k;

	pthread_mutex_lock(&vs->vdev.lock);
	while (done < len && live(vs) && vcon_port_open(&vs->proto, p->nr) &&
	       pop(vs, q) > 0) {
		k = vcon_copy_to_iov(vs->elem.iov + vs->elem.out_num, vs->elem.in_num,
				     buf + done, len - done);
		virtq_push(&vs->vdev.vqs[q], &vs->elem, k);
		done += k;
	}
	if (done)
		virtio_notify(&vs->vdev, q);
	/* Hold the rest in the chardev until a kick or PORT_OPEN. */
	p->blocked = done < len;
	pthread_mutex_unlock(&vs->vdev.lock);
	return done;
}

/* ---- virtio_dev_ops (under vdev->lock) ---- */

static uint64_t vser_get_features(struct virtio_dev *vdev)
{
	return to_vser(vdev)->max_ports > 1 ? BIT(VIRTIO_CONSOLE_F_MULTIPORT) : 0;
}

static void vser_read_config(struct virtio_dev *vdev, uint32_t off, void *data, unsigned len)
{
	memcpy(data, (uint8_t *)&to_vser(vdev)->cfg + off, len);
}

static int vser_activate(struct virtio_dev *vdev)
{
	struct vser *vs = to_vser(vdev);

	vs->proto.multiport = vdev->guest_features & BIT(VIRTIO_CONSOLE_F_MULTIPORT);
	/* Without multiport, port 0 takes input from now on. */
	unblock(vs->ports[0]);
	return 0;
}

static void vser_reset(struct virtio_dev *vdev)
{
	vcon_reset(&to_vser(vdev)->proto);
}

static const struct virtio_dev_ops vser_ops = {
	.device_id = VIRTIO_ID_CONSOLE,
	.get_features = vser_get_features,
	/* cols, rows, max_nr_ports; no emergency write. */
	.config_size = offsetof(struct virtio_console_config, emerg_wr),
	.read_config = vser_read_config,
	.activate = vser_activate,
	.reset = vser_reset,
	.queue_notify = vser_queue_notify,
};

/* ---- virtio-serial-pci, virtio-serial-device ---- */

static int vser_realize(struct device *dev, struct platform *pf, const char *owner)
{
	struct vser *vs = dev->state;
	unsigned nq = vs->max_ports > 1 ? 2 * vs->max_ports + 2 : 2;
	char name[48];

	vcon_init(&vs->proto, vs->max_ports);
	vs->cfg.max_nr_ports = htole32(vs->max_ports);
	if (dev->id)
		snprintf(name, sizeof(name), "virtio-serial %s", dev->id);
	else
		snprintf(name, sizeof(name), "%s", dev->type->name);
	return virtio_dev_init(&vs->vdev, &vser_ops, pf, nq, 128, name);
}

static const struct prop vser_props[] = {
	{ "max_ports", PROP_U32, offsetof(struct vser, max_ports), "31",
	  "ports on the bus (1: no multiport, a console on port 0 only)",
	  .min = 1, .max = VCON_MAX_PORTS },
	{ NULL }
};

static const struct virtio_dev_type vser_type = {
	.snapshot = true,
	/* the config space and the control protocol's state, next to each other */
	.snap_off = offsetof(struct vser, cfg),
	.snap_size = offsetof(struct vser, proto) + sizeof(struct vcon_proto) -
		     offsetof(struct vser, cfg),
	.stem = "virtio-serial",
	.desc = "virtio serial bus for virtconsole and virtserialport",
	.child_bus = "virtio-serial-bus",
	VIRTIO_STATE(struct vser),
	.props = vser_props,
	.realize = vser_realize,
};
VIRTIO_DEV_TYPE(vser_type)

/* ---- virtconsole, virtserialport ---- */

static void vport_unrealize(struct device *dev, struct platform *pf)
{
	struct vport *p = dev->state;
	struct vser *vs = p->vs;

	if (!vs)
		return;
	chardev_detach(p->chr);
	pthread_mutex_lock(&vs->vdev.lock);
	vs->ports[p->nr] = NULL;
	vs->proto.ports[p->nr].present = false;
	pthread_mutex_unlock(&vs->vdev.lock);
	p->vs = NULL;
}

static int vport_realize(struct device *dev, struct platform *pf)
{
	struct vport *p = dev->state;
	bool console = !strcmp(dev->type->name, "virtconsole");
	struct device *parent;
	struct vser *vs;
	char owner[64], why[96];
	int nr, ret;

	snprintf(owner, sizeof(owner), "-device %s", dev->type->name);
	ret = device_find_parent(pf, dev->type, p->bus, owner, &parent);
	if (ret)
		return ret;
	vs = parent->state;
	p->chr = chardev_find(p->chardev);
	if (!p->chr) {
		err_msg("%s: no -chardev with id '%s'", owner, p->chardev);
		return -ENOENT;
	}
	if (!console && !p->name) {
		err_msg("%s: name= is required (the guest's /dev/virtio-ports/NAME)", owner);
		return -EINVAL;
	}
	pthread_mutex_lock(&vs->vdev.lock);
	nr = vcon_pick_nr(&vs->proto, p->nr == UINT32_MAX ? -1 : (int)p->nr, console,
			  p->name, why, sizeof(why));
	pthread_mutex_unlock(&vs->vdev.lock);
	if (nr < 0) {
		err_msg("%s: %s on %s", owner, why, parent->id ? parent->id : parent->type->name);
		return -EINVAL;
	}
	p->nr = nr;
	p->vs = vs;
	/* Attach first: input arriving now is held until the port is open. */
	if (chardev_attach(p->chr, port_input, p)) {
		err_msg("%s: chardev '%s' is in use by another device", owner, p->chardev);
		p->vs = NULL;
		return -EBUSY;
	}
	pthread_mutex_lock(&vs->vdev.lock);
	vs->ports[nr] = p;
	vs->proto.ports[nr].present = true;
	vs->proto.ports[nr].console = console;
	snprintf(vs->proto.ports[nr].name, sizeof(vs->proto.ports[nr].name), "%s",
		 p->name ? p->name : "");
	pthread_mutex_unlock(&vs->vdev.lock);
	return 0;
}

static const struct prop vport_props[] = {
	{ "chardev", PROP_STR, offsetof(struct vport, chardev), NULL,
	  "id of the -chardev for input and output", .required = 1 },
	{ "name", PROP_STR, offsetof(struct vport, name), NULL,
	  "port name: /dev/virtio-ports/NAME in the guest" },
	{ "nr", PROP_U32, offsetof(struct vport, nr), "0xffffffff",
	  "port number (0xffffffff: the first free, 0 first for a virtconsole)" },
	{ "bus", PROP_STR, offsetof(struct vport, bus), NULL,
	  "virtio-serial bus: ID.0 of a virtio-serial device (default: the last one)" },
	{ NULL }
};

/* A port's guest-visible state is its bus's (vcon_proto): an empty section. */
static int vport_save(struct device *dev, struct snapw *w, const char *name)
{
	snapw_add(w, name, NULL, 0);
	return 0;
}

static int vport_load(struct device *dev, const void *data, size_t len)
{
	if (!len)
		return 0;
	err_msg("state file: %s's section has %zu bytes, this ember wants none",
		dev->type->name, len);
	return -EINVAL;
}

static const struct device_type vconsole_type = {
	.name = "virtconsole",
	.bus = "virtio-serial-bus",
	.desc = "virtio console port: the guest's hvc",
	.state_size = sizeof(struct vport),
	.props = vport_props,
	.realize = vport_realize,
	.unrealize = vport_unrealize,
	.save = vport_save,
	.load = vport_load,
};
DEVICE_TYPE(vconsole_type)

static const struct device_type vserialport_type = {
	.name = "virtserialport",
	.bus = "virtio-serial-bus",
	.desc = "virtio serial port: the guest's /dev/virtio-ports/NAME",
	.state_size = sizeof(struct vport),
	.props = vport_props,
	.realize = vport_realize,
	.unrealize = vport_unrealize,
	.save = vport_save,
	.load = vport_load,
};
DEVICE_TYPE(vserialport_type)
