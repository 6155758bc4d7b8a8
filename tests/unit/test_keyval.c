/* keyval: QEMU option-string syntax. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/keyval.h"
#include "lib/log.h"

static int setup(void **state)
{
	log_set_quiet(1);
	return 0;
}

static void t_implied_and_pairs(void **state)
{
	struct keyval kv;

	assert_int_equal(keyval_parse("virtio-blk-pci,drive=d0,id=x", "driver",
				      "-device", &kv), 0);
	assert_string_equal(kv.implied, "virtio-blk-pci");
	assert_int_equal(kv.n, 2);
	assert_false(kv.help);
	assert_true(keyval_has(&kv, "drive"));
	assert_false(keyval_has(&kv, "nope"));
	assert_null(keyval_get(&kv, "nope"));
	assert_string_equal(keyval_get(&kv, "drive"), "d0");
	/* id is still unused */
	assert_int_equal(keyval_check_unused(&kv, "-device virtio-blk-pci"), -EINVAL);
	assert_string_equal(log_last(), "-device virtio-blk-pci: unknown property 'id'");
	assert_string_equal(keyval_get(&kv, "id"), "x");
	assert_int_equal(keyval_check_unused(&kv, "-device virtio-blk-pci"), 0);
	keyval_free(&kv);
	assert_null(kv.pairs);
	assert_null(kv.implied);
	assert_int_equal(kv.n, 0);
}

static void t_no_implied_value(void **state)
{
	struct keyval kv;

	assert_int_equal(keyval_parse("id=a,path=/tmp/x", "backend", "-chardev", &kv), 0);
	assert_null(kv.implied);
	assert_int_equal(kv.n, 2);
	assert_string_equal(keyval_get(&kv, "path"), "/tmp/x");
	keyval_free(&kv);
}

static void t_explicit_implied_key(void **state)
{
	struct keyval kv;

	assert_int_equal(keyval_parse("driver=isa-serial,id=s", "driver", "-device", &kv), 0);
	assert_string_equal(kv.implied, "isa-serial");
	assert_false(keyval_has(&kv, "driver"));
	keyval_free(&kv);

	assert_int_equal(keyval_parse("isa-serial,driver=x", "driver", "-device", &kv), -EINVAL);
	assert_string_equal(log_last(), "-device: key 'driver' given twice");
	assert_null(kv.implied);
}

static void t_comma_escape(void **state)
{
	struct keyval kv;

	assert_int_equal(keyval_parse("file,path=a,,b,,,id=c", "backend", "-chardev", &kv), 0);
	assert_string_equal(keyval_get(&kv, "path"), "a,b,");
	assert_string_equal(keyval_get(&kv, "id"), "c");
	keyval_free(&kv);

	/* in the implied value too */
	assert_int_equal(keyval_parse("we,,ird,id=c", "driver", "-device", &kv), 0);
	assert_string_equal(kv.implied, "we,ird");
	assert_int_equal(kv.n, 1);
	keyval_free(&kv);

	/* a value that is only commas */
	assert_int_equal(keyval_parse("a=,,,,", NULL, "-x", &kv), 0);
	assert_string_equal(keyval_get(&kv, "a"), ",,");
	keyval_free(&kv);
}

static void t_empty_value(void **state)
{
	struct keyval kv;

	assert_int_equal(keyval_parse("foo,id=,b=1", "driver", "-device", &kv), 0);
	assert_string_equal(keyval_get(&kv, "id"), "");
	assert_string_equal(keyval_get(&kv, "b"), "1");
	keyval_free(&kv);
}

static void t_value_with_equals(void **state)
{
	struct keyval kv;

	assert_int_equal(keyval_parse("a=b=c", NULL, "-x", &kv), 0);
	assert_string_equal(keyval_get(&kv, "a"), "b=c");
	keyval_free(&kv);
}

static void t_help(void **state)
{
	struct keyval kv;

	assert_int_equal(keyval_parse("help", "driver", "-device", &kv), 0);
	assert_true(kv.help);
	assert_null(kv.implied);
	keyval_free(&kv);

	assert_int_equal(keyval_parse("?", "driver", "-device", &kv), 0);
	assert_true(kv.help);
	assert_null(kv.implied);
	keyval_free(&kv);

	assert_int_equal(keyval_parse("isa-serial,help", "driver", "-device", &kv), 0);
	assert_true(kv.help);
	assert_string_equal(kv.implied, "isa-serial");
	keyval_free(&kv);

	assert_int_equal(keyval_parse("isa-serial,id=a,?,iobase=1", "driver", "-device", &kv), 0);
	assert_true(kv.help);
	assert_int_equal(kv.n, 2);
	keyval_free(&kv);

	/* help=... is an ordinary key */
	assert_int_equal(keyval_parse("help=1", NULL, "-x", &kv), 0);
	assert_false(kv.help);
	assert_string_equal(keyval_get(&kv, "help"), "1");
	keyval_free(&kv);
}

/* QEMU's short booleans: a bare word is KEY=on, "noKEY" is KEY=off. */
static void t_short_booleans(void **state)
{
	struct keyval kv;

	assert_int_equal(keyval_parse("unix:/s,server,nowait", "path", "-qmp", &kv), 0);
	assert_string_equal(kv.implied, "unix:/s");
	assert_string_equal(keyval_get(&kv, "server"), "on");
	assert_string_equal(keyval_get(&kv, "wait"), "off");
	assert_int_equal(kv.n, 2);
	keyval_free(&kv);

	/* no implied key: the first bare word is a boolean too */
	assert_int_equal(keyval_parse("foo,id=x", NULL, "-object", &kv), 0);
	assert_string_equal(keyval_get(&kv, "foo"), "on");
	keyval_free(&kv);
	/* "no" alone is a key */
	assert_int_equal(keyval_parse("a=1,no", NULL, "-x", &kv), 0);
	assert_string_equal(keyval_get(&kv, "no"), "on");
	keyval_free(&kv);

	/* the same key twice, long and short */
	assert_int_equal(keyval_parse("socket,server,server=off", "backend", "-chardev", &kv),
			 -EINVAL);
	assert_string_equal(log_last(), "-chardev: key 'server' given twice");
	assert_null(kv.pairs);
	assert_int_equal(keyval_parse("socket,wait=on,nowait", "backend", "-chardev", &kv),
			 -EINVAL);
	assert_string_equal(log_last(), "-chardev: key 'wait' given twice");
	/* a short boolean of the implied key when it is already set */
	assert_int_equal(keyval_parse("socket,backend", "backend", "-chardev", &kv), -EINVAL);
	assert_string_equal(log_last(), "-chardev: key 'backend' given twice");
}

static void t_empty_errors(void **state)
{
	struct keyval kv;

	assert_int_equal(keyval_parse("", "driver", "-device", &kv), -EINVAL);
	assert_string_equal(log_last(), "-device: empty option string");
	assert_int_equal(keyval_parse(NULL, "driver", "-device", &kv), -EINVAL);
	assert_string_equal(log_last(), "-device: empty option string");

	assert_int_equal(keyval_parse("isa-serial,=x", "driver", "-device", &kv), -EINVAL);
	assert_string_equal(log_last(), "-device: empty key in '=x'");
	assert_int_equal(keyval_parse("a=1,=x,,y,b=2", NULL, "-x", &kv), -EINVAL);
	assert_string_equal(log_last(), "-x: empty key in '=x,,y'");

	assert_int_equal(keyval_parse(",id=x", NULL, "-chardev", &kv), -EINVAL);
	assert_string_equal(log_last(), "-chardev: empty element in ',id=x'");
	assert_int_equal(keyval_parse(",id=x", "driver", "-device", &kv), -EINVAL);
	assert_string_equal(log_last(), "-device: empty element in ',id=x'");
	assert_null(kv.implied);

	/* an unnamed message still names something */
	assert_int_equal(keyval_parse("", NULL, NULL, &kv), -EINVAL);
	assert_string_equal(log_last(), "option: empty option string");
}

static void t_trailing_comma(void **state)
{
	struct keyval kv;

	assert_int_equal(keyval_parse("isa-serial,id=x,", "driver", "-device", &kv), -EINVAL);
	assert_string_equal(log_last(), "-device: trailing ',' in 'isa-serial,id=x,'");
	assert_int_equal(keyval_parse("isa-serial,", "driver", "-device", &kv), -EINVAL);
	assert_string_equal(log_last(), "-device: trailing ',' in 'isa-serial,'");
	assert_int_equal(keyval_parse("help,", "driver", "-device", &kv), -EINVAL);
	assert_string_equal(log_last(), "-device: trailing ',' in 'help,'");
	/* but ",," at the end is an escaped comma */
	assert_int_equal(keyval_parse("id=x,,", "driver", "-device", &kv), 0);
	assert_string_equal(keyval_get(&kv, "id"), "x,");
	keyval_free(&kv);
}

static void t_duplicate(void **state)
{
	struct keyval kv;

	assert_int_equal(keyval_parse("isa-serial,id=a,iobase=1,id=b", "driver",
				      "-device", &kv), -EINVAL);
	assert_string_equal(log_last(), "-device: key 'id' given twice");
	assert_int_equal(kv.n, 0);
	/* QEMU's -netdev user takes several forwards; every one is kept, in order. */
	assert_int_equal(keyval_parse("user,id=n,hostfwd=tcp::1-:2,hostfwd=udp::3-:4", "type",
				      "-netdev", &kv), 0);
	assert_int_equal(kv.n, 3);
	assert_string_equal(kv.pairs[1].val, "tcp::1-:2");
	assert_string_equal(kv.pairs[2].val, "udp::3-:4");
	keyval_free(&kv);
}

static void t_many_pairs(void **state)
{
	char s[4096], key[16];
	struct keyval kv;
	size_t off = 0;

	for (int i = 0; i < 100; i++)
		off += snprintf(s + off, sizeof(s) - off, "%sk%d=%d", i ? "," : "", i, i * 3);
	assert_int_equal(keyval_parse(s, NULL, "-x", &kv), 0);
	assert_int_equal(kv.n, 100);
	for (int i = 0; i < 100; i++) {
		char want[16];

		snprintf(key, sizeof(key), "k%d", i);
		snprintf(want, sizeof(want), "%d", i * 3);
		assert_string_equal(keyval_get(&kv, key), want);
	}
	assert_int_equal(keyval_check_unused(&kv, "-x"), 0);
	keyval_free(&kv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_implied_and_pairs),
		cmocka_unit_test(t_no_implied_value),
		cmocka_unit_test(t_explicit_implied_key),
		cmocka_unit_test(t_comma_escape),
		cmocka_unit_test(t_empty_value),
		cmocka_unit_test(t_value_with_equals),
		cmocka_unit_test(t_help),
		cmocka_unit_test(t_short_booleans),
		cmocka_unit_test(t_empty_errors),
		cmocka_unit_test(t_trailing_comma),
		cmocka_unit_test(t_duplicate),
		cmocka_unit_test(t_many_pairs),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
