/* ember's command line (vmm/cli_opts.c): the table, its usage text and its parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "vmm/cli_compat.h"
#include "vmm/cli_opts.h"
#include "vmm/version.h"

#define ARGV(...) ((char *[]){ "ember", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "ember", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(c, ...) parse((c), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

/* Fakes of what -M help and -cpu help print (vmm/machine.c, arch/): which one ran. */
static const char *helped;

void machine_types_help(FILE *f)
{
	helped = "-M";
}

void arch_cpu_help(FILE *f)
{
	helped = "-cpu";
}

static int setup(void **state)
{
	log_set_quiet(1);
	return 0;
}

/* cli_parse into a fresh @c, with what -help and -version print thrown away. */
static int parse(struct cli *c, int argc, char **argv)
{
	int saved = dup(1), null = open("/dev/null", O_WRONLY), ret;

	memset(c, 0, sizeof(*c));
	fflush(stdout);
	dup2(null, 1);
	ret = cli_parse(argc, argv, c);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(null);
	return ret;
}

static void parse_fails(int argc, char **argv, const char *want)
{
	struct cli c;

	assert_int_equal(parse(&c, argc, argv), -EINVAL);
	assert_string_equal(log_last(), want);
}
#define PARSE_FAILS(want, ...) parse_fails(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), want)

static char *usage_text(void)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	cli_usage(f);
	fclose(f);
	return buf;
}

static void t_usage_has_every_option(void **state)
{
	char *u = usage_text(), syn[256], help[256];

	for (size_t i = 0; i < cli_nr_opts; i++) {
		const struct cli_opt *o = &cli_opts[i];

		snprintf(syn, sizeof(syn), "%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		if (!strstr(u, syn))
			fail_msg("'%s' is not in the usage text", syn);
		/* the first line of its help */
		snprintf(help, sizeof(help), "%.*s", (int)strcspn(o->help, "\n"), o->help);
		if (!strstr(u, help))
			fail_msg("the help of %s ('%s') is not in the usage text", o->name, help);
	}
	free(u);
}

static void t_usage_layout(void **state)
{
	char *u = usage_text();

	assert_non_null(strstr(u, "Usage: ember -kernel PATH [options]\n"));
	assert_non_null(strstr(u, "\nGuest:\n  -kernel PATH            bzImage"));
	assert_non_null(strstr(u, "\n\nFront ends and back ends:\n  -device "));
	assert_non_null(strstr(u, "\n\nOther:\n"));
	/* a long left side: two spaces; a help on two lines: the second under the first */
	assert_non_null(strstr(u, "  -M TYPE[,memory-backend=ID]  machine type"));
	assert_non_null(strstr(u, "network back end\n                          (-netdev help"));
	/* the options that share one help share its line */
	assert_non_null(strstr(u, "  -nographic, -display none, -no-user-config  accepted"));
	assert_non_null(strstr(u, "  -enable-kvm, -accel kvm  use KVM"));
	assert_non_null(strstr(u, "  -help                   print this help\n\nExit status: 0"));
	free(u);
}

/* What the usage text and the parser take for granted of the table. */
static void t_table(void **state)
{
	for (size_t i = 0; i < cli_nr_opts; i++) {
		const struct cli_opt *o = &cli_opts[i];

		assert_non_null(o->help);
		assert_true(o->group < CLI_NR_GROUPS);
		if (o->kind == CLI_FIELD || o->kind == CLI_LIST)
			assert_non_null(o->arg);
		if (o->kind == CLI_LIST)
			assert_true(o->max > 0);
		if (o->kind == CLI_CALL)
			assert_non_null(o->call);
		/* "" and CLI_MORE continue the row above */
		if (!o->help[0] || o->kind == CLI_MORE) {
			assert_true(i > 0);
			assert_int_equal(cli_opts[i - 1].group, o->group);
		}
		if (o->kind == CLI_MORE)
			assert_string_equal(cli_opts[i - 1].name, o->name);
		/* a name or alias belongs to one option */
		for (size_t j = 0; j < i; j++) {
			const struct cli_opt *p = &cli_opts[j];

			if (o->kind == CLI_MORE)
				break;
			assert_string_not_equal(o->name, p->name);
			if (p->alias)
				assert_string_not_equal(o->name, p->alias);
			if (o->alias)
				assert_string_not_equal(o->alias, p->name);
		}
	}
}

static void t_errors(void **state)
{
	PARSE_FAILS("unknown option '-bogus' (see ember -help)", "-bogus");
	PARSE_FAILS("unknown option '--bogus' (see ember -help)", "-m", "1G", "--bogus");
	PARSE_FAILS("unexpected argument 'stray' (see ember -help)", "stray");
	PARSE_FAILS("unexpected argument '-' (see ember -help)", "-");
	PARSE_FAILS("option '-kernel' needs an argument", "-kernel");
	PARSE_FAILS("option '--machine' needs an argument", "--machine");
	PARSE_FAILS("-display sdl: ember has no display (only 'none')", "-display", "sdl");
	PARSE_FAILS("-qmp unix:/a,server=on: the socket '/a' is given twice", "-qmp",
		    "unix:/a,server", "-qmp", "unix:/a,server=on");
	PARSE_FAILS("-serial: at most 4 may be given", "-serial", "a", "-serial", "b",
		    "-serial", "c", "-serial", "d", "-serial", "e");
}

/* One more than a list holds; one less is fine. */
static void t_too_many(void **state)
{
	char *argv[2 + 2 * (MAX_OPTS + 1)] = { "ember" };
	struct cli c;
	int argc = 1;

	for (int i = 0; i < MAX_OPTS + 1; i++) {
		argv[argc++] = "-device";
		argv[argc++] = "x";
	}
	assert_int_equal(parse(&c, argc - 2, argv), 0);
	assert_int_equal(c.nr_device, MAX_OPTS);
	assert_int_equal(parse(&c, argc, argv), -EINVAL);
	assert_string_equal(log_last(), "-device: at most 64 may be given");
}

static void t_fields(void **state)
{
	struct cli c;

	assert_int_equal(PARSE(&c, "-kernel", "k1", "-kernel", "k2", "-m", "1G", "-serial",
			       "none", "-serial", "stdio", "-nographic", "-display", "none",
			       "-qmp", "unix:q,server=on", "-object", "o"), 0);
	assert_string_equal(c.kernel, "k2");	/* the last one counts */
	assert_string_equal(c.mem, "1G");
	assert_int_equal(c.nr_serial, 2);
	assert_string_equal(c.serial[1], "stdio");
	assert_int_equal(c.nr_qmp, 1);
	assert_string_equal(c.qmp[0], "unix:q,server=on");
	assert_int_equal(c.nr_object, 1);
	assert_null(c.initrd);
}

static void t_aliases(void **state)
{
	struct cli c;

	assert_int_equal(PARSE(&c, "-M", "pci"), 0);
	assert_string_equal(c.machine, "pci");
	assert_int_equal(PARSE(&c, "-machine", "pci"), 0);
	assert_string_equal(c.machine, "pci");
	assert_int_equal(PARSE(&c, "--machine", "microvm", "--M", "pci"), 0);
	assert_string_equal(c.machine, "pci");
	assert_int_equal(PARSE(&c, "--kernel", "k"), 0);
	assert_string_equal(c.kernel, "k");
}

/* -help, -version and -print-seccomp end the parse: what follows is not read. */
static void t_done(void **state)
{
	struct cli c;

	assert_int_equal(PARSE(&c, "-h", "-bogus"), 1);
	assert_int_equal(PARSE(&c, "--help"), 1);
	assert_int_equal(PARSE(&c, "-help"), 1);
	assert_int_equal(PARSE(&c, "-version", "-kernel"), 1);
	assert_int_equal(PARSE(&c, "-print-seccomp", "-bogus"), 1);
	assert_true(c.print_seccomp);
	PARSE_FAILS("unknown option '-bogus' (see ember -help)", "-bogus", "-help");
}

/* "OPT help" goes through the option's .values, once the whole line is read. */
static void t_values_help(void **state)
{
	struct cli c;

	helped = NULL;
	assert_int_equal(PARSE(&c, "-M", "help"), 1);
	assert_string_equal(helped, "-M");
	helped = NULL;
	assert_int_equal(PARSE(&c, "-kernel", "k", "-cpu", "help"), 1);
	assert_string_equal(helped, "-cpu");
	/* the table's order: -M before -cpu, as ember always answered */
	assert_int_equal(PARSE(&c, "-cpu", "help", "--machine", "help"), 1);
	assert_string_equal(helped, "-M");

	helped = NULL;
	assert_int_equal(PARSE(&c, "-M", "help", "-M", "pci"), 0);	/* the last counts */
	assert_int_equal(PARSE(&c, "-M", "pci,help"), 0);	/* cli.c's keyval answers it */
	assert_int_equal(PARSE(&c, "-cpu", "minimal"), 0);
	PARSE_FAILS("unknown option '-bogus' (see ember -help)", "-M", "help", "-bogus");
	assert_int_equal(PARSE(&c, "-M", "help", "-help"), 1);	/* -help first */
	assert_int_equal(PARSE(&c, "-print-seccomp", "-M", "help"), 1);
	assert_null(helped);

	for (size_t i = 0; i < cli_nr_opts; i++)
		if (cli_opts[i].values)
			assert_int_equal(cli_opts[i].kind, CLI_FIELD);
}

/* -version says ember and the QEMU level it follows (vmm/version.h). */
static void t_version(void **state)
{
	char buf[256] = "";
	int p[2], saved = dup(1);
	ssize_t n;
	struct cli c = { 0 };

	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	dup2(p[1], 1);
	assert_int_equal(cli_parse(2, ARGV("--version"), &c), 1);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "ember " EMBER_VERSION " (QEMU 7.2.0 command line and QMP subset)"));
	assert_string_equal(EMBER_QEMU_LEVEL, "7.2.0");
}

/* QEMU's options that carry a value ember keeps or checks. */
static void t_qemu_options(void **state)
{
	struct cli c;

	assert_int_equal(PARSE(&c, "-enable-kvm", "-accel", "kvm", "-no-user-config",
			       "-nodefaults", "-daemonize", "-pidfile", "/run/e.pid",
			       "-name", "vm1", "-uuid", "12345678-9abc-DEF0-1234-56789abcdef0",
			       "-rtc", "base=utc,clock=host,driftfix=slew", "-msg", "timestamp=off",
			       "-overcommit", "mem-lock=on,cpu-pm=off",
			       "-qmp", "unix:/s,server,nowait", "-qmp", "unix:/t,server=on"), 0);
	assert_true(c.nodefaults);
	assert_true(c.daemonize);
	assert_string_equal(c.pidfile, "/run/e.pid");
	assert_string_equal(c.name, "vm1");
	assert_string_equal(c.uuid, "12345678-9abc-DEF0-1234-56789abcdef0");
	assert_string_equal(c.overcommit, "mem-lock");
	assert_int_equal(c.nr_qmp, 2);	/* several servers, as in QEMU */
	assert_string_equal(c.qmp[0], "unix:/s,server,nowait");
	assert_string_equal(c.qmp[1], "unix:/t,server=on");
	assert_string_equal(c.rtc, "base=utc,clock=host,driftfix=slew");
	assert_false(c.no_reboot);	/* QEMU's default: a reboot resets in place */
	assert_string_equal(c.rtc_base, "utc");
	cli_free(&c);
	assert_int_equal(PARSE(&c, "-rtc", "base=localtime"), 0);
	assert_string_equal(c.rtc_base, "localtime");	/* devices/rtc.c reads it */
	cli_free(&c);
	assert_int_equal(PARSE(&c, "-name", "guest=vm2,process=qemu-vm2,debug-threads=on",
			       "-overcommit", "mem-lock=off", "-msg", "timestamp=on,guest-name=on",
			       "-no-reboot", "-nographic"), 0);
	assert_string_equal(c.name, "vm2");
	assert_null(c.overcommit);
	assert_true(c.no_reboot);
	log_set_timestamps(0);
	cli_free(&c);
	assert_false(c.nodefaults);

	PARSE_FAILS("-accel tcg: ember runs on KVM only (use -accel kvm)", "-accel", "tcg");
	PARSE_FAILS("-accel: unknown property 'thread'", "-accel", "kvm,thread=multi");
	PARSE_FAILS("-uuid 1234: expected a UUID like 12345678-9abc-def0-1234-56789abcdef0",
		    "-uuid", "1234");
	PARSE_FAILS("-uuid 12345678-9abc-def0-1234-56789abcdef0x: expected a UUID like "
		    "12345678-9abc-def0-1234-56789abcdef0", "-uuid",
		    "12345678-9abc-def0-1234-56789abcdef0x");
	PARSE_FAILS("-name process=x: no name given (-name NAME or -name guest=NAME)",
		    "-name", "process=x");
	PARSE_FAILS("-rtc clock=vm: ember's RTC follows the host's clock (only clock=host)",
		    "-rtc", "clock=vm");
	PARSE_FAILS("-msg timestamp=maybe: expected on or off", "-msg", "timestamp=maybe");
	PARSE_FAILS("-overcommit cpu-pm=on: ember does not give the guest HLT and MWAIT",
		    "-overcommit", "cpu-pm=on");
	PARSE_FAILS("-overcommit: unknown property 'mem'", "-overcommit", "mem=on");
	/* vmm/qmp.c's messages, before anything is set up */
	PARSE_FAILS("-qmp unix:/s: server=on is required (ember listens; it does not connect): "
		    "use -qmp unix:PATH,server=on[,wait=on|off]", "-qmp", "unix:/s");
	PARSE_FAILS("-qmp unix:/s,noserver: server=on is required (ember listens; it does not "
		    "connect): use -qmp unix:PATH,server=on[,wait=on|off]", "-qmp", "unix:/s,noserver");
	PARSE_FAILS("-qmp tcp:1:2,server: only unix sockets are supported: "
		    "use -qmp unix:PATH,server=on[,wait=on|off]", "-qmp", "tcp:1:2,server");
	PARSE_FAILS("-qmp unix:/s,server,wait=maybe: wait=maybe: expected on or off", "-qmp",
		    "unix:/s,server,wait=maybe");
	PARSE_FAILS("-qmp: unknown property 'telnet'", "-qmp", "unix:/s,server,telnet");
}

/* -msg timestamp=on: the line starts with the UTC time. */
static void t_msg_timestamp(void **state)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	struct cli c;

	assert_int_equal(PARSE(&c, "-msg", "timestamp=on"), 0);
	log_set_quiet(0);
	log_set_file(f);
	err_msg("x");
	log_set_file(NULL);
	log_set_quiet(1);
	log_set_timestamps(0);
	fclose(f);
	/* 2026-12-07T01:02:03.123456Z ember: error: x */
	assert_int_equal(strlen(buf), 28 + strlen("ember: error: x\n"));
	assert_int_equal(buf[10], 'T');
	assert_memory_equal(buf + 26, "Z ember: error: x\n", 18);
	free(buf);
}

/* EMBER_TRACE=boot: a line per stage, milliseconds since the start; off, nothing. */
static void t_boot_trace(void **state)
{
	char *buf = NULL, stage[32];
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	double ms = -1;

	log_set_quiet(0);
	log_set_file(f);
	boot_trace("not traced");
	boot_tracing = 1;
	boot_trace("kernel loaded");
	for (int i = 0; i < 2; i++)
		boot_trace_once("once");
	boot_tracing = 0;
	log_set_file(NULL);
	log_set_quiet(1);
	fclose(f);
	assert_null(strstr(buf, "not traced"));
	assert_int_equal(sscanf(buf, "ember: trace %lf %31s", &ms, stage), 2);
	assert_true(ms > 0 && ms < 60000);
	assert_non_null(strstr(buf, " kernel loaded\n"));
	assert_non_null(strstr(buf, " once\n"));
	assert_null(strstr(strstr(buf, " once\n") + 1, " once\n"));
	free(buf);
}

/* QEMU's JSON forms become the keyval text of the dotted forms. */
static void t_json(void **state)
{
	struct cli c;

	assert_int_equal(PARSE(&c, "-device", "{\"driver\":\"virtio-blk-pci\",\"drive\":\"d0\"}",
			       "-blockdev", "{\"driver\":\"raw\",\"node-name\":\"d0\",\"read-only\":true,"
			       "\"file\":{\"driver\":\"file\",\"filename\":\"a,b.img\"}}",
			       "-object", "{ \"qom-type\": \"memory-backend-memfd\", \"id\": \"m\", "
			       "\"size\": 268435456 }\n",
			       "-netdev", "{\"type\":\"tap\",\"id\":\"n0\",\"fd\":\"3\",\"vhost\":false}"), 0);
	assert_string_equal(c.device[0], "driver=virtio-blk-pci,drive=d0");
	assert_string_equal(c.blockdev[0], "driver=raw,node-name=d0,read-only=on,"
			    "file.driver=file,file.filename=a,,b.img");
	assert_string_equal(c.object[0], "qom-type=memory-backend-memfd,id=m,size=268435456");
	assert_string_equal(c.netdev[0], "type=tap,id=n0,fd=3,vhost=off");
	cli_free(&c);
	/* the dotted form is left alone */
	assert_int_equal(PARSE(&c, "-device", "virtio-rng-device"), 0);
	assert_string_equal(c.device[0], "virtio-rng-device");

	PARSE_FAILS("-device: not valid JSON: unexpected end", "-device", "{\"driver\":");
	PARSE_FAILS("-device: not valid JSON: text after the object", "-device", "{} x");
	PARSE_FAILS("-netdev: 'x': JSON arrays are not supported", "-netdev", "{\"x\":[1]}");
	PARSE_FAILS("-object: 'a.b': null is not a value", "-object", "{\"a\":{\"b\":null}}");
	PARSE_FAILS("-blockdev: 'x': expected an integer, not a fraction", "-blockdev",
		    "{\"x\":1.5}");
	PARSE_FAILS("-device: empty JSON object", "-device", "{}");
	PARSE_FAILS("-device: JSON key 'a,b' cannot be an option key (empty, or with ',' or '=')",
		    "-device", "{\"a,b\":1}");
	/* -chardev has no JSON form in QEMU 7.2: left to the keyval parser */
	assert_int_equal(PARSE(&c, "-chardev", "{x"), 0);
	assert_string_equal(c.chardev[0], "{x");
}

/* -M: QEMU's microvm properties, accel=, and what ember has none of. */
static void t_machine(void **state)
{
	struct cli c = { 0 };
	struct cli_machine m;

	assert_int_equal(cli_parse_machine(&c, "microvm,x-option-roms=off,pit=off,pic=off,"
					   "isa-serial=off,rtc=off", &m), 0);
	assert_string_equal(m.type, "microvm");
	assert_true(m.no_com1);
	assert_int_equal(cli_parse_machine(&c, "microvm,pcie=on,acpi=on,accel=kvm", &m), 0);
	assert_string_equal(m.type, "pci");
	assert_false(m.no_com1);
	assert_int_equal(cli_parse_machine(&c, "accel=kvm:tcg,usb=off,graphics=off,vmport=off,"
					   "smm=off,dump-guest-core=off,mem-merge=off,"
					   "memory-backend=ram0", &m), 0);
	assert_null(m.type);
	assert_string_equal(m.ram_id, "ram0");
	assert_int_equal(cli_parse_machine(&c, "pci,help", &m), 0);
	assert_true(m.help);
	cli_free(&c);

	assert_int_equal(cli_parse_machine(&c, "microvm,accel=tcg", &m), -EINVAL);
	assert_string_equal(log_last(), "-M accel=tcg: ember runs on KVM only (use accel=kvm)");
	assert_int_equal(cli_parse_machine(&c, "microvm,acpi=off", &m), -EINVAL);
	assert_string_equal(log_last(), "-M acpi=off: ember's machines describe their devices "
			    "in ACPI (acpi=on only)");
	assert_int_equal(cli_parse_machine(&c, "microvm,usb=on", &m), -EINVAL);
	assert_string_equal(log_last(), "-M usb=on: ember's machines have no usb");
	assert_int_equal(cli_parse_machine(&c, "microvm,pit=maybe", &m), -EINVAL);
	assert_string_equal(log_last(), "-M pit=maybe: expected on or off");
	assert_int_equal(cli_parse_machine(&c, "q35,pcie=on", &m), -EINVAL);
	assert_string_equal(log_last(), "-M q35,pcie=on: only microvm takes pcie=on");
	assert_int_equal(cli_parse_machine(&c, "microvm,ioapic2=off", &m), -EINVAL);
	assert_string_equal(log_last(), "-M: unknown property 'ioapic2'");
	cli_free(&c);
}

/* -m SIZE,slots=N,maxmem=M: slots and maxmem are checked, the size counts. */
static void t_mem(void **state)
{
	uint64_t size = 0;

	assert_int_equal(cli_parse_mem("1G,slots=2,maxmem=4G", &size), 0);
	assert_int_equal(size, 1ULL << 30);
	assert_int_equal(cli_parse_mem("size=512M", &size), 0);
	assert_int_equal(size, 512ULL << 20);
	assert_int_equal(cli_parse_mem("1G,maxmem=512M", &size), -EINVAL);
	assert_string_equal(log_last(), "-m maxmem=512M: expected a size at least the RAM size");
	assert_int_equal(cli_parse_mem("1G,slots=x", &size), -EINVAL);
	assert_string_equal(log_last(), "-m slots=x: expected a number of slots (0 to 256)");
	assert_int_equal(cli_parse_mem("1G,hotplug=on", &size), -EINVAL);
	assert_string_equal(log_last(), "-m: unknown property 'hotplug'");
	assert_int_equal(cli_parse_mem("8M", &size), -EINVAL);
	assert_string_equal(log_last(), "-m 8M: guest RAM must be at least 16 MiB");
}

/* -sandbox with QEMU's deny keys, which ember's allowlist always denies. */
static void t_sandbox(void **state)
{
	int on = -1;

	assert_int_equal(cli_parse_sandbox("on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
					   "resourcecontrol=deny", &on), 0);
	assert_int_equal(on, 1);
	assert_int_equal(cli_parse_sandbox("on,elevateprivileges=children", &on), 0);
	assert_int_equal(cli_parse_sandbox("off", &on), 0);
	assert_int_equal(on, 0);
	assert_int_equal(cli_parse_sandbox("on,spawn=allow", &on), -EINVAL);
	assert_string_equal(log_last(), "-sandbox spawn=allow: ember's allowlist always denies "
			    "these calls (only spawn=deny)");
	assert_int_equal(cli_parse_sandbox("maybe", &on), -EINVAL);
	assert_string_equal(log_last(), "-sandbox maybe: expected on or off");
	assert_int_equal(cli_parse_sandbox("on,bogus=deny", &on), -EINVAL);
	assert_string_equal(log_last(), "-sandbox: unknown property 'bogus'");
}

static void t_serial_unix(void **state)
{
	struct cli c = { 0 };
	const char *o;

	assert_int_equal(cli_unix_chardev(&c, "-serial", "unix:/tmp/s,server,nowait", "serial0", &o), 0);
	assert_string_equal(o, "socket,id=serial0,path=/tmp/s,server=on,wait=off");
	assert_int_equal(cli_unix_chardev(&c, "-serial", "unix:/a,,b", "serial1", &o), 0);
	assert_string_equal(o, "socket,id=serial1,path=/a,,b,server=off");
	assert_int_equal(cli_unix_chardev(&c, "-serial", "unix:", "serial1", &o), -EINVAL);
	assert_string_equal(log_last(),
			    "-serial unix:: expected unix:PATH[,server=on|off][,wait=on|off]");
	assert_int_equal(cli_unix_chardev(&c, "-serial", "unix:/s,telnet", "serial1", &o), -EINVAL);
	assert_string_equal(log_last(), "-serial: unknown property 'telnet'");
	cli_free(&c);
}

/* Runs @opt's own parser on @arg: 0 or its error. */
static int parse_option(const char *opt, const char *arg)
{
	struct cli_machine m;
	struct cli c;
	uint64_t size;
	unsigned n;
	int on, ret;

	char *argv[] = { "ember", (char *)opt, (char *)arg, NULL };

	memset(&c, 0, sizeof(c));
	if (!strcmp(opt, "-m"))
		ret = cli_parse_mem(arg, &size);
	else if (!strcmp(opt, "-smp"))
		ret = cli_parse_smp(arg, &n);
	else if (!strcmp(opt, "-M"))
		ret = cli_parse_machine(&c, arg, &m);
	else if (!strcmp(opt, "-sandbox"))
		ret = cli_parse_sandbox(arg, &on);
	else if (!(ret = parse(&c, 3, argv)) && !strcmp(opt, "-drive"))
		ret = cli_expand(&c, false);	/* -drive's keys are read there */
	cli_free(&c);
	return ret;
}

/* What @opt needs before a key so that the key is reached. */
static const char *needs(const char *opt)
{
	return !strcmp(opt, "-qmp") ? "unix:/q,server," : !strcmp(opt, "-drive") ?
	       "file=f,if=none," : !strcmp(opt, "-accel") ? "kvm," :
	       !strcmp(opt, "-sandbox") ? "on," : "";
}

/*
 * Each key of an option's parameter table (what QMP's
 * query-command-line-options lists) is one its parser reads, and a key
 * outside the table is refused: the table and the parser agree.
 */
static void t_params(void **state)
{
	unsigned tables = 0, keys = 0;

	for (size_t i = 0; i < cli_nr_opts; i++) {
		const struct cli_opt *o = &cli_opts[i];

		if (!o->params || !strcmp(o->name, "-mon"))	/* -mon: test_qmp, e2e */
			continue;
		tables++;
		for (const struct cli_param *p = o->params; p->name; p++) {
			const char *v = !strcmp(p->type, "boolean") ? "on" :
					!strcmp(p->type, "size") ? "1G" :
					!strcmp(p->type, "number") ? "1" : "x";
			char arg[160], want[160];

			snprintf(arg, sizeof(arg), "%s%s=%s", needs(o->name), p->name, v);
			snprintf(want, sizeof(want), "%s: unknown property '%s'", o->name, p->name);
			if (parse_option(o->name, arg) && !strcmp(log_last(), want))
				fail_msg("%s %s: the parser does not read a key of its table", o->name,
					 arg);
			keys++;
		}
		char bad[64];

		snprintf(bad, sizeof(bad), "%sfrob=1", needs(o->name));
		assert_int_equal(parse_option(o->name, bad), -EINVAL);
		if (!strstr(log_last(), "unknown property 'frob'"))
			fail_msg("%s frob=1: %s", o->name, log_last());
	}
	assert_true(tables >= 11);
	assert_true(keys >= 50);
}

/* -drive cache=: QEMU's five modes onto the write cache, O_DIRECT and flushes. */
static void t_drive_cache(void **state)
{
	static const struct {
		const char *mode;
		bool writeback, direct, no_flush;
	} want[] = {
		{ NULL, true, false, false }, { "writeback", true, false, false },
		{ "none", true, true, false }, { "writethrough", false, false, false },
		{ "directsync", false, true, false }, { "unsafe", true, false, true },
	};
	struct cli_cache cc;
	struct cli c;

	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(cli_drive_cache(want[i].mode, &cc), 0);
		assert_int_equal(cc.writeback, want[i].writeback);
		assert_int_equal(cc.direct, want[i].direct);
		assert_int_equal(cc.no_flush, want[i].no_flush);
	}
	assert_int_equal(cli_drive_cache("sync", &cc), -EINVAL);

	/* onto the nodes and the device; if=none: the -device naming it */
	assert_int_equal(PARSE(&c, "-drive", "file=a.img,if=virtio,cache=writethrough",
			       "-drive", "file=b.img,if=virtio,cache=directsync",
			       "-drive", "file=c.img,if=virtio,cache=unsafe",
			       "-drive", "file=d.img,if=none,id=d3,cache=writethrough",
			       "-drive", "file=e.img,if=none,id=d4,cache=none,cache.writeback=off,"
			       "cache.no-flush=on",
			       "-device", "virtio-blk-pci,drive=d3",
			       "-device", "virtio-blk-pci,drive=d4,write-cache=on"), 0);
	assert_int_equal(cli_expand(&c, false), 0);
	assert_string_equal(c.blockdev[0], "driver=raw,node-name=virtio0,file.driver=file,"
			    "file.filename=a.img,discard=ignore");
	assert_string_equal(c.blockdev[1], "driver=raw,node-name=virtio1,file.driver=file,"
			    "file.filename=b.img,discard=ignore,file.cache.direct=on");
	assert_string_equal(c.blockdev[2], "driver=raw,node-name=virtio2,file.driver=file,"
			    "file.filename=c.img,discard=ignore,cache.no-flush=on");
	assert_string_equal(c.blockdev[4], "driver=raw,node-name=d4,file.driver=file,"
			    "file.filename=e.img,discard=ignore,file.cache.direct=on,"
			    "cache.no-flush=on");
	assert_string_equal(c.device[0], "virtio-blk-pci,drive=d3,write-cache=off");
	assert_string_equal(c.device[1], "virtio-blk-pci,drive=d4,write-cache=on");	/* said */
	assert_string_equal(c.device[2], "virtio-blk-device,drive=virtio0,write-cache=off");
	assert_string_equal(c.device[3], "virtio-blk-device,drive=virtio1,write-cache=off");
	assert_string_equal(c.device[4], "virtio-blk-device,drive=virtio2");
	cli_free(&c);
}

/* -drive and -nic become -blockdev, -netdev and -device options. */
static void t_drive_nic(void **state)
{
	struct cli c;

	assert_int_equal(PARSE(&c, "-drive", "id=test,file=test.img,format=raw,if=none",
			       "-drive", "file=a,,b.img,if=virtio,readonly=on,cache=none,aio=native,"
			       "discard=unmap,media=disk",
			       "-drive", "file=c.img,if=virtio,cache=writeback,aio=threads,discard=off,"
			       "format=qcow2",
			       "-nic", "user,hostfwd=tcp::2222-:22",
			       "-nic", "tap,ifname=tap0,script=no,downscript=no,model=virtio-net-pci,"
			       "mac=52:54:00:00:00:01",
			       "-nic", "none"), 0);
	assert_int_equal(cli_expand(&c, false), 0);
	assert_int_equal(c.nr_blockdev, 3);
	assert_string_equal(c.blockdev[0], "driver=raw,node-name=test,file.driver=file,"
			    "file.filename=test.img,discard=ignore");
	assert_string_equal(c.blockdev[1], "driver=raw,node-name=virtio0,file.driver=file,"
			    "file.filename=a,,b.img,discard=unmap,read-only=on,file.cache.direct=on");
	assert_string_equal(c.blockdev[2], "driver=qcow2,node-name=virtio1,file.driver=file,"
			    "file.filename=c.img,discard=ignore");
	assert_int_equal(c.nr_netdev, 2);
	assert_string_equal(c.netdev[0], "user,id=nic0,hostfwd=tcp::2222-:22");
	assert_string_equal(c.netdev[1], "tap,id=nic1,ifname=tap0,script=no,downscript=no");
	assert_int_equal(c.nr_device, 4);
	assert_string_equal(c.device[0], "virtio-blk-device,drive=virtio0");
	assert_string_equal(c.device[1], "virtio-blk-device,drive=virtio1");
	assert_string_equal(c.device[2], "virtio-net-device,netdev=nic0");
	assert_string_equal(c.device[3], "virtio-net-device,netdev=nic1,mac=52:54:00:00:00:01");
	cli_free(&c);

	/* PCI machines get the -pci front ends */
	assert_int_equal(PARSE(&c, "-drive", "file=d.img,if=virtio,format=raw,id=d0",
			       "-nic", "tap,id=n5"), 0);
	assert_int_equal(cli_expand(&c, true), 0);
	assert_string_equal(c.device[0], "virtio-blk-pci,drive=d0");
	assert_string_equal(c.device[1], "virtio-net-pci,netdev=n5");
	cli_free(&c);

	static char *const bad[][2] = {
		{ "file=d.img", "-drive: if=ide (QEMU's default) is not in ember: use if=virtio "
		  "or if=none" },
		{ "file=d.img,if=scsi", "-drive if=scsi: ember has only virtio disks (if=virtio or "
		  "if=none)" },
		{ "file=d.img,if=none,format=vmdk", "-drive format=vmdk: ember reads raw and qcow2 "
		  "images (format=raw or format=qcow2)" },
		{ "file=d.img,if=none,cache=wb", "-drive cache=wb: expected writeback, none, "
		  "writethrough, directsync or unsafe" },
		{ "file=d.img,if=none,cache.no-flush=maybe", "-drive cache.no-flush=maybe: expected "
		  "on or off" },
		{ "file=d.img,if=none,media=cdrom", "-drive media=cdrom: ember has disks only "
		  "(media=disk)" },
		{ "if=none", "-drive: file= is required (ember has no removable media)" },
		{ "file=d.img,if=none,aio=posix", "-drive aio=posix: expected threads, native or "
		  "io_uring" },
		{ "file=d.img,if=none,discard=maybe", "-drive discard=maybe: expected ignore (off) "
		  "or unmap (on)" },
		{ "file=d.img,if=none,readonly=yes please", "-drive readonly=yes please: expected "
		  "on or off" },
		{ "file=d.img,if=none,snapshot=on", "-drive: unknown property 'snapshot'" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(PARSE(&c, "-drive", bad[i][0]), 0);
		assert_int_equal(cli_expand(&c, false), -EINVAL);
		assert_string_equal(log_last(), bad[i][1]);
		cli_free(&c);
	}
	assert_int_equal(PARSE(&c, "-nic", "tap,model=e1000"), 0);
	assert_int_equal(cli_expand(&c, false), -EINVAL);
	assert_string_equal(log_last(),
			    "-nic model=e1000: ember's network card is virtio-net (model=virtio)");
	cli_free(&c);
	assert_int_equal(PARSE(&c, "-nic", "none,model=virtio"), 0);
	assert_int_equal(cli_expand(&c, false), -EINVAL);
	assert_string_equal(log_last(), "-nic none: unknown property 'model'");
	cli_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_usage_has_every_option),
		cmocka_unit_test(t_usage_layout),
		cmocka_unit_test(t_table),
		cmocka_unit_test(t_errors),
		cmocka_unit_test(t_too_many),
		cmocka_unit_test(t_drive_cache),
		cmocka_unit_test(t_params),
		cmocka_unit_test(t_fields),
		cmocka_unit_test(t_aliases),
		cmocka_unit_test(t_done),
		cmocka_unit_test(t_values_help),
		cmocka_unit_test(t_version),
		cmocka_unit_test(t_qemu_options),
		cmocka_unit_test(t_msg_timestamp),
		cmocka_unit_test(t_boot_trace),
		cmocka_unit_test(t_json),
		cmocka_unit_test(t_machine),
		cmocka_unit_test(t_mem),
		cmocka_unit_test(t_sandbox),
		cmocka_unit_test(t_serial_unix),
		cmocka_unit_test(t_drive_nic),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
