/*
 * ember's command line and run (ember_main): QEMU-style options, then the
 * back ends, the machine and its devices in that order, machine_run, and
 * the teardown.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/chardev.h"
#include "backends/memory.h"
#include "backends/object.h"
#include "devices/device.h"
#include "lib/keyval.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"
#include "kvm/vcpu.h"
#include "seccomp/seccomp.h"	/* sandbox */
#include "vmm/cli.h"
#include "vmm/cli_opts.h"
#include "vmm/machine.h"
#include "vmm/qmp.h"

#define DEFAULT_RAM	(256ULL << 20)

static int parse_mem(const char *s, uint64_t *out)
{
	struct keyval kv;
	const char *v;
	int ret;

	ret = keyval_parse(s, "size", "-m", &kv);
	if (ret)
		return ret;
	v = kv.implied ? kv.implied : keyval_get(&kv, "size");
	ret = keyval_check_unused(&kv, "-m");
	if (!ret && (!v || parse_size(v, MiB, out))) {
		err_msg("-m %s: not a memory size (e.g. 512M, 2G)", s);
		ret = -EINVAL;
	}
	if (!ret && *out < MIN_RAM) {
		err_msg("-m %s: guest RAM must be at least %llu MiB", s, MIN_RAM >> 20);
		ret = -EINVAL;
	}
	if (!ret && *out % (4 * KiB)) {
		err_msg("-m %s: guest RAM must be a multiple of 4 KiB", s);
		ret = -EINVAL;
	}
	keyval_free(&kv);
	return ret;
}

static int parse_smp(const char *s, unsigned *out)
{
	struct keyval kv;
	const char *v;
	uint64_t n = 0;
	int ret;

	ret = keyval_parse(s, "cpus", "-smp", &kv);
	if (ret)
		return ret;
	v = kv.implied ? kv.implied : keyval_get(&kv, "cpus");
	/* QEMU's topology keys are accepted; we build one socket of N cores. */
	keyval_get(&kv, "maxcpus");
	keyval_get(&kv, "sockets");
	keyval_get(&kv, "cores");
	keyval_get(&kv, "threads");
	ret = keyval_check_unused(&kv, "-smp");
	if (!ret && (!v || parse_u64(v, &n) || n < 1 || n > MAX_VCPUS)) {
		err_msg("-smp %s: the number of vCPUs must be between 1 and %u", s, MAX_VCPUS);
		ret = -EINVAL;
	}
	*out = (unsigned)n;
	keyval_free(&kv);
	return ret;
}

/* sandbox: -sandbox on|off (QEMU's spelling; its other keys are not supported). */
static int parse_sandbox(const char *s)
{
	struct keyval kv;
	const char *v;
	int on = 0, ret;

	ret = keyval_parse(s, "enable", "-sandbox", &kv);
	if (ret)
		return ret;
	v = kv.implied ? kv.implied : keyval_get(&kv, "enable");
	ret = keyval_check_unused(&kv, "-sandbox");
	if (!ret && (!v || (strcmp(v, "on") && strcmp(v, "off")))) {
		err_msg("-sandbox %s: expected on or off", s);
		ret = -EINVAL;
	}
	on = !ret && !strcmp(v, "on");
	keyval_free(&kv);
	if (ret)
		return ret;
	sandbox_set_enabled(on);
	if (!on)
		warn_msg("-sandbox off: no seccomp filters and all capabilities kept; "
			 "a guest that takes over ember gets everything ember may do");
	return 0;
}

static int parse_machine(const char *s, struct machine_config *mc)
{
	struct keyval kv;
	const char *v;
	int ret;

	ret = keyval_parse(s, "type", "-M", &kv);
	if (ret)
		return ret;
	if (kv.help || (kv.implied && !strcmp(kv.implied, "help"))) {
		machine_types_help(stdout);
		keyval_free(&kv);
		return 1;
	}
	v = kv.implied ? kv.implied : keyval_get(&kv, "type");
	if (v) {
		mc->type = machine_type_find(v);
		if (!mc->type) {
			err_msg("-M %s: unknown machine type (try -M help)", v);
			ret = -EINVAL;
		}
	}
	v = keyval_get(&kv, "memory-backend");
	if (!ret && v) {
		mc->ram = mem_backend_find(v);
		if (!mc->ram) {
			err_msg("-M memory-backend=%s: no -object with that id", v);
			ret = -EINVAL;
		}
	}
	if (!ret)
		ret = keyval_check_unused(&kv, "-M");
	keyval_free(&kv);
	return ret;
}

static int parse_serial(const char *s, struct loop *loop, struct serial_cfg *sc)
{
	struct chardev *chr;
	int ret;

	sc->kind = SERIAL_CHARDEV;
	if (!strcmp(s, "none")) {
		sc->kind = SERIAL_NONE;
		return 0;
	}
	if (!strncmp(s, "chardev:", 8)) {
		chr = chardev_find(s + 8);
		if (!chr) {
			err_msg("-serial %s: no -chardev with id '%s'", s, s + 8);
			return -EINVAL;
		}
	} else if (!strncmp(s, "file:", 5)) {
		ret = chardev_create_simple("file", s + 5, loop, &chr);
		if (ret)
			return ret;
	} else if (!strcmp(s, "stdio") || !strcmp(s, "null") || !strcmp(s, "pty")) {
		ret = chardev_create_simple(s, NULL, loop, &chr);
		if (ret)
			return ret;
	} else {
		err_msg("-serial %s: expected stdio, none, null, pty, file:PATH or chardev:ID", s);
		return -EINVAL;
	}
	sc->chr = chr;
	return 0;
}

/* A -chardev stdio (for a virtconsole, say) takes the default COM1's place. */
static bool stdio_taken(const struct cli *c)
{
	for (unsigned i = 0; i < c->nr_chardev; i++) {
		struct keyval kv;
		const char *type;
		bool stdio;

		if (keyval_parse(c->chardev[i], "backend", "-chardev", &kv))
			continue;
		type = kv.implied ? kv.implied : keyval_get(&kv, "backend");
		stdio = type && !strcmp(type, "stdio");
		keyval_free(&kv);
		if (stdio)
			return true;
	}
	return false;
}

static int build_config(struct cli *c, struct loop *loop, struct machine_config *mc)
{
	int ret = 0;

	mc->type = machine_type_find("microvm");
	mc->ram_size = DEFAULT_RAM;
	mc->ncpus = 1;
	if (c->machine && (ret = parse_machine(c->machine, mc)))
		return ret;
	if (c->mem && (ret = parse_mem(c->mem, &mc->ram_size)))
		return ret;
	if (mc->ram) {
		if (c->mem && mc->ram_size != mc->ram->size) {
			err_msg("-m %s does not match the size of memory-backend '%s'",
				c->mem, mc->ram->obj.id);
			return -EINVAL;
		}
		mc->ram_size = mc->ram->size;
		if (mc->ram_size < MIN_RAM) {
			err_msg("memory-backend '%s': guest RAM must be at least %llu MiB",
				mc->ram->obj.id, MIN_RAM >> 20);
			return -EINVAL;
		}
	}
	if (c->smp && (ret = parse_smp(c->smp, &mc->ncpus)))
		return ret;
	if (!c->kernel) {
		err_msg("no kernel given: use -kernel PATH (see ember -help)");
		return -EINVAL;
	}
	mc->kernel = c->kernel;
	mc->initrd = c->initrd;
	mc->append = c->append ? c->append : DEFAULT_APPEND;
	mc->cpu_template = c->cpu;
	mc->start_paused = c->start_paused;
	mc->no_shutdown = c->no_shutdown;
	if (!c->nr_serial)
		c->serial[c->nr_serial++] = stdio_taken(c) ? "none" : "stdio";
	for (unsigned i = 0; i < c->nr_serial; i++) {
		ret = parse_serial(c->serial[i], loop, &mc->serial[i]);
		if (ret)
			return ret;
	}
	mc->nr_serial = c->nr_serial;
	return 0;
}

/* The back-end options, in the order they are created: a raw node may name a file node. */
struct backend_opts {
	enum object_kind kind;
	const char *const *opts;
	unsigned n;
};

static int backends_each(const struct cli *c, struct loop *loop,
			 int (*fn)(enum object_kind kind, const char *opts, struct loop *loop))
{
	const struct backend_opts list[] = {
		{ OBJ_CHARDEV, c->chardev, c->nr_chardev },
		{ OBJ_OBJECT, c->object, c->nr_object },
		{ OBJ_BLOCKDEV, c->blockdev, c->nr_blockdev },
		{ OBJ_NETDEV, c->netdev, c->nr_netdev },
	};
	int ret;

	for (size_t k = 0; k < ARRAY_SIZE(list); k++)
		for (unsigned i = 0; i < list[k].n; i++)
			if ((ret = fn(list[k].kind, list[k].opts[i], loop)))
				return ret;
	return 0;
}

static int check_one(enum object_kind kind, const char *opts, struct loop *loop)
{
	return object_check(kind, opts);
}

int ember_main(int argc, char **argv)
{
	struct cli c = { 0 };
	struct machine_config mc = { 0 };
	struct machine m;
	struct loop *loop = NULL;
	int ret, status = EXIT_USAGE;
	int machine_up = 0;

	/* EMBER_DEBUG=1: debug messages; EMBER_DEBUG=io: also every port access. */
	if (getenv("EMBER_DEBUG")) {
		log_set_level(LOG_DEBUG);
		vcpu_trace_io = !strcmp(getenv("EMBER_DEBUG"), "io");
	}
	/* A console reader that went away must not kill the VM. */
	signal(SIGPIPE, SIG_IGN);
	ret = cli_parse(argc, argv, &c);
	if (c.print_seccomp)	/* sandbox */
		return sandbox_print(stdout) ? EXIT_USAGE : EXIT_OK;
	if (ret)
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	/* "-netdev help" and wrong types are answered before anything is set up. */
	if ((ret = backends_each(&c, NULL, check_one)))
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	for (unsigned i = 0; i < c.nr_device; i++)
		if ((ret = device_check(c.device[i])))
			return ret > 0 ? EXIT_OK : EXIT_USAGE;
	/* sandbox */
	if (c.sandbox && parse_sandbox(c.sandbox))
		return EXIT_USAGE;
	if (!c.sandbox && !sandbox_enabled())
		warn_msg("built with sanitizers: the sandbox is off (-sandbox on forces it; "
			 "see docs/sandbox.md)");

	loop = loop_new();
	if (!loop)
		return EXIT_USAGE;
	ret = backends_each(&c, loop, object_create);
	/* QMP monitors on chardevs: before the machine, so that errors come first. */
	for (unsigned i = 0; !ret && i < c.nr_monitor; i++)
		ret = qmp_monitor_create(c.monitor[i], loop, &m);
	for (unsigned i = 0; !ret && i < c.nr_mon; i++)
		ret = qmp_mon_create(c.mon[i], loop, &m);
	if (!ret)
		ret = build_config(&c, loop, &mc);
	if (ret)
		goto out;
	ret = machine_init(&m, loop, &mc);
	machine_up = 1;
	if (ret)
		goto out;
	for (unsigned i = 0; i < c.nr_device; i++)
		if ((ret = device_create(&m.pf, c.device[i])) < 0)
			goto out;
	ret = machine_finish(&m);
	if (!ret && c.qmp)
		ret = qmp_server_create(c.qmp, loop, &m);
	if (ret)
		goto out;
	status = machine_run(&m);
out:
	if (ret > 0)
		status = EXIT_OK;
	qmp_server_destroy();
	if (machine_up)
		machine_destroy(&m);
	object_cleanup_all();
	if (loop)
		loop_free(loop);
	return status;
}
