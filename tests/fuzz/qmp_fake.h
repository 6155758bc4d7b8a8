/*
 * The machine QMP acts on, faked for the QMP fuzzers: a balloon, devices,
 * objects, chardevs and block nodes, a run state stop/cont/powerdown move,
 * and small stand-ins for the tables qmp_cmd.c reads. The fake balloon
 * checks that a size it is given is one the command allowed.
 */
#ifndef EMBER_FUZZ_QMP_FAKE_H
#define EMBER_FUZZ_QMP_FAKE_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arch/arch.h"
#include "backends/block.h"
#include "backends/object.h"
#include "devices/device.h"
#include "lib/props.h"
#include "lib/util.h"
#include "virtio/balloon.h"
#include "vmm/cli_opts.h"
#include "vmm/qmp.h"

#define RAM (512ull << 20)

static int f_set(void *o, uint64_t b)
{
	if (!b || b > INT64_MAX)
		__builtin_trap();
	return b > RAM ? -ERANGE : 0;
}

static int f_get(void *o, uint64_t *a)
{
	*a = RAM;
	return 0;
}

static uint64_t f_ram(void *o) { return RAM; }
static const char *f_id(void *o) { return "b0"; }

static int f_stats(void *o, struct balloon_stats *st, int64_t *when, uint32_t *iv)
{
	memset(st, 0, sizeof(*st));
	st->valid = 0xffff;
	*when = 1;
	*iv = 0;
	return 0;
}

static int f_interval(void *o, uint32_t s)
{
	if (s > 86400)
		__builtin_trap();
	return 0;
}

/* quit and system_reset: counted, so a fuzzer can tell it got there. */
static unsigned quits;
static void f_quit(void *o) { quits++; }

/* The run state, driven by stop, cont and system_powerdown as the machine would. */
static int run_st;	/* 0 running, 1 paused, 2 shutdown */

static const char *f_state(void *o, bool *running)
{
	static const char *const n[] = { "running", "paused", "shutdown" };

	*running = !run_st;
	return n[run_st];
}

static int f_stop(void *o)
{
	if (!run_st)
		run_st = 1;
	return 0;
}

static int f_cont(void *o)
{
	if (run_st == 2)
		return -EBUSY;
	run_st = 0;
	qmp_event_simple("RESUME");
	return 0;
}

static int f_powerdown(void *o)
{
	qmp_event_simple("POWERDOWN");
	qmp_event_shutdown(true, "guest-shutdown");
	run_st = 2;
	return 0;
}

static const char *f_name(void *o) { return "vm\"0"; }
static int f_cpu(void *o, unsigned i, int *tid)
{
	*tid = 100 + (int)i;
	return i < 2 ? 0 : -ENOENT;
}

/* More devices and nodes than the HMP text holds. */
static int f_device_n(void *o, unsigned i, const char **type, const char **id,
		      const char **bus)
{
	*type = "t";
	*id = i & 1 ? NULL : "x";
	*bus = "bus";
	return i < 300 ? 0 : -ENOENT;
}

static int f_chardev(void *o, unsigned i, const char **label, char *fn, size_t size,
		     bool *open)
{
	*label = i ? NULL : "c";
	snprintf(fn, size, "pty:/dev/pts/%u", i);
	*open = i & 1;
	return i < 3 ? 0 : -ENOENT;
}

static int f_block(void *o, unsigned i, struct blk_info *bi, char *qdev, size_t size)
{
	*bi = (struct blk_info){ i & 1 ? NULL : "n", "raw", i & 2 ? NULL : "/f", NULL,
				 i & 1, 0, 1, UINT64_MAX };
	snprintf(qdev, size, "%s", i & 1 ? "" : "/machine/peripheral/d");
	return i < 300 ? 0 : -ENOENT;
}

/* ember's tables, which qmp_cmd.c reads; small stand-ins here. */
const struct machine_type arch_machine_types[] = {
	{ .name = "microvm", .desc = "m", .is_default = 1 }, { .name = "pci", .desc = "p" },
};
const unsigned arch_nr_machine_types = 2;
static const struct cli_param m_params[] = { { "size", "size" }, { "slots", "number" }, { NULL } };
const struct cli_opt cli_opts[] = {
	{ .name = "-m", .arg = "SIZE", .kind = CLI_FIELD, .params = m_params },
	{ .name = "-M", .alias = "-machine", .arg = "T", .kind = CLI_FIELD, .params = m_params },
	{ .name = "-chardev", .arg = "T", .kind = CLI_LIST },
	{ .name = "-object", .arg = "X", .kind = CLI_LIST },
	{ .name = "-object", .arg = "Y", .kind = CLI_MORE },
	{ .name = "-S", .kind = CLI_CALL },
};
const size_t cli_nr_opts = ARRAY_SIZE(cli_opts);

/* "b0" the balloon, "d0" a device and "/objects/o0" an object, with every kind of option. */
struct fake_state {
	char *s;
	bool b;
	uint32_t u;
	uint64_t v;
};

static const struct prop props[] = {
	{ "s", PROP_STR, offsetof(struct fake_state, s) },
	{ "b", PROP_BOOL, offsetof(struct fake_state, b) },
	{ "u", PROP_U32, offsetof(struct fake_state, u) },
	{ "v", PROP_U64, offsetof(struct fake_state, v) },
	{ "z", PROP_SIZE, offsetof(struct fake_state, v) },
	{ NULL }
};

static struct fake_state state = { .s = "x", .v = UINT64_MAX };

/* query-command-line-options lists -chardev's back ends' keys. */
static const struct object_type chr_types[] = {
	{ .name = "socket", .kind = OBJ_CHARDEV, .props = props },
	{ .name = "file", .kind = OBJ_CHARDEV, .props = props + 1 },
};

const struct object_type *object_type_at(enum object_kind kind, unsigned i)
{
	return kind == OBJ_CHARDEV && i < ARRAY_SIZE(chr_types) ? &chr_types[i] : NULL;
}

static int f_device(void *o, const char *id, struct qom_node *n)
{
	if (strcmp(id, "b0") && strcmp(id, "d0"))
		return -ENOENT;
	*n = (struct qom_node){ "t", props, &state, !strcmp(id, "b0") };
	return 0;
}

static int f_object(void *o, const char *id, struct qom_node *n)
{
	if (strcmp(id, "o0"))
		return -ENOENT;
	*n = (struct qom_node){ "o", props, &state, false };
	return 0;
}

static const struct device_type dev_types[] = {
	{ .name = "virtio-x", .bus = "pci", .props = props },
	{ .name = "acpi-pm", .bus = "system", .props = props + 4, .internal = 1 },
};

const struct device_type *device_type_nth(unsigned i)
{
	return i < ARRAY_SIZE(dev_types) ? &dev_types[i] : NULL;
}

const struct device_type *device_type_find(const char *name)
{
	for (unsigned i = 0; i < ARRAY_SIZE(dev_types); i++)
		if (!strcmp(dev_types[i].name, name))
			return &dev_types[i];
	return NULL;
}

static const struct qmp_target target = {
	.find_device = f_device, .find_object = f_object,
	.balloon_set = f_set, .balloon_get = f_get, .ram_size = f_ram,
	.balloon_id = f_id, .balloon_stats = f_stats,
	.balloon_set_interval = f_interval, .quit = f_quit, .system_reset = f_quit,
	.run_state = f_state, .stop = f_stop, .cont = f_cont, .powerdown = f_powerdown,
	.name = f_name, .cpu = f_cpu, .device = f_device_n,
	.chardev = f_chardev, .block = f_block,
};

#endif
