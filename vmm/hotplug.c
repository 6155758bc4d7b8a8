/*
 * device_add and device_del as QEMU has them on a PCIe machine: a device
 * goes into the free slot of a pcie-root-port (bus=) and the guest is told
 * through the slot (devices/pci_ports.c); device_del presses the slot's
 * attention button, and the device is taken away, with DEVICE_DELETED,
 * only once the guest has let go of it and powered the slot off. Loop
 * thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "devices/device.h"
#include "devices/pci_ports.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/props.h"
#include "vmm/hotplug.h"
#include "vmm/qmp.h"

/* The bus= a device was given (NULL: none, or no such property). */
static const char *bus_of(const struct device *dev)
{
	for (const struct prop *p = dev->type->props; p && p->name; p++)
		if (!strcmp(p->name, "bus") && p->type == PROP_STR)
			return *(char **)((char *)dev->state + p->offset);
	return NULL;
}

int hotplug_add(struct platform *pf, const char *driver, struct keyval *kv)
{
	const struct device_type *t = device_type_find(driver);
	const char *bus = keyval_get(kv, "bus");
	char owner[128];
	struct device *dev;
	int ret;

	if (!t || t->internal) {
		err_msg("'%s' is not a valid device model name", driver);
		return -EINVAL;
	}
	snprintf(owner, sizeof(owner), "device_add %s", driver);
	if (!t->hotpluggable) {
		err_msg("%s: this device cannot be hot-plugged (device_add takes "
			"virtio-blk-pci and virtio-net-pci)", owner);
		return -EINVAL;
	}
	if (!bus) {
		err_msg("%s: give bus= (the id of a pcie-root-port with a free slot)", owner);
		return -EINVAL;
	}
	ret = pcie_port_check(pf, bus, true, owner);
	if (!ret)
		ret = device_create_kv(pf, driver, kv, &dev);
	if (!ret)
		pcie_port_plugged(pf, bus);
	return ret;
}

int hotplug_del(struct platform *pf, const char *id)
{
	struct device *dev = device_find(pf, id);
	char owner[128];
	const char *bus;

	if (!dev) {
		err_msg("Device '%s' not found", id);
		return -ENOENT;
	}
	snprintf(owner, sizeof(owner), "device_del %s", id);
	if (!dev->type->hotpluggable) {
		err_msg("%s: a %s cannot be unplugged (virtio-blk-pci and virtio-net-pci "
			"in a pcie-root-port slot can)", owner, dev->type->name);
		return -EINVAL;
	}
	bus = bus_of(dev);
	if (pcie_port_check(pf, bus, false, owner))
		return -EINVAL;
	return pcie_port_unplug_request(pf, bus, owner);
}

void hotplug_released(struct platform *pf)
{
	const char *port;

	while ((port = pcie_port_released(pf))) {
		struct device *dev = NULL, *d;
		struct json_object *data;
		char *id, path[160];

		for (d = pf->devices; d; d = d->next) {
			const char *bus = bus_of(d);

			if (d->type->hotpluggable && bus && !strcmp(bus, port))
				dev = d;
		}
		if (!dev)
			continue;
		id = dev->id ? strdup(dev->id) : NULL;
		device_unplug(pf, dev);
		pcie_port_removed(pf, port);
		data = json_object_new_object();
		if (id)
			json_object_object_add(data, "device", json_object_new_string(id));
		snprintf(path, sizeof(path), "/machine/peripheral/%s", id ? id : "?");
		json_object_object_add(data, "path", json_object_new_string(path));
		info_msg("device %s: the guest let go of it; deleted", id ? id : "?");
		qmp_event("DEVICE_DELETED", data);
		free(id);
	}
}
