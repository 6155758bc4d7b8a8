/*
 * AML encodings from the ACPI specification, chapter 20 (AML grammar) and
 * 6.4 (resource descriptors). Multi-byte values are little-endian.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/aml.h"
#include "lib/util.h"

enum {
	ZERO_OP = 0x00, ONE_OP = 0x01, ONES_OP = 0xff,
	NAME_OP = 0x08, BYTE_PREFIX = 0x0a, WORD_PREFIX = 0x0b,
	DWORD_PREFIX = 0x0c, STRING_PREFIX = 0x0d, QWORD_PREFIX = 0x0e,
	SCOPE_OP = 0x10, BUFFER_OP = 0x11, PACKAGE_OP = 0x12, METHOD_OP = 0x14,
	DUAL_NAME_PREFIX = 0x2e, MULTI_NAME_PREFIX = 0x2f,
	LOCAL0_OP = 0x60, ARG0_OP = 0x68,
	IF_OP = 0xa0, ELSE_OP = 0xa1, RETURN_OP = 0xa4,
	DEVICE_OP = 0x5b82,	/* ExtOpPrefix, then 0x82 */
};

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml_free(struct aml *a)
{
	free(a->buf);
	aml_init(a);
}

void aml_fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

static bool room(struct aml *a, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (a->err)
		return false;
	if (a->len + n <= a->cap)
		return true;
	cap = MAX(MAX(a->cap * 2, a->len + n), (size_t)256);
	p = realloc(a->buf, cap);
	if (!p) {
		aml_fail(a, -ENOMEM);
		return false;
	}
	a->buf = p;
	a->cap = cap;
	return true;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (!n || !room(a, n))
		return;
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t v)
{
	aml_bytes(a, &v, 1);
}

static void le(struct aml *a, uint64_t v, unsigned n)
{
	uint8_t b[8];

	for (unsigned i = 0; i < n; i++)
		b[i] = v >> (8 * i);
	aml_bytes(a, b, n);
}

/* Inserts @n bytes at @off: how a closed object gets its header. */
static void insert(struct aml *a, size_t off, const uint8_t *p, size_t n)
{
	if (off > a->len)
		aml_fail(a, -EINVAL);
	if (!room(a, n))
		return;
	memmove(a->buf + off + n, a->buf + off, a->len - off);
	memcpy(a->buf + off, p, n);
	a->len += n;
}

/* A PkgLength of n bytes holds values below pkglen_limit[n - 1]. */
static const uint32_t pkglen_limit[] = {
	1u << 6, 1u << 12, 1u << 20, 1u << 28
};

/* Returns the size of the encoding, 0 if @v is too large for a PkgLength. */
static unsigned pkglen_encode(uint8_t *out, uint32_t v)
{
	unsigned n = 1;

	while (n <= 4 && v >= pkglen_limit[n - 1])
		n++;
	if (n > 4)
		return 0;
	if (n == 1) {
		out[0] = v;
		return 1;
	}
	/* Lead byte: count of following bytes in bits 7-6, low nibble of v. */
	out[0] = (n - 1) << 6 | (v & 0xf);
	for (unsigned i = 1; i < n; i++)
		out[i] = v >> (4 + 8 * (i - 1));
	return n;
}

/* The PkgLength of a @body-byte body; it counts its own bytes too. */
static unsigned pkglen_for_body(uint8_t *out, size_t body)
{
	for (unsigned n = 1; n <= 4; n++)
		if (body + n < pkglen_limit[n - 1])
			return pkglen_encode(out, body + n);
	return 0;
}

void aml_pkglen(struct aml *a, uint32_t v)
{
	uint8_t b[4];
	unsigned n = pkglen_encode(b, v);

	if (!n)
		aml_fail(a, -E2BIG);
	aml_bytes(a, b, n);
}

static bool seg_char(char c, bool first)
{
	return (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

void aml_namestring(struct aml *a, const char *path)
{
	const char *p = path, *s;
	unsigned nsegs = 0;
	size_t n;

	if (*p == '\\')
		aml_byte(a, *p++);
	else
		while (*p == '^')
			aml_byte(a, *p++);
	/* Validate and count first: the prefix byte depends on the count. */
	for (s = p; *s; s += n + (s[n] == '.')) {
		n = strcspn(s, ".");
		for (size_t i = 0; i < n; i++)
			if (!seg_char(s[i], i == 0))
				n = 0;
		if (n < 1 || n > 4 || (s[n] == '.' && !s[n + 1]) || nsegs == 255) {
			aml_fail(a, -EINVAL);
			return;
		}
		nsegs++;
	}
	if (nsegs == 0)
		aml_byte(a, 0);		/* NullName */
	else if (nsegs == 2)
		aml_byte(a, DUAL_NAME_PREFIX);
	else if (nsegs > 2) {
		aml_byte(a, MULTI_NAME_PREFIX);
		aml_byte(a, nsegs);
	}
	for (s = p; *s; s += n + (s[n] == '.')) {
		n = strcspn(s, ".");
		aml_bytes(a, s, n);
		aml_bytes(a, "___", 4 - n);
	}
}

/* Returns the size of the encoding of integer @v (1 to 9 bytes). */
static unsigned int_encode(uint8_t *out, uint64_t v)
{
	unsigned n;

	if (v == 0 || v == 1 || v == UINT64_MAX) {
		out[0] = v == 0 ? ZERO_OP : v == 1 ? ONE_OP : ONES_OP;
		return 1;
	}
	if (v <= UINT8_MAX)
		out[0] = BYTE_PREFIX, n = 1;
	else if (v <= UINT16_MAX)
		out[0] = WORD_PREFIX, n = 2;
	else if (v <= UINT32_MAX)
		out[0] = DWORD_PREFIX, n = 4;
	else
		out[0] = QWORD_PREFIX, n = 8;
	for (unsigned i = 0; i < n; i++)
		out[1 + i] = v >> (8 * i);
	return n + 1;
}

void aml_int(struct aml *a, uint64_t v)
{
	uint8_t b[9];

	aml_bytes(a, b, int_encode(b, v));
}

void aml_string(struct aml *a, const char *s)
{
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c > 0x7f)
			aml_fail(a, -EINVAL);
	aml_byte(a, STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int aml_eisaid_value(const char *id, uint32_t *out)
{
	uint32_t v = 0;

	if (strlen(id) != 7)
		return -EINVAL;
	/* Three letters of 5 bits each ('A' = 1), then four hex digits... */
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
		v = v << 5 | (id[i] - '@');
	}
	for (int i = 3; i < 7; i++) {
		if (hexval(id[i]) < 0)
			return -EINVAL;
		v = v << 4 | hexval(id[i]);
	}
	/* ...stored big-endian in a dword that AML reads as little-endian. */
	*out = __builtin_bswap32(v);
	return 0;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v;

	if (aml_eisaid_value(id, &v))
		aml_fail(a, -EINVAL);
	/* Always a DWord, as iasl's EISAID() emits it. */
	aml_byte(a, DWORD_PREFIX);
	le(a, v, 4);
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, NAME_OP);
	aml_namestring(a, name);
}

void aml_return(struct aml *a)
{
	aml_byte(a, RETURN_OP);
}

/* Emits @op (two bytes if extended) and @name; the body starts after @op. */
static size_t open_obj(struct aml *a, uint16_t op, const char *name)
{
	size_t h;

	if (op > 0xff)
		aml_byte(a, op >> 8);
	aml_byte(a, op);
	h = a->len;
	if (name)
		aml_namestring(a, name);
	return h;
}

size_t aml_scope(struct aml *a, const char *path)
{
	return open_obj(a, SCOPE_OP, path);
}

size_t aml_device(struct aml *a, const char *name)
{
	return open_obj(a, DEVICE_OP, name);
}

size_t aml_method(struct aml *a, const char *name, unsigned nargs,
		  bool serialized)
{
	size_t h = open_obj(a, METHOD_OP, name);

	if (nargs > 7)
		aml_fail(a, -EINVAL);
	aml_byte(a, nargs | serialized << 3);
	return h;
}

size_t aml_if(struct aml *a)
{
	return open_obj(a, IF_OP, NULL);
}

size_t aml_else(struct aml *a)
{
	return open_obj(a, ELSE_OP, NULL);
}

void aml_op(struct aml *a, enum aml_opcode op)
{
	aml_byte(a, op);
}

void aml_arg(struct aml *a, unsigned n)
{
	if (n > 6)
		aml_fail(a, -EINVAL);
	aml_byte(a, ARG0_OP + (n & 7));
}

void aml_local(struct aml *a, unsigned n)
{
	if (n > 7)
		aml_fail(a, -EINVAL);
	aml_byte(a, LOCAL0_OP + (n & 7));
}

/*
 * The first three groups are stored little-endian, the last two as
 * written (ACPI 6.4, 19.6.142).
 */
void aml_uuid(struct aml *a, const char *uuid)
{
	static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6,
					   8, 9, 10, 11, 12, 13, 14, 15 };
	uint8_t raw[16], out[16];
	unsigned n = 0;
	size_t h;

	for (const char *c = uuid; *c && n < 32; c++) {
		int v = hexval(*c >= 'a' && *c <= 'f' ? *c - 'a' + 'A' : *c);

		if (*c == '-' && (c - uuid == 8 || c - uuid == 13 || c - uuid == 18 ||
				  c - uuid == 23))
			continue;
		if (v < 0)
			break;
		raw[n / 2] = n % 2 ? raw[n / 2] | v : v << 4;
		n++;
	}
	if (n != 32 || strlen(uuid) != 36) {
		aml_fail(a, -EINVAL);
		return;
	}
	for (unsigned i = 0; i < 16; i++)
		out[i] = raw[order[i]];
	h = aml_buffer(a);
	aml_bytes(a, out, 16);
	aml_buffer_end(a, h);
}

size_t aml_package(struct aml *a, unsigned nelems)
{
	size_t h = open_obj(a, PACKAGE_OP, NULL);

	if (nelems > 255)
		aml_fail(a, -EINVAL);
	aml_byte(a, nelems);
	return h;
}

void aml_end(struct aml *a, size_t h)
{
	uint8_t b[4];
	unsigned n;

	if (a->err)
		return;
	n = pkglen_for_body(b, a->len - MIN(h, a->len));
	if (!n)
		aml_fail(a, -E2BIG);
	insert(a, h, b, n);
}

size_t aml_buffer(struct aml *a)
{
	return open_obj(a, BUFFER_OP, NULL);
}

void aml_buffer_end(struct aml *a, size_t h)
{
	uint8_t b[4 + 9], size[9];
	unsigned n, ns;

	if (a->err)
		return;
	/* Buffer := BufferOp PkgLength BufferSize(an integer term) ByteList */
	ns = int_encode(size, a->len - MIN(h, a->len));
	n = pkglen_for_body(b, a->len - MIN(h, a->len) + ns);
	if (!n)
		aml_fail(a, -E2BIG);
	memcpy(b + n, size, ns);
	insert(a, h, b, n + ns);
}

size_t aml_res_begin(struct aml *a)
{
	return aml_buffer(a);
}

void aml_res_end(struct aml *a, size_t h)
{
	aml_byte(a, 0x79);	/* EndTag */
	aml_byte(a, 0);
	aml_buffer_end(a, h);
}

void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
		uint8_t len)
{
	aml_byte(a, 0x47);
	aml_byte(a, 1);		/* Decode16 */
	le(a, min, 2);
	le(a, max, 2);
	aml_byte(a, align);
	aml_byte(a, len);
}

void aml_res_fixed_io(struct aml *a, uint16_t base, uint8_t len)
{
	if (base > 0x3ff)
		aml_fail(a, -EINVAL);
	aml_byte(a, 0x4b);
	le(a, base, 2);
	aml_byte(a, len);
}

void aml_res_irq(struct aml *a, unsigned irq)
{
	if (irq > 15)
		aml_fail(a, -EINVAL);
	aml_byte(a, 0x22);
	le(a, 1u << (irq & 15), 2);
}

void aml_res_mem32_fixed(struct aml *a, bool rw, uint32_t base, uint32_t len)
{
	aml_byte(a, 0x86);
	le(a, 9, 2);
	aml_byte(a, rw);
	le(a, base, 4);
	le(a, len, 4);
}

void aml_res_interrupt(struct aml *a, unsigned flags, uint32_t gsi)
{
	aml_byte(a, 0x89);
	le(a, 6, 2);		/* flags, count, one dword */
	aml_byte(a, flags & 0x0f);
	aml_byte(a, 1);
	le(a, gsi, 4);
}

/*
 * Word, DWord and QWord address-space descriptors differ only in the tag and
 * field size: type, general flags, type flags, then granularity, min, max,
 * translation and length.
 */
static void addr_space(struct aml *a, uint8_t tag, unsigned size, uint8_t type,
		       uint8_t tflags, uint64_t min, uint64_t max)
{
	if (max < min)
		aml_fail(a, -EINVAL);
	aml_byte(a, tag);
	le(a, 3 + 5 * size, 2);
	aml_byte(a, type);
	aml_byte(a, 0x0c);	/* MaxFixed, MinFixed, PosDecode, Producer */
	aml_byte(a, tflags);
	le(a, 0, size);
	le(a, min, size);
	le(a, max, size);
	le(a, 0, size);
	le(a, max - min + 1, size);
}

/* Memory type flags: ReadWrite, Cacheable (1) or NonCacheable (0). */
#define MEM_FLAGS(cacheable) (1 | (cacheable) << 1)

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	addr_space(a, 0x88, 2, 2, 0, min, max);
}

/* I/O type flags: EntireRange (ISA and non-ISA ports), TypeStatic, dense. */
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	addr_space(a, 0x88, 2, 1, 3, min, max);
}

void aml_res_dword_mem(struct aml *a, bool cacheable, uint32_t min,
		       uint32_t max)
{
	addr_space(a, 0x87, 4, 0, MEM_FLAGS(cacheable), min, max);
}

void aml_res_qword_mem(struct aml *a, bool cacheable, uint64_t min,
		       uint64_t max)
{
	addr_space(a, 0x8a, 8, 0, MEM_FLAGS(cacheable), min, max);
}

/* _HID: a 7-character PNP id compresses to an EISA id, others stay strings. */
void aml_hid(struct aml *a, const char *id)
{
	aml_name(a, "_HID");
	if (strlen(id) == 7)
		aml_eisaid(a, id);
	else
		aml_string(a, id);
}

void aml_isa_device(struct aml *a, const char *name, const char *hid, int uid,
		    uint16_t port, uint8_t len, int irq)
{
	size_t dev, crs;

	dev = aml_device(a, name);
	aml_hid(a, hid);
	if (uid >= 0) {
		aml_name(a, "_UID");
		aml_int(a, uid);
	}
	aml_name(a, "_CRS");
	crs = aml_res_begin(a);
	aml_res_io(a, port, port, 1, len);
	if (irq >= 0)
		aml_res_irq(a, irq);
	aml_res_end(a, crs);
	aml_end(a, dev);
}
