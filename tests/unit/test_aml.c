/*
 * AML encodings, byte for byte. The expected bytes of the resource
 * templates and the method were produced by iasl from the equivalent ASL.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/aml.h"
#include "devices/pvpanic.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "virtio/transport.h"

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ }), \
		   sizeof((const uint8_t[]){ __VA_ARGS__ })

static void expect_bytes(struct aml *a, const uint8_t *want, size_t n)
{
	assert_int_equal(a->err, 0);
	assert_int_equal(a->len, n);
	assert_memory_equal(a->buf, want, n);
	aml_free(a);
}

/* A value and the bytes it must encode to. */
struct enc {
	uint64_t v;
	uint8_t n, b[9];
};

static void check_encodings(void (*emit)(struct aml *, uint64_t),
			    const struct enc *c, size_t n)
{
	struct aml a;

	for (size_t i = 0; i < n; i++) {
		aml_init(&a);
		emit(&a, c[i].v);
		expect_bytes(&a, c[i].b, c[i].n);
	}
}

static void emit_pkglen(struct aml *a, uint64_t v)
{
	aml_pkglen(a, v);
}

static void t_pkglen_raw(void **state)
{
	static const struct enc cases[] = {
		{ 0, 1, { 0x00 } },
		{ 63, 1, { 0x3f } },
		{ 64, 2, { 0x40, 0x04 } },
		{ 0x123, 2, { 0x43, 0x12 } },
		{ 4095, 2, { 0x4f, 0xff } },
		{ 4096, 3, { 0x80, 0x00, 0x01 } },
		{ (1u << 20) - 1, 3, { 0x8f, 0xff, 0xff } },
		{ 1u << 20, 4, { 0xc0, 0x00, 0x00, 0x01 } },
		{ (1u << 28) - 1, 4, { 0xcf, 0xff, 0xff, 0xff } },
	};
	struct aml a;

	check_encodings(emit_pkglen, cases, sizeof(cases) / sizeof(cases[0]));
	aml_init(&a);
	aml_pkglen(&a, 1u << 28);
	assert_int_equal(a.err, -E2BIG);
	aml_free(&a);
}

/*
 * aml_end() must pick the PkgLength size for body + its own bytes: a body of
 * 62 fits one byte (63), a body of 63 needs two (65), and so on.
 */
static void t_pkglen_end(void **state)
{
	static const struct {
		size_t body;
		uint8_t n, b[4];
	} cases[] = {
		{ 62, 1, { 0x3f } },
		{ 63, 2, { 0x41, 0x04 } },
		{ 4093, 2, { 0x4f, 0xff } },
		{ 4094, 3, { 0x81, 0x00, 0x01 } },
		{ (1u << 20) - 4, 3, { 0x8f, 0xff, 0xff } },
		{ (1u << 20) - 3, 4, { 0xc1, 0x00, 0x00, 0x01 } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = cases[i].n, body = cases[i].body;
		uint8_t *fill = malloc(body);
		struct aml a;
		size_t h;

		assert_non_null(fill);
		for (size_t j = 0; j < body; j++)
			fill[j] = j * 7;
		aml_init(&a);
		aml_byte(&a, 0xaa);	/* something before the object */
		h = aml_scope(&a, "\\");	/* 5c 00: two bytes of body */
		aml_bytes(&a, fill + 2, body - 2);
		aml_end(&a, h);
		assert_int_equal(a.err, 0);
		assert_int_equal(a.len, 2 + n + body);
		assert_int_equal(a.buf[0], 0xaa);
		assert_int_equal(a.buf[1], 0x10);
		assert_memory_equal(a.buf + 2, cases[i].b, n);
		assert_int_equal(a.buf[2 + n], 0x5c);
		assert_int_equal(a.buf[3 + n], 0x00);
		assert_memory_equal(a.buf + 4 + n, fill + 2, body - 2);
		aml_free(&a);
		free(fill);
	}
}

static void t_integers(void **state)
{
	static const struct enc cases[] = {
		{ 0, 1, { 0x00 } },
		{ 1, 1, { 0x01 } },
		{ 2, 2, { 0x0a, 0x02 } },
		{ 0xff, 2, { 0x0a, 0xff } },
		{ 0x100, 3, { 0x0b, 0x00, 0x01 } },
		{ 0xffff, 3, { 0x0b, 0xff, 0xff } },
		{ 0x10000, 5, { 0x0c, 0x00, 0x00, 0x01, 0x00 } },
		{ 0xffffffff, 5, { 0x0c, 0xff, 0xff, 0xff, 0xff } },
		{ 0x100000000ULL, 9, { 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 } },
		{ 0x0123456789abcdefULL, 9,
		  { 0x0e, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01 } },
		{ UINT64_MAX - 1, 9,
		  { 0x0e, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ UINT64_MAX, 1, { 0xff } },
	};

	check_encodings(aml_int, cases, sizeof(cases) / sizeof(cases[0]));
}

static void t_names(void **state)
{
	static const struct {
		const char *path;
		const char *bytes;
		size_t n;
	} cases[] = {
		{ "_SB", "_SB_", 4 },
		{ "_SB_", "_SB_", 4 },
		{ "A", "A___", 4 },
		{ "RTC", "RTC_", 4 },
		{ "\\", "\\\0", 2 },
		{ "\\_SB", "\\_SB_", 5 },
		{ "\\_SB_.COM1", "\\\x2e_SB_COM1", 10 },
		{ "^^FOO", "^^FOO_", 6 },
		{ "A.B9.C_", "\x2f\x03" "A___B9__C___", 14 },
		{ "\\_SB.PCI0.S08.F1", "\\\x2f\x04_SB_PCI0S08_F1__", 19 },
	};
	static const char *const bad[] = {
		"a", "TOOLONG", "1ABC", "A..B", "A.", ".A", "\\^A", "A-B", "B\xc3\x84",
	};
	struct aml a;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		aml_init(&a);
		aml_namestring(&a, cases[i].path);
		expect_bytes(&a, (const uint8_t *)cases[i].bytes, cases[i].n);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a);
		aml_namestring(&a, bad[i]);
		assert_int_equal(a.err, -EINVAL);
		aml_free(&a);
	}
}

static void t_errors_stick(void **state)
{
	struct aml a;
	size_t h, len;

	aml_init(&a);
	h = aml_scope(&a, "_SB");
	aml_name(&a, "bad");
	assert_int_equal(a.err, -EINVAL);
	len = a.len;
	aml_int(&a, 0x1234);
	aml_string(&a, "x");
	aml_end(&a, h);
	assert_int_equal(a.len, len);
	assert_int_equal(a.err, -EINVAL);
	/* The first error is the one reported. */
	aml_fail(&a, -ENOMEM);
	assert_int_equal(a.err, -EINVAL);
	aml_free(&a);
	assert_null(a.buf);
	assert_int_equal(a.err, 0);

	aml_init(&a);
	aml_method(&a, "FOO", 8, false);
	assert_int_equal(a.err, -EINVAL);
	aml_free(&a);
	aml_init(&a);
	aml_package(&a, 256);
	assert_int_equal(a.err, -EINVAL);
	aml_free(&a);
	aml_init(&a);
	aml_string(&a, "caf\xc3\xa9");
	assert_int_equal(a.err, -EINVAL);
	aml_free(&a);
	aml_init(&a);
	aml_end(&a, 5);		/* a handle past the end */
	assert_int_equal(a.err, -EINVAL);
	aml_free(&a);
}

static void t_eisaid(void **state)
{
	struct aml a;
	uint32_t v;

	assert_int_equal(aml_eisaid_value("PNP0501", &v), 0);
	assert_int_equal(v, 0x0105d041);
	assert_int_equal(aml_eisaid_value("PNP0B00", &v), 0);
	assert_int_equal(v, 0x000bd041);
	assert_int_equal(aml_eisaid_value("PNP0A08", &v), 0);
	assert_int_equal(v, 0x080ad041);
	assert_int_equal(aml_eisaid_value("pnp0501", &v), -EINVAL);
	assert_int_equal(aml_eisaid_value("PNP050", &v), -EINVAL);
	assert_int_equal(aml_eisaid_value("PNP05011", &v), -EINVAL);
	assert_int_equal(aml_eisaid_value("PNP05G1", &v), -EINVAL);

	aml_init(&a);
	aml_eisaid(&a, "PNP0501");
	expect_bytes(&a, BYTES(0x0c, 0x41, 0xd0, 0x05, 0x01));
	aml_init(&a);
	aml_eisaid(&a, "PNPX501");
	assert_int_equal(a.err, -EINVAL);
	aml_free(&a);
}

static void t_string_name(void **state)
{
	struct aml a;

	aml_init(&a);
	aml_name(&a, "_HID");
	aml_string(&a, "LNRO0005");
	expect_bytes(&a, BYTES(0x08, '_', 'H', 'I', 'D', 0x0d, 'L', 'N', 'R',
			       'O', '0', '0', '0', '5', 0x00));
	aml_init(&a);
	aml_string(&a, "");
	expect_bytes(&a, BYTES(0x0d, 0x00));
}

/*
 * Method (_STA, 0, Serialized) { Return (0x0F) }
 * Name (P, Package () {5, 5, 0, 0})
 * Method (M2, 3)
 */
static void t_method_package(void **state)
{
	struct aml a;
	size_t h;

	aml_init(&a);
	h = aml_method(&a, "_STA", 0, true);
	aml_return(&a);
	aml_int(&a, 0x0f);
	aml_end(&a, h);
	aml_name(&a, "P");
	h = aml_package(&a, 4);
	aml_int(&a, 5);
	aml_int(&a, 5);
	aml_int(&a, 0);
	aml_int(&a, 0);
	aml_end(&a, h);
	h = aml_method(&a, "M2", 3, false);
	aml_end(&a, h);
	expect_bytes(&a, BYTES(0x14, 0x09, '_', 'S', 'T', 'A', 0x08, 0xa4, 0x0a,
			       0x0f, 0x08, 'P', '_', '_', '_', 0x12, 0x08, 0x04,
			       0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00, 0x14, 0x06,
			       'M', '2', '_', '_', 0x03));
}

/*
 * Method (M, 2) {
 *   If (LEqual (Arg0, ToUUID ("33DB4D5B-1FF7-401C-9657-7441C03DD766")))
 *     { Store (Arg1, Local7) } Else { Or (Arg1, 4, Local7) }
 *   Return (Local7) }
 */
static void t_method_terms(void **state)
{
	struct aml a;
	size_t m, h;

	aml_init(&a);
	m = aml_method(&a, "M", 2, false);
	h = aml_if(&a);
	aml_op(&a, AML_LEQUAL);
	aml_arg(&a, 0);
	aml_uuid(&a, "33DB4D5B-1FF7-401C-9657-7441C03DD766");
	aml_op(&a, AML_STORE);
	aml_arg(&a, 1);
	aml_local(&a, 7);
	aml_end(&a, h);
	h = aml_else(&a);
	aml_op(&a, AML_OR);
	aml_arg(&a, 1);
	aml_int(&a, 4);
	aml_local(&a, 7);
	aml_end(&a, h);
	aml_return(&a);
	aml_local(&a, 7);
	aml_end(&a, m);
	expect_bytes(&a, BYTES(0x14, 0x2a, 'M', '_', '_', '_', 0x02,
			       0xa0, 0x1a, 0x93, 0x68, 0x11, 0x13, 0x0a, 0x10,
			       0x5b, 0x4d, 0xdb, 0x33, 0xf7, 0x1f, 0x1c, 0x40,
			       0x96, 0x57, 0x74, 0x41, 0xc0, 0x3d, 0xd7, 0x66,
			       0x70, 0x69, 0x67, 0xa1, 0x06, 0x7d, 0x69, 0x0a,
			       0x04, 0x67, 0xa4, 0x67));

	/* Lower case is the same UUID; malformed ones and bad operands fail. */
	aml_init(&a);
	aml_uuid(&a, "33db4d5b-1ff7-401c-9657-7441c03dd766");
	assert_int_equal(a.err, 0);
	assert_int_equal(a.buf[4], 0x5b);
	aml_free(&a);
	static const char *const bad[] = {
		"33DB4D5B-1FF7-401C-9657-7441C03DD76", "33DB4D5B1FF7-401C-9657-7441C03DD7661",
		"33DB4D5B-1FF7-401C-9657-7441C03DD76G", "", "33DB4D5B-1FF7-401C-9657-7441C03DD766-",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a);
		aml_uuid(&a, bad[i]);
		assert_int_equal(a.err, -EINVAL);
		aml_free(&a);
	}
	aml_init(&a);
	aml_arg(&a, 7);
	assert_int_equal(a.err, -EINVAL);
	aml_free(&a);
	aml_init(&a);
	aml_local(&a, 8);
	assert_int_equal(a.err, -EINVAL);
	aml_free(&a);
}

static void t_device_buffer(void **state)
{
	struct aml a;
	size_t h, b;

	aml_init(&a);
	h = aml_device(&a, "\\_SB.DEV0");
	aml_name(&a, "BUF");
	b = aml_buffer(&a);
	aml_bytes(&a, "\x01\x02\x03", 3);
	aml_buffer_end(&a, b);
	aml_end(&a, h);
	expect_bytes(&a, BYTES(0x5b, 0x82, 0x17, '\\', 0x2e, '_', 'S', 'B', '_',
			       'D', 'E', 'V', '0', 0x08, 'B', 'U', 'F', '_',
			       0x11, 0x06, 0x0a, 0x03, 0x01, 0x02, 0x03));

	/* A buffer whose size needs a word and whose PkgLength needs 2 bytes. */
	aml_init(&a);
	b = aml_buffer(&a);
	for (int i = 0; i < 300; i++)
		aml_byte(&a, i);
	aml_buffer_end(&a, b);
	assert_int_equal(a.err, 0);
	assert_int_equal(a.len, 1 + 2 + 3 + 300);
	assert_memory_equal(a.buf, "\x11\x41\x13\x0b\x2c\x01", 6);
	assert_int_equal(a.buf[6], 0);
	assert_int_equal(a.buf[305], 299 & 0xff);
	aml_free(&a);
}

/* Each Name (Rn, ResourceTemplate () {...}) as iasl compiles it. */
static void t_resources(void **state)
{
	struct aml a;
	size_t h;

#define RES(name, call)                     \
	do {                                \
		aml_name(&a, name);         \
		h = aml_res_begin(&a);      \
		call;                       \
		aml_res_end(&a, h);         \
	} while (0)

	aml_init(&a);
	RES("R1", aml_res_io(&a, 0x3f8, 0x3f8, 1, 8));
	expect_bytes(&a, BYTES(0x08, 'R', '1', '_', '_', 0x11, 0x0d, 0x0a, 0x0a,
			       0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
			       0x79, 0x00));
	aml_init(&a);
	RES("R2", aml_res_fixed_io(&a, 0x60, 1));
	expect_bytes(&a, BYTES(0x08, 'R', '2', '_', '_', 0x11, 0x09, 0x0a, 0x06,
			       0x4b, 0x60, 0x00, 0x01, 0x79, 0x00));
	aml_init(&a);
	RES("R3", aml_res_irq(&a, 4));
	expect_bytes(&a, BYTES(0x08, 'R', '3', '_', '_', 0x11, 0x08, 0x0a, 0x05,
			       0x22, 0x10, 0x00, 0x79, 0x00));
	aml_init(&a);
	RES("R4", aml_res_mem32_fixed(&a, true, 0xd0000000, 0x200));
	expect_bytes(&a, BYTES(0x08, 'R', '4', '_', '_', 0x11, 0x11, 0x0a, 0x0e,
			       0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0,
			       0x00, 0x02, 0x00, 0x00, 0x79, 0x00));
	aml_init(&a);
	RES("R5", aml_res_interrupt(&a, AML_IRQ_CONSUMER, 0x10));
	expect_bytes(&a, BYTES(0x08, 'R', '5', '_', '_', 0x11, 0x0e, 0x0a, 0x0b,
			       0x89, 0x06, 0x00, 0x01, 0x01, 0x10, 0x00, 0x00,
			       0x00, 0x79, 0x00));
	aml_init(&a);
	RES("R6", aml_res_word_bus(&a, 0, 0xff));
	expect_bytes(&a, BYTES(0x08, 'R', '6', '_', '_', 0x11, 0x15, 0x0a, 0x12,
			       0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00,
			       0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01,
			       0x79, 0x00));
	aml_init(&a);
	RES("R7", aml_res_dword_mem(&a, false, 0xc0000000, 0xfebfffff));
	expect_bytes(&a, BYTES(0x08, 'R', '7', '_', '_', 0x11, 0x1f, 0x0a, 0x1c,
			       0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00,
			       0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff,
			       0xbf, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			       0xc0, 0x3e, 0x79, 0x00));
	aml_init(&a);
	RES("R8", aml_res_qword_mem(&a, true, 0x8000000000ULL,
				    0xffffffffffULL));
	expect_bytes(&a, BYTES(0x08, 'R', '8', '_', '_', 0x11, 0x33, 0x0a, 0x30,
			       0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x03,
			       0, 0, 0, 0, 0, 0, 0, 0,
			       0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,
			       0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,
			       0, 0, 0, 0, 0, 0, 0, 0,
			       0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,
			       0x79, 0x00));
	aml_init(&a);
	RES("R9", aml_res_interrupt(&a, AML_IRQ_CONSUMER | AML_IRQ_EDGE |
					AML_IRQ_ACTIVE_LOW | AML_IRQ_SHARED, 5));
	expect_bytes(&a, BYTES(0x08, 'R', '9', '_', '_', 0x11, 0x0e, 0x0a, 0x0b,
			       0x89, 0x06, 0x00, 0x0f, 0x01, 0x05, 0x00, 0x00,
			       0x00, 0x79, 0x00));
#undef RES

	aml_init(&a);
	aml_res_irq(&a, 16);
	assert_int_equal(a.err, -EINVAL);
	aml_free(&a);
	aml_init(&a);
	aml_res_fixed_io(&a, 0x400, 1);
	assert_int_equal(a.err, -EINVAL);
	aml_free(&a);
	aml_init(&a);
	aml_res_dword_mem(&a, false, 2, 1);
	assert_int_equal(a.err, -EINVAL);
	aml_free(&a);
}

/* Scope (\_SB) { COM1, VR00 }, then PEVT and RTC, as iasl compiles them. */
static void t_dsdt_nodes(void **state)
{
	static const uint8_t want[] = {
		0x10, 0x47, 0x07, 0x5c, 0x5f, 0x53, 0x42, 0x5f, 0x5b, 0x82,
		0x2b, 0x43, 0x4f, 0x4d, 0x31, 0x08, 0x5f, 0x48, 0x49, 0x44,
		0x0c, 0x41, 0xd0, 0x05, 0x01, 0x08, 0x5f, 0x55, 0x49, 0x44,
		0x01, 0x08, 0x5f, 0x43, 0x52, 0x53, 0x11, 0x10, 0x0a, 0x0d,
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, 0x22, 0x10,
		0x00, 0x79, 0x00, 0x5b, 0x82, 0x41, 0x04, 0x56, 0x52, 0x30,
		0x30, 0x08, 0x5f, 0x48, 0x49, 0x44, 0x0d, 0x4c, 0x4e, 0x52,
		0x4f, 0x30, 0x30, 0x30, 0x35, 0x00, 0x08, 0x5f, 0x55, 0x49,
		0x44, 0x00, 0x08, 0x5f, 0x43, 0x43, 0x41, 0x01, 0x08, 0x5f,
		0x43, 0x52, 0x53, 0x11, 0x1a, 0x0a, 0x17, 0x86, 0x09, 0x00,
		0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x02, 0x00, 0x00, 0x89,
		0x06, 0x00, 0x01, 0x01, 0x10, 0x00, 0x00, 0x00, 0x79, 0x00,
	};
	static const uint8_t want2[] = {
		0x5b, 0x82, 0x27, 0x50, 0x45, 0x56, 0x54, 0x08, 0x5f, 0x48,
		0x49, 0x44, 0x0d, 0x51, 0x45, 0x4d, 0x55, 0x30, 0x30, 0x30,
		0x31, 0x00, 0x08, 0x5f, 0x43, 0x52, 0x53, 0x11, 0x0d, 0x0a,
		0x0a, 0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 0x01, 0x01, 0x79,
		0x00, 0x5b, 0x82, 0x25, 0x52, 0x54, 0x43, 0x5f, 0x08, 0x5f,
		0x48, 0x49, 0x44, 0x0c, 0x41, 0xd0, 0x0b, 0x00, 0x08, 0x5f,
		0x43, 0x52, 0x53, 0x11, 0x10, 0x0a, 0x0d, 0x47, 0x01, 0x70,
		0x00, 0x70, 0x00, 0x01, 0x02, 0x22, 0x00, 0x01, 0x79, 0x00,
	};
	struct aml a;
	size_t h;

	aml_init(&a);
	h = aml_scope(&a, "\\_SB");
	acpi_dsdt_add_serial(&a, 0, 0x3f8, 4);
	acpi_dsdt_add_virtio_mmio(&a, 0, 0xd0000000, 0x200, 16);
	aml_end(&a, h);
	expect_bytes(&a, want, sizeof(want));
	aml_init(&a);
	acpi_dsdt_add_pvpanic(&a, 0x505);
	acpi_dsdt_add_rtc(&a);
	expect_bytes(&a, want2, sizeof(want2));

	/* Out of range: the error sticks for acpi_build() to report. */
	aml_init(&a);
	acpi_dsdt_add_serial(&a, 9, 0x3f8, 4);
	assert_int_equal(a.err, -EINVAL);
	aml_free(&a);
	aml_init(&a);
	acpi_dsdt_add_serial(&a, 0, 0x3f8, 16);
	assert_int_equal(a.err, -EINVAL);
	aml_free(&a);
	aml_init(&a);
	acpi_dsdt_add_virtio_mmio(&a, 100, 0xd0000000, 0x200, 16);
	assert_int_equal(a.err, -EINVAL);
	aml_free(&a);
	aml_init(&a);
	acpi_dsdt_add_virtio_mmio(&a, 0, 0xfffff000, 0x2000, 16);
	assert_int_equal(a.err, -EINVAL);
	aml_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_pkglen_raw),
		cmocka_unit_test(t_pkglen_end),
		cmocka_unit_test(t_integers),
		cmocka_unit_test(t_names),
		cmocka_unit_test(t_errors_stick),
		cmocka_unit_test(t_eisaid),
		cmocka_unit_test(t_string_name),
		cmocka_unit_test(t_method_package),
		cmocka_unit_test(t_method_terms),
		cmocka_unit_test(t_device_buffer),
		cmocka_unit_test(t_resources),
		cmocka_unit_test(t_dsdt_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
