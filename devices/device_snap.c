/* Each device's part of a snapshot: its section's name, saving, loading. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/device.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/snapfile.h"

void device_snap_name(struct platform *pf, struct device *dev, char *name, size_t size)
{
	unsigned n = 0;

	if (dev->id) {
		snprintf(name, size, "%s/%s", dev->type->name, dev->id);
		return;
	}
	for (struct device *d = pf->devices; d && d != dev; d = d->next)
		n += d->type == dev->type && !d->id;
	snprintf(name, size, "%s/%u", dev->type->name, n);
}

int device_save_all(struct platform *pf, struct snapw *w)
{
	char name[SNAP_NAME_MAX + 1];

	for (struct device *d = pf->devices; d; d = d->next) {
		const struct device_type *t = d->type;
		int ret;

		device_snap_name(pf, d, name, sizeof(name));
		if (t->save) {
			ret = t->save(d, w, name);
			if (ret)
				return ret;
		} else if (t->snap_size) {
			snapw_add(w, name, (char *)d->state + t->snap_off, t->snap_size);
		} else {
			err_msg("migrate: device %s (%s) cannot be saved in a snapshot", name,
				t->name);
			return -ENOTSUP;
		}
	}
	return 0;
}

int device_load_all(struct platform *pf, const struct snap *s)
{
	char name[SNAP_NAME_MAX + 1];

	for (struct device *d = pf->devices; d; d = d->next) {
		const struct device_type *t = d->type;
		const struct snap_sect *c;
		int ret = 0;

		device_snap_name(pf, d, name, sizeof(name));
		c = snap_find(s, name);
		if (!c) {
			err_msg("state file: has no %s, which this machine has", name);
			return -EINVAL;
		}
		if (t->load) {
			ret = t->load(d, c->data, c->len);
		} else if (t->snap_size && c->len == t->snap_size) {
			memcpy((char *)d->state + t->snap_off, c->data, c->len);
		} else {
			err_msg("state file: section %s has %u bytes, this ember wants %zu", name,
				c->len, t->snap_size);
			ret = -EINVAL;
		}
		if (ret)
			return ret;
		if (t->post_load)
			t->post_load(d);
	}
	return 0;
}
