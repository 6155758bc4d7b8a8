/*
 * ACPI tables and the power-management registers. Tables are checked field
 * by field at the offsets the specification gives, then handed to acpica's
 * disassembler (iasl -d) when it is installed: it parses them the way an OS
 * would, and its output is checked for the objects we meant to describe.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"
#include "devices/acpi.h"
#include "devices/aml.h"
#include "devices/device.h"
#include "devices/pci.h"
#include "devices/platform.h"
#include "devices/pvpanic.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "lib/keyval.h"
#include "lib/log.h"
#include "virtio/transport.h"

/* --- fakes of the registry (device.c) and of the port bus (bus.c) --- */

static const struct device_type *types[8];
static unsigned ntypes;

void device_type_register(const struct device_type *t)
{
	assert_true(ntypes < 8);
	types[ntypes++] = t;
}

static struct device *add_device(struct platform *pf,
				 const struct device_type *t, const void *state)
{
	struct device *d = calloc(1, sizeof(*d)), **p;

	assert_non_null(d);
	d->type = t;
	d->state = calloc(1, t->state_size ? t->state_size : 1);
	assert_non_null(d->state);
	if (state)
		memcpy(d->state, state, t->state_size);
	for (p = &pf->devices; *p; p = &(*p)->next)
		;
	*p = d;
	return d;
}

static void unlink_last(struct platform *pf)
{
	struct device **p = &pf->devices;

	while ((*p)->next)
		p = &(*p)->next;
	free((*p)->state);
	free(*p);
	*p = NULL;
}

int device_create_kv(struct platform *pf, const char *type, struct keyval *kv,
		     struct device **out)
{
	for (unsigned i = 0; i < ntypes; i++) {
		struct device *d;
		int ret;

		if (strcmp(types[i]->name, type))
			continue;
		/* Like device.c: linked only once realized. */
		d = add_device(pf, types[i], NULL);
		ret = types[i]->realize(d, pf);
		if (ret) {
			unlink_last(pf);
			return ret;
		}
		if (out)
			*out = d;
		return 0;
	}
	return -ENOENT;
}

int device_create_internal(struct platform *pf, const char *type)
{
	return device_create_kv(pf, type, NULL, NULL);
}

static void free_devices(struct platform *pf)
{
	while (pf->devices) {
		struct device *d = pf->devices;

		pf->devices = d->next;
		if (d->type->unrealize)
			d->type->unrealize(d, pf);
		free(d->state);
		free(d);
	}
}

static struct bus_range fake_range;

int bus_register(struct bus *b, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name)
{
	if (fake_range.ops)
		return -EEXIST;
	fake_range = (struct bus_range){ base, len, ops, opaque, name };
	return 0;
}

int bus_unregister(struct bus *b, uint64_t base)
{
	if (!fake_range.ops || fake_range.base != base)
		return -ENOENT;
	memset(&fake_range, 0, sizeof(fake_range));
	return 0;
}

/* --- device types whose aml callbacks use the DSDT helpers --- */

struct fake_state {
	int index;
	uint64_t base;
	uint32_t size;
	unsigned irq;
};

static void serial_aml(struct device *dev, struct aml *a)
{
	struct fake_state *s = dev->state;

	acpi_dsdt_add_serial(a, s->index, s->base, s->irq);
}

static void rtc_aml(struct device *dev, struct aml *a)
{
	acpi_dsdt_add_rtc(a);
}

static void pvpanic_aml(struct device *dev, struct aml *a)
{
	acpi_dsdt_add_pvpanic(a, 0x505);
}

static void virtio_aml(struct device *dev, struct aml *a)
{
	struct fake_state *s = dev->state;

	acpi_dsdt_add_virtio_mmio(a, s->index, s->base, s->size, s->irq);
}

#define FAKE_TYPE(var, fn) \
	static const struct device_type var = { .name = #var, \
		.state_size = sizeof(struct fake_state), .aml = fn }
FAKE_TYPE(serial_type, serial_aml);
FAKE_TYPE(rtc_type, rtc_aml);
FAKE_TYPE(virtio_type, virtio_aml);
FAKE_TYPE(pvpanic_type, pvpanic_aml);
FAKE_TYPE(quiet_type, NULL);	/* a device with nothing in the DSDT */

static void add_fake(struct platform *pf, const struct device_type *t,
		     int index, uint64_t base, uint32_t size, unsigned irq)
{
	struct fake_state s = { index, base, size, irq };

	add_device(pf, t, &s);
}

/* Two serials, an RTC, pvpanic, two virtio-mmio and a quiet device. */
static void machine_devices(struct platform *pf)
{
	add_fake(pf, &serial_type, 0, 0x3f8, 0, 4);
	add_fake(pf, &serial_type, 1, 0x2f8, 0, 3);
	add_fake(pf, &rtc_type, 0, 0, 0, 0);
	add_fake(pf, &quiet_type, 0, 0, 0, 0);
	add_fake(pf, &pvpanic_type, 0, 0, 0, 0);
	add_fake(pf, &virtio_type, 0, 0xd0000000, 0x200, 16);
	add_fake(pf, &virtio_type, 1, 0xd0000200, 0x200, 17);
}

/* --- reading the tables back --- */

#define GPA 0xe0000ULL
#define AREA 0x10000

static uint8_t area[AREA];

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* The table at guest address @gpa, checked for its header and checksum. */
static const uint8_t *table_at(uint64_t gpa, long used, const char *sig)
{
	const uint8_t *t;
	uint32_t len;

	assert_true(gpa >= GPA && gpa + 36 <= GPA + used);
	assert_true(gpa % 16 == 0);
	t = area + (gpa - GPA);
	len = rd32(t + 4);
	assert_memory_equal(t, sig, 4);
	assert_true(gpa + len <= GPA + used);
	assert_int_equal(sum(t, len), 0);
	assert_memory_equal(t + 10, "EMBER ", 6);
	assert_memory_equal(t + 16, "EMBERVM ", 8);
	assert_memory_equal(t + 28, "EMBR", 4);
	return t;
}

struct tables {
	long used;
	const uint8_t *xsdt, *fadt, *madt, *dsdt;
};

static void find_tables(long used, struct tables *t)
{
	const uint8_t *r = area;

	t->used = used;
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum(r, 20), 0);
	assert_int_equal(sum(r, 36), 0);
	assert_memory_equal(r + 9, "EMBER ", 6);
	assert_int_equal(r[15], 2);			/* revision */
	assert_int_equal(rd32(r + 16), 0);		/* no RSDT */
	assert_int_equal(rd32(r + 20), 36);		/* length */
	t->xsdt = table_at(rd64(r + 24), used, "XSDT");
	assert_int_equal(rd32(t->xsdt + 4), 36 + 2 * 8);
	t->fadt = table_at(rd64(t->xsdt + 36), used, "FACP");
	t->madt = table_at(rd64(t->xsdt + 44), used, "APIC");
	t->dsdt = table_at(rd64(t->fadt + 140), used, "DSDT");
}

static struct platform pf;

static int setup(void **state)
{
	memset(&pf, 0, sizeof(pf));
	memset(area, 0xcc, sizeof(area));
	log_set_quiet(1);
	return 0;
}

static char tmpdir[64];

static int teardown(void **state)
{
	char cmd[128];

	free_devices(&pf);
	if (tmpdir[0] && !getenv("ACPI_TEST_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd))
			return -1;
	}
	tmpdir[0] = 0;
	return 0;
}

/* As arch/x86/boot.c does: the tables with x86's MADT. */
static long build_cfg(unsigned ncpus, struct acpi_config *cfg, size_t size, uint64_t gpa)
{
	void *madt;
	long ret;

	ret = madt_build(ncpus, &madt);
	if (ret)
		return ret;
	cfg->tables[0] = madt;
	cfg->nr_tables = 1;
	ret = acpi_build(&pf, cfg, area, size, gpa);
	free(madt);
	return ret;
}

static long build(unsigned ncpus)
{
	struct acpi_config cfg = { 0 };

	return build_cfg(ncpus, &cfg, sizeof(area), GPA);
}

static void check_fadt(const uint8_t *f, const uint8_t *dsdt)
{
	static const uint8_t sleep_ctl[12] = { 1, 8, 0, 1, 0x00, 0x06 };
	static const uint8_t sleep_sts[12] = { 1, 8, 0, 1, 0x01, 0x06 };
	static const uint8_t reset[12] = { 1, 8, 0, 1, 0x02, 0x06 };

	assert_int_equal(rd32(f + 4), 276);
	assert_int_equal(f[8], 6);			/* revision */
	assert_int_equal(f[131], 0);			/* minor: ACPI 6.0 */
	/* WBINVD, PWR_BUTTON, SLP_BUTTON, RESET_REG_SUP, HW_REDUCED_ACPI */
	assert_int_equal(rd32(f + 112), 1u << 0 | 1u << 4 | 1u << 5 |
					1u << 10 | 1u << 20);
	/* IAPC_BOOT_ARCH: only VGA not present; no 8042, MSI and RTC ok. */
	assert_int_equal(f[109] | f[110] << 8, 1u << 2);
	assert_memory_equal(f + 116, reset, 12);
	assert_int_equal(f[128], ACPI_RESET_VALUE);
	assert_memory_equal(f + 244, sleep_ctl, 12);
	assert_memory_equal(f + 256, sleep_sts, 12);
	assert_memory_equal(f + 268, "EMBER\0\0\0", 8);
	assert_int_equal(rd32(f + 36), 0);		/* no FACS */
	assert_int_equal(rd64(f + 132), 0);
	assert_int_equal(rd32(f + 40), GPA + (dsdt - area));
	assert_int_equal(rd64(f + 140), GPA + (dsdt - area));
	/* No fixed-hardware register blocks in a hardware-reduced FADT. */
	for (int off = 56; off < 88; off++)
		assert_int_equal(f[off], 0);
	for (int off = 148; off < 244; off++)
		assert_int_equal(f[off], 0);
}

static void check_madt(const uint8_t *m, unsigned ncpus)
{
	uint32_t len = rd32(m + 4);
	unsigned lapics = 0, ioapics = 0, nmis = 0;

	assert_int_equal(rd32(m + 36), LAPIC_ADDR);
	assert_int_equal(rd32(m + 40), 0);		/* no PCAT_COMPAT */
	for (uint32_t off = 44; off < len; off += m[off + 1]) {
		const uint8_t *e = m + off;

		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], lapics);	/* ACPI processor id */
			assert_int_equal(e[3], lapics);	/* APIC id */
			assert_int_equal(rd32(e + 4), 1);	/* enabled */
			lapics++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], ncpus);
			assert_int_equal(rd32(e + 4), IOAPIC_ADDR);
			assert_int_equal(rd32(e + 8), 0);
			ioapics++;
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xff);
			assert_int_equal(e[3] | e[4] << 8, 0);
			assert_int_equal(e[5], 1);		/* LINT1 */
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	assert_int_equal(lapics, ncpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(nmis, 1);
}

static void check_tables(unsigned ncpus)
{
	struct tables t;
	long used;
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08,
				      0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };

	machine_devices(&pf);
	used = build(ncpus);
	assert_true(used > 0 && used <= AREA);
	find_tables(used, &t);
	check_fadt(t.fadt, t.dsdt);
	check_madt(t.madt, ncpus);
	assert_int_equal(t.dsdt[8], 2);	/* revision 2: 64-bit integers */
	/* \_S5 is the first object, at the root. */
	assert_memory_equal(t.dsdt + 36, s5, sizeof(s5));
	assert_non_null(memmem(t.dsdt, rd32(t.dsdt + 4), "LNRO0005", 8));
	assert_non_null(memmem(t.dsdt, rd32(t.dsdt + 4), "VR01", 4));
	assert_non_null(memmem(t.dsdt, rd32(t.dsdt + 4), "COM2", 4));
	/* Nothing written past what acpi_build() says it used. */
	for (size_t i = used; i < AREA; i++)
		assert_int_equal(area[i], 0xcc);
}

static void t_tables_1cpu(void **state)
{
	check_tables(1);
}

static void t_tables_4cpus(void **state)
{
	check_tables(4);
}

static void t_errors(void **state)
{
	struct acpi_config cfg = { 0 };
	long used;

	machine_devices(&pf);
	used = build(2);
	assert_true(used > 0);
	memset(area, 0xcc, sizeof(area));
	assert_int_equal(build_cfg(2, &cfg, used - 1, GPA), -ENOSPC);
	assert_non_null(strstr(log_last(), "bytes"));
	assert_int_equal(area[0], 0xcc);	/* nothing written */
	assert_int_equal(build_cfg(2, &cfg, used, GPA), used);

	assert_int_equal(build_cfg(2, &cfg, used, GPA + 8), -EINVAL);
	assert_int_equal(build(0), -EINVAL);
	assert_int_equal(build(255), -EINVAL);
	assert_true(build(254) > 0);

	cfg.oem_id = "TOOLONG";
	assert_int_equal(build_cfg(2, &cfg, sizeof(area), GPA), -EINVAL);
	assert_non_null(strstr(log_last(), "TOOLONG"));
	cfg.oem_id = "ABC";
	used = build_cfg(2, &cfg, sizeof(area), GPA);
	assert_true(used > 0);
	assert_memory_equal(area + 9, "ABC   ", 6);
	assert_memory_equal(area + (rd64(area + 24) - GPA) + 10, "ABC   ", 6);

	/* A device whose DSDT node cannot be encoded fails the build. */
	add_fake(&pf, &virtio_type, 100, 0xd0000000, 0x200, 16);
	assert_int_equal(build(2), -EINVAL);
	assert_non_null(strstr(log_last(), "DSDT"));
	free_devices(&pf);

	/* Tables above 4 GiB: only the 64-bit DSDT pointer can reach. */
	used = build_cfg(2, &cfg, sizeof(area), 0x100000000ULL);
	assert_true(used > 0);
	assert_int_equal(rd32(area + 24 + 4), 1);	/* XSDT high dword */
	{
		const uint8_t *x = area + (rd64(area + 24) - 0x100000000ULL);
		const uint8_t *f = area + (rd64(x + 36) - 0x100000000ULL);

		assert_memory_equal(f, "FACP", 4);
		assert_int_equal(rd32(f + 40), 0);
		assert_true(rd64(f + 140) > 0x100000000ULL);
	}
}

/*
 * The architecture's tables: x86's MADT comes with only sig, len and rev;
 * acpi_build() places each after the FADT, in order, completes its header
 * and lists it in the XSDT before the MCFG.
 */
static void t_arch_tables(void **state)
{
	struct { struct acpi_header h; uint8_t body[3]; } __attribute__((packed)) extra = {
		.h = { .sig = "TEST", .len = sizeof(extra), .rev = 7, .csum = 0x55 },
		.body = { 1, 2, 3 },
	};
	struct acpi_config cfg = { 0 };
	const uint8_t *x, *m, *e;
	void *madt;
	long used;

	assert_int_equal(madt_build(3, &madt), 0);
	m = madt;
	assert_memory_equal(m, "APIC", 4);
	assert_int_equal(rd32(m + 4), 44 + 3 * 8 + 12 + 6);
	assert_int_equal(m[8], 4);			/* revision */
	for (int off = 9; off < 36; off++)		/* for acpi_build() */
		assert_int_equal(m[off], 0);
	check_madt(m, 3);

	cfg.tables[0] = madt;
	cfg.tables[1] = &extra;
	cfg.nr_tables = 2;
	used = acpi_build(&pf, &cfg, area, sizeof(area), GPA);
	assert_true(used > 0);
	x = area + (rd64(area + 24) - GPA);
	assert_int_equal(rd32(x + 4), 36 + 3 * 8);
	m = table_at(rd64(x + 44), used, "APIC");
	e = table_at(rd64(x + 52), used, "TEST");	/* checksum redone */
	assert_true(e > m);
	assert_int_equal(e[8], 7);
	assert_memory_equal(e + 36, extra.body, 3);
	check_madt(m, 3);

	extra.h.len = sizeof(extra.h) - 1;
	assert_int_equal(acpi_build(&pf, &cfg, area, sizeof(area), GPA), -EINVAL);
	assert_non_null(strstr(log_last(), "TEST"));
	cfg.nr_tables = ACPI_ARCH_TABLES_MAX + 1;
	assert_int_equal(acpi_build(&pf, &cfg, area, sizeof(area), GPA), -EINVAL);
	free(madt);
}

/* --- iasl --- */

static void write_file(const char *name, const uint8_t *p, size_t n)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Runs @cmd in tmpdir; returns its exit status and output in @out. */
static int run(const char *cmd, char *out, size_t size)
{
	char line[512];
	size_t n = 0;
	FILE *p;

	snprintf(line, sizeof(line), "cd %s && %s 2>&1", tmpdir, cmd);
	p = popen(line, "r");
	assert_non_null(p);
	n = fread(out, 1, size - 1, p);
	out[n] = 0;
	return pclose(p);
}

static char *read_file(const char *name, size_t *len)
{
	char path[128], *s;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	s = malloc(n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, n, f), n);
	s[n] = 0;
	fclose(f);
	*len = n;
	return s;
}

/* Collapses each run of blanks and newlines to one space, in place. */
static void squeeze(char *text)
{
	char *d = text;

	for (const char *s = text; *s; s++) {
		if (!strchr(" \t\n", *s))
			*d++ = *s;
		else if (d == text || d[-1] != ' ')
			*d++ = ' ';
	}
	*d = 0;
}

static void expect_in(const char *text, const char *const *want, size_t n,
		      const char *file)
{
	for (size_t i = 0; i < n; i++)
		if (!strstr(text, want[i]))
			fail_msg("%s lacks \"%s\"", file, want[i]);
}

/* Disassembles @name.dat; the .dsl must exist and hold @want. */
static char *disassemble(const char *name, const char *const *want, size_t n)
{
	char cmd[128], out[8192], dsl[64];
	size_t len;
	char *text;

	snprintf(cmd, sizeof(cmd), "iasl -d %s.dat", name);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	if (strstr(out, "Error") || strstr(out, "Warning"))
		fail_msg("iasl -d %s.dat:\n%s", name, out);
	snprintf(dsl, sizeof(dsl), "%s.dsl", name);
	text = read_file(dsl, &len);
	squeeze(text);
	expect_in(text, want, n, dsl);
	return text;
}

static void t_iasl(void **state)
{
	static const char *const dsdt_want[] = {
		"DefinitionBlock (\"\", \"DSDT\", 2, \"EMBER \", \"EMBERVM \", 0x00000001)",
		"Name (_S5, Package (0x04)",
		"Scope (\\_SB)",
		"Device (COM1)", "Device (COM2)", "Device (RTC)",
		"Device (VR00)", "Device (VR01)",
		"Name (_HID, EisaId (\"PNP0501\")",
		"Name (_HID, EisaId (\"PNP0B00\")",
		"Name (_HID, \"LNRO0005\")",
		"Device (PEVT)", "Name (_HID, \"QEMU0001\")",
		"IO (Decode16, 0x0505, // Range Minimum 0x0505,",
		"IO (Decode16, 0x03F8, // Range Minimum 0x03F8,",
		"IO (Decode16, 0x02F8, // Range Minimum 0x02F8,",
		"IO (Decode16, 0x0070, // Range Minimum 0x0070,",
		"IRQNoFlags () {4}", "IRQNoFlags () {3}", "IRQNoFlags () {8}",
		"Memory32Fixed (ReadWrite, 0xD0000000, // Address Base 0x00000200,",
		"Memory32Fixed (ReadWrite, 0xD0000200, // Address Base 0x00000200,",
		"Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, ) { 0x00000010, }",
		"Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, ) { 0x00000011, }",
		/* the power button, through the GED */
		"Device (PWRB) { Name (_HID, EisaId (\"PNP0C0C\")",
		"Device (GED0) { Name (_HID, \"ACPI0013\" /* Generic Event Device */)",
		"Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) { 0x00000009, }",
		"OperationRegion (EREG, SystemIO, 0x0603, One)",
		"Field (EREG, ByteAcc, NoLock, Preserve) { EVTS, 8 }",
		"Method (_EVT, 1, Serialized)",
		"Local0 = EVTS",
		"If ((Local0 & One)) { Notify (PWRB, 0x80)",
	};
	static const char *const fadt_want[] = {
		"Signature : \"FACP\"",
		"Revision : 06",
		"Hardware Reduced (V5) : 1",
		"Reset Register Supported (V2) : 1",
		"Control Method Power Button (V1) : 1",
		"Control Method Sleep Button (V1) : 1",
		"VGA Not Present (V4) : 1",
		"8042 Present on ports 60/64 (V2) : 0",
		"MSI Not Supported (V4) : 0",
		"CMOS RTC Not Present (V5) : 0",
		"Space ID : 01 [SystemIO]",
		"Address : 0000000000000600",
		"Address : 0000000000000601",
		"Address : 0000000000000602",
		"Value to cause reset : 42",
	};
	static const char *const madt_want[] = {
		"Signature : \"APIC\"",
		"Local Apic Address : FEE00000",
		"PC-AT Compatibility : 0",
		"Local Apic ID : 03",
		"I/O Apic ID : 04",
		"Address : FEC00000",
		"Processor ID : FF",
		"Interrupt Input LINT : 01",
	};
	struct tables t;
	char out[8192], *again;
	long used;
	size_t len;

	if (system("command -v iasl >/dev/null 2>&1") != 0)
		skip();
	machine_devices(&pf);
	assert_int_equal(acpi_pm_create(&pf), 0);
	used = build(4);
	assert_true(used > 0);
	find_tables(used, &t);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ember-acpi-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	write_file("dsdt.dat", t.dsdt, rd32(t.dsdt + 4));
	write_file("facp.dat", t.fadt, rd32(t.fadt + 4));
	write_file("apic.dat", t.madt, rd32(t.madt + 4));
	write_file("xsdt.dat", t.xsdt, rd32(t.xsdt + 4));

	free(disassemble("dsdt", dsdt_want,
			 sizeof(dsdt_want) / sizeof(dsdt_want[0])));
	free(disassemble("facp", fadt_want,
			 sizeof(fadt_want) / sizeof(fadt_want[0])));
	free(disassemble("apic", madt_want,
			 sizeof(madt_want) / sizeof(madt_want[0])));

	/*
	 * Compiled back without iasl's optimizations, the disassembly gives
	 * our AML byte for byte: every encoding is one iasl would choose.
	 */
	assert_int_equal(run("iasl -oa -p again dsdt.dsl", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "0 Errors, 0 Warnings"));
	again = read_file("again.aml", &len);
	assert_int_equal(len, rd32(t.dsdt + 4));
	assert_memory_equal(again + 36, t.dsdt + 36, len - 36);
	free(again);
}

/* --- with a PCI host bridge: MCFG and \_SB.PCI0 --- */

/* The layout pci_host_create() gives the machine (no host code runs here). */
static struct pci_host pci_host = { .layout = {
	.ecam_base = 0xe0000000, .ecam_size = 1 << 20, .bus_first = 0, .bus_last = 0,
	.mmio32_base = 0xc0000000, .mmio32_size = 0x10000000,
	.mmio64_base = 0x800000000ULL, .mmio64_size = 0x800000000ULL,
	.io_base = 0xc000, .io_size = 0x4000, .intx_gsi = { 20, 21, 22, 23 },
} };

static void t_pci(void **state)
{
	static const char *const dsdt_want[] = {
		"Device (COM1)", "Device (VR01)",
		"Device (PCI0) { Name (_HID, EisaId (\"PNP0A08\")",
		"Name (_CID, EisaId (\"PNP0A03\")",
		"Name (_SEG, Zero)", "Name (_BBN, Zero)", "Name (_UID, Zero)",
		"Name (_PRT, Package (0x80) // _PRT: PCI Routing Table "
		"{ Package (0x04) { 0xFFFF, Zero, GSI0, Zero },",
		"Package (0x04) { 0xFFFF, 0x03, GSI3, Zero },",
		"Package (0x04) { 0x0001FFFF, Zero, GSI1, Zero },",
		"Package (0x04) { 0x001FFFFF, 0x03, GSI2, Zero } })",
		"Device (GSI0) { Name (_HID, EisaId (\"PNP0C0F\")",
		"{ Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, ) { 0x00000014, } })",
		"Name (_UID, 0x03) // _UID: Unique ID Name (_PRS, ResourceTemplate () "
		"// _PRS: Possible Resource Settings { Interrupt (ResourceConsumer, Level, "
		"ActiveHigh, Exclusive, ,, ) { 0x00000017, } })",
		"Method (_SRS, 1, NotSerialized) // _SRS: Set Resource Settings { }",
		"WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0x0000, "
		"// Granularity 0x0000, // Range Minimum 0x0000, // Range Maximum 0x0000, "
		"// Translation Offset 0x0001, // Length",
		"IO (Decode16, 0x0CF8, // Range Minimum 0x0CF8, // Range Maximum 0x01, "
		"// Alignment 0x08, // Length",
		"WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, "
		"0x0000, // Granularity 0xC000, // Range Minimum 0xFFFF, // Range Maximum "
		"0x0000, // Translation Offset 0x4000, // Length",
		"DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, "
		"ReadWrite, 0x00000000, // Granularity 0xC0000000, // Range Minimum "
		"0xCFFFFFFF, // Range Maximum 0x00000000, // Translation Offset 0x10000000, // Length",
		"QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, "
		"ReadWrite, 0x0000000000000000, // Granularity 0x0000000800000000, "
		"// Range Minimum 0x0000000FFFFFFFFF, // Range Maximum 0x0000000000000000, "
		"// Translation Offset 0x0000000800000000, // Length",
		"{ CreateDWordField (Arg3, Zero, CDW1) If ((Arg0 == ToUUID "
		"(\"33db4d5b-1ff7-401c-9657-7441c03dd766\") /* PCI Host Bridge Device */)) "
		"{ CreateDWordField (Arg3, 0x08, CDW3) Local0 = CDW3",
		"Local0 &= 0x1F If ((Arg1 != One)) { CDW1 |= 0x08 } "
		"If ((CDW3 != Local0)) { CDW1 |= 0x10 } CDW3 = Local0 } "
		"Else { CDW1 |= 0x04 } Return (Arg3) }",
		"Device (RES0) { Name (_HID, EisaId (\"PNP0C02\")",
		"Memory32Fixed (ReadWrite, 0xE0000000, // Address Base 0x00100000, // Address Length",
	};
	static const char *const mcfg_want[] = {
		"Signature : \"MCFG\"", "Revision : 01",
		"Base Address : 00000000E0000000", "Segment Group Number : 0000",
		"Start Bus Number : 00", "End Bus Number : 00",
	};
	const uint8_t *xsdt, *fadt, *mcfg, *dsdt;
	char out[8192], *again;
	size_t len;
	long used;

	machine_devices(&pf);
	pf.pci = &pci_host;
	used = build(2);
	assert_true(used > 0);
	/* The XSDT gains the MCFG; the other tables stay where they were. */
	xsdt = table_at(rd64(area + 24), used, "XSDT");
	assert_int_equal(rd32(xsdt + 4), 36 + 3 * 8);
	fadt = table_at(rd64(xsdt + 36), used, "FACP");
	table_at(rd64(xsdt + 44), used, "APIC");
	mcfg = table_at(rd64(xsdt + 52), used, "MCFG");
	dsdt = table_at(rd64(fadt + 140), used, "DSDT");
	assert_int_equal(rd32(mcfg + 4), 60);
	assert_int_equal(mcfg[8], 1);
	assert_int_equal(rd64(mcfg + 36), 0);
	assert_true(rd64(mcfg + 44) == 0xe0000000);
	assert_int_equal(mcfg[52] | mcfg[53] << 8, 0);	/* segment */
	assert_int_equal(mcfg[54], 0);
	assert_int_equal(mcfg[55], 0);
	assert_non_null(memmem(dsdt, rd32(dsdt + 4), "PCI0", 4));
	assert_non_null(memmem(dsdt, rd32(dsdt + 4), "LNRO0005", 8));

	/* A layout the AML cannot describe fails the build. */
	pci_host.layout.mmio32_size = 0x80000000;
	assert_int_equal(build(2), -EINVAL);
	pci_host.layout.mmio32_size = 0x10000000;

	if (system("command -v iasl >/dev/null 2>&1") != 0) {
		pf.pci = NULL;
		skip();
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ember-acpi-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	write_file("dsdt.dat", dsdt, rd32(dsdt + 4));
	write_file("mcfg.dat", mcfg, rd32(mcfg + 4));
	free(disassemble("dsdt", dsdt_want, sizeof(dsdt_want) / sizeof(dsdt_want[0])));
	free(disassemble("mcfg", mcfg_want, sizeof(mcfg_want) / sizeof(mcfg_want[0])));
	/* Byte for byte what iasl compiles from the disassembly. */
	assert_int_equal(run("iasl -oa -p again dsdt.dsl", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "0 Errors, 0 Warnings"));
	again = read_file("again.aml", &len);
	assert_int_equal(len, rd32(dsdt + 4));
	assert_memory_equal(again + 36, dsdt + 36, len - 36);
	free(again);
	pf.pci = NULL;
}

/* --- power management registers --- */

static enum stop_reason stop_why;
static int stops;
static int irq_log[8], nirq;

static void on_irq(void *opaque, unsigned gsi, int level)
{
	if (nirq < 8)
		irq_log[nirq++] = (int)gsi << 1 | level;
}

static void on_stop(void *opaque, enum stop_reason why, const char *msg)
{
	stop_why = why;
	stops++;
}

static void pm_write(uint16_t port, uint8_t v)
{
	fake_range.ops->write(fake_range.opaque, port - fake_range.base, &v, 1);
}

static void t_pm(void **state)
{
	uint8_t v[4];

	pf.request_stop = on_stop;
	stops = 0;
	assert_int_equal(acpi_pm_create(&pf), 0);
	assert_int_equal(fake_range.base, ACPI_PM_PORT);
	assert_int_equal(fake_range.len, ACPI_PM_LEN);
	assert_non_null(pf.devices);
	assert_true(pf.devices->type->internal);

	/* What Linux does before S5: clear WAK_STS. Harmless. */
	pm_write(ACPI_SLEEP_STS_PORT, 0x80);
	/* Sleep type without SLP_EN: nothing. */
	pm_write(ACPI_SLEEP_CTL_PORT, ACPI_S5_TYPE << 2);
	/* S3 is not supported: a warning, the guest keeps running. */
	pm_write(ACPI_SLEEP_CTL_PORT, 3 << 2 | 1 << 5);
	assert_non_null(strstr(log_last(), "sleep type 3"));
	assert_int_equal(stops, 0);
	pm_write(ACPI_SLEEP_CTL_PORT, ACPI_S5_TYPE << 2 | 1 << 5);
	assert_int_equal(stops, 1);
	assert_int_equal(stop_why, STOP_POWEROFF);

	pm_write(ACPI_RESET_PORT, ACPI_RESET_VALUE + 1);
	pm_write(ACPI_RESET_PORT, 0);
	assert_int_equal(stops, 1);
	pm_write(ACPI_RESET_PORT, ACPI_RESET_VALUE);
	assert_int_equal(stops, 2);
	assert_int_equal(stop_why, STOP_RESET);

	/* A word write covering SLEEP_STS and RESET writes both. */
	v[0] = 0x80;
	v[1] = ACPI_RESET_VALUE;
	fake_range.ops->write(fake_range.opaque, 1, v, 2);
	assert_int_equal(stops, 3);

	memset(v, 0xff, sizeof(v));
	fake_range.ops->read(fake_range.opaque, 0, v, 4);
	assert_int_equal(rd32(v), 0);

	/*
	 * The power button: GED's line goes up and down (edge), and its event
	 * byte says "power button" once, then reads 0 (_EVT's read clears it).
	 */
	pf.irq_set = on_irq;
	nirq = 0;
	assert_int_equal(acpi_pm_power_button(&pf), 0);
	assert_int_equal(nirq, 2);
	assert_int_equal(irq_log[0], ACPI_GED_GSI << 1 | 1);
	assert_int_equal(irq_log[1], ACPI_GED_GSI << 1);
	v[0] = 0xff;
	fake_range.ops->read(fake_range.opaque, ACPI_GED_EVT_PORT - ACPI_PM_PORT, v, 1);
	assert_int_equal(v[0], ACPI_GED_PWR_BUTTON);
	fake_range.ops->read(fake_range.opaque, ACPI_GED_EVT_PORT - ACPI_PM_PORT, v, 1);
	assert_int_equal(v[0], 0);
	/* Two presses before the guest looks: one event; a word read sees it in byte 3. */
	acpi_pm_power_button(&pf);
	acpi_pm_power_button(&pf);
	fake_range.ops->read(fake_range.opaque, 0, v, 4);
	assert_int_equal(rd32(v), (uint32_t)ACPI_GED_PWR_BUTTON << 24);
	fake_range.ops->read(fake_range.opaque, 0, v, 4);
	assert_int_equal(rd32(v), 0);
	pf.irq_set = NULL;

	/* A second instance would overlap: the bus's error comes back. */
	assert_int_equal(acpi_pm_create(&pf), -EEXIST);
	assert_null(pf.devices->next);
	free_devices(&pf);
	assert_null(fake_range.ops);
	/* Without the device there is no button. */
	assert_int_equal(acpi_pm_power_button(&pf), -ENODEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_tables_1cpu, setup, teardown),
		cmocka_unit_test_setup_teardown(t_tables_4cpus, setup, teardown),
		cmocka_unit_test_setup_teardown(t_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(t_arch_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(t_iasl, setup, teardown),
		cmocka_unit_test_setup_teardown(t_pci, setup, teardown),
		cmocka_unit_test_setup_teardown(t_pm, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
