/*
 * Every registered device type, realized through the one generic path: for
 * each type the registry holds (device_type_nth), one test creates it on the
 * bus it claims with only its required properties, as -device would
 * (device_create; device_create_internal for the machine's own types), on a
 * fake platform with PCI and virtio-mmio, then destroys it. A type on a bus
 * that a device provides (virtconsole on virtio-serial-bus) gets a device of
 * the first type providing that bus first.
 *
 * Back ends: a raw block node "d0" on a temporary file, a null chardev "c0",
 * and a tap "n0" in the test's own network namespace. Without /dev/net/tun
 * (or CAP_NET_ADMIN) the virtio-net types are skipped, and without
 * /dev/vhost-vsock the vhost-vsock ones: each says why. Types whose peer is
 * outside ember (vfio-pci, vhost-user-*) must be refused with a message
 * naming them; their e2e cases realize them. A type this test
 * cannot give a required property fails, so a new one is not left out.
 */
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "backends/block.h"
#include "backends/chardev.h"
#include "backends/net.h"
#include "lib/log.h"
#include "backends/object.h"
#include "backends/rng.h"
#include "devices/device.h"
#include "devices/pci.h"
#include "devices/platform.h"
#include "kvm/gmem.h"
#include "lib/loop.h"
#include "lib/props.h"
#include "lib/util.h"

#define RAM_SIZE	(2 * MiB)
#define MMIO_BASE	0xd0000000ull
#define MMIO_SLOT	0x200
#define ECAM		0xe0000000ull
#define MMIO32		0xc0000000ull
#define MMIO32_SIZE	0x10000000ull

static struct platform pf;
static struct gmem mem;
static struct loop *loop;
static void *ram;
static char img[] = "/tmp/ember-test-device-types-XXXXXX";
static bool have_tap, have_vsock;

/* Values for the required properties; a type needing another one fails. */
static const struct {
	const char *prop, *value;
} required[] = {
	{ "drive", "d0" },
	{ "netdev", "n0" },
	{ "chardev", "c0" },
	{ "guest-cid", "3" },
	{ "tag", "fs0" },
	{ "serial", "S1" },
};

/* What a type checks in realize rather than in its property table. */
static const struct {
	const char *type, *opts;
} extra[] = {
	{ "virtserialport", "name=port0" },
	{ "pcie-root-port", "id=rp0" },
	{ "pci-bridge", "id=br0" },
};

static void irq_set(void *opaque, unsigned gsi, int level)
{
}

static int msi_send(void *opaque, uint64_t addr, uint32_t data)
{
	return 0;
}

/* "TYPE,prop=value,..." with the required properties of @t. */
static void type_opts(const struct device_type *t, char *buf, size_t size)
{
	size_t len = snprintf(buf, size, "%s", t->name);

	for (const struct prop *p = t->props; p && p->name; p++) {
		const char *v = NULL;

		if (!p->required)
			continue;
		for (unsigned i = 0; i < ARRAY_SIZE(required); i++)
			if (!strcmp(required[i].prop, p->name))
				v = required[i].value;
		if (!v)
			fail_msg("%s: required property '%s' has no value in this test: add one",
				 t->name, p->name);
		len += snprintf(buf + len, size - len, ",%s=%s", p->name, v);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(extra); i++)
		if (!strcmp(extra[i].type, t->name))
			len += snprintf(buf + len, size - len, ",%s", extra[i].opts);
	assert_true(len < size);
}

static bool platform_bus(const char *bus)
{
	return !strcmp(bus, "isa") || !strcmp(bus, "system") || !strcmp(bus, "pci") ||
	       !strcmp(bus, "virtio-mmio");
}

/* Why @t cannot be tried here, or NULL. */
static const char *unavailable(const struct device_type *t)
{
	for (const struct prop *p = t->props; p && p->name; p++)
		if (p->required && !strcmp(p->name, "netdev") && !have_tap)
			return "no /dev/net/tun or CAP_NET_ADMIN for its tap";
	if (!strncmp(t->name, "vhost-vsock", 11) && !have_vsock)
		return "no /dev/vhost-vsock (the vhost_vsock module) on this host";
	return NULL;
}

/*
 * Types whose peer is outside ember: a host PCI function bound to vfio-pci,
 * a vhost-user daemon with shared RAM. The e2e cases (vfio-*, vhost-user-*)
 * realize them; here, with none, each must be refused with a message.
 */
static bool needs_peer(const struct device_type *t)
{
	return !strncmp(t->name, "vhost-user-", 11) || !strcmp(t->name, "vfio-pci");
}

static void create(const struct device_type *t)
{
	char opts[256];

	if (!platform_bus(t->bus)) {
		const struct device_type *parent = NULL;

		for (unsigned i = 0; !parent && device_type_nth(i); i++) {
			const struct device_type *p = device_type_nth(i);

			if (p->child_bus && !strcmp(p->child_bus, t->bus))
				parent = p;
		}
		if (!parent)
			fail_msg("%s: no device type provides its bus '%s'", t->name, t->bus);
		create(parent);
	}
	if (t->internal) {
		for (const struct prop *p = t->props; p && p->name; p++)
			assert_false(p->required);
		if (device_create_internal(&pf, t->name))
			fail_msg("%s (internal): not realized", t->name);
		return;
	}
	type_opts(t, opts, sizeof(opts));
	if (device_create(&pf, opts))
		fail_msg("-device %s: not realized", opts);
}

static void t_realize(void **state)
{
	const struct device_type *t = *state;
	const char *why = unavailable(t);

	if (why) {
		printf("skip: %s: %s\n", t->name, why);
		skip();
	}
	if (needs_peer(t)) {
		char opts[256];

		type_opts(t, opts, sizeof(opts));
		assert_int_not_equal(device_create(&pf, opts), 0);
		assert_null(pf.devices);
		assert_non_null(strstr(log_last(), t->name));	/* why, naming the device */
		printf("refused without its peer: -device %s: %s\n", opts, log_last());
		return;
	}
	create(t);
	assert_non_null(pf.devices);
	device_destroy_all(&pf);
	pf.virtio_mmio_used = 0;
}

static int setup(void **state)
{
	int fd;

	ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(ram);
	memset(ram, 0, RAM_SIZE);
	assert_int_equal(gmem_add(&mem, 0, RAM_SIZE, ram, -1, 0), 0);
	loop = loop_new();
	assert_non_null(loop);
	assert_int_equal(bus_init(&pf.pio, "pio"), 0);
	assert_int_equal(bus_init(&pf.mmio, "mmio"), 0);
	pf.loop = loop;
	pf.mem = &mem;
	pf.ncpus = 1;
	pf.irq_set = irq_set;
	pf.msi_send = msi_send;
	pf.virtio_mmio_base = MMIO_BASE;
	pf.virtio_mmio_size = MMIO_SLOT;
	pf.virtio_mmio_gsi_base = 16;
	pf.virtio_mmio_slots = 4;
	assert_int_equal(pci_host_create(&pf, ECAM, MMIO32, MMIO32_SIZE, 0, 0), 0);

	fd = mkstemp(img);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 * MiB), 0);
	close(fd);
	{
		char o[128];

		snprintf(o, sizeof(o), "driver=raw,node-name=d0,file.driver=file,"
			 "file.filename=%s", img);
		assert_int_equal(object_create(OBJ_BLOCKDEV, o, loop), 0);
	}
	assert_int_equal(object_create(OBJ_CHARDEV, "null,id=c0", loop), 0);
	/* A network namespace of our own: the tap never shows on the host. */
	have_tap = access("/dev/net/tun", R_OK | W_OK) == 0 && unshare(CLONE_NEWNET) == 0 &&
		   object_create(OBJ_NETDEV, "tap,id=n0", NULL) == 0;
	have_vsock = access("/dev/vhost-vsock", R_OK | W_OK) == 0;
	return 0;
}

static int teardown(void **state)
{
	device_destroy_all(&pf);
	object_cleanup_all();
	unlink(img);
	pci_host_destroy(&pf);
	bus_destroy(&pf.mmio);
	bus_destroy(&pf.pio);
	loop_free(loop);
	free(ram);
	return 0;
}

int main(void)
{
	struct CMUnitTest tests[128];
	unsigned n = 0;
	const struct device_type *t;

	for (unsigned i = 0; (t = device_type_nth(i)); i++) {
		assert_true(n < ARRAY_SIZE(tests));
		tests[n++] = (struct CMUnitTest){ .name = t->name, .test_func = t_realize,
						  .initial_state = (void *)t };
	}
	if (n < 2) {
		fprintf(stderr, "only %u device types registered: the test links too little\n", n);
		return 1;
	}
	return _cmocka_run_group_tests("device_types", tests, n, setup, teardown);
}
