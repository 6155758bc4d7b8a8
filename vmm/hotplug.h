/* QMP's device_add and device_del into pcie-root-port slots (hotplug.c). */
#ifndef EMBER_HOTPLUG_H
#define EMBER_HOTPLUG_H

struct platform;
struct keyval;

/*
 * Creates a hot-pluggable device of type @driver with @kv (bus= the id of
 * a root port with a free slot) and tells the guest. One message on error.
 */
int hotplug_add(struct platform *pf, const char *driver, struct keyval *kv);
/*
 * Asks the guest to let go of device @id. -EBUSY while an earlier request
 * is still pending; one message on each error.
 */
int hotplug_del(struct platform *pf, const char *id);
/* PF_EVENT_HOTPLUG: the devices the guest let go of go, with DEVICE_DELETED. */
void hotplug_released(struct platform *pf);

#endif
