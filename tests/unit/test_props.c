/* props: number parsers and typed property tables. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/props.h"
#include "lib/util.h"

static int setup(void **state)
{
	log_set_quiet(1);
	return 0;
}

static void t_parse_u64(void **state)
{
	uint64_t v = 7;

	assert_int_equal(parse_u64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64("1234", &v), 0);
	assert_int_equal(v, 1234);
	assert_int_equal(parse_u64("010", &v), 0);	/* decimal, not octal */
	assert_int_equal(v, 10);
	assert_int_equal(parse_u64("0x3f8", &v), 0);
	assert_int_equal(v, 0x3f8);
	assert_int_equal(parse_u64("0XFFff", &v), 0);
	assert_int_equal(v, 0xffff);
	assert_int_equal(parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_u64("0xffffffffffffffff", &v), 0);
	assert_true(v == UINT64_MAX);

	v = 7;
	assert_int_equal(parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(parse_u64("0x10000000000000000", &v), -ERANGE);
	assert_int_equal(parse_u64("99999999999999999999999", &v), -ERANGE);
	assert_int_equal(parse_u64("", &v), -EINVAL);
	assert_int_equal(parse_u64(NULL, &v), -EINVAL);
	assert_int_equal(parse_u64("-1", &v), -EINVAL);
	assert_int_equal(parse_u64("+1", &v), -EINVAL);
	assert_int_equal(parse_u64(" 1", &v), -EINVAL);
	assert_int_equal(parse_u64("1 ", &v), -EINVAL);
	assert_int_equal(parse_u64("12z", &v), -EINVAL);
	assert_int_equal(parse_u64("0x", &v), -EINVAL);
	assert_int_equal(parse_u64("0xg", &v), -EINVAL);
	assert_int_equal(parse_u64("1e3", &v), -EINVAL);
	assert_int_equal(v, 7);		/* untouched on error */
}

static void t_parse_size(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("256M", 1, &v), 0);
	assert_true(v == 256 * MiB);
	assert_int_equal(parse_size("256m", 1, &v), 0);
	assert_true(v == 256 * MiB);
	assert_int_equal(parse_size("1G", 1, &v), 0);
	assert_true(v == GiB);
	assert_int_equal(parse_size("4k", 1, &v), 0);
	assert_true(v == 4096);
	assert_int_equal(parse_size("2T", 1, &v), 0);
	assert_true(v == 2048 * GiB);
	assert_int_equal(parse_size("512B", MiB, &v), 0);
	assert_true(v == 512);
	/* a bare number is in the default unit */
	assert_int_equal(parse_size("256", MiB, &v), 0);
	assert_true(v == 256 * MiB);
	assert_int_equal(parse_size("256", 0, &v), 0);
	assert_true(v == 256);
	assert_int_equal(parse_size("0x1000", 1, &v), 0);
	assert_true(v == 0x1000);
	assert_int_equal(parse_size("0", MiB, &v), 0);
	assert_true(v == 0);

	assert_int_equal(parse_size("16E", 1, &v), -ERANGE);
	assert_int_equal(parse_size("15E", 1, &v), 0);
	assert_true(v == 15ULL << 60);
	assert_int_equal(parse_size("17179869184G", 1, &v), -ERANGE);
	assert_int_equal(parse_size("18446744073709551615", MiB, &v), -ERANGE);
	assert_int_equal(parse_size("99999999999999999999K", 1, &v), -ERANGE);

	assert_int_equal(parse_size("", 1, &v), -EINVAL);
	assert_int_equal(parse_size("M", 1, &v), -EINVAL);
	assert_int_equal(parse_size("1.5G", 1, &v), -EINVAL);
	assert_int_equal(parse_size("256MB", 1, &v), -EINVAL);
	assert_int_equal(parse_size("256X", 1, &v), -EINVAL);
	assert_int_equal(parse_size("-1M", 1, &v), -EINVAL);
	assert_int_equal(parse_size("1 M", 1, &v), -EINVAL);
}

static void t_parse_bool(void **state)
{
	static const char *const t[] = { "on", "yes", "true" };
	static const char *const f[] = { "off", "no", "false" };
	int b;

	for (int i = 0; i < 3; i++) {
		b = 0;
		assert_int_equal(parse_bool(t[i], &b), 0);
		assert_int_equal(b, 1);
		b = 1;
		assert_int_equal(parse_bool(f[i], &b), 0);
		assert_int_equal(b, 0);
	}
	assert_int_equal(parse_bool("1", &b), -EINVAL);
	assert_int_equal(parse_bool("ON", &b), -EINVAL);
	assert_int_equal(parse_bool("", &b), -EINVAL);
	assert_int_equal(parse_bool("onn", &b), -EINVAL);
	assert_int_equal(parse_bool(NULL, &b), -EINVAL);
}

struct obj {
	char *name;
	bool flag;
	uint32_t iobase;
	uint32_t count;
	uint64_t big;
	uint64_t mem;
	char *path;
};

static const struct prop table[] = {
	{ "name", PROP_STR, offsetof(struct obj, name), "dflt", "a name" },
	{ "flag", PROP_BOOL, offsetof(struct obj, flag), "on", "a flag" },
	{ "iobase", PROP_U32, offsetof(struct obj, iobase), "0x3f8", "I/O base",
	  .max = 0xffff },
	{ "count", PROP_U32, offsetof(struct obj, count), "1", NULL, .min = 1 },
	{ "big", PROP_U64, offsetof(struct obj, big), NULL, "anything" },
	{ "mem", PROP_SIZE, offsetof(struct obj, mem), "64M", "memory",
	  .min = 4096, .max = 1ULL << 40 },
	{ "path", PROP_STR, offsetof(struct obj, path), NULL, "a path", .required = 1 },
	{ NULL }
};

/* Parses @s and applies it over defaults; returns props_apply's result. */
static int apply(const char *s, struct obj *o)
{
	struct keyval kv;
	int ret;

	memset(o, 0, sizeof(*o));
	assert_int_equal(props_set_defaults(table, o, "-device t"), 0);
	assert_int_equal(keyval_parse(s, "driver", "-device", &kv), 0);
	ret = props_apply(table, o, &kv, "-device t");
	keyval_free(&kv);
	return ret;
}

static void t_defaults(void **state)
{
	struct obj o = { 0 };

	assert_int_equal(props_set_defaults(table, &o, "-device t"), 0);
	assert_string_equal(o.name, "dflt");
	assert_true(o.flag);
	assert_int_equal(o.iobase, 0x3f8);
	assert_int_equal(o.count, 1);
	assert_true(o.big == 0);
	assert_true(o.mem == 64 * MiB);
	assert_null(o.path);
	props_free(table, &o);
	assert_null(o.name);
}

static void t_apply_values(void **state)
{
	struct obj o;

	assert_int_equal(apply("t,name=n1,flag=off,iobase=0x2f8,count=7,big=0xffffffffffffffff,"
			       "mem=1G,path=/a,,b", &o), 0);
	assert_string_equal(o.name, "n1");
	assert_false(o.flag);
	assert_int_equal(o.iobase, 0x2f8);
	assert_int_equal(o.count, 7);
	assert_true(o.big == UINT64_MAX);
	assert_true(o.mem == GiB);
	assert_string_equal(o.path, "/a,b");
	props_free(table, &o);
	assert_null(o.name);
	assert_null(o.path);

	/* only what is given overrides the defaults */
	assert_int_equal(apply("t,path=p", &o), 0);
	assert_string_equal(o.name, "dflt");
	assert_int_equal(o.iobase, 0x3f8);
	props_free(table, &o);

	/* empty string is a valid string */
	assert_int_equal(apply("t,path=,name=", &o), 0);
	assert_string_equal(o.path, "");
	assert_string_equal(o.name, "");
	props_free(table, &o);
}

static void t_bad_values(void **state)
{
	static const struct {
		const char *opts, *msg;
	} cases[] = {
		{ "iobase=zz", "property 'iobase': 'zz' is not a number" },
		{ "iobase=", "property 'iobase': '' is not a number" },
		{ "iobase=0x10000", "property 'iobase': '0x10000' is out of range (0x0..0xffff)" },
		{ "iobase=65536", "property 'iobase': '65536' is out of range (0..65535)" },
		{ "count=0", "property 'count': '0' is out of range (1..4294967295)" },
		{ "count=4294967296",
		  "property 'count': '4294967296' is out of range (1..4294967295)" },
		{ "big=18446744073709551616", "property 'big': '18446744073709551616' "
		  "is out of range (0..18446744073709551615)" },
		{ "big=-1", "property 'big': '-1' is not a number" },
		{ "mem=2T", "property 'mem': '2T' is out of range (4096..1099511627776)" },
		{ "mem=1K", "property 'mem': '1K' is out of range (4096..1099511627776)" },
		{ "mem=lots", "property 'mem': 'lots' is not a size" },
		{ "flag=maybe", "property 'flag': 'maybe' is not a boolean (use on or off)" },
	};
	char opts[128], msg[256];
	struct obj o;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(opts, sizeof(opts), "t,path=p,%s", cases[i].opts);
		snprintf(msg, sizeof(msg), "-device t: %s", cases[i].msg);
		assert_int_equal(apply(opts, &o), -EINVAL);
		assert_string_equal(log_last(), msg);
		props_free(table, &o);
	}
}

static void t_unknown_and_required(void **state)
{
	struct obj o;

	assert_int_equal(apply("t,path=p,foo=1", &o), -EINVAL);
	assert_string_equal(log_last(), "-device t: unknown property 'foo'");
	props_free(table, &o);

	/* an unknown key is reported before the required one it may be a typo of */
	assert_int_equal(apply("t,pth=p", &o), -EINVAL);
	assert_string_equal(log_last(), "-device t: unknown property 'pth'");
	props_free(table, &o);

	assert_int_equal(apply("t,name=x", &o), -EINVAL);
	assert_string_equal(log_last(), "-device t: property 'path' is required");
	props_free(table, &o);
}

static void t_bad_default(void **state)
{
	static const struct prop bad[] = {
		{ "n", PROP_U32, 0, "0x100", NULL, .max = 0xff },
		{ NULL }
	};
	uint32_t n = 0;

	assert_int_equal(props_set_defaults(bad, &n, "-device b"), -EINVAL);
	assert_string_equal(log_last(), "-device b: property 'n': '0x100' is out of range (0x0..0xff)");
}

static void t_empty_table(void **state)
{
	struct keyval kv;
	int dummy = 0;

	assert_int_equal(props_set_defaults(NULL, &dummy, "-device e"), 0);
	assert_int_equal(keyval_parse("e", "driver", "-device", &kv), 0);
	assert_int_equal(props_apply(NULL, &dummy, &kv, "-device e"), 0);
	keyval_free(&kv);
	assert_int_equal(keyval_parse("e,x=1", "driver", "-device", &kv), 0);
	assert_int_equal(props_apply(NULL, &dummy, &kv, "-device e"), -EINVAL);
	assert_string_equal(log_last(), "-device e: unknown property 'x'");
	keyval_free(&kv);
}

static void t_help(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	props_help(table, f);
	fclose(f);
	assert_string_equal(buf,
		"  name=<str> - a name (default: dflt)\n"
		"  flag=<bool> - a flag (default: on)\n"
		"  iobase=<uint32> - I/O base (default: 0x3f8)\n"
		"  count=<uint32> (default: 1)\n"
		"  big=<uint64> - anything\n"
		"  mem=<size> - memory (default: 64M)\n"
		"  path=<str> - a path (required)\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_parse_u64),
		cmocka_unit_test(t_parse_size),
		cmocka_unit_test(t_parse_bool),
		cmocka_unit_test(t_defaults),
		cmocka_unit_test(t_apply_values),
		cmocka_unit_test(t_bad_values),
		cmocka_unit_test(t_unknown_and_required),
		cmocka_unit_test(t_bad_default),
		cmocka_unit_test(t_empty_table),
		cmocka_unit_test(t_help),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
