/*
 * QMP: the protocol and the commands through qmp_session_input with a fake
 * target, byte streams cut anywhere, bad and hostile input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "in_child.h"
#include "backends/block.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "vmm/machine.h"
#include "lib/props.h"
#include "virtio/balloon.h"
#include "vmm/hmp_mon.h"
#include "vmm/qmp.h"
#include "vmm/qmp_internal.h"

#define MAX_REPLIES 64

static char *replies[MAX_REPLIES];
static unsigned nreplies;
static int has_balloon, quits;
static uint64_t target_bytes, actual = 512ull << 20;
static uint32_t interval;
static const char *bal_id = "bal0";

static void on_send(void *o, const char *json, size_t len)
{
	assert_true(nreplies < MAX_REPLIES);
	assert_int_equal(strlen(json), len);
	replies[nreplies++] = strndup(json, len);
}

static int f_set(void *o, uint64_t b)
{
	if (!has_balloon)
		return -ENODEV;
	if (b > (512ull << 20))
		return -ERANGE;
	target_bytes = b;
	return 0;
}

static int f_get(void *o, uint64_t *a)
{
	*a = actual;
	return has_balloon ? 0 : -ENODEV;
}

static uint64_t f_ram(void *o) { return 512ull << 20; }
static const char *f_id(void *o) { return has_balloon ? bal_id : NULL; }

static int f_stats(void *o, struct balloon_stats *st, int64_t *when, uint32_t *iv)
{
	if (!has_balloon)
		return -ENODEV;
	memset(st, 0, sizeof(*st));
	st->val[VIRTIO_BALLOON_S_MEMTOT] = 123456;
	st->valid = 1u << VIRTIO_BALLOON_S_MEMTOT;
	*when = 1700000000;
	*iv = interval;
	return 0;
}

static int f_interval(void *o, uint32_t s)
{
	interval = s;
	return 0;
}

static void f_quit(void *o) { quits++; }
static int resets;
static void f_reset(void *o) { resets++; }

/* The machine's run state, with the events the machine sends. */
static const char *run_st = "running";
static int stop_fails, powerdowns;
static const char *vm_name;

static const char *f_state(void *o, bool *running)
{
	*running = !strcmp(run_st, "running");
	return run_st;
}

static int f_stop(void *o)
{
	if (stop_fails)
		return -EIO;
	if (!strcmp(run_st, "running")) {
		run_st = "paused";
		qmp_event_simple("STOP");
	}
	return 0;
}

static int f_cont(void *o)
{
	if (!strcmp(run_st, "shutdown") || !strcmp(run_st, "guest-panicked"))
		return -EBUSY;
	if (strcmp(run_st, "running")) {
		run_st = "running";
		qmp_event_simple("RESUME");
	}
	return 0;
}

static int f_powerdown(void *o)
{
	powerdowns++;
	return has_balloon ? 0 : -ENODEV;	/* the flag doubles as "has ACPI" */
}

static const char *f_name(void *o) { return vm_name; }
static const char *f_uuid(void *o) { return vm_name ? "c0ffee00-0000-4000-8000-000000000001" : NULL; }

static int f_cpu(void *o, unsigned i, int *tid)
{
	*tid = 4242 + (int)i;
	return i < 2 ? 0 : -ENOENT;
}

static int f_device_n(void *o, unsigned i, const char **type, const char **id,
		      const char **bus)
{
	if (i)
		return -ENOENT;
	*type = "virtio-blk-pci";
	*id = "vd0";
	*bus = "pci";
	return 0;
}

/* A pty and a socket chardev. */
static int f_chardev(void *o, unsigned i, const char **label, char *fn, size_t size,
		     bool *open)
{
	if (i > 1)
		return -ENOENT;
	*label = i ? "mon" : "serial0";
	snprintf(fn, size, "%s", i ? "unix:/run/m.sock,server=on" : "pty:/dev/pts/7");
	*open = !i;
	return 0;
}

/* A raw node "disk0" (write through, flushes ignored) over an anonymous file node, used by vd0. */
static int f_block(void *o, unsigned i, struct blk_info *bi, char *qdev, size_t size)
{
	if (i > 1)
		return -ENOENT;
	*bi = (struct blk_info){ .node_name = i ? NULL : "disk0", .driver = i ? "file" : "raw",
				 .filename = "/img/a.raw", .ro = !i, .direct = i, .claimed = !i,
				 .size = 1ull << 30, .no_flush = !i, .writeback = i };
	snprintf(qdev, size, "%s", i ? "" : "/machine/peripheral/vd0");
	return 0;
}

/* A device "ser0", the balloon "bal0" and an object "mem0", with options. */
struct fake_state {
	char *chardev, *unset;
	bool on;
	uint32_t n;
	uint64_t sz;
};

static const struct prop fake_props[] = {
	{ "chardev", PROP_STR, offsetof(struct fake_state, chardev) },
	{ "unset", PROP_STR, offsetof(struct fake_state, unset) },
	{ "on", PROP_BOOL, offsetof(struct fake_state, on) },
	{ "n", PROP_U32, offsetof(struct fake_state, n) },
	{ "sz", PROP_SIZE, offsetof(struct fake_state, sz) },
	{ NULL }
}, bal_props[] = {
	{ "deflate-on-oom", PROP_BOOL, offsetof(struct fake_state, on) },
	{ NULL }
};

static struct fake_state fake_dev = { .chardev = "c0", .on = true, .n = 5, .sz = 1ull << 40 };
static struct fake_state fake_mem = { .sz = 512ull << 20 };

static int f_device(void *o, const char *id, struct qom_node *n)
{
	if (has_balloon && !strcmp(id, bal_id))
		*n = (struct qom_node){ "virtio-balloon-pci", bal_props, &fake_dev, true };
	else if (!strcmp(id, "ser0"))
		*n = (struct qom_node){ "fake-dev", fake_props, &fake_dev, false };
	else
		return -ENOENT;
	return 0;
}

static int f_object(void *o, const char *id, struct qom_node *n)
{
	if (strcmp(id, "mem0"))
		return -ENOENT;
	*n = (struct qom_node){ "memory-backend-memfd", fake_props + 4, &fake_mem, false };
	return 0;
}

static const char *migrate_st;

static const char *f_migrate_info(void *o, uint64_t *ms, uint64_t *bytes)
{
	*ms = 12;
	*bytes = 268435456;
	return migrate_st;
}

static const struct qmp_target target = {
	.find_device = f_device, .find_object = f_object,
	.balloon_set = f_set, .balloon_get = f_get, .ram_size = f_ram,
	.balloon_id = f_id, .balloon_stats = f_stats,
	.balloon_set_interval = f_interval, .quit = f_quit, .system_reset = f_reset,
	.run_state = f_state, .stop = f_stop, .cont = f_cont, .powerdown = f_powerdown,
	.name = f_name, .uuid = f_uuid, .cpu = f_cpu, .device = f_device_n,
	.chardev = f_chardev, .block = f_block, .migrate_info = f_migrate_info,
};

static struct qmp_session *sess;

static void clear(void)
{
	for (unsigned i = 0; i < nreplies; i++)
		free(replies[i]);
	nreplies = 0;
}

static int setup(void **state)
{
	clear();
	has_balloon = 1;
	quits = resets = powerdowns = stop_fails = 0;
	run_st = "running";
	vm_name = NULL;
	migrate_st = NULL;
	target_bytes = 0;
	interval = 0;
	sess = qmp_session_new(&target, on_send, NULL);
	assert_non_null(sess);
	return 0;
}

static int teardown(void **state)
{
	qmp_session_free(sess);
	clear();
	return 0;
}

static void feed(const char *s)
{
	assert_int_equal(qmp_session_input(sess, s, strlen(s)), 0);
}

/* Sends @in and expects exactly one reply, equal to @want. */
static void expect(const char *in, const char *want)
{
	clear();
	feed(in);
	assert_int_equal(nreplies, 1);
	assert_string_equal(replies[0], want);
}

/* One reply that contains @part. */
static void expect_part(const char *in, const char *part)
{
	clear();
	feed(in);
	assert_int_equal(nreplies, 1);
	if (!strstr(replies[0], part))
		fail_msg("reply %s lacks %s", replies[0], part);
}

static void negotiate(void)
{
	expect("{\"execute\": \"qmp_capabilities\"}\n", "{\"return\":{}}");
}

static void t_greeting(void **state)
{
	assert_int_equal(nreplies, 1);
	assert_string_equal(replies[0],
		"{\"QMP\":{\"version\":{\"qemu\":{\"major\":7,\"minor\":2,\"micro\":0},"
		"\"package\":\"ember " EMBER_VERSION "\"},\"capabilities\":[]}}");
}

static void t_negotiation(void **state)
{
	expect_part("{\"execute\": \"query-status\"}",
		    "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Expecting "
		    "capabilities negotiation with 'qmp_capabilities'\"}}");
	expect_part("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}",
		    "Capability 'oob' not available");
	expect_part("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": 1}}",
		    "expected: array");
	expect("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": []}, \"id\": 1}",
	       "{\"return\":{},\"id\":1}");
	expect_part("{\"execute\": \"qmp_capabilities\"}", "already complete");
	expect("{\"execute\": \"query-status\"}",
	       "{\"return\":{\"status\":\"running\",\"singlestep\":false,\"running\":true}}");
}

static void t_balloon(void **state)
{
	negotiate();
	expect("{\"execute\": \"balloon\", \"arguments\": {\"value\": 402653184}, \"id\": \"a\"}",
	       "{\"return\":{},\"id\":\"a\"}");
	assert_int_equal(target_bytes, 402653184);
	expect("{\"execute\": \"query-balloon\"}", "{\"return\":{\"actual\":536870912}}");
	expect_part("{\"execute\": \"balloon\", \"arguments\": {\"value\": -1}}",
		    "\"GenericError\",\"desc\":\"Parameter 'value' expects a size");
	expect_part("{\"execute\": \"balloon\", \"arguments\": {\"value\": 0}}", "GenericError");
	expect_part("{\"execute\": \"balloon\", \"arguments\": {\"value\": 1099511627776}}",
		    "up to the guest's RAM (536870912 bytes)\"");
	expect_part("{\"execute\": \"balloon\", \"arguments\": {\"value\": 99999999999999999999}}",
		    "GenericError");
	expect_part("{\"execute\": \"balloon\", \"arguments\": {\"value\": 18446744073709551615}}",
		    "too large");
	expect_part("{\"execute\": \"balloon\", \"arguments\": {\"value\": 1e30}}",
		    "Invalid parameter type for 'value', expected: integer");
	expect_part("{\"execute\": \"balloon\", \"arguments\": {\"value\": \"1G\"}}",
		    "expected: integer");
	expect_part("{\"execute\": \"balloon\"}", "Parameter 'value' is missing");
	expect_part("{\"execute\": \"balloon\", \"arguments\": {\"value\": 1, \"x\": 2}}",
		    "Parameter 'x' is unexpected");
	assert_int_equal(target_bytes, 402653184);
	has_balloon = 0;
	expect_part("{\"execute\": \"balloon\", \"arguments\": {\"value\": 4096}}",
		    "{\"class\":\"DeviceNotActive\",\"desc\":\"No balloon device has been activated\"}");
	expect_part("{\"execute\": \"query-balloon\"}", "DeviceNotActive");
}

static void t_stats(void **state)
{
	negotiate();
	expect_part("{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/machine/peripheral/bal0\","
		    " \"property\": \"guest-stats\"}}",
		    "\"stat-total-memory\":123456");
	expect_part("{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"bal0\","
		    " \"property\": \"guest-stats\"}}", "\"stat-swap-in\":-1");
	expect_part("{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"bal0\","
		    " \"property\": \"guest-stats\"}}", "\"last-update\":1700000000}}");
	expect("{\"execute\": \"qom-set\", \"arguments\": {\"path\": \"bal0\","
	       " \"property\": \"guest-stats-polling-interval\", \"value\": 5}}", "{\"return\":{}}");
	assert_int_equal(interval, 5);
	expect("{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"bal0\","
	       " \"property\": \"guest-stats-polling-interval\"}}", "{\"return\":5}");
	expect_part("{\"execute\": \"qom-set\", \"arguments\": {\"path\": \"bal0\","
		    " \"property\": \"guest-stats-polling-interval\", \"value\": -5}}", "GenericError");
	expect_part("{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/machine/peripheral/x\","
		    " \"property\": \"guest-stats\"}}", "\"DeviceNotFound\"");
	expect_part("{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"bal0\","
		    " \"property\": \"nope\"}}", "Property 'nope' not found");
	expect_part("{\"execute\": \"qom-get\", \"arguments\": {\"path\": 1, \"property\": \"x\"}}",
		    "expected: string");
}

#define QOM(cmd, path, rest)						\
	"{\"execute\": \"" cmd "\", \"arguments\": {\"path\": \"" path "\"" rest "}}"

/* Paths find devices and objects by id; their type's options answer. */
static void t_qom(void **state)
{
	negotiate();
	expect(QOM("qom-get", "/machine/peripheral/ser0", ", \"property\": \"chardev\""),
	       "{\"return\":\"c0\"}");
	expect(QOM("qom-get", "ser0", ", \"property\": \"on\""), "{\"return\":true}");
	expect(QOM("qom-get", "ser0", ", \"property\": \"n\""), "{\"return\":5}");
	expect(QOM("qom-get", "ser0", ", \"property\": \"sz\""), "{\"return\":1099511627776}");
	expect(QOM("qom-get", "ser0", ", \"property\": \"unset\""), "{\"return\":\"\"}");
	expect(QOM("qom-get", "ser0", ", \"property\": \"type\""), "{\"return\":\"fake-dev\"}");
	expect(QOM("qom-get", "ser0", ", \"property\": \"nope\""),
	       "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Property 'nope' not found\"}}");
	expect(QOM("qom-get", "/objects/mem0", ", \"property\": \"sz\""),
	       "{\"return\":536870912}");
	expect(QOM("qom-get", "/objects/nope", ", \"property\": \"sz\""),
	       "{\"error\":{\"class\":\"DeviceNotFound\",\"desc\":\"Device '/objects/nope' "
	       "not found\"}}");
	/* Devices and objects are apart, as in QEMU. */
	expect_part(QOM("qom-get", "/objects/ser0", ", \"property\": \"n\""), "DeviceNotFound");
	expect_part(QOM("qom-get", "/machine/peripheral/mem0", ", \"property\": \"sz\""),
		    "DeviceNotFound");
	/* The balloon's own properties, and its type's. */
	expect(QOM("qom-get", "bal0", ", \"property\": \"deflate-on-oom\""), "{\"return\":true}");
	expect_part(QOM("qom-get", "bal0", ", \"property\": \"n\""),
		    "Property 'n' not found (the balloon has guest-stats");

	expect(QOM("qom-list", "ser0", ""),
	       "{\"return\":[{\"name\":\"type\",\"type\":\"string\"},"
	       "{\"name\":\"chardev\",\"type\":\"str\"},{\"name\":\"unset\",\"type\":\"str\"},"
	       "{\"name\":\"on\",\"type\":\"bool\"},{\"name\":\"n\",\"type\":\"uint32\"},"
	       "{\"name\":\"sz\",\"type\":\"size\"}]}");
	expect(QOM("qom-list", "/machine/peripheral/bal0", ""),
	       "{\"return\":[{\"name\":\"type\",\"type\":\"string\"},"
	       "{\"name\":\"deflate-on-oom\",\"type\":\"bool\"},"
	       "{\"name\":\"guest-stats\",\"type\":\"guest-stats\"},"
	       "{\"name\":\"guest-stats-polling-interval\",\"type\":\"int\"}]}");
	expect_part(QOM("qom-list", "/objects/mem0", ""), "{\"name\":\"sz\",\"type\":\"size\"}");
	expect_part(QOM("qom-list", "x", ""), "\"Device 'x' not found\"");
	expect_part("{\"execute\": \"qom-list\"}", "Parameter 'path' is missing");
	expect_part(QOM("qom-list", "x", ", \"property\": 1"), "Parameter 'property' is unexpected");

	/* Options are fixed once the device exists; the balloon's interval is not. */
	expect(QOM("qom-set", "ser0", ", \"property\": \"n\", \"value\": 1"),
	       "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Property 'n' cannot be set "
	       "while ember runs\"}}");
	expect_part(QOM("qom-set", "ser0", ", \"property\": \"nope\", \"value\": 1"),
		    "Property 'nope' not found");
	expect_part(QOM("qom-set", "bal0", ", \"property\": \"guest-stats\", \"value\": 1"),
		    "Property 'guest-stats' cannot be set (only guest-stats-polling-interval)");
	expect_part(QOM("qom-set", "bal0", ", \"property\": \"nope\", \"value\": 1"),
		    "Property 'nope' not found (the balloon has");
	expect_part(QOM("qom-set", "/objects/nope", ", \"property\": \"n\", \"value\": 1"),
		    "DeviceNotFound");
	assert_int_equal(interval, 0);
	/* Without a balloon id the hint says how to reach it. */
	has_balloon = 0;
	expect_part(QOM("qom-get", "bal0", ", \"property\": \"guest-stats\""),
		    "Device 'bal0' not found (give the balloon an id= to reach it)");
	expect_part("{\"execute\": \"query-commands\"}", "{\"name\":\"qom-list\"}");
}

static void t_envelope(void **state)
{
	negotiate();
	expect_part("[1]", "QMP input must be a JSON object");
	expect_part("\"x\"\n", "QMP input must be a JSON object");
	expect_part("{}", "QMP input lacks member 'execute'");
	expect_part("{\"execute\": 1}", "'execute' must be a string");
	expect_part("{\"execute\": \"query-status\", \"arguments\": []}",
		    "'arguments' must be an object");
	expect_part("{\"execute\": \"query-status\", \"foo\": 1}", "member 'foo' is unexpected");
	expect_part("{\"execute\": \"nosuch\", \"id\": {\"a\": [1]}}",
		    "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command nosuch has not "
		    "been found\"},\"id\":{\"a\":[1]}}");
	expect_part("{\"execute\": \"query-status\", \"arguments\": {\"a\": 1}}",
		    "Parameter 'a' is unexpected");
	expect_part("{\"execute\": \"query-commands\"}", "{\"name\":\"query-balloon\"}");
	expect_part("{\"execute\": \"query-version\"}", "\"package\":\"ember ");
}

/* Bytes cut anywhere, several texts in one read, errors resync at a newline. */
static void t_stream(void **state)
{
	static const char nul[] = "{\"execute\": \"q\0uery\"}\n";
	const char *in = "{\"execute\": \"qmp_capabilities\"}\r\n"
			 "  {\"execute\": \"query-balloon\", \"id\": 1}{\"execute\": \"query-balloon\"}";

	clear();
	for (const char *p = in; *p; p++)
		assert_int_equal(qmp_session_input(sess, p, 1), 0);
	assert_int_equal(nreplies, 3);
	assert_string_equal(replies[1], "{\"return\":{\"actual\":536870912},\"id\":1}");
	clear();
	feed("{\"execute\": \"query-status\",,} trailing garbage {\"execute\"");
	assert_int_equal(nreplies, 1);
	assert_non_null(strstr(replies[0], "JSON parse error"));
	/* Skipped until the newline, then served again. */
	feed(" more\n{\"execute\": \"query-balloon\"}\n");
	assert_int_equal(nreplies, 2);
	assert_string_equal(replies[1], "{\"return\":{\"actual\":536870912}}");
	clear();
	assert_int_equal(qmp_session_input(sess, nul, sizeof(nul) - 1), 0);
	assert_int_equal(nreplies, 1);
}

static void t_too_long(void **state)
{
	static const char head[] = "{\"execute\": \"query-status\", \"id\": \"";
	size_t n = QMP_MAX_COMMAND + 100;
	char *big = malloc(n);

	negotiate();
	memset(big, ' ', n);
	memcpy(big, head, strlen(head));
	clear();
	/* Blanks between texts are free: only the text itself counts. */
	assert_int_equal(qmp_session_input(sess, big + 36, n - 36), 0);
	assert_int_equal(nreplies, 0);
	assert_int_equal(qmp_session_input(sess, big, n), -E2BIG);
	assert_int_equal(nreplies, 1);
	assert_non_null(strstr(replies[0], "longer than 65536 bytes"));
	free(big);
}

/* A NUL in a string (value or key) is refused whole, never cut short there. */
static void t_nul(void **state)
{
	static const char raw[] = "{\"execute\": \"quit\0 junk\"}\n";
	static const char *bad[] = {
		"{\"execute\":\"quit\\u0000 junk\"}",
		"{\"execute\":\"quit\\u0000\"}",
		"{\"execute\":\"quit\", \"arguments\": {\"x\\u0000\": 1}}",
		"{\"execute\\u0000junk\":\"quit\"}",
		("{\"execute\":\"qom-get\", \"arguments\": {\"path\": \"/machine/peripheral/bal0\", "
		 "\"property\": \"guest-stats-polling-interval\\u0000x\"}}"),
		"{'execute':'quit\\u0000'}",
		"{\"execute\":\"quit\", \"id\": [\"\\u0000\"]}",
	};

	negotiate();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect(bad[i], "{\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error, "
		       "\\\\u0000 (NUL) in a string is not supported\"}}");
		/* Cut where the next one starts: the scan carries over. */
		clear();
		for (const char *p = bad[i]; *p; p++)
			assert_int_equal(qmp_session_input(sess, p, 1), 0);
		assert_int_equal(nreplies, 1);
		assert_non_null(strstr(replies[0], "(NUL)"));
	}
	clear();
	assert_int_equal(qmp_session_input(sess, raw, sizeof(raw) - 1), 0);
	assert_true(nreplies >= 1);
	assert_null(strstr(replies[0], "\"return\""));
	assert_int_equal(quits, 0);
	/* Not a NUL: an escaped backslash before u0000, and \u0001; the session goes on. */
	expect_part("{\"execute\":\"x\\\\u0000\"}", "CommandNotFound");
	expect_part("{\"execute\":\"x\\u0001\"}", "CommandNotFound");
	expect_part("{\"execute\": \"quit\", \"id\": \"\\u00e9\\u0100\"}", "{\"return\":{}");
	assert_int_equal(quits, 1);
}

/* After a syntax error, bytes without a newline do not hold the session forever. */
static void t_skip_bound(void **state)
{
	size_t n = QMP_MAX_COMMAND / 2;
	char *junk = malloc(n);

	negotiate();
	memset(junk, 'x', n);
	clear();
	assert_int_equal(qmp_session_input(sess, "}{", 2), 0);
	assert_int_equal(nreplies, 1);
	assert_int_equal(qmp_session_input(sess, junk, n), 0);
	assert_int_equal(qmp_session_input(sess, junk, n - 100), 0);
	/* A newline within the bound resyncs, and the count starts again. */
	assert_int_equal(qmp_session_input(sess, "\n", 1), 0);
	assert_int_equal(qmp_session_input(sess, "}{", 2), 0);	/* { is skipped */
	assert_int_equal(qmp_session_input(sess, junk, n), 0);
	assert_int_equal(qmp_session_input(sess, junk, n - 10), 0);
	assert_int_equal(nreplies, 2);
	assert_int_equal(qmp_session_input(sess, junk, 20), -E2BIG);
	assert_int_equal(nreplies, 3);
	assert_non_null(strstr(replies[2], "longer than 65536 bytes"));
	free(junk);
}

static void t_nesting(void **state)
{
	char deep[2100];

	negotiate();
	memset(deep, '[', 2000);
	strcpy(deep + 2000, "\n");
	clear();
	assert_int_equal(qmp_session_input(sess, deep, strlen(deep)), 0);
	assert_int_equal(nreplies, 1);
	assert_non_null(strstr(replies[0], "JSON parse error"));
}

static void t_quit(void **state)
{
	negotiate();
	expect_part("{\"execute\": \"quit\", \"arguments\": {\"now\": 1}}", "unexpected");
	assert_int_equal(quits, 0);
	expect("{\"execute\": \"quit\", \"id\": 9}", "{\"return\":{},\"id\":9}");
	assert_int_equal(quits, 1);
}

/* -S, stop, cont, the states QEMU names, and the events on the way. */
static void t_run_state(void **state)
{
	negotiate();
	run_st = "prelaunch";
	expect("{\"execute\": \"query-status\"}",
	       "{\"return\":{\"status\":\"prelaunch\",\"singlestep\":false,\"running\":false}}");
	expect("{\"execute\": \"human-monitor-command\", \"arguments\": "
	       "{\"command-line\": \"info status\"}}",
	       "{\"return\":\"VM status: paused (prelaunch)\\r\\n\"}");
	clear();
	feed("{\"execute\": \"cont\"}");
	assert_int_equal(nreplies, 2);
	assert_non_null(strstr(replies[0], "\"event\":\"RESUME\""));
	assert_string_equal(replies[1], "{\"return\":{}}");
	expect_part("{\"execute\": \"query-status\"}", "\"status\":\"running\"");
	expect("{\"execute\": \"human-monitor-command\", \"arguments\": "
	       "{\"command-line\": \"info status\"}}", "{\"return\":\"VM status: running\\r\\n\"}");
	clear();
	feed("{\"execute\": \"stop\"}");
	assert_int_equal(nreplies, 2);
	assert_non_null(strstr(replies[0], "\"event\":\"STOP\""));
	expect("{\"execute\": \"query-status\"}",
	       "{\"return\":{\"status\":\"paused\",\"singlestep\":false,\"running\":false}}");
	expect("{\"execute\": \"human-monitor-command\", \"arguments\": "
	       "{\"command-line\": \"info status\"}}", "{\"return\":\"VM status: paused\\r\\n\"}");
	/* stop when stopped: nothing happens, as in QEMU */
	expect("{\"execute\": \"stop\"}", "{\"return\":{}}");
	run_st = "shutdown";
	expect("{\"execute\": \"cont\"}", "{\"error\":{\"class\":\"GenericError\",\"desc\":"
	       "\"Resetting the Virtual Machine is required\"}}");
	run_st = "guest-panicked";
	expect_part("{\"execute\": \"cont\"}", "Resetting the Virtual Machine is required");
	expect_part("{\"execute\": \"query-status\"}", "\"status\":\"guest-panicked\"");
	run_st = "running";
	stop_fails = 1;
	expect_part("{\"execute\": \"stop\"}", "a vCPU did not leave the guest");
	expect_part("{\"execute\": \"stop\", \"arguments\": {\"now\": true}}",
		    "Parameter 'now' is unexpected");
}

static void t_power(void **state)
{
	negotiate();
	expect("{\"execute\": \"system_powerdown\"}", "{\"return\":{}}");
	assert_int_equal(powerdowns, 1);
	expect("{\"execute\": \"human-monitor-command\", \"arguments\": "
	       "{\"command-line\": \"system_powerdown\"}}", "{\"return\":\"\"}");
	assert_int_equal(powerdowns, 2);
	has_balloon = 0;
	expect("{\"execute\": \"system_powerdown\"}", "{\"error\":{\"class\":\"GenericError\","
	       "\"desc\":\"this machine has no ACPI power button\"}}");
	expect_part("{\"execute\": \"human-monitor-command\", \"arguments\": "
		    "{\"command-line\": \"system_powerdown\"}}", "no ACPI power button");
	/* system_reset (ember: as QEMU with -no-reboot) acts after its reply */
	expect("{\"execute\": \"system_reset\", \"id\": 3}", "{\"return\":{},\"id\":3}");
	assert_int_equal(resets, 1);
	expect_part("{\"execute\": \"system_reset\", \"arguments\": {\"a\": 1}}", "unexpected");
	assert_int_equal(resets, 1);
}

static bool event_ok(const char *txt, const char *name, const char *data)
{
	struct json_object *o = json_tokener_parse(txt), *ts, *v;
	bool ok = o && json_object_object_get_ex(o, "timestamp", &ts) &&
		  json_object_object_get_ex(ts, "seconds", &v) &&
		  json_object_get_int64(v) > 1600000000 &&
		  json_object_object_get_ex(ts, "microseconds", &v) &&
		  json_object_get_int64(v) >= 0 && json_object_get_int64(v) < 1000000 &&
		  json_object_object_get_ex(o, "event", &v) &&
		  !strcmp(json_object_get_string(v), name);

	if (ok && data)
		ok = json_object_object_get_ex(o, "data", &v) &&
		     !strcmp(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), data);
	if (ok && !data)
		ok = !json_object_object_get_ex(o, "data", NULL);
	json_object_put(o);
	return ok;
}

/* Events: QEMU's format, to every negotiated session and only to those. */
static void t_events(void **state)
{
	struct qmp_session *other = qmp_session_new(&target, on_send, NULL);

	assert_non_null(other);
	clear();
	qmp_event_simple("STOP");
	assert_int_equal(nreplies, 0);		/* nobody negotiated yet */
	negotiate();
	clear();
	qmp_event_shutdown(true, "guest-shutdown");
	qmp_event_simple("POWERDOWN");
	qmp_event_panicked("pause");
	qmp_event_balloon(1ull << 30);
	qmp_event_simple("RESUME");
	assert_int_equal(nreplies, 5);
	assert_true(event_ok(replies[0], "SHUTDOWN", "{\"guest\":true,\"reason\":\"guest-shutdown\"}"));
	assert_true(event_ok(replies[1], "POWERDOWN", NULL));
	assert_true(event_ok(replies[2], "GUEST_PANICKED", "{\"action\":\"pause\"}"));
	assert_true(event_ok(replies[3], "BALLOON_CHANGE", "{\"actual\":1073741824}"));
	assert_true(event_ok(replies[4], "RESUME", NULL));
	/* The second session negotiates: now both hear. */
	clear();
	assert_int_equal(qmp_session_input(other, "{\"execute\": \"qmp_capabilities\"}", 31), 0);
	assert_int_equal(nreplies, 1);
	qmp_event_shutdown(false, "host-qmp-quit");
	assert_int_equal(nreplies, 3);
	assert_true(event_ok(replies[1], "SHUTDOWN", "{\"guest\":false,\"reason\":\"host-qmp-quit\"}"));
	assert_string_equal(replies[1], replies[2]);
	qmp_session_free(other);
	clear();
	qmp_event_simple("STOP");
	assert_int_equal(nreplies, 1);
}

static void t_info(void **state)
{
	negotiate();
	expect("{\"execute\": \"query-name\"}", "{\"return\":{}}");
	expect("{\"execute\": \"query-uuid\"}",
	       "{\"return\":{\"UUID\":\"00000000-0000-0000-0000-000000000000\"}}");
	vm_name = "vm0";
	expect("{\"execute\": \"query-name\"}", "{\"return\":{\"name\":\"vm0\"}}");
	expect("{\"execute\": \"query-uuid\"}",
	       "{\"return\":{\"UUID\":\"c0ffee00-0000-4000-8000-000000000001\"}}");
	expect("{\"execute\": \"query-target\"}", "{\"return\":{\"arch\":\"x86_64\"}}");
	/* query-migrate: {} before any migrate, then the last one's status. */
	expect("{\"execute\": \"query-migrate\"}", "{\"return\":{}}");
	migrate_st = "completed";
	expect("{\"execute\": \"query-migrate\"}", "{\"return\":{\"status\":\"completed\","
	       "\"total-time\":12,\"ram\":{\"total\":268435456,\"remaining\":0}}}");
	expect("{\"execute\": \"query-kvm\"}", "{\"return\":{\"enabled\":true,\"present\":true}}");
	expect_part("{\"execute\": \"query-machines\"}",
		    "{\"name\":\"microvm\",\"is-default\":true,\"cpu-max\":254,"
		    "\"hotpluggable-cpus\":false,\"numa-mem-supported\":false,\"deprecated\":false}");
	expect_part("{\"execute\": \"query-machines\"}", "{\"name\":\"pci\",\"cpu-max\"");
	expect("{\"execute\": \"query-cpus-fast\"}",
	       "{\"return\":[{\"cpu-index\":0,\"qom-path\":\"/machine/unattached/device[0]\","
	       "\"thread-id\":4242,\"target\":\"x86_64\"},{\"cpu-index\":1,\"qom-path\":"
	       "\"/machine/unattached/device[1]\",\"thread-id\":4243,\"target\":\"x86_64\"}]}");
	/* Device types: the real table. */
	expect_part("{\"execute\": \"qom-list-types\"}",
		    "{\"name\":\"virtio-balloon-pci\",\"parent\":\"device\"}");
	expect_part("{\"execute\": \"qom-list-types\", \"arguments\": {\"implements\": \"device\","
		    " \"abstract\": false}}", "\"name\":\"isa-serial\"");
	expect("{\"execute\": \"qom-list-types\", \"arguments\": {\"implements\": \"nope\"}}",
	       "{\"return\":[]}");
	expect_part("{\"execute\": \"qom-list-types\", \"arguments\": {\"abstract\": 1}}",
		    "Invalid parameter type for 'abstract', expected: boolean");
	expect_part("{\"execute\": \"device-list-properties\", \"arguments\": "
		    "{\"typename\": \"virtio-balloon-pci\"}}",
		    "{\"name\":\"deflate-on-oom\",\"type\":\"bool\"");
	expect("{\"execute\": \"device-list-properties\", \"arguments\": {\"typename\": \"nope\"}}",
	       "{\"error\":{\"class\":\"DeviceNotFound\",\"desc\":\"Device 'nope' not found "
	       "(-device help lists them)\"}}");
	expect_part("{\"execute\": \"device-list-properties\", \"arguments\": "
		    "{\"typename\": \"acpi-pm\"}}", "DeviceNotFound");
	expect_part("{\"execute\": \"device-list-properties\"}", "Parameter 'typename' is missing");
	/* Options: the real table, each once, with the keys their parsers take. */
	expect_part("{\"execute\": \"query-command-line-options\"}",
		    "{\"option\":\"qmp\",\"parameters\":[{\"name\":\"server\",\"type\":"
		    "\"boolean\"},{\"name\":\"wait\",\"type\":\"boolean\"}]}");
	expect_part("{\"execute\": \"query-command-line-options\"}",
		    "{\"option\":\"kernel\",\"parameters\":[]}");
	expect_part("{\"execute\": \"query-command-line-options\"}", "{\"option\":\"machine\"");
	/* libvirt's probe */
	expect_part("{\"execute\": \"query-command-line-options\", \"arguments\": "
		    "{\"option\": \"machine\"}}",
		    "{\"return\":[{\"option\":\"machine\",\"parameters\":[{\"name\":\"type\","
		    "\"type\":\"string\"},{\"name\":\"memory-backend\",\"type\":\"string\"},");
	expect_part("{\"execute\": \"query-command-line-options\", \"arguments\": "
		    "{\"option\": \"machine\"}}", "{\"name\":\"dump-guest-core\",\"type\":\"boolean\"}");
	expect_part("{\"execute\": \"query-command-line-options\", \"arguments\": "
		    "{\"option\": \"M\"}}", "{\"name\":\"mem-merge\",\"type\":\"boolean\"}");
	expect_part("{\"execute\": \"query-command-line-options\", \"arguments\": "
		    "{\"option\": \"m\"}}", "[{\"name\":\"size\",\"type\":\"size\"},"
		    "{\"name\":\"slots\",\"type\":\"number\"},{\"name\":\"maxmem\",\"type\":"
		    "\"size\"}]");
	/* -chardev: every back end's keys, once each, from their property tables */
	expect_part("{\"execute\": \"query-command-line-options\", \"arguments\": "
		    "{\"option\": \"chardev\"}}", "{\"name\":\"backend\",\"type\":\"string\"}");
	expect_part("{\"execute\": \"query-command-line-options\", \"arguments\": "
		    "{\"option\": \"chardev\"}}", "{\"name\":\"server\",\"type\":\"boolean\"}");
	expect_part("{\"execute\": \"query-command-line-options\"}", "{\"option\":\"S\"");
	expect("{\"execute\": \"query-command-line-options\", \"arguments\": {\"option\": \"object\"}}",
	       "{\"return\":[{\"option\":\"object\",\"parameters\":[]}]}");
	expect("{\"execute\": \"query-command-line-options\", \"arguments\": {\"option\": \"nope\"}}",
	       "{\"error\":{\"class\":\"GenericError\",\"desc\":\"invalid option name: nope\"}}");
	expect_part("{\"execute\": \"query-command-line-options\", \"arguments\": {\"option\": 1}}",
		    "Invalid parameter type for 'option', expected: string");
	/* HMP */
	expect("{\"execute\": \"human-monitor-command\", \"arguments\": "
	       "{\"command-line\": \"info qtree\"}}",
	       "{\"return\":\"  dev: virtio-blk-pci, id \\\"vd0\\\"\\r\\n    bus: pci\\r\\n\"}");
	expect("{\"execute\": \"human-monitor-command\", \"arguments\": "
	       "{\"command-line\": \"info block\"}}",
	       "{\"return\":\"disk0: /img/a.raw (raw, read-only)\\r\\n"
	       "    Attached to:      /machine/peripheral/vd0\\r\\n"
	       "(anonymous): /img/a.raw (file)\\r\\n\"}");
	/* Chardevs with the pty's path; block nodes and the devices using them. */
	expect("{\"execute\": \"query-chardev\"}",
	       "{\"return\":[{\"label\":\"serial0\",\"filename\":\"pty:/dev/pts/7\","
	       "\"frontend-open\":true},{\"label\":\"mon\",\"filename\":"
	       "\"unix:/run/m.sock,server=on\",\"frontend-open\":false}]}");
	expect("{\"execute\": \"query-block\"}",
	       "{\"return\":[{\"device\":\"\",\"qdev\":\"/machine/peripheral/vd0\","
	       "\"type\":\"unknown\",\"removable\":false,\"locked\":false,\"inserted\":"
	       "{\"file\":\"/img/a.raw\",\"node-name\":\"disk0\",\"ro\":true,\"drv\":\"raw\","
	       "\"encrypted\":false,\"backing_file_depth\":0,\"image\":{\"filename\":"
	       "\"/img/a.raw\",\"format\":\"raw\",\"virtual-size\":1073741824},\"cache\":"
	       "{\"writeback\":false,\"direct\":false,\"no-flush\":true}}}]}");
	expect_part("{\"execute\": \"query-named-block-nodes\", \"arguments\": {\"flat\": true}}",
		    "},{\"file\":\"/img/a.raw\",\"ro\":false,\"drv\":\"file\",");
	expect_part("{\"execute\": \"query-named-block-nodes\", \"arguments\": {\"flat\": 1}}",
		    "Invalid parameter type for 'flat', expected: boolean");
	expect_part("{\"execute\": \"human-monitor-command\", \"arguments\": "
		    "{\"command-line\": \"savevm x\"}}", "{\"return\":\"unknown command: 'savevm x'");
	expect_part("{\"execute\": \"human-monitor-command\", \"arguments\": "
		    "{\"command-line\": [\"info\"]}}",
		    "Invalid parameter type for 'command-line', expected: string");
	expect_part("{\"execute\": \"human-monitor-command\", \"arguments\": "
		    "{\"command-line\": \"info status\", \"cpu-index\": \"0\"}}", "expected: integer");
}

/* The human monitor (vmm/hmp_mon.c): what a terminal shows. */
static char screen[8192];
static size_t screen_len;

static void on_screen(void *o, const char *text, size_t len)
{
	assert_true(screen_len + len < sizeof(screen));
	memcpy(screen + screen_len, text, len);
	screen[screen_len += len] = 0;
}

static void type(struct hmp *h, const char *s)
{
	screen_len = 0;
	screen[0] = 0;
	hmp_input(h, (const uint8_t *)s, strlen(s));
}

static void t_hmp(void **state)
{
	struct hmp *h;

	screen_len = 0;
	h = hmp_new(&target, on_screen, NULL);
	assert_non_null(h);
	assert_string_equal(screen, "QEMU 7.2.0 monitor - type 'help' for more information\r\n"
			    "(qemu) ");
	/* echoed as typed, in pieces; CR LF is one line end */
	type(h, "info st");
	assert_string_equal(screen, "info st");
	type(h, "atus\r\n");
	assert_string_equal(screen, "atus\r\nVM status: running\r\n(qemu) ");
	/* the same commands as human-monitor-command; events are not shown */
	type(h, "stop\n");
	assert_string_equal(screen, "stop\r\n(qemu) ");
	assert_string_equal(run_st, "paused");
	type(h, "  info status \n");
	assert_string_equal(screen, "  info status \r\nVM status: paused\r\n(qemu) ");
	type(h, "c\r");
	assert_string_equal(run_st, "running");
	/* backspace; an empty line is only a new prompt */
	type(h, "info blokk\x7f\x7f" "ck\n\n");
	assert_string_equal(screen, "info blokk\b \b\b \bck\r\ndisk0: /img/a.raw (raw, read-only)\r\n"
			    "    Attached to:      /machine/peripheral/vd0\r\n"
			    "(anonymous): /img/a.raw (file)\r\n(qemu) \r\n(qemu) ");
	type(h, "savevm x\n");
	assert_non_null(strstr(screen, "unknown command: 'savevm x' (ember's HMP: try help)\r\n"));
	type(h, "help\n");
	assert_non_null(strstr(screen, "info qtree -- show the devices\r\n"));
	assert_non_null(strstr(screen, "cont|c -- resume the vCPUs\r\n"));
	assert_non_null(strstr(screen, "quit|q -- quit ember\r\n"));
	/* errors as QEMU's HMP prints them */
	has_balloon = 0;
	type(h, "system_powerdown\n");
	assert_string_equal(screen, "system_powerdown\r\nError: this machine has no ACPI power "
			    "button\r\n(qemu) ");
	type(h, "system_reset\n");
	assert_int_equal(resets, 1);
	type(h, "q\n");
	assert_int_equal(quits, 1);
	assert_string_equal(screen, "q\r\n");	/* no prompt after quit */
	hmp_free(h);
}

static struct json_object *run(const char *cmd)
{
	struct json_object *o, *r;

	clear();
	feed(cmd);
	assert_int_equal(nreplies, 1);
	o = json_tokener_parse(replies[0]);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "return", &r));
	json_object_get(r);
	json_object_put(o);
	return r;
}

/* A type name the schema defines (builtins, arrays, objects, enums). */
static struct json_object *schema_find(struct json_object *schema, const char *name)
{
	for (size_t i = 0; i < json_object_array_length(schema); i++) {
		struct json_object *e = json_object_array_get_idx(schema, i);

		if (!strcmp(json_object_get_string(json_object_object_get(e, "name")), name))
			return e;
	}
	fail_msg("schema lacks %s", name);
	return NULL;
}

/*
 * query-qmp-schema: every command query-commands lists, every type any
 * of them refers to, defined exactly once; what it says of arguments is
 * what dispatch enforces.
 */
static void t_schema(void **state)
{
	struct json_object *cmds, *schema, *e, *members;
	size_t ncmd = 0;

	negotiate();
	cmds = run("{\"execute\": \"query-commands\"}");
	schema = run("{\"execute\": \"query-qmp-schema\"}");
	for (size_t i = 0; i < json_object_array_length(schema); i++) {
		const char *meta, *name;

		e = json_object_array_get_idx(schema, i);
		name = json_object_get_string(json_object_object_get(e, "name"));
		meta = json_object_get_string(json_object_object_get(e, "meta-type"));
		assert_ptr_equal(schema_find(schema, name), e);	/* once */
		if (!strcmp(meta, "command")) {
			ncmd++;
			schema_find(schema, json_object_get_string(json_object_object_get(e, "arg-type")));
			schema_find(schema, json_object_get_string(json_object_object_get(e, "ret-type")));
		} else if (!strcmp(meta, "event")) {
			schema_find(schema, json_object_get_string(json_object_object_get(e, "arg-type")));
		} else if (!strcmp(meta, "array")) {
			schema_find(schema, json_object_get_string(json_object_object_get(e, "element-type")));
		} else if (!strcmp(meta, "object")) {
			members = json_object_object_get(e, "members");
			for (size_t k = 0; k < json_object_array_length(members); k++)
				schema_find(schema, json_object_get_string(json_object_object_get(
					json_object_array_get_idx(members, k), "type")));
		} else if (strcmp(meta, "builtin") && strcmp(meta, "enum")) {
			fail_msg("unknown meta-type %s", meta);
		}
	}
	assert_int_equal(ncmd, json_object_array_length(cmds));
	for (size_t i = 0; i < json_object_array_length(cmds); i++) {
		const char *n = json_object_get_string(json_object_object_get(
			json_object_array_get_idx(cmds, i), "name"));

		assert_string_equal(json_object_get_string(json_object_object_get(
			schema_find(schema, n), "meta-type")), "command");
	}
	/* balloon takes value:int, human-monitor-command an optional cpu-index */
	e = schema_find(schema, "q_obj_balloon-arg");
	assert_string_equal(json_object_to_json_string_ext(json_object_object_get(e, "members"),
		JSON_C_TO_STRING_PLAIN), "[{\"name\":\"value\",\"type\":\"int\"}]");
	e = schema_find(schema, "q_obj_human-monitor-command-arg");
	assert_string_equal(json_object_to_json_string_ext(json_object_object_get(e, "members"),
		JSON_C_TO_STRING_PLAIN), "[{\"name\":\"command-line\",\"type\":\"str\"},"
		"{\"name\":\"cpu-index\",\"type\":\"int\",\"default\":null}]");
	assert_string_equal(json_object_get_string(json_object_object_get(
		schema_find(schema, "SHUTDOWN"), "meta-type")), "event");
	assert_string_equal(json_object_get_string(json_object_object_get(
		schema_find(schema, "int"), "json-type")), "int");
	assert_string_equal(json_object_to_json_string_ext(json_object_object_get(
		schema_find(schema, "RunState"), "values"), JSON_C_TO_STRING_PLAIN),
		"[\"prelaunch\",\"running\",\"paused\",\"shutdown\",\"guest-panicked\",\"inmigrate\"]");
	json_object_put(cmds);
	json_object_put(schema);
}

/* Each command of the table answers with no arguments: a result or a clear error. */
static void t_every_command(void **state)
{
	struct json_object *cmds;
	char in[128];

	negotiate();
	cmds = run("{\"execute\": \"query-commands\"}");
	for (size_t i = 0; i < json_object_array_length(cmds); i++) {
		const char *n = json_object_get_string(json_object_object_get(
			json_object_array_get_idx(cmds, i), "name"));

		if (!strcmp(n, "qmp_capabilities"))
			continue;
		snprintf(in, sizeof(in), "{\"execute\": \"%s\"}", n);
		clear();
		feed(in);
		assert_true(nreplies >= 1);
		if (!strstr(replies[nreplies - 1], "\"return\"") &&
		    !strstr(replies[nreplies - 1], "is missing\""))
			fail_msg("%s: %s", n, replies[nreplies - 1]);
	}
	json_object_put(cmds);
}

/* ---- the socket server, with several clients, against a machine without vCPUs ---- */

static struct machine srv_m;

static void *loop_thread(void *arg)
{
	loop_run(arg);
	return NULL;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* The next line from @fd within @ms (NULL: none came), without its CR LF. */
static char *read_line(int fd, int ms)
{
	static char line[8192];
	size_t n = 0;

	while (n < sizeof(line) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, ms) != 1 || read(fd, line + n, 1) != 1)
			return NULL;
		if (line[n++] == '\n')
			break;
	}
	line[n >= 2 ? n - 2 : 0] = 0;
	return line;
}

static void say(int fd, const char *json)
{
	assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
}

static void hear(int fd, const char *part)
{
	char *l = read_line(fd, 5000);

	if (!l || !strstr(l, part))
		fail_msg("expected %s, got %s", part, l ? l : "nothing");
}

static void t_server(void **state)
{
	char path[64];
	struct loop *l = loop_new();
	int c[QMP_MAX_CLIENTS + 1];
	pthread_t th;

	assert_non_null(l);
	snprintf(path, sizeof(path), "/tmp/ember-qmp-%d.sock", getpid());
	memset(&srv_m, 0, sizeof(srv_m));
	srv_m.pf.loop = l;
	srv_m.state = RUN_PRELAUNCH;
	{
		char opt[96];

		snprintf(opt, sizeof(opt), "unix:%s,server=on,wait=off", path);
		assert_int_equal(qmp_server_create(opt, l, &srv_m), 0);
	}
	assert_int_equal(pthread_create(&th, NULL, loop_thread, l), 0);
	c[0] = connect_to(path);
	c[1] = connect_to(path);
	hear(c[0], "{\"QMP\":{\"version\":{\"qemu\":{\"major\":7");
	hear(c[1], "{\"QMP\":");
	/* Each its own negotiation. */
	say(c[1], "{\"execute\": \"query-status\"}\n");
	hear(c[1], "\"class\":\"CommandNotFound\"");
	say(c[0], "{\"execute\": \"qmp_capabilities\"}\n");
	hear(c[0], "{\"return\":{}}");
	say(c[0], "{\"execute\": \"query-status\"}\n");
	hear(c[0], "\"status\":\"prelaunch\"");
	/* cont: RESUME to the negotiated client only. */
	say(c[0], "{\"execute\": \"cont\", \"id\": 1}\n");
	hear(c[0], "\"event\":\"RESUME\"");
	hear(c[0], "{\"return\":{},\"id\":1}");
	assert_null(read_line(c[1], 300));
	say(c[1], "{\"execute\": \"qmp_capabilities\"}\n");
	hear(c[1], "{\"return\":{}}");
	/* stop from one: STOP to both. */
	say(c[1], "{\"execute\": \"stop\"}\n");
	hear(c[1], "\"event\":\"STOP\"");
	hear(c[1], "{\"return\":{}}");
	hear(c[0], "\"event\":\"STOP\"");
	say(c[0], "{\"execute\": \"query-status\"}\n");
	hear(c[0], "\"status\":\"paused\",\"singlestep\":false,\"running\":false");
	/* Up to QMP_MAX_CLIENTS at once; the next waits until one leaves. */
	for (int i = 2; i <= QMP_MAX_CLIENTS; i++)
		c[i] = connect_to(path);
	for (int i = 2; i < QMP_MAX_CLIENTS; i++)
		hear(c[i], "{\"QMP\":");
	assert_null(read_line(c[QMP_MAX_CLIENTS], 300));
	close(c[2]);
	hear(c[QMP_MAX_CLIENTS], "{\"QMP\":");
	/* quit ends the loop, after its reply. */
	say(c[QMP_MAX_CLIENTS], "{\"execute\": \"qmp_capabilities\"}\n"
	    "{\"execute\": \"quit\"}\n");
	hear(c[QMP_MAX_CLIENTS], "{\"return\":{}}");
	hear(c[QMP_MAX_CLIENTS], "{\"return\":{}}");
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_string_equal(srv_m.stop_cause, "host-qmp-quit");
	qmp_event_shutdown(false, srv_m.stop_cause);
	qmp_server_destroy();
	/* The last event went out before the sockets closed. */
	hear(c[0], "\"event\":\"SHUTDOWN\",\"data\":{\"guest\":false,\"reason\":\"host-qmp-quit\"}");
	assert_null(read_line(c[0], 1000));	/* then EOF */
	for (int i = 0; i <= QMP_MAX_CLIENTS; i++)
		if (i != 2)
			close(c[i]);
	assert_int_not_equal(access(path, F_OK), 0);	/* the socket is gone */
	loop_free(l);
}

static void start_server(struct loop *l, char *path, size_t size, pthread_t *th)
{
	char opt[96];

	snprintf(path, size, "/tmp/ember-qmp-%d.sock", getpid());
	memset(&srv_m, 0, sizeof(srv_m));
	srv_m.pf.loop = l;
	srv_m.state = RUN_RUNNING;
	snprintf(opt, sizeof(opt), "unix:%s,server=on,wait=off", path);
	assert_int_equal(qmp_server_create(opt, l, &srv_m), 0);
	assert_int_equal(pthread_create(th, NULL, loop_thread, l), 0);
}

/* Reads until EOF within @ms: whether the server closed the connection. */
static bool closed_within(int fd, int ms)
{
	char buf[65536];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, ms) != 1)
			return false;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return true;
	}
}

/* Reads until @n lines came. */
static void drain_lines(int fd, int n)
{
	char buf[4096];

	while (n > 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t k;

		assert_int_equal(poll(&p, 1, 5000), 1);
		k = read(fd, buf, sizeof(buf));
		assert_true(k > 0);
		for (ssize_t i = 0; i < k; i++)
			n -= buf[i] == '\n';
	}
}

/*
 * A silent client is dropped after the handshake timeout and locks nobody
 * out meanwhile; a client that never reads is dropped at the reply bound;
 * more than QMP_MAX_CLIENTS wait in the backlog, not refused.
 */
static void t_server_hostile(void **state)
{
	struct loop *l = loop_new();
	int silent, talker, sink, many[QMP_MAX_CLIENTS * 3];
	char path[64];
	pthread_t th;
	unsigned saved = qmp_handshake_ms;
	bool hung_up = false;

	qmp_handshake_ms = 500;
	start_server(l, path, sizeof(path), &th);
	silent = connect_to(path);
	hear(silent, "{\"QMP\":");
	talker = connect_to(path);
	hear(talker, "{\"QMP\":");
	say(talker, "{\"execute\": \"qmp_capabilities\"}\n{\"execute\": \"query-status\"}\n");
	hear(talker, "{\"return\":{}}");
	hear(talker, "\"running\":true");
	/* The silent one goes; the talker, negotiated in time, stays. */
	assert_true(closed_within(silent, 3000));
	close(silent);
	/* One that asks for big replies and never reads: dropped at the bound. */
	sink = connect_to(path);
	hear(sink, "{\"QMP\":");
	say(sink, "{\"execute\": \"qmp_capabilities\"}\n");
	for (int i = 0; i < 1000; i++) {
		struct pollfd p = { .fd = sink, .events = POLLOUT };

		if (poll(&p, 1, 2000) != 1 || (p.revents & (POLLERR | POLLHUP)))
			break;
		if (send(sink, "{\"execute\": \"query-qmp-schema\"}\n", 32, MSG_NOSIGNAL) != 32)
			break;
	}
	say(talker, "{\"execute\": \"query-status\"}\n");
	hear(talker, "\"running\":true");
	assert_true(closed_within(sink, 5000));
	close(sink);
	/*
	 * One that negotiated and never reads, flooded by events the talker
	 * causes: dropped at the bound although it never wakes on its own.
	 */
	sink = connect_to(path);
	hear(sink, "{\"QMP\":");
	say(sink, "{\"execute\": \"qmp_capabilities\"}\n");
	hear(sink, "{\"return\":{}}");
	for (int i = 0; i < 400 && !hung_up; i++) {
		struct pollfd p = { .fd = sink, .events = POLLRDHUP };
		char batch[64 * 32];

		/* The server hung up, before this client read anything. */
		hung_up = poll(&p, 1, 0) == 1;
		batch[0] = 0;
		for (int j = 0; j < 32; j++)
			strcat(batch, "{\"execute\":\"stop\"}\n{\"execute\":\"cont\"}\n");
		say(talker, batch);
		drain_lines(talker, 32 * 4);	/* two replies, two events */
	}
	assert_true(hung_up);
	assert_true(closed_within(sink, 2000));
	close(sink);
	say(talker, "{\"execute\": \"query-status\"}\n");
	hear(talker, "\"running\":true");
	/* Three times as many as are served at once: all connect; each is served in turn. */
	for (unsigned i = 0; i < sizeof(many) / sizeof(many[0]); i++)
		many[i] = connect_to(path);
	for (unsigned i = 0; i < sizeof(many) / sizeof(many[0]); i++) {
		hear(many[i], "{\"QMP\":");
		close(many[i]);
	}
	say(talker, "{\"execute\": \"quit\"}\n");
	hear(talker, "{\"return\":{}}");
	assert_int_equal(pthread_join(th, NULL), 0);
	qmp_server_destroy();
	close(talker);
	loop_free(l);
	qmp_handshake_ms = saved;
}

/* CPU time of the calling process, in ms. */
static long cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Out of file descriptors, the listener rests instead of spinning on its
 * readable socket, and the waiting client is served once one is free. In
 * a child, under a low RLIMIT_NOFILE.
 */
static int accept_backoff_child(void)
{
	struct rlimit rl = { 64, 64 };
	struct loop *l = loop_new();
	char path[64];
	pthread_t th;
	int c, fds[64], n = 0, ret = 0;
	long t0, used;

	if (!l || setrlimit(RLIMIT_NOFILE, &rl))
		return 10;
	start_server(l, path, sizeof(path), &th);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	while (n < 64 && (fds[n] = dup(0)) >= 0)
		n++;
	if (c < 0 || n == 64 || errno != EMFILE)
		return 11;
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		if (connect(c, (struct sockaddr *)&sa, sizeof(sa)))
			return 12;
	}
	t0 = cpu_ms();
	usleep(1000 * 1000);
	used = cpu_ms() - t0;
	if (used > 200) {
		fprintf(stderr, "the listener spun: %ld ms of CPU in 1 s\n", used);
		ret = 13;
	}
	close(fds[--n]);
	{
		char *greet = read_line(c, 3000);

		if (!greet || !strstr(greet, "{\"QMP\":"))
			ret = ret ? ret : 14;
	}
	while (n)
		close(fds[--n]);
	say(c, "{\"execute\": \"qmp_capabilities\"}\n{\"execute\": \"quit\"}\n");
	pthread_join(th, NULL);
	qmp_server_destroy();
	close(c);
	return ret;
}

static void t_accept_backoff(void **state)
{
	in_child(accept_backoff_child, 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_greeting, setup, teardown),
		cmocka_unit_test_setup_teardown(t_hmp, setup, teardown),
		cmocka_unit_test_setup_teardown(t_negotiation, setup, teardown),
		cmocka_unit_test_setup_teardown(t_balloon, setup, teardown),
		cmocka_unit_test_setup_teardown(t_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(t_qom, setup, teardown),
		cmocka_unit_test_setup_teardown(t_envelope, setup, teardown),
		cmocka_unit_test_setup_teardown(t_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(t_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(t_nesting, setup, teardown),
		cmocka_unit_test_setup_teardown(t_nul, setup, teardown),
		cmocka_unit_test_setup_teardown(t_skip_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(t_quit, setup, teardown),
		cmocka_unit_test_setup_teardown(t_run_state, setup, teardown),
		cmocka_unit_test_setup_teardown(t_power, setup, teardown),
		cmocka_unit_test_setup_teardown(t_events, setup, teardown),
		cmocka_unit_test_setup_teardown(t_info, setup, teardown),
		cmocka_unit_test_setup_teardown(t_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(t_every_command, setup, teardown),
		cmocka_unit_test(t_server),
		cmocka_unit_test(t_server_hostile),
		cmocka_unit_test(t_accept_backoff),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
