/* ember's options: the table, its usage text and its parser; see cli_opts.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/arch.h"
#include "lib/log.h"
#include "lib/util.h"
#include "vmm/cli_opts.h"

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
	printf("ember %s (with test triggers)\n", EMBER_VERSION);
#else
	printf("ember %s\n", EMBER_VERSION);
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

static int opt_qmp(struct cli *c, const char *arg)
{
	if (c->qmp) {
		err_msg("-qmp %s: only one -qmp is supported", arg);
		return -EINVAL;
	}
	c->qmp = arg;
	return 0;
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
	{ "-m", NULL, "SIZE", FIELD(mem), CLI_GUEST,
	  "guest RAM, e.g. 512M or 2G (default 256M; a bare number is MiB)" },
	{ "-smp", NULL, "N", FIELD(smp), CLI_GUEST, "number of vCPUs (default 1)" },
	{ "-M", "-machine", "TYPE[,memory-backend=ID]", FIELD(machine), CLI_GUEST,
	  "machine type (-M help lists them)", machine_types_help },
	{ "-cpu", NULL, "TEMPLATE", FIELD(cpu), CLI_GUEST,
	  "CPUID template: host (default) or minimal", arch_cpu_help },

	{ "-device", NULL, "DRIVER[,prop=value...]", LIST(device, MAX_OPTS), CLI_BACKENDS,
	  "add a device (-device help, -device DRIVER,help)" },
	{ "-chardev", NULL, "TYPE,id=ID[,...]", LIST(chardev, MAX_OPTS), CLI_BACKENDS,
	  "character back end\n(-chardev help, -chardev TYPE,help)" },
	{ "-serial", NULL, "stdio|none|null|file:PATH|chardev:ID", LIST(serial, MAX_SERIALS),
	  CLI_BACKENDS, "next serial port (COM1..COM4)" },
	{ "-blockdev", NULL, "driver=file|raw,node-name=N,...", LIST(blockdev, MAX_OPTS),
	  CLI_BACKENDS, "block back end (-blockdev help)" },
	{ "-netdev", NULL, "tap,id=N[,ifname=NAME][,fd=FD][,queues=Q][,vhost=on|off]",
	  LIST(netdev, MAX_OPTS), CLI_BACKENDS,
	  "network back end\n(-netdev help, -netdev tap,help)" },
	{ "-object", NULL, "memory-backend-memfd,id=ID,size=SIZE[,hugetlb=on]",
	  LIST(object, MAX_OPTS), CLI_BACKENDS, "guest RAM back end (-object help)" },
	{ "-object", NULL, "rng-random,id=ID[,filename=/dev/urandom]", MORE, CLI_BACKENDS,
	  "entropy source for virtio-rng" },

	{ "-qmp", NULL, "unix:PATH,server=on[,wait=off]", CALL(opt_qmp), CLI_OTHER,
	  "QMP API socket (docs/api.md)" },
	{ "-sandbox", NULL, "on|off", FIELD(sandbox), CLI_OTHER,	/* sandbox */
	  "seccomp allowlists per thread, no capabilities (default on)" },
	{ "-print-seccomp", NULL, NULL, CALL(opt_print_seccomp), CLI_OTHER,	/* sandbox */
	  "print the allowed system calls of each thread class" },
	{ "-nographic", NULL, NULL, IGNORED, CLI_OTHER, "accepted for QEMU compatibility" },
	{ "-display", NULL, "none", CALL(opt_display), CLI_OTHER, "" },
	{ "-nodefaults", NULL, NULL, IGNORED, CLI_OTHER, "" },
	{ "-no-reboot", NULL, NULL, IGNORED, CLI_OTHER, "" },
	{ "-S", NULL, NULL, CALL(opt_S), CLI_OTHER, "start paused: vCPUs wait for QMP cont" },
	{ "-no-shutdown", NULL, NULL, CALL(opt_no_shutdown), CLI_OTHER,
	  "on guest poweroff or panic, pause (QMP status shutdown) until quit" },
	{ "-mon", NULL, "chardev=ID,mode=control", LIST(mon, 8), CLI_OTHER,
	  "QMP on a -chardev (docs/api.md)" },
	{ "-monitor", NULL, "none", LIST(monitor, 8), CLI_OTHER,
	  "no human monitor (HMP): only none is accepted" },
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

static const struct cli_opt *find_opt(const char *name)
{
	for (size_t i = 0; i < cli_nr_opts; i++) {
		const struct cli_opt *o = &cli_opts[i];

		if (o->kind != CLI_MORE &&
		    (!strcmp(name, o->name) || (o->alias && !strcmp(name, o->alias))))
			return o;
	}
	return NULL;
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
		o = find_opt(a[1] == '-' ? a + 1 : a);
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
