/*
 * What cli_check (vmm/cli.c) makes of QEMU's console options before
 * anything is set up: -nographic's default COM1 on mon:stdio, which the
 * other monitors and -nodefaults turn off; -serial mon:DEV forms; -echr.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/cli.h"
#include "vmm/cli_opts.h"
#include "vmm/machine.h"

#define ARGV(...) ((char *[]){ "ember", "-kernel", "/k", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "ember", "-kernel", "/k", __VA_ARGS__ }) / sizeof(char *)))
#define CHECK(c, ...) check((c), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static int check(struct cli *c, int argc, char **argv)
{
	struct machine_config mc = { 0 };
	struct cli_machine cm;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = cli_parse(argc, argv, c);
	if (!ret)
		ret = cli_check(c, &mc, &cm);
	return ret;
}

/* COM1 of @args, or "" when they are refused (the message in log_last()). */
static const char *com1(struct cli *c, int ret)
{
	return ret ? "" : c->nr_serial ? c->serial[0] : "(none)";
}

static void t_nographic(void **state)
{
	struct cli c;
	int ret;

	(void)state;
	ret = CHECK(&c, "-nographic");
	assert_string_equal(com1(&c, ret), "mon:stdio");
	cli_free(&c);
	ret = CHECK(&c, "-m", "256");
	assert_string_equal(com1(&c, ret), "stdio");
	cli_free(&c);
	/* a monitor of its own, or QMP: QEMU leaves COM1 on plain stdio */
	ret = CHECK(&c, "-nographic", "-qmp", "unix:/tmp/q.sock,server,nowait");
	assert_string_equal(com1(&c, ret), "stdio");
	cli_free(&c);
	ret = CHECK(&c, "-nographic", "-monitor", "stdio");
	assert_string_equal(com1(&c, ret), "none");
	cli_free(&c);
	ret = CHECK(&c, "-nographic", "-nodefaults");
	assert_string_equal(com1(&c, ret), "none");
	cli_free(&c);
	ret = CHECK(&c, "-nographic", "-serial", "file:/tmp/c.log");
	assert_string_equal(com1(&c, ret), "file:/tmp/c.log");
	cli_free(&c);
}

static void t_serial_mon(void **state)
{
	struct cli c;
	int ret;

	(void)state;
	ret = CHECK(&c, "-serial", "mon:stdio");
	assert_int_equal(ret, 0);
	cli_free(&c);
	ret = CHECK(&c, "-serial", "mon:unix:/tmp/s.sock,server,nowait");
	assert_int_equal(ret, 0);
	cli_free(&c);
	ret = CHECK(&c, "-serial", "mon:bogus");
	assert_int_equal(ret, -EINVAL);
	assert_non_null(strstr(log_last(), "bogus: expected none, stdio, null, pty"));
	cli_free(&c);
	ret = CHECK(&c, "-daemonize", "-serial", "mon:stdio");
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(log_last(), "-serial mon:stdio: not with -daemonize, which closes stdio");
	cli_free(&c);
}

static void t_echr(void **state)
{
	struct cli c;
	int ret;

	(void)state;
	ret = CHECK(&c, "-nographic", "-echr", "0x14");
	assert_int_equal(ret, 0);
	cli_free(&c);
	ret = CHECK(&c, "-echr", "20");
	assert_int_equal(ret, 0);
	cli_free(&c);
	for (unsigned i = 0; i < 3; i++) {
		char *bad[] = { "256", "-1", "x" };

		ret = CHECK(&c, "-echr", bad[i]);
		assert_int_equal(ret, -EINVAL);
		assert_non_null(strstr(log_last(), "expected the escape key's code, 0 to 255"));
		cli_free(&c);
	}
	ret = CHECK(&c, "-echr", "1");	/* back to Ctrl-a for whatever runs next */
	cli_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_nographic),
		cmocka_unit_test(t_serial_mon),
		cmocka_unit_test(t_echr),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
