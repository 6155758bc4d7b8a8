/* Device type registry and -device; see device.h. */
#include <stdlib.h>
#include <string.h>

#include "devices/device.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/util.h"

/* Filled by constructors before main(); read-only afterwards. */
static const struct device_type *types[64];
static unsigned ntypes;

void device_type_register(const struct device_type *t)
{
	if (device_type_find(t->name)) {
		err_msg("device type '%s' registered twice", t->name);
		return;
	}
	if (ntypes == ARRAY_SIZE(types)) {
		err_msg("too many device types, '%s' left out", t->name);
		return;
	}
	types[ntypes++] = t;
}

const struct device_type *device_type_find(const char *name)
{
	for (unsigned i = 0; i < ntypes; i++)
		if (!strcmp(types[i]->name, name))
			return types[i];
	return NULL;
}

const struct device_type *device_type_nth(unsigned i)
{
	return i < ntypes ? types[i] : NULL;
}

static int by_bus_then_name(const void *a, const void *b)
{
	const struct device_type *x = *(const struct device_type *const *)a;
	const struct device_type *y = *(const struct device_type *const *)b;
	int c = strcmp(x->bus, y->bus);

	return c ? c : strcmp(x->name, y->name);
}

void device_types_help(FILE *f)
{
	const struct device_type *sorted[ARRAY_SIZE(types)];
	unsigned n = 0;

	for (unsigned i = 0; i < ntypes; i++)
		if (!types[i]->internal)
			sorted[n++] = types[i];
	qsort(sorted, n, sizeof(sorted[0]), by_bus_then_name);
	fprintf(f, "Devices:\n");
	for (unsigned i = 0; i < n; i++) {
		fprintf(f, "name \"%s\", bus %s", sorted[i]->name, sorted[i]->bus);
		if (sorted[i]->hotpluggable)
			fprintf(f, ", hotpluggable");
		if (sorted[i]->desc)
			fprintf(f, ", desc \"%s\"", sorted[i]->desc);
		fputc('\n', f);
	}
}

static int unknown_type(const char *name)
{
	err_msg("-device %s: unknown device type (try -device help)", name);
	return -EINVAL;
}

struct device *device_find(struct platform *pf, const char *id)
{
	for (struct device *d = pf->devices; d; d = d->next)
		if (d->id && !strcmp(d->id, id))
			return d;
	return NULL;
}

static void device_free(struct device *dev)
{
	props_free(dev->type->props, dev->state);
	free(dev->state);
	free(dev->id);
	free(dev);
}

int device_create_kv(struct platform *pf, const char *type, struct keyval *kv,
		     struct device **out)
{
	const struct device_type *t = device_type_find(type);
	const char *id = keyval_get(kv, "id");
	struct device *dev, **tail;
	char owner[128];
	int ret;

	if (!t)
		return unknown_type(type);
	snprintf(owner, sizeof(owner), "-device %s", type);
	if (id && (ret = id_check(id, owner)))
		return ret;
	if (id && device_find(pf, id)) {
		err_msg("%s: duplicate id '%s'", owner, id);
		return -EINVAL;
	}
	dev = calloc(1, sizeof(*dev));
	if (dev) {
		dev->type = t;
		dev->state = calloc(1, t->state_size ? t->state_size : 1);
		dev->id = id ? strdup(id) : NULL;
	}
	if (!dev || !dev->state || (id && !dev->id)) {
		err_msg("%s: out of memory", owner);
		ret = -ENOMEM;
		goto fail;
	}
	ret = props_set_defaults(t->props, dev->state, owner);
	if (!ret)
		ret = props_apply(t->props, dev->state, kv, owner);
	if (!ret && t->realize)
		ret = t->realize(dev, pf);
	if (ret)
		goto fail;
	for (tail = &pf->devices; *tail; tail = &(*tail)->next)
		;
	*tail = dev;
	if (out)
		*out = dev;
	return 0;
fail:
	if (dev)
		device_free(dev);
	return ret;
}

static void type_help(const struct device_type *t)
{
	printf("%s options:\n", t->name);
	printf("  id=<str> - name to refer to this device\n");
	props_help(t->props, stdout);
}

/*
 * The type a -device option string names, parsed into @kv: 0 with *@out set,
 * 1 when "help" or "NAME,help" was answered, or -EINVAL with one message.
 */
static int read_type(const char *opts, struct keyval *kv, const struct device_type **out)
{
	int ret = keyval_parse(opts, "driver", "-device", kv);

	if (ret)
		return ret;
	if (!kv->implied) {
		if (kv->help) {
			device_types_help(stdout);
			return 1;
		}
		err_msg("-device: no device type given (try -device help)");
		return -EINVAL;
	}
	/* The machine's own devices cannot be added by hand. */
	*out = device_type_find(kv->implied);
	if (!*out || (*out)->internal)
		return unknown_type(kv->implied);
	if (kv->help) {
		type_help(*out);
		return 1;
	}
	return 0;
}

/* The id's form and the properties, applied to a scratch state: no device is made. */
static int check_props(const struct device_type *t, struct keyval *kv)
{
	const char *id = keyval_get(kv, "id");
	void *state = calloc(1, t->state_size ? t->state_size : 1);
	char owner[128];
	int ret;

	snprintf(owner, sizeof(owner), "-device %s", t->name);
	if (!state) {
		err_msg("%s: out of memory", owner);
		return -ENOMEM;
	}
	ret = id ? id_check(id, owner) : 0;
	if (!ret)
		ret = props_set_defaults(t->props, state, owner);
	if (!ret)
		ret = props_apply(t->props, state, kv, owner);
	if (!ret && t->check)
		ret = t->check(state);
	props_free(t->props, state);
	free(state);
	return ret;
}

int device_check(const char *opts)
{
	const struct device_type *t;
	struct keyval kv;
	int ret = read_type(opts, &kv, &t);

	if (!ret)
		ret = check_props(t, &kv);
	keyval_free(&kv);
	return ret;
}

int device_create(struct platform *pf, const char *opts)
{
	const struct device_type *t;
	struct keyval kv;
	int ret = read_type(opts, &kv, &t);

	if (!ret)
		ret = device_create_kv(pf, t->name, &kv, NULL);
	keyval_free(&kv);
	return ret;
}

void device_destroy_all(struct platform *pf)
{
	struct device *rev = NULL, *d, *next;

	/* Reverse the list in place: unrealize newest first. */
	for (d = pf->devices; d; d = next) {
		next = d->next;
		d->next = rev;
		rev = d;
	}
	pf->devices = NULL;
	for (d = rev; d; d = next) {
		next = d->next;
		if (d->type->unrealize)
			d->type->unrealize(d, pf);
		device_free(d);
	}
}

void device_unplug(struct platform *pf, struct device *dev)
{
	struct device **pp = &pf->devices;

	while (*pp && *pp != dev)
		pp = &(*pp)->next;
	if (*pp)
		*pp = dev->next;
	if (dev->type->reset)
		dev->type->reset(dev, pf);
	if (dev->type->unrealize)
		dev->type->unrealize(dev, pf);
	device_free(dev);
}

void device_reset_all(struct platform *pf)
{
	for (struct device *d = pf->devices; d; d = d->next)
		if (d->type->reset)
			d->type->reset(d, pf);
}

int device_create_internal(struct platform *pf, const char *type)
{
	struct keyval kv = { 0 };

	return device_create_kv(pf, type, &kv, NULL);
}

/* "vser0.0" -> the device with id vser0; QEMU names a device's first bus so. */
static struct device *bus_owner(struct platform *pf, const char *bus)
{
	size_t n = strlen(bus);
	struct device *d;
	char *id;

	if (n < 3 || strcmp(bus + n - 2, ".0"))
		return NULL;
	id = strndup(bus, n - 2);
	d = id ? device_find(pf, id) : NULL;
	free(id);
	return d;
}

/* "virtio-serial-pci or virtio-serial-device": the types that give a bus. */
static void providers(const char *bus, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < ntypes && len < size; i++)
		if (types[i]->child_bus && !strcmp(types[i]->child_bus, bus))
			len += snprintf(buf + len, size - len, "%s%s", len ? " or " : "",
					types[i]->name);
}

int device_find_parent(struct platform *pf, const struct device_type *t, const char *bus,
		       const char *owner, struct device **out)
{
	struct device *found = NULL;
	char names[128];

	if (bus) {
		found = bus_owner(pf, bus);
		if (!found || !found->type->child_bus) {
			err_msg("%s: bus '%s' not found (a %s is named ID.0 after its device's id)",
				owner, bus, t->bus);
			return -EINVAL;
		}
		if (strcmp(found->type->child_bus, t->bus)) {
			err_msg("%s: bus '%s' is a %s, not a %s", owner, bus,
				found->type->child_bus, t->bus);
			return -EINVAL;
		}
	} else {
		for (struct device *d = pf->devices; d; d = d->next)
			if (d->type->child_bus && !strcmp(d->type->child_bus, t->bus))
				found = d;
		if (!found) {
			providers(t->bus, names, sizeof(names));
			err_msg("%s: no %s to plug into: add -device %s before it", owner,
				t->bus, names[0] ? names : "(none known)");
			return -ENOENT;
		}
	}
	*out = found;
	return 0;
}
