/*
 * The glue every virtio device type shares (transport.h): its -pci and
 * -device types, bus= and addr=, the transport's attach and detach around
 * the device's own realize and unrealize, and the mmio slot's DSDT node.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/device.h"
#include "devices/pci.h"
#include "devices/pci_snap.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "lib/props.h"
#include "lib/util.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"

/* One of the two device types made of a virtio_dev_type. */
struct virtio_type {
	struct device_type t;
	const struct virtio_dev_type *vt;
};

static const struct virtio_dev_type *vtype(const struct device *dev)
{
	return container_of(dev->type, struct virtio_type, t)->vt;
}

static struct virtio_dev *vdev_of(const struct device *dev)
{
	return (struct virtio_dev *)((char *)dev->state + vtype(dev)->vdev_offset);
}

static struct virtio_link *link_of(const struct device *dev)
{
	return (struct virtio_link *)((char *)dev->state + vtype(dev)->link_offset);
}

static int virtio_type_realize(struct device *dev, struct platform *pf)
{
	const struct virtio_dev_type *vt = vtype(dev);
	struct virtio_link *l = link_of(dev);
	struct virtio_pci_opts o = { .bus = l->bus };
	char owner[64];
	int ret;

	l->pci = !strcmp(dev->type->bus, "pci");
	snprintf(owner, sizeof(owner), "-device %s", dev->type->name);
	if (l->pci && (ret = pci_parse_addr(l->addr, &o.slot, &o.function, owner)))
		return ret;
	ret = vt->realize(dev, pf, owner);
	if (ret)
		return ret;
	if (l->pci)
		ret = virtio_pci_attach(vdev_of(dev), pf, &o);
	else
		ret = virtio_mmio_attach(vdev_of(dev), pf);
	if (ret) {
		if (vt->unrealize)
			vt->unrealize(dev, pf);
		return ret;
	}
	l->attached = true;
	return 0;
}

static void virtio_type_unrealize(struct device *dev, struct platform *pf)
{
	const struct virtio_dev_type *vt = vtype(dev);
	struct virtio_dev *vdev = vdev_of(dev);
	struct virtio_link *l = link_of(dev);

	if (l->attached) {
		pthread_mutex_lock(&vdev->lock);
		l->dying = true;
		pthread_mutex_unlock(&vdev->lock);
		if (vt->stop)
			vt->stop(dev, pf);
		if (l->pci)
			virtio_pci_detach(vdev);
		else
			virtio_mmio_detach(vdev);
		l->attached = false;
	}
	if (vt->unrealize)
		vt->unrealize(dev, pf);
}

static void virtio_type_reset(struct device *dev, struct platform *pf)
{
	const struct virtio_dev_type *vt = vtype(dev);
	struct virtio_dev *vdev = vdev_of(dev);

	if (!link_of(dev)->attached)
		return;
	if (vdev->tops && vdev->tops->reset)
		vdev->tops->reset(vdev);
	if (vt->quiesce)
		vt->quiesce(dev);
}

/* virtio's state, then on virtio-pci the function's config space and MSI-X. */
static int virtio_type_save(struct device *dev, struct snapw *w, const char *name)
{
	const struct virtio_dev_type *vt = vtype(dev);
	struct virtio_dev *vdev = vdev_of(dev);
	struct virtq_held held[VIRTIO_MAX_QUEUES];

	if (!vt->snapshot || (vt->can_snapshot && !vt->can_snapshot(dev))) {
		err_msg("migrate: device %s (%s) cannot be saved in a snapshot", name,
			dev->type->name);
		return -ENOTSUP;
	}
	/* No request may be in flight in the state taken. */
	if (vt->quiesce)
		vt->quiesce(dev);
	snapw_begin(w, name);
	pthread_mutex_lock(&vdev->lock);
	for (unsigned q = 0; q < vdev->num_queues; q++)
		held[q] = vt->held ? vt->held(dev, q) : (struct virtq_held){ 0 };
	virtio_save(vdev, w, held);
	snapw_put(w, (char *)dev->state + vt->snap_off, vt->snap_size);
	pthread_mutex_unlock(&vdev->lock);
	if (link_of(dev)->pci)
		pci_dev_save(virtio_pci_dev(vdev), w);
	snapw_end(w);
	return 0;
}

static int virtio_type_load(struct device *dev, const void *data, size_t len)
{
	const struct virtio_dev_type *vt = vtype(dev);
	struct virtio_dev *vdev = vdev_of(dev);
	size_t vlen = virtio_snap_size(), own = vlen + vt->snap_size;
	const char *p = data;
	int ret;

	if (len < own || (!link_of(dev)->pci && len != own)) {
		err_msg("state file: %s's section has %zu bytes, this ember wants %s%zu",
			vdev->name, len, link_of(dev)->pci ? "more than " : "", own);
		return -EINVAL;
	}
	/* The function decodes and routes its vectors before the queues start. */
	if (link_of(dev)->pci) {
		ret = pci_dev_load(virtio_pci_dev(vdev), p + own, len - own);
		if (ret)
			return ret;
	}
	ret = virtio_load(vdev, p, vlen);
	if (ret)
		return ret;
	pthread_mutex_lock(&vdev->lock);
	memcpy((char *)dev->state + vt->snap_off, p + vlen, vt->snap_size);
	pthread_mutex_unlock(&vdev->lock);
	if (vt->post_load)
		vt->post_load(dev);
	return 0;
}

static void virtio_type_aml(struct device *dev, struct aml *dsdt)
{
	virtio_mmio_aml(vdev_of(dev), dsdt);
}

/* The device's properties, then bus= and addr=. */
static struct prop *pci_props(const struct virtio_dev_type *vt)
{
	size_t n = 0;
	struct prop *p;

	while (vt->props[n].name)
		n++;
	p = calloc(n + 3, sizeof(*p));
	if (!p)
		return NULL;
	memcpy(p, vt->props, n * sizeof(*p));
	p[n] = (struct prop){ "bus", PROP_STR, vt->link_offset + offsetof(struct virtio_link, bus),
			      NULL, "PCI bus (pci.0)" };
	p[n + 1] = (struct prop){ "addr", PROP_STR,
				  vt->link_offset + offsetof(struct virtio_link, addr), NULL,
				  "PCI slot[.function], hex (default: first free slot)" };
	return p;
}

bool virtio_dev_is(const struct device *dev, const struct virtio_dev_type *vt)
{
	return dev->type->realize == virtio_type_realize && vtype(dev) == vt;
}

void virtio_dev_type_register(const struct virtio_dev_type *vt)
{
	struct virtio_type *ty = calloc(2, sizeof(*ty));
	struct prop *props = pci_props(vt);
	int bad = !ty || !props;

	for (int i = 0; i < 2 && !bad; i++) {
		struct device_type *t = &ty[i].t;
		bool pci = i;

		ty[i].vt = vt;
		bad |= asprintf((char **)&t->name, "%s%s", vt->stem, pci ? "-pci" : "-device") < 0;
		bad |= asprintf((char **)&t->desc, "%s%s", vt->desc,
				pci ? " (PCI)" : " (virtio-mmio)") < 0;
		t->bus = pci ? "pci" : "virtio-mmio";
		t->child_bus = vt->child_bus;
		t->state_size = vt->state_size;
		t->props = pci ? props : vt->props;
		t->realize = virtio_type_realize;
		t->unrealize = virtio_type_unrealize;
		t->reset = virtio_type_reset;
		t->save = virtio_type_save;
		t->load = virtio_type_load;
		t->aml = pci ? NULL : virtio_type_aml;
		t->hotpluggable = pci && vt->hotplug;
	}
	if (bad) {
		err_msg("device type '%s': out of memory, left out", vt->stem);
		return;
	}
	device_type_register(&ty[0].t);
	device_type_register(&ty[1].t);
}
