/* device: registry, -device parsing, creation and teardown. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/device.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/snapfile.h"

struct fake_state {
	uint32_t iobase;
	char *name;
	bool fail;
};

/* What realize/unrealize saw, in order. */
static char trace[256];

static void note(const char *what, struct device *dev)
{
	struct fake_state *s = dev->state;

	snprintf(trace + strlen(trace), sizeof(trace) - strlen(trace), "%s:%s:%x ",
		 what, dev->id ? dev->id : "-", s->iobase);
}

static int fake_realize(struct device *dev, struct platform *pf)
{
	struct fake_state *s = dev->state;

	if (s->fail)
		return -EIO;
	note("R", dev);
	return 0;
}

static void fake_unrealize(struct device *dev, struct platform *pf)
{
	note("U", dev);
}

static const struct prop fake_props[] = {
	{ "iobase", PROP_U32, offsetof(struct fake_state, iobase), "0x3f8", "I/O base",
	  .max = 0xffff },
	{ "name", PROP_STR, offsetof(struct fake_state, name), "n", "a name" },
	{ "fail", PROP_BOOL, offsetof(struct fake_state, fail), "off", "fail realize" },
	{ NULL }
};

static const struct device_type fake_isa = {
	.name = "fake-isa",
	.bus = "isa",
	.desc = "a fake ISA device",
	.state_size = sizeof(struct fake_state),
	.props = fake_props,
	.realize = fake_realize,
	.unrealize = fake_unrealize,
};
DEVICE_TYPE(fake_isa)

static const struct device_type fake_sys = {
	.name = "fake-sys",
	.bus = "system",
	.desc = "a fake system device",
	.state_size = sizeof(struct fake_state),
	.props = fake_props,
	.realize = fake_realize,
	.unrealize = fake_unrealize,
};
DEVICE_TYPE(fake_sys)

/* No props, no ops, no state: must still work. */
static const struct device_type fake_bare = {
	.name = "a-bare",
	.bus = "isa",
};
DEVICE_TYPE(fake_bare)

static const struct device_type fake_internal = {
	.name = "fake-internal",
	.bus = "system",
	.state_size = sizeof(struct fake_state),
	.props = fake_props,
	.realize = fake_realize,
	.unrealize = fake_unrealize,
	.internal = 1,
};
DEVICE_TYPE(fake_internal)

/* A device with a bus of its own and one that plugs into it (bus=ID.0). */
struct fake_leaf {
	char *bus;
	struct device *parent;
};

static const struct device_type fake_hub = {
	.name = "fake-hub",
	.bus = "isa",
	.child_bus = "fake-bus",
	.hotpluggable = 1,
};
DEVICE_TYPE(fake_hub)

static const struct device_type fake_hub2 = {
	.name = "fake-hub2",
	.bus = "isa",
	.child_bus = "fake-bus",
};
DEVICE_TYPE(fake_hub2)

static int leaf_realize(struct device *dev, struct platform *pf)
{
	struct fake_leaf *l = dev->state;

	return device_find_parent(pf, dev->type, l->bus, "-device fake-leaf", &l->parent);
}

static const struct prop leaf_props[] = {
	{ "bus", PROP_STR, offsetof(struct fake_leaf, bus), NULL, "bus" },
	{ NULL }
};

static const struct device_type fake_leaf = {
	.name = "fake-leaf",
	.bus = "fake-bus",
	.state_size = sizeof(struct fake_leaf),
	.props = leaf_props,
	.realize = leaf_realize,
};
DEVICE_TYPE(fake_leaf)

static struct platform pf;

static int setup(void **state)
{
	log_set_quiet(1);
	return 0;
}

static int reset(void **state)
{
	device_destroy_all(&pf);
	trace[0] = 0;
	return 0;
}

static unsigned count(void)
{
	unsigned n = 0;

	for (struct device *d = pf.devices; d; d = d->next)
		n++;
	return n;
}

static void t_find_type(void **state)
{
	assert_ptr_equal(device_type_find("fake-isa"), &fake_isa);
	assert_ptr_equal(device_type_find("fake-internal"), &fake_internal);
	assert_null(device_type_find("fake"));
	/* registering twice is refused */
	device_type_register(&fake_isa);
	assert_string_equal(log_last(), "device type 'fake-isa' registered twice");
}

/* Section names; a type without save ops makes the snapshot fail, naming it. */
static void t_snapshot_names(void **state)
{
	char name[64];
	struct snapw w;

	assert_int_equal(device_create(&pf, "fake-isa,iobase=0x2f8"), 0);
	assert_int_equal(device_create(&pf, "fake-sys"), 0);
	assert_int_equal(device_create(&pf, "fake-isa,id=com1"), 0);
	assert_int_equal(device_create(&pf, "fake-isa,iobase=0x3e8"), 0);
	device_snap_name(&pf, pf.devices, name, sizeof(name));
	assert_string_equal(name, "fake-isa/0");
	device_snap_name(&pf, pf.devices->next, name, sizeof(name));
	assert_string_equal(name, "fake-sys/0");
	device_snap_name(&pf, pf.devices->next->next, name, sizeof(name));
	assert_string_equal(name, "fake-isa/com1");
	device_snap_name(&pf, pf.devices->next->next->next, name, sizeof(name));
	assert_string_equal(name, "fake-isa/1");
	snapw_init(&w, "microvm", 0);
	assert_int_equal(device_save_all(&pf, &w), -ENOTSUP);
	assert_string_equal(log_last(),
			    "migrate: device fake-isa/0 (fake-isa) cannot be saved in a snapshot");
	snapw_free(&w);
}

static void t_create(void **state)
{
	struct device *d;
	struct fake_state *s;

	assert_int_equal(device_create(&pf, "fake-isa,id=com1,iobase=0x2f8,name=x"), 0);
	assert_int_equal(device_create(&pf, "fake-sys"), 0);
	assert_int_equal(device_create(&pf, "driver=fake-isa,id=com2"), 0);
	assert_int_equal(count(), 3);

	d = device_find(&pf, "com1");
	assert_non_null(d);
	assert_ptr_equal(d, pf.devices);	/* creation order */
	assert_ptr_equal(d->type, &fake_isa);
	assert_string_equal(d->id, "com1");
	s = d->state;
	assert_int_equal(s->iobase, 0x2f8);
	assert_string_equal(s->name, "x");
	assert_null(d->next->id);
	s = d->next->state;
	assert_int_equal(s->iobase, 0x3f8);	/* default */
	assert_string_equal(s->name, "n");
	assert_ptr_equal(device_find(&pf, "com2"), d->next->next);
	assert_null(device_find(&pf, "com3"));

	device_destroy_all(&pf);
	assert_null(pf.devices);
	assert_string_equal(trace, "R:com1:2f8 R:-:3f8 R:com2:3f8 "
			    "U:com2:3f8 U:-:3f8 U:com1:2f8 ");
}

static void t_create_kv(void **state)
{
	struct keyval kv;
	struct device *d = NULL;

	/* the machine's own devices: created from parsed options */
	assert_int_equal(keyval_parse("id=rtc0,iobase=0x70", NULL, "-x", &kv), 0);
	assert_int_equal(device_create_kv(&pf, "fake-internal", &kv, &d), 0);
	keyval_free(&kv);
	assert_non_null(d);
	assert_ptr_equal(d, device_find(&pf, "rtc0"));
	assert_int_equal(((struct fake_state *)d->state)->iobase, 0x70);

	assert_int_equal(keyval_parse("id=z", NULL, "-x", &kv), 0);
	assert_int_equal(device_create_kv(&pf, "nope", &kv, &d), -EINVAL);
	assert_string_equal(log_last(), "-device nope: unknown device type (try -device help)");
	keyval_free(&kv);

	assert_int_equal(device_create(&pf, "a-bare,id=b"), 0);
	assert_non_null(device_find(&pf, "b"));
	assert_int_equal(device_create(&pf, "a-bare,x=1"), -EINVAL);
	assert_string_equal(log_last(), "-device a-bare: unknown property 'x'");
}

static void t_errors(void **state)
{
	assert_int_equal(device_create(&pf, "fake-isa,id=a"), 0);

	assert_int_equal(device_create(&pf, "fake-sys,id=a"), -EINVAL);
	assert_string_equal(log_last(), "-device fake-sys: duplicate id 'a'");

	assert_int_equal(device_create(&pf, "nosuch,id=b"), -EINVAL);
	assert_string_equal(log_last(), "-device nosuch: unknown device type (try -device help)");

	assert_int_equal(device_create(&pf, "fake-internal"), -EINVAL);
	assert_string_equal(log_last(),
			    "-device fake-internal: unknown device type (try -device help)");

	assert_int_equal(device_create(&pf, "fake-isa,foo=1"), -EINVAL);
	assert_string_equal(log_last(), "-device fake-isa: unknown property 'foo'");

	assert_int_equal(device_create(&pf, "fake-isa,iobase=0x10000"), -EINVAL);
	assert_string_equal(log_last(), "-device fake-isa: property 'iobase': "
			    "'0x10000' is out of range (0x0..0xffff)");

	assert_int_equal(device_create(&pf, "fake-isa,id=1x"), -EINVAL);
	assert_string_equal(log_last(), "-device fake-isa: invalid id '1x' "
			    "(use letters, digits, '-', '.', '_', starting with a letter)");
	assert_int_equal(device_create(&pf, "fake-isa,id="), -EINVAL);
	assert_int_equal(device_create(&pf, "fake-isa,id=a b"), -EINVAL);

	assert_int_equal(device_create(&pf, "id=x"), -EINVAL);
	assert_string_equal(log_last(), "-device: no device type given (try -device help)");

	assert_int_equal(device_create(&pf, "fake-isa,"), -EINVAL);
	assert_string_equal(log_last(), "-device: trailing ',' in 'fake-isa,'");

	assert_int_equal(count(), 1);
	assert_string_equal(trace, "R:a:3f8 ");
}

static void t_realize_failure(void **state)
{
	assert_int_equal(device_create(&pf, "fake-isa,id=a,name=leak,fail=on"), -EIO);
	assert_null(pf.devices);
	assert_string_equal(trace, "");
	/* the id was not taken */
	assert_int_equal(device_create(&pf, "fake-isa,id=a"), 0);
	assert_int_equal(count(), 1);
}

static void t_id_check(void **state)
{
	assert_int_equal(id_check("a", "-x"), 0);
	assert_int_equal(id_check("Serial_0.a-b", "-x"), 0);
	assert_int_equal(id_check("", "-x"), -EINVAL);
	assert_string_equal(log_last(), "-x: invalid id '' "
			    "(use letters, digits, '-', '.', '_', starting with a letter)");
	assert_int_equal(id_check("_a", "-x"), -EINVAL);
	assert_int_equal(id_check("a/b", "-x"), -EINVAL);
	assert_int_equal(id_check("a,b", "-x"), -EINVAL);
}

static void t_types_help(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	device_types_help(f);
	fclose(f);
	/* grouped by bus, then by name; internal types are not listed */
	assert_string_equal(buf,
		"Devices:\n"
		"name \"fake-leaf\", bus fake-bus\n"
		"name \"a-bare\", bus isa\n"
		"name \"fake-hub\", bus isa, hotpluggable\n"
		"name \"fake-hub2\", bus isa\n"
		"name \"fake-isa\", bus isa, desc \"a fake ISA device\"\n"
		"name \"fake-sys\", bus system, desc \"a fake system device\"\n");
	free(buf);
}

/* Help goes to stdout; capture it through a pipe. @check: device_check. */
static char *capture(const char *opts, bool check, int *ret)
{
	static char out[1024];
	int p[2], saved = dup(1);
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	dup2(p[1], 1);
	*ret = check ? device_check(opts) : device_create(&pf, opts);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	close(p[0]);
	out[n > 0 ? n : 0] = 0;
	return out;
}

static void t_help_option(void **state)
{
	int ret;
	char *out;

	out = capture("help", false, &ret);
	assert_int_equal(ret, 1);
	assert_non_null(strstr(out, "Devices:\n"));
	assert_non_null(strstr(out, "name \"fake-sys\", bus system"));
	assert_null(strstr(out, "fake-internal"));

	out = capture("fake-isa,help", false, &ret);
	assert_int_equal(ret, 1);
	assert_string_equal(out,
		"fake-isa options:\n"
		"  id=<str> - name to refer to this device\n"
		"  iobase=<uint32> - I/O base (default: 0x3f8)\n"
		"  name=<str> - a name (default: n)\n"
		"  fail=<bool> - fail realize (default: off)\n");
	assert_null(pf.devices);

	out = capture("?", false, &ret);
	assert_int_equal(ret, 1);
	out = capture("nosuch,help", false, &ret);
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(out, "");
}

/* The command line's early look: the same help, no device made. */
static void t_check(void **state)
{
	int ret;
	char *out;

	out = capture("fake-isa,help", true, &ret);
	assert_int_equal(ret, 1);
	assert_non_null(strstr(out, "fake-isa options:\n  id=<str>"));
	out = capture("help", true, &ret);
	assert_int_equal(ret, 1);
	assert_non_null(strstr(out, "Devices:\n"));

	/* the properties and the id's form too, as device_create would; nothing made */
	assert_int_equal(device_check("fake-isa,iobase=0x2f8,name=x,id=a"), 0);
	assert_null(pf.devices);
	assert_int_equal(device_check("fake-isa,foo=1"), -EINVAL);
	assert_string_equal(log_last(), "-device fake-isa: unknown property 'foo'");
	assert_int_equal(device_check("fake-isa,iobase=0x10000"), -EINVAL);
	assert_non_null(strstr(log_last(), "iobase"));
	assert_int_equal(device_check("fake-isa,id=0bad"), -EINVAL);
	assert_non_null(strstr(log_last(), "-device fake-isa"));
	/* realize is not run: fail=on passes the check */
	assert_int_equal(device_check("fake-isa,fail=on"), 0);
	assert_null(pf.devices);
	assert_int_equal(device_check("fake-internal"), -EINVAL);
	assert_string_equal(log_last(),
			    "-device fake-internal: unknown device type (try -device help)");
	assert_int_equal(device_check("id=x"), -EINVAL);
	assert_string_equal(log_last(), "-device: no device type given (try -device help)");
	assert_int_equal(device_check("fake-isa,"), -EINVAL);
}

static struct device *leaf_parent(const char *opts)
{
	struct device *d;

	assert_int_equal(device_create(&pf, opts), 0);
	for (d = pf.devices; d->next; d = d->next)
		;
	return ((struct fake_leaf *)d->state)->parent;
}

static void t_child_bus(void **state)
{
	struct device *h1, *h2;

	/* Nothing to plug into: the message names the types that would do. */
	assert_int_equal(device_create(&pf, "fake-leaf"), -ENOENT);
	assert_string_equal(log_last(), "-device fake-leaf: no fake-bus to plug into: "
			    "add -device fake-hub or fake-hub2 before it");
	assert_int_equal(device_create(&pf, "fake-hub,id=h1"), 0);
	assert_int_equal(device_create(&pf, "fake-hub2,id=h2"), 0);
	assert_int_equal(device_create(&pf, "fake-isa,id=i1"), 0);
	h1 = device_find(&pf, "h1");
	h2 = device_find(&pf, "h2");
	/* Default: the last one created; bus=ID.0 picks one. */
	assert_ptr_equal(leaf_parent("fake-leaf"), h2);
	assert_ptr_equal(leaf_parent("fake-leaf,bus=h1.0"), h1);
	assert_ptr_equal(leaf_parent("fake-leaf,bus=h2.0"), h2);
	assert_int_equal(device_create(&pf, "fake-leaf,bus=h3.0"), -EINVAL);
	assert_string_equal(log_last(), "-device fake-leaf: bus 'h3.0' not found "
			    "(a fake-bus is named ID.0 after its device's id)");
	assert_int_equal(device_create(&pf, "fake-leaf,bus=h1"), -EINVAL);
	assert_int_equal(device_create(&pf, "fake-leaf,bus=.0"), -EINVAL);
	/* A device without a bus of its own. */
	assert_int_equal(device_create(&pf, "fake-leaf,bus=i1.0"), -EINVAL);
	assert_string_equal(log_last(), "-device fake-leaf: bus 'i1.0' not found "
			    "(a fake-bus is named ID.0 after its device's id)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(t_find_type, reset),
		cmocka_unit_test_teardown(t_create, reset),
		cmocka_unit_test_teardown(t_snapshot_names, reset),
		cmocka_unit_test_teardown(t_create_kv, reset),
		cmocka_unit_test_teardown(t_errors, reset),
		cmocka_unit_test_teardown(t_realize_failure, reset),
		cmocka_unit_test_teardown(t_id_check, reset),
		cmocka_unit_test_teardown(t_types_help, reset),
		cmocka_unit_test_teardown(t_help_option, reset),
		cmocka_unit_test_teardown(t_check, reset),
		cmocka_unit_test_teardown(t_child_bus, reset),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
