#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/block.h"
#include "backends/chardev.h"
#include "backends/memory.h"
#include "backends/net.h"
#include "backends/object.h"
#include "devices/device.h"
#include "lib/keyval.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/props.h"
#include "lib/util.h"
#include "kvm/vcpu.h"
#include "seccomp/seccomp.h"	/* sandbox */
#include "vmm/cli.h"
#include "vmm/machine.h"
#include "vmm/qmp.h"

#define DEFAULT_RAM	(256ULL << 20)
/* Minimal on purpose: no earlyprintk (each console byte is a VM exit). */
#define DEFAULT_APPEND	"console=ttyS0 panic=1"
#define MAX_OPTS	64

struct cli {
	const char *kernel, *initrd, *append, *machine, *cpu;
	const char *mem, *smp;
	const char *serial[MAX_SERIALS];
	unsigned nr_serial;
	const char *chardev[MAX_OPTS], *device[MAX_OPTS], *object[MAX_OPTS];
	const char *blockdev[MAX_OPTS], *netdev[MAX_OPTS];
	unsigned nr_chardev, nr_device, nr_object, nr_blockdev, nr_netdev;
	const char *sandbox;	/* sandbox: -sandbox on|off */
	const char *qmp;	/* -qmp unix:PATH,server=on[,wait=off] */
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ember -kernel PATH [options]\n"
"\n"
"Boots a Linux kernel in a KVM virtual machine. Options follow QEMU's syntax.\n"
"\n"
"Guest:\n"
"  -kernel PATH            bzImage (64-bit boot protocol) or ELF vmlinux (PVH entry)\n"
"  -initrd PATH            initial ramdisk\n"
"  -append CMDLINE         kernel command line (default: \"" DEFAULT_APPEND "\")\n"
"  -m SIZE                 guest RAM, e.g. 512M or 2G (default 256M; a bare number is MiB)\n"
"  -smp N                  number of vCPUs (default 1)\n"
"  -M TYPE[,memory-backend=ID]  machine type (-M help lists them)\n"
"  -cpu TEMPLATE           CPUID template: host (default) or minimal\n"
"\n"
"Front ends and back ends:\n"
"  -device DRIVER[,prop=value...]  add a device (-device help, -device DRIVER,help)\n"
"  -chardev TYPE,id=ID[,...]       character back end: stdio, file, null, socket, pty\n"
"  -serial stdio|none|null|file:PATH|chardev:ID  next serial port (COM1..COM4)\n"
"  -blockdev driver=file|raw,node-name=N,...  block back end (-blockdev help)\n"
"  -netdev tap,id=N[,ifname=NAME][,fd=FD][,queues=Q][,vhost=on|off]  network back end\n"
"                          (-netdev help, -netdev tap,help)\n"
"  -object memory-backend-memfd,id=ID,size=SIZE[,hugetlb=on]  guest RAM back end\n"
"  -object rng-random,id=ID[,filename=/dev/urandom]  entropy source for virtio-rng\n"
"\n"
"Other:\n"
"  -qmp unix:PATH,server=on[,wait=off]  QMP API socket (docs/api.md)\n"
"  -sandbox on|off         seccomp allowlists per thread, no capabilities (default on)\n"
"  -print-seccomp          print the allowed system calls of each thread class\n"
"  -nographic, -display none, -nodefaults, -no-reboot  accepted for QEMU compatibility\n"
"  -version                print the version\n"
"  -help                   print this help\n"
"\n"
"Exit status: 0 guest powered off or rebooted, or ember was stopped by a signal;\n"
"1 bad command line or set-up failure; 2 the guest crashed (triple fault,\n"
"emulation failure); 3 the guest kernel panicked (reported through pvpanic).\n");
}

static int add_opt(const char **arr, unsigned *n, unsigned max, const char *opt,
		   const char *val)
{
	if (*n >= max) {
		err_msg("%s: at most %u may be given", opt, max);
		return -EINVAL;
	}
	arr[(*n)++] = val;
	return 0;
}

/* Fills @c; returns 0, 1 when done (help/version printed), or -EINVAL. */
static int parse_args(int argc, char **argv, struct cli *c)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;

		if (a[0] != '-' || !a[1]) {
			err_msg("unexpected argument '%s' (see ember -help)", a);
			return -EINVAL;
		}
		if (a[1] == '-')
			a++;
		if (!strcmp(a, "-help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 1;
		}
		if (!strcmp(a, "-version")) {
			/* sandbox: the e2e trigger case needs to know */
#ifdef EMBER_TEST_TRIGGERS
			printf("ember %s (with test triggers)\n", EMBER_VERSION);
#else
			printf("ember %s\n", EMBER_VERSION);
#endif
			return 1;
		}
		if (!strcmp(a, "-print-seccomp"))	/* sandbox */
			return sandbox_print(stdout) ? -EINVAL : 1;
		if (!strcmp(a, "-nographic") || !strcmp(a, "-nodefaults") ||
		    !strcmp(a, "-no-reboot"))
			continue;
		static const char *const with_arg[] = {
			"-kernel", "-initrd", "-append", "-m", "-smp", "-M", "-machine",
			"-cpu", "-serial", "-chardev", "-device", "-object", "-display",
			"-blockdev", "-netdev", "-sandbox", "-qmp",
		};
		int known = 0;

		for (size_t k = 0; k < ARRAY_SIZE(with_arg); k++)
			known |= !strcmp(a, with_arg[k]);
		if (!known) {
			err_msg("unknown option '%s' (see ember -help)", argv[i]);
			return -EINVAL;
		}
		if (i + 1 >= argc) {
			err_msg("option '%s' needs an argument", argv[i]);
			return -EINVAL;
		}
		v = argv[++i];
		if (!strcmp(a, "-kernel"))
			c->kernel = v;
		else if (!strcmp(a, "-initrd"))
			c->initrd = v;
		else if (!strcmp(a, "-append"))
			c->append = v;
		else if (!strcmp(a, "-m"))
			c->mem = v;
		else if (!strcmp(a, "-smp"))
			c->smp = v;
		else if (!strcmp(a, "-M") || !strcmp(a, "-machine"))
			c->machine = v;
		else if (!strcmp(a, "-cpu"))
			c->cpu = v;
		else if (!strcmp(a, "-sandbox"))	/* sandbox */
			c->sandbox = v;
		else if (!strcmp(a, "-qmp")) {
			if (c->qmp) {
				err_msg("-qmp %s: only one -qmp is supported", v);
				return -EINVAL;
			}
			c->qmp = v;
		}
		else if (!strcmp(a, "-display")) {
			if (strcmp(v, "none")) {
				err_msg("-display %s: ember has no display (only 'none')", v);
				return -EINVAL;
			}
		} else if (!strcmp(a, "-serial")) {
			if (add_opt(c->serial, &c->nr_serial, MAX_SERIALS, "-serial", v))
				return -EINVAL;
		} else if (!strcmp(a, "-chardev")) {
			if (add_opt(c->chardev, &c->nr_chardev, MAX_OPTS, "-chardev", v))
				return -EINVAL;
		} else if (!strcmp(a, "-device")) {
			if (add_opt(c->device, &c->nr_device, MAX_OPTS, "-device", v))
				return -EINVAL;
		} else if (!strcmp(a, "-blockdev")) {
			if (add_opt(c->blockdev, &c->nr_blockdev, MAX_OPTS, "-blockdev", v))
				return -EINVAL;
		} else if (!strcmp(a, "-netdev")) {
			if (add_opt(c->netdev, &c->nr_netdev, MAX_OPTS, "-netdev", v))
				return -EINVAL;
		} else if (!strcmp(a, "-object")) {
			if (add_opt(c->object, &c->nr_object, MAX_OPTS, "-object", v))
				return -EINVAL;
		}
	}
	return 0;
}

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

/* Answers "-device help" and "-device X,help"; checks types early. */
static int precheck_devices(const struct cli *c)
{
	for (unsigned i = 0; i < c->nr_device; i++) {
		struct keyval kv;
		const struct device_type *t;
		int ret = keyval_parse(c->device[i], "driver", "-device", &kv);

		if (ret)
			return ret;
		if (kv.help && !kv.implied) {
			device_types_help(stdout);
			keyval_free(&kv);
			return 1;
		}
		if (!kv.implied) {
			err_msg("-device %s: the device type comes first (try -device help)",
				c->device[i]);
			keyval_free(&kv);
			return -EINVAL;
		}
		t = device_type_find(kv.implied);
		if (!t || t->internal) {
			err_msg("-device %s: unknown device type (try -device help)", kv.implied);
			keyval_free(&kv);
			return -EINVAL;
		}
		if (kv.help) {
			printf("%s options:\n", t->name);
			props_help(t->props, stdout);
			keyval_free(&kv);
			return 1;
		}
		keyval_free(&kv);
	}
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
	ret = parse_args(argc, argv, &c);
	if (ret)
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	if (c.machine && !strcmp(c.machine, "help")) {
		machine_types_help(stdout);
		return EXIT_OK;
	}
	if (c.cpu && !strcmp(c.cpu, "help")) {
		printf("Available CPU templates:\nhost\nminimal\n");
		return EXIT_OK;
	}
	for (unsigned i = 0; i < c.nr_chardev; i++)
		if (!strcmp(c.chardev[i], "help")) {
			chardev_help(stdout);
			return EXIT_OK;
		}
	ret = precheck_devices(&c);
	if (ret)
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
	for (unsigned i = 0; i < c.nr_chardev; i++)
		if ((ret = chardev_create(c.chardev[i], loop)))
			goto out;
	for (unsigned i = 0; i < c.nr_object; i++)
		if ((ret = object_create_opts(c.object[i])))
			goto out;
	for (unsigned i = 0; i < c.nr_blockdev; i++)
		if ((ret = blockdev_create(c.blockdev[i], loop)))
			goto out;
	for (unsigned i = 0; i < c.nr_netdev; i++)
		if ((ret = netdev_create(c.netdev[i])))
			goto out;
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
		ret = qmp_server_create(c.qmp, loop, &m.pf);
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
