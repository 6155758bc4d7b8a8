/* ember's options: the table, its usage text and its parser; see cli_opts.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "lib/keyval.h"
#include "lib/log.h"
#include "lib/props.h"
#include "lib/util.h"
#include "vmm/cli_json.h"
#include "vmm/cli_opts.h"
#include "vmm/qmp_opts.h"
#include "vmm/version.h"

/* The column of the help texts in the usage. */
#define HELP_COL	26

static int opt_help(struct cli *c, const char *arg)
{
	cli_usage(stdout);
	return 1;
}

static int opt_version(struct cli *c, const char *arg)
{
	/* sandbox: the e2e trigger case needs to know */
#ifdef EMBER_TEST_TRIGGERS
	printf("ember %s (%s) (with test triggers)\n", EMBER_VERSION, EMBER_QEMU_COMPAT);
#else
	printf("ember %s (%s)\n", EMBER_VERSION, EMBER_QEMU_COMPAT);
#endif
	return 1;
}

/* sandbox: printed by vmm/cli.c, which links the sandbox. */
static int opt_print_seccomp(struct cli *c, const char *arg)
{
	c->print_seccomp = true;
	return 1;
}

static int opt_display(struct cli *c, const char *arg)
{
	if (strcmp(arg, "none")) {
		err_msg("-display %s: ember has no display (only 'none')", arg);
		return -EINVAL;
	}
	return 0;
}

/*
 * @key of @kv as a boolean into *@out (left alone when absent): 0, or
 * -EINVAL after "OPT KEY=VALUE: expected on or off".
 */
static int kv_bool(struct keyval *kv, const char *key, const char *opt, int *out)
{
	const char *v = keyval_get(kv, key);

	if (v && parse_bool(v, out)) {
		err_msg("%s %s=%s: expected on or off", opt, key, v);
		return -EINVAL;
	}
	return 0;
}

/* @key of @kv must be absent or one of @allowed (a NULL-ended list). */
static int kv_oneof(struct keyval *kv, const char *key, const char *opt,
		    const char *const *allowed, const char *why)
{
	const char *v = keyval_get(kv, key);

	if (!v)
		return 0;
	for (; *allowed; allowed++)
		if (!strcmp(v, *allowed))
			return 0;
	err_msg("%s %s=%s: %s", opt, key, v, why);
	return -EINVAL;
}

/*
 * The syntax of -qmp fails here, before anything is set up; the server
 * re-reads it. Several are several servers, as in QEMU, on distinct paths.
 */
static int opt_qmp(struct cli *c, const char *arg)
{
	char *path = NULL, *other;
	int ret;

	if (c->nr_qmp >= ARRAY_SIZE(c->qmp)) {
		err_msg("-qmp %s: at most %zu -qmp may be given", arg, ARRAY_SIZE(c->qmp));
		return -EINVAL;
	}
	ret = qmp_parse_opts(arg, &path, NULL);
	for (unsigned i = 0; !ret && i < c->nr_qmp; i++) {
		if (qmp_parse_opts(c->qmp[i], &other, NULL))
			continue;
		if (!strcmp(path, other)) {
			err_msg("-qmp %s: the socket '%s' is given twice", arg, path);
			ret = -EINVAL;
		}
		free(other);
	}
	free(path);
	if (!ret)
		c->qmp[c->nr_qmp++] = arg;
	return ret;
}

static int opt_nodefaults(struct cli *c, const char *arg)
{
	c->nodefaults = true;
	return 0;
}

static int opt_nographic(struct cli *c, const char *arg)
{
	c->nographic = true;
	return 0;
}

static int opt_daemonize(struct cli *c, const char *arg)
{
	c->daemonize = true;
	return 0;
}

/* -accel kvm: the only accelerator ember has. */
static int opt_accel(struct cli *c, const char *arg)
{
	struct keyval kv;
	int ret = keyval_parse(arg, "accel", "-accel", &kv);

	if (ret)
		return ret;
	if (!kv.implied || strcmp(kv.implied, "kvm")) {
		err_msg("-accel %s: ember runs on KVM only (use -accel kvm)", arg);
		ret = -EINVAL;
	}
	if (!ret)
		ret = cli_keys_check(&kv, "-accel");
	keyval_free(&kv);
	return ret;
}

/* 8-4-4-4-12 hexadecimal digits, as QEMU takes them. */
static int opt_uuid(struct cli *c, const char *arg)
{
	static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	for (i = 0; form[i] && arg[i]; i++)
		if (form[i] == '-' ? arg[i] != '-' : !isxdigit((unsigned char)arg[i]))
			break;
	if (form[i] || arg[i]) {
		err_msg("-uuid %s: expected a UUID like 12345678-9abc-def0-1234-56789abcdef0", arg);
		return -EINVAL;
	}
	c->uuid = arg;
	return 0;
}

/* -name NAME or -name guest=NAME[,process=P][,debug-threads=on|off] */
static int opt_name(struct cli *c, const char *arg)
{
	struct keyval kv;
	int on, ret = keyval_parse(arg, "guest", "-name", &kv);

	if (ret)
		return ret;
	keyval_get(&kv, "process");	/* the host's process name: ember stays ember */
	ret = kv_bool(&kv, "debug-threads", "-name", &on);	/* ember names its threads */
	if (!ret)
		ret = cli_keys_check(&kv, "-name");
	if (!ret && !kv.implied) {
		err_msg("-name %s: no name given (-name NAME or -name guest=NAME)", arg);
		ret = -EINVAL;
	}
	if (!ret)
		c->name = cli_own(c, strdup(kv.implied));
	keyval_free(&kv);
	return ret ? ret : c->name ? 0 : -ENOMEM;
}

/* -rtc base=utc|localtime|DATE: where the guest's RTC starts (devices/rtc.c). */
static int opt_rtc(struct cli *c, const char *arg)
{
	static const char *const host[] = { "host", NULL },
		*const drift[] = { "none", "slew", NULL };
	struct keyval kv;
	const char *base;
	int ret = keyval_parse(arg, NULL, "-rtc", &kv);

	if (ret)
		return ret;
	base = keyval_get(&kv, "base");	/* checked by cli.c, which sets the RTC's */
	ret = kv_oneof(&kv, "clock", "-rtc", host,
			       "ember's RTC follows the host's clock (only clock=host)");
	if (!ret)	/* how QEMU catches up missed ticks; KVM's PIT and ember's RTC do it */
		ret = kv_oneof(&kv, "driftfix", "-rtc", drift, "expected none or slew");
	if (!ret)
		ret = cli_keys_check(&kv, "-rtc");
	if (!ret && base && !(c->rtc_base = cli_own(c, strdup(base))))
		ret = -ENOMEM;
	keyval_free(&kv);
	if (!ret)
		c->rtc = arg;
	return ret;
}

/* -msg timestamp=on|off: messages start with the time, as QEMU's do. */
static int opt_msg(struct cli *c, const char *arg)
{
	struct keyval kv;
	int on = 0, ret = keyval_parse(arg, NULL, "-msg", &kv);

	if (ret)
		return ret;
	ret = kv_bool(&kv, "timestamp", "-msg", &on);
	keyval_get(&kv, "guest-name");	/* QEMU's prefix for its own messages */
	if (!ret)
		ret = cli_keys_check(&kv, "-msg");
	keyval_free(&kv);
	if (ret)
		return ret;
	log_set_timestamps(on);
	c->msg = arg;
	return 0;
}

/* -overcommit mem-lock=on|off[,cpu-pm=off]: cli.c locks the memory. */
static int opt_overcommit(struct cli *c, const char *arg)
{
	struct keyval kv;
	int lock = 0, pm = 0, ret = keyval_parse(arg, NULL, "-overcommit", &kv);

	if (ret)
		return ret;
	ret = kv_bool(&kv, "mem-lock", "-overcommit", &lock);
	if (!ret)
		ret = kv_bool(&kv, "cpu-pm", "-overcommit", &pm);
	if (!ret && pm) {
		err_msg("-overcommit cpu-pm=on: ember does not give the guest HLT and MWAIT");
		ret = -EINVAL;
	}
	if (!ret)
		ret = cli_keys_check(&kv, "-overcommit");
	keyval_free(&kv);
	if (!ret)
		c->overcommit = lock ? "mem-lock" : NULL;
	return ret;
}

char *cli_own(struct cli *c, char *s)
{
	char **n;

	if (!s) {
		err_msg("out of memory");
		return NULL;
	}
	n = realloc(c->owned, (c->nr_owned + 1) * sizeof(*n));
	if (!n) {
		free(s);
		err_msg("out of memory");
		return NULL;
	}
	c->owned = n;
	c->owned[c->nr_owned++] = s;
	return s;
}

void cli_free(struct cli *c)
{
	for (unsigned i = 0; i < c->nr_owned; i++)
		free(c->owned[i]);
	free(c->owned);
	c->owned = NULL;
	c->nr_owned = 0;
}

static int opt_S(struct cli *c, const char *arg)
{
	c->start_paused = true;
	return 0;
}

static int opt_no_shutdown(struct cli *c, const char *arg)
{
	c->no_shutdown = true;
	return 0;
}

static int opt_no_reboot(struct cli *c, const char *arg)
{
	c->no_reboot = true;
	return 0;
}
/* The keys of each key=value option, with QEMU's type names. */
#define STR(n)	{ n, "string" }
#define BOOL(n)	{ n, "boolean" }
#define NUM(n)	{ n, "number" }
#define SIZE(n)	{ n, "size" }
static const struct cli_param p_m[] = { SIZE("size"), NUM("slots"), SIZE("maxmem"), { NULL } };
static const struct cli_param p_smp[] = {
	NUM("cpus"), NUM("maxcpus"), NUM("sockets"), NUM("cores"), NUM("threads"), { NULL }
};
static const struct cli_param p_machine[] = {
	STR("type"), STR("memory-backend"), STR("accel"), BOOL("isa-serial"), BOOL("pcie"),
	STR("acpi"), BOOL("x-option-roms"), BOOL("pit"), BOOL("pic"), BOOL("rtc"),
	BOOL("dump-guest-core"), BOOL("mem-merge"), BOOL("usb"), BOOL("graphics"),
	BOOL("vmport"), BOOL("smm"), { NULL }
};
static const struct cli_param p_name[] = {
	STR("guest"), STR("process"), BOOL("debug-threads"), { NULL }
};
static const struct cli_param p_accel[] = { { NULL } };
static const struct cli_param p_rtc[] = { STR("base"), STR("clock"), STR("driftfix"), { NULL } };
static const struct cli_param p_overcommit[] = { BOOL("mem-lock"), BOOL("cpu-pm"), { NULL } };
static const struct cli_param p_drive[] = {
	STR("file"), STR("if"), STR("format"), STR("id"), STR("aio"), STR("media"),
	BOOL("readonly"), STR("cache"), STR("discard"), BOOL("cache.writeback"),
	BOOL("cache.direct"), BOOL("cache.no-flush"), { NULL }
};
static const struct cli_param p_qmp[] = { BOOL("server"), BOOL("wait"), { NULL } };
static const struct cli_param p_sandbox[] = {
	BOOL("enable"), STR("obsolete"), STR("elevateprivileges"), STR("spawn"),
	STR("resourcecontrol"), { NULL }
};
static const struct cli_param p_msg[] = { BOOL("timestamp"), BOOL("guest-name"), { NULL } };
static const struct cli_param p_mon[] = {
	STR("chardev"), STR("mode"), BOOL("pretty"), { NULL }
};

/* kind, field, count, max, call */
#define FIELD(m)	CLI_FIELD, offsetof(struct cli, m), 0, 0, NULL
#define LIST(m, max)	CLI_LIST, offsetof(struct cli, m), offsetof(struct cli, nr_##m), max, NULL
#define CALL(fn)	CLI_CALL, 0, 0, 0, fn
#define IGNORED		CLI_IGNORED, 0, 0, 0, NULL
#define MORE		CLI_MORE, 0, 0, 0, NULL

const struct cli_opt cli_opts[] = {
	{ "-kernel", NULL, "PATH", FIELD(kernel), CLI_GUEST,
	  "bzImage (64-bit boot protocol) or ELF vmlinux (PVH entry)" },
	{ "-initrd", NULL, "PATH", FIELD(initrd), CLI_GUEST, "initial ramdisk" },
	{ "-append", NULL, "CMDLINE", FIELD(append), CLI_GUEST,
	  "kernel command line (default: \"" DEFAULT_APPEND "\")" },
	{ "-m", NULL, "SIZE[,slots=N,maxmem=M]", FIELD(mem), CLI_GUEST,
	  "guest RAM, e.g. 512M or 2G (default 256M; a bare number is MiB)", .params = p_m },
	{ "-smp", NULL, "N", FIELD(smp), CLI_GUEST, "number of vCPUs (default 1)", .params = p_smp },
	{ "-M", "-machine", "TYPE[,memory-backend=ID]", FIELD(machine), CLI_GUEST,
	  "machine type (-M help lists them)", machine_types_help, .params = p_machine },
	{ "-cpu", NULL, "TEMPLATE", FIELD(cpu), CLI_GUEST,
	  "CPUID template: host (default) or minimal", arch_cpu_help },
	{ "-name", NULL, "NAME", CALL(opt_name), CLI_GUEST, "the guest's name (for QMP)", .params = p_name },
	{ "-uuid", NULL, "UUID", CALL(opt_uuid), CLI_GUEST, "the guest's UUID (for QMP)" },
	{ "-enable-kvm", NULL, NULL, IGNORED, CLI_GUEST, "use KVM (ember always does)" },
	{ "-accel", NULL, "kvm", CALL(opt_accel), CLI_GUEST, "", .params = p_accel },
	{ "-rtc", NULL, "base=utc|localtime|DATE", CALL(opt_rtc), CLI_GUEST,
	  "where the RTC starts: UTC (the default), local time, a date", .params = p_rtc },
	{ "-overcommit", NULL, "mem-lock=on|off", CALL(opt_overcommit), CLI_GUEST,
	  "mem-lock=on: lock ember's and the guest's memory (mlockall)", .params = p_overcommit },

	{ "-device", NULL, "DRIVER[,prop=value...]", LIST(device, MAX_OPTS), CLI_BACKENDS,
	  "add a device (-device help, -device DRIVER,help)" },
	{ "-chardev", NULL, "TYPE,id=ID[,...]", LIST(chardev, MAX_OPTS), CLI_BACKENDS,
	  "character back end\n(-chardev help, -chardev TYPE,help)" },
	{ "-serial", NULL, "stdio|mon:stdio|none|null|pty|file:PATH|unix:PATH[,server,nowait]|chardev:ID", LIST(serial, MAX_SERIALS),
	  CLI_BACKENDS, "next serial port (COM1..COM4)" },
	{ "-blockdev", NULL, "driver=file|raw,node-name=N,...", LIST(blockdev, MAX_OPTS),
	  CLI_BACKENDS, "block back end (-blockdev help)" },
	{ "-netdev", NULL, "tap,id=N[,ifname=NAME][,fd=FD][,queues=Q][,vhost=on|off]",
	  LIST(netdev, MAX_OPTS), CLI_BACKENDS,
	  "network back end\n(-netdev help, -netdev tap,help)" },
	{ "-object", NULL, "memory-backend-ram|memfd,id=ID,size=SIZE[,share=on]",
	  LIST(object, MAX_OPTS), CLI_BACKENDS, "guest RAM back end (-object help)" },
	{ "-object", NULL, "rng-random,id=ID[,filename=/dev/urandom]", MORE, CLI_BACKENDS,
	  "entropy source for virtio-rng" },
	{ "-drive", NULL, "file=PATH,if=none|virtio[,id=ID][,format=raw][,readonly=on]",
	  LIST(drive, MAX_OPTS), CLI_BACKENDS,
	  "a raw disk image (-blockdev);\nwith if=virtio also its virtio-blk device", .params = p_drive },
	{ "-nic", NULL, "TYPE[,netdev options][,model=virtio][,mac=MAC]", LIST(nic, MAX_OPTS),
	  CLI_BACKENDS, "a -netdev with a virtio-net device" },

	{ "-qmp", NULL, "unix:PATH,server=on[,wait=off]", CALL(opt_qmp), CLI_OTHER,
	  "QMP API socket (docs/api.md)", .params = p_qmp },
	{ "-sandbox", NULL, "on|off[,obsolete=deny,spawn=deny,...]", FIELD(sandbox), CLI_OTHER,	/* sandbox */
	  "seccomp allowlists per thread, no capabilities (default on)", .params = p_sandbox },
	{ "-print-seccomp", NULL, NULL, CALL(opt_print_seccomp), CLI_OTHER,	/* sandbox */
	  "print the allowed system calls of each thread class" },
	{ "-daemonize", NULL, NULL, CALL(opt_daemonize), CLI_OTHER,
	  "run in the background once set up (errors before that on the terminal)" },
	{ "-pidfile", NULL, "FILE", FIELD(pidfile), CLI_OTHER,
	  "write ember's pid to FILE, locked, removed at exit" },
	{ "-msg", NULL, "timestamp=on|off", CALL(opt_msg), CLI_OTHER,
	  "timestamp=on: messages start with the UTC time", .params = p_msg },
	{ "-nodefaults", NULL, NULL, CALL(opt_nodefaults), CLI_OTHER,
	  "no default COM1 (add serial ports with -serial or -device isa-serial)" },
	{ "-nographic", NULL, NULL, CALL(opt_nographic), CLI_OTHER,
	  "accepted for QEMU compatibility (-nographic: with no -serial\n"
	  "and no monitor, COM1 and the human monitor share stdio, mon:stdio)" },
	{ "-display", NULL, "none", CALL(opt_display), CLI_OTHER, "" },
	{ "-no-user-config", NULL, NULL, IGNORED, CLI_OTHER, "" },
	{ "-S", NULL, NULL, CALL(opt_S), CLI_OTHER, "start paused: vCPUs wait for QMP cont" },
	{ "-no-shutdown", NULL, NULL, CALL(opt_no_shutdown), CLI_OTHER,
	  "on guest poweroff or panic, pause (QMP status shutdown) until quit" },
	{ "-no-reboot", NULL, NULL, CALL(opt_no_reboot), CLI_OTHER,
	  "a guest reboot or system_reset ends the run instead of resetting" },
	{ "-mon", NULL, "chardev=ID[,mode=readline|control]", LIST(mon, 8), CLI_OTHER,
	  "the human monitor (HMP), or QMP with mode=control, on a -chardev", .params = p_mon },
	{ "-monitor", NULL, "stdio|unix:PATH,server,nowait|chardev:ID|none", LIST(monitor, 8),
	  CLI_OTHER, "the human monitor (HMP), \"(qemu) \" prompt" },
	{ "-echr", NULL, "KEY", FIELD(echr), CLI_OTHER,
	  "escape key of mon:stdio and mux=on chardevs (default 1, Ctrl-a)" },
	{ "-incoming", NULL, "file:PATH|defer", FIELD(incoming), CLI_OTHER,
	  "restore the snapshot QMP migrate wrote to PATH (and PATH.mem); defer:\n"
	  "wait for QMP migrate-incoming" },
	{ "-version", NULL, NULL, CALL(opt_version), CLI_OTHER, "print the version" },
	{ "-help", "-h", NULL, CALL(opt_help), CLI_OTHER, "print this help" },
};
const size_t cli_nr_opts = ARRAY_SIZE(cli_opts);

static const char *const group_title[CLI_NR_GROUPS] = {
	[CLI_GUEST] = "Guest",
	[CLI_BACKENDS] = "Front ends and back ends",
	[CLI_OTHER] = "Other",
};

/* "  -kernel PATH", then the options that share its line: ", -nodefaults" */
static size_t opt_line(char *buf, size_t size, size_t i)
{
	size_t len = 0;

	do {
		const struct cli_opt *o = &cli_opts[i];

		len += snprintf(buf + len, size - len, "%s%s%s%s", len ? ", " : "  ",
				o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		if (len >= size)
			return size - 1;
	} while (++i < cli_nr_opts && !cli_opts[i].help[0]);
	return len;
}

/* The help text at HELP_COL (two spaces past a longer left side), each line. */
static void print_help(FILE *f, size_t col, const char *help)
{
	const char *nl;

	fprintf(f, "%*s", (int)(col < HELP_COL - 1 ? HELP_COL - col : 2), "");
	while ((nl = strchr(help, '\n'))) {
		fprintf(f, "%.*s\n%*s", (int)(nl - help), help, HELP_COL, "");
		help = nl + 1;
	}
	fprintf(f, "%s\n", help);
}

void cli_usage(FILE *f)
{
	char left[256];

	fprintf(f,
"Usage: ember -kernel PATH [options]\n"
"\n"
"Boots a Linux kernel in a KVM virtual machine. Options follow QEMU's syntax.\n");
	for (int g = 0; g < CLI_NR_GROUPS; g++) {
		fprintf(f, "\n%s:\n", group_title[g]);
		for (size_t i = 0; i < cli_nr_opts; i++) {
			if (cli_opts[i].group != (enum cli_group)g || !cli_opts[i].help[0])
				continue;
			size_t len = opt_line(left, sizeof(left), i);

			fputs(left, f);
			print_help(f, len, cli_opts[i].help);
		}
	}
	fprintf(f,
"\n"
"Exit status: 0 guest powered off or rebooted, or ember was stopped by a signal;\n"
"1 bad command line or set-up failure; 2 the guest crashed (triple fault,\n"
"emulation failure); 3 the guest kernel panicked (reported through pvpanic).\n");
}

const struct cli_opt *cli_opt_find(const char *name)
{
	for (size_t i = 0; i < cli_nr_opts; i++) {
		const struct cli_opt *o = &cli_opts[i];

		if (o->kind != CLI_MORE &&
		    (!strcmp(name, o->name) || (o->alias && !strcmp(name, o->alias))))
			return o;
	}
	return NULL;
}

int cli_keys_check(const struct keyval *kv, const char *opt)
{
	const struct cli_opt *o = cli_opt_find(opt);
	int ret = keyval_check_unused(kv, opt);

	for (unsigned i = 0; !ret && i < kv->n; i++) {
		const struct cli_param *p = o ? o->params : NULL;

		while (p && p->name && strcmp(p->name, kv->pairs[i].key))
			p++;
		if (!p || !p->name) {
			err_msg("%s: unknown property '%s'", opt, kv->pairs[i].key);
			ret = -EINVAL;
		}
	}
	return ret;
}

/* QEMU takes these in JSON too ('{"driver":"virtio-blk-pci","drive":"d0"}'). */
static bool takes_json(const struct cli_opt *o)
{
	static const char *const json_opts[] = { "-device", "-object", "-netdev", "-blockdev" };

	for (size_t i = 0; i < ARRAY_SIZE(json_opts); i++)
		if (!strcmp(o->name, json_opts[i]))
			return true;
	return false;
}

static int set_opt(struct cli *c, const struct cli_opt *o, const char *val)
{
	const char **field = (const char **)((char *)c + o->field);
	unsigned *count = (unsigned *)((char *)c + o->count);

	switch (o->kind) {
	case CLI_FIELD:
		*field = val;
		return 0;
	case CLI_LIST:
		if (*count >= o->max) {
			err_msg("%s: at most %u may be given", o->name, o->max);
			return -EINVAL;
		}
		if (cli_json_is(val) && takes_json(o)) {
			char *kv;
			int ret = cli_json_to_keyval(val, o->name, &kv);

			if (ret)
				return ret;
			if (!(val = cli_own(c, kv)))
				return -ENOMEM;
		}
		field[(*count)++] = val;
		return 0;
	case CLI_CALL:
		return o->call(c, val);
	default:
		return 0;
	}
}

int cli_parse(int argc, char **argv, struct cli *c)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		const struct cli_opt *o;
		int ret;

		if (a[0] != '-' || !a[1]) {
			err_msg("unexpected argument '%s' (see ember -help)", a);
			return -EINVAL;
		}
		/* --help is -help, as in QEMU */
		o = cli_opt_find(a[1] == '-' ? a + 1 : a);
		if (!o) {
			err_msg("unknown option '%s' (see ember -help)", a);
			return -EINVAL;
		}
		if (o->arg) {
			if (i + 1 >= argc) {
				err_msg("option '%s' needs an argument", a);
				return -EINVAL;
			}
			val = argv[++i];
		}
		ret = set_opt(c, o, val);
		if (ret)
			return ret;
	}
	/* After the whole line, so that a bad option still fails and the last -M counts. */
	for (size_t i = 0; i < cli_nr_opts; i++) {
		const struct cli_opt *o = &cli_opts[i];
		const char *val;

		if (!o->values)
			continue;
		val = *(const char **)((char *)c + o->field);
		if (val && !strcmp(val, "help")) {
			o->values(stdout);
			return 1;
		}
	}
	return 0;
}
