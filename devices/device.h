/*
 * Device types and instances. A type is a name, the bus it plugs into, a
 * property table and a few ops; `-device help` and `-device NAME,help` print
 * from the same tables that parse `-device NAME,key=value`.
 *
 * Guest-visible state of a device lives in its own state struct (size
 * `state_size`, properties at the offsets in `props`) so that it can later be
 * saved and restored as one block.
 */
#ifndef EMBER_DEVICE_H
#define EMBER_DEVICE_H

#include <stddef.h>
#include <stdio.h>

#include "lib/props.h"

struct platform;
struct aml;
struct snapw;
struct snap;

struct device;

struct device_type {
	const char *name;
	const char *bus;	/* "isa", "system", "pci", "virtio-mmio", "virtio-serial-bus" */
	/* The bus it provides to devices plugged into it, named "ID.0" (QEMU's way). */
	const char *child_bus;
	const char *desc;
	size_t state_size;
	const struct prop *props;
	/* Creates the device's back-end links and registers its ranges. */
	int (*realize)(struct device *dev, struct platform *pf);
	void (*unrealize)(struct device *dev, struct platform *pf);
	/*
	 * Machine reset (optional): the guest-visible state back to what
	 * realize left, back ends kept. On the loop thread, every vCPU
	 * parked; in-flight back-end I/O must be finished or dropped before
	 * it returns, since guest RAM is written next.
	 */
	void (*reset)(struct device *dev, struct platform *pf);
	/* Adds the device's objects to the DSDT (optional). */
	void (*aml)(struct device *dev, struct aml *dsdt);
	/* Devices created by the machine itself, not by -device (not listed). */
	int internal;
	/* device_add and device_del may plug it into a pcie-root-port slot. */
	int hotpluggable;
	/*
	 * Optional: what device_check() can tell with the properties applied
	 * and no machine yet (a host device that is not there); one message.
	 */
	int (*check)(void *state);
	/*
	 * Snapshot (vmm/snapshot.c). A type with neither makes migrate fail,
	 * naming the device. snap_size: the plain bytes at snap_off of the
	 * state struct are the guest-visible state, copied as they are; or
	 * save appends its own section to @w, and load takes it back after
	 * realize, before the vCPUs run (one message on failure). post_load,
	 * optional, runs after either (an interrupt line, a timer). Loop
	 * thread, vCPUs parked.
	 */
	size_t snap_off, snap_size;
	int (*save)(struct device *dev, struct snapw *w, const char *name);
	int (*load)(struct device *dev, const void *data, size_t len);
	void (*post_load)(struct device *dev);
};

struct device {
	const struct device_type *type;
	char *id;		/* user's id=, or NULL */
	void *state;		/* state_size bytes, properties applied */
	struct device *next;
};

void device_type_register(const struct device_type *t);
#define DEVICE_TYPE(var)                                               \
	static void __attribute__((constructor)) register_##var(void) \
	{                                                              \
		device_type_register(&var);                            \
	}

const struct device_type *device_type_find(const char *name);
/* The @i-th type registered, NULL past the last (for tests that walk them all). */
const struct device_type *device_type_nth(unsigned i);
/*
 * `-device help`: a header line, then one device per line grouped by bus:
 * its name, the kind of bus it plugs into, "hotpluggable" for the ones
 * device_add takes, its description.
 */
void device_types_help(FILE *f);

/*
 * Parses a -device option string, creates and realizes the device, and links
 * it into pf->devices. Errors: unknown type, unknown/bad property, duplicate
 * or malformed id (one message, -EINVAL). "NAME,help" prints the properties
 * and returns 1; "help" prints the list and returns 1.
 */
int device_create(struct platform *pf, const char *opts);
/*
 * What device_create does before it creates anything, with no machine yet:
 * answers "help" and "NAME,help" (1), or checks that the type is one users
 * may add, the id's form and the properties (0; else -EINVAL, one message,
 * the one device_create would give). The command line asks first, so that
 * option errors come before /dev/kvm is opened. What needs the machine
 * (back ends, buses, duplicate ids, free slots) is device_create's.
 */
int device_check(const char *opts);
/* Creates a device of a named type with already-parsed options. */
int device_create_kv(struct platform *pf, const char *type, struct keyval *kv,
		     struct device **out);
/* Creates one of the machine's own devices (no options, no id). */
int device_create_internal(struct platform *pf, const char *type);
struct device *device_find(struct platform *pf, const char *id);
void device_destroy_all(struct platform *pf);
/*
 * Hot-unplug: takes @dev out of pf->devices, runs its reset op (back-end
 * I/O in flight finishes or is dropped), unrealizes and frees it.
 */
void device_unplug(struct platform *pf, struct device *dev);
/*
 * Machine reset: every device's reset op, in creation order (the PCI
 * host's config space is pci_host_reset's, after this). Loop thread,
 * vCPUs parked.
 */
void device_reset_all(struct platform *pf);
/*
 * Snapshot: each device's section name (TYPE/ID, or TYPE/N for the Nth of
 * a type without an id) into @name; its state into @w (-ENOTSUP with one
 * message naming a device that cannot be saved); every device's state
 * back from @s, whose sections snap_match already checked.
 */
void device_snap_name(struct platform *pf, struct device *dev, char *name, size_t size);
int device_save_all(struct platform *pf, struct snapw *w);
int device_load_all(struct platform *pf, const struct snap *s);
/*
 * The device that @t plugs into: the one whose bus @bus names ("ID.0"), or
 * with @bus NULL the last one created that provides t->bus. Errors (one
 * message naming @owner): none there (-ENOENT), no such bus (-EINVAL).
 */
int device_find_parent(struct platform *pf, const struct device_type *t, const char *bus,
		       const char *owner, struct device **out);

#endif
