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
#include "vmm/cli_opts.h"

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
	assert_non_null(strstr(u, "  -nographic, -display none, -nodefaults, -no-reboot  accepted"));
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
	PARSE_FAILS("-qmp b: only one -qmp is supported", "-qmp", "a", "-qmp", "b");
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
			       "-qmp", "q", "-object", "o"), 0);
	assert_string_equal(c.kernel, "k2");	/* the last one counts */
	assert_string_equal(c.mem, "1G");
	assert_int_equal(c.nr_serial, 2);
	assert_string_equal(c.serial[1], "stdio");
	assert_string_equal(c.qmp, "q");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_usage_has_every_option),
		cmocka_unit_test(t_usage_layout),
		cmocka_unit_test(t_table),
		cmocka_unit_test(t_errors),
		cmocka_unit_test(t_too_many),
		cmocka_unit_test(t_fields),
		cmocka_unit_test(t_aliases),
		cmocka_unit_test(t_done),
		cmocka_unit_test(t_values_help),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
