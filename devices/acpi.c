/*
 * ACPI tables for a hardware-reduced machine (ACPI 6.0, section 4.1): no
 * PM1/GPE blocks, no SCI, no FACS. The guest powers off and resets through
 * the FADT's sleep-control and reset registers (acpi_pm.c). The
 * architecture hands in its own tables (x86: the MADT, arch/x86/acpi.c),
 * which this file places, names and checksums. A machine with a PCI host
 * bridge also gets an MCFG table (its ECAM) and \_SB.PCI0 in the DSDT.
 *
 * Layout in the reserved area: RSDP, XSDT, FADT, the architecture's tables,
 * [MCFG,] DSDT, each at a 16-byte boundary. Fields are little-endian, as
 * on every host ember runs on.
 */
#include <inttypes.h>
#include <string.h>

#include "devices/acpi.h"
#include "devices/aml.h"
#include "devices/device.h"
#include "devices/pci.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/util.h"

#define OEM_TABLE_ID	"EMBERVM "
#define CREATOR_ID	"EMBR"

struct rsdp {
	char sig[8];
	uint8_t csum;		/* over the first 20 bytes (ACPI 1.0 part) */
	char oem_id[6];
	uint8_t rev;
	uint32_t rsdt;
	uint32_t len;
	uint64_t xsdt;
	uint8_t ext_csum;	/* over all of it */
	uint8_t reserved[3];
} __attribute__((packed));

/* Generic Address Structure */
struct gas {
	uint8_t space, bit_width, bit_offset, access_size;
	uint64_t addr;
} __attribute__((packed));

struct fadt {
	struct acpi_header h;
	uint32_t facs, dsdt;
	uint8_t reserved0, pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm2_cnt, pm_tmr;
	uint32_t gpe0, gpe1;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_len, gpe1_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_rev;
	uint64_t x_facs, x_dsdt;
	struct gas x_pm1a_evt, x_pm1b_evt, x_pm1a_cnt, x_pm1b_cnt, x_pm2_cnt;
	struct gas x_pm_tmr, x_gpe0, x_gpe1;
	struct gas sleep_ctl, sleep_sts;
	char hypervisor_id[8];
} __attribute__((packed));

_Static_assert(sizeof(struct fadt) == 276, "FADT revision 6 is 276 bytes");

/*
 * WBINVD is required of every ACPI 2.0+ machine. With HW_REDUCED_ACPI the
 * power and sleep buttons are not fixed-feature hardware (bits 4, 5 set).
 */
#define FADT_WBINVD		(1u << 0)
#define FADT_PWR_BUTTON		(1u << 4)
#define FADT_SLP_BUTTON		(1u << 5)
#define FADT_RESET_REG_SUP	(1u << 10)
#define FADT_HW_REDUCED_ACPI	(1u << 20)

/*
 * Not setting the 8042 bit keeps Linux from probing a keyboard controller;
 * MSI stays allowed (virtio-pci needs it); the CMOS RTC is present.
 */
#define IAPC_VGA_NOT_PRESENT	(1u << 2)

/* PCI Firmware 3.3, 4.1.2: one ECAM allocation per segment and bus range. */
struct mcfg {
	struct acpi_header h;
	uint64_t reserved;
	uint64_t base;
	uint16_t segment;
	uint8_t bus_first, bus_last;
	uint32_t reserved2;
} __attribute__((packed));

static uint8_t checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (n--)
		sum += *b++;
	return -sum;
}

static void header(void *t, const char *sig, uint32_t len, uint8_t rev,
		   const char *oem_id)
{
	struct acpi_header *h = t;

	memcpy(h->sig, sig, 4);
	h->len = len;
	h->rev = rev;
	h->csum = 0;	/* for seal() */
	memcpy(h->oem_id, oem_id, 6);
	memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
	h->oem_rev = 1;
	memcpy(h->creator_id, CREATOR_ID, 4);
	h->creator_rev = 1;
}

/* Called last on each table: the checksum field is still 0 then. */
static void seal(void *t)
{
	struct acpi_header *h = t;

	h->csum = checksum(t, h->len);
}

static struct gas pio_reg(uint16_t port)
{
	return (struct gas){ .space = 1, .bit_width = 8, .access_size = 1,
			     .addr = port };
}

static void build_fadt(struct fadt *f, uint64_t dsdt, const char *oem)
{
	header(f, "FACP", sizeof(*f), 6, oem);
	/* The 32-bit pointer only where it reaches; X_DSDT always does. */
	f->dsdt = dsdt < 4 * GiB ? dsdt : 0;
	f->x_dsdt = dsdt;
	f->iapc_boot_arch = IAPC_VGA_NOT_PRESENT;
	f->flags = FADT_WBINVD | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
		   FADT_RESET_REG_SUP | FADT_HW_REDUCED_ACPI;
	f->reset_reg = pio_reg(ACPI_RESET_PORT);
	f->reset_value = ACPI_RESET_VALUE;
	f->sleep_ctl = pio_reg(ACPI_SLEEP_CTL_PORT);
	f->sleep_sts = pio_reg(ACPI_SLEEP_STS_PORT);
	memcpy(f->hypervisor_id, "EMBER", 5);
	seal(f);
}

static void build_mcfg(struct mcfg *m, const struct pci_layout *l, const char *oem)
{
	header(m, "MCFG", sizeof(*m), 1, oem);
	m->base = l->ecam_base;
	m->bus_first = l->bus_first;
	m->bus_last = l->bus_last;
	seal(m);
}

/* The AML that follows the DSDT header. */
static int build_dsdt_aml(struct platform *pf, struct aml *a)
{
	size_t h;

	/* SLP_TYP for the (PM1a, PM1b) control registers, two reserved. */
	aml_name(a, "_S5");
	h = aml_package(a, 4);
	aml_int(a, ACPI_S5_TYPE);
	aml_int(a, ACPI_S5_TYPE);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_end(a, h);

	h = aml_scope(a, "\\_SB");
	for (struct device *d = pf->devices; d; d = d->next)
		if (d->type->aml)
			d->type->aml(d, a);
	if (pf->pci)
		acpi_dsdt_add_pci_host(a, pci_host_layout(pf->pci));
	aml_end(a, h);
	return a->err;
}

long acpi_build(struct platform *pf, const struct acpi_config *cfg,
		void *buf, size_t size, uint64_t gpa)
{
	char oem[7] = "EMBER ";
	struct acpi_header arch[ACPI_ARCH_TABLES_MAX];
	size_t at[ACPI_ARCH_TABLES_MAX];
	size_t xsdt, fadt, mcfg, dsdt, xsdt_len, dsdt_len, total;
	unsigned ntables;
	uint8_t *b = buf;
	struct rsdp *r = buf;
	struct aml a;
	int err;

	if (cfg->nr_tables > ACPI_ARCH_TABLES_MAX) {
		err_msg("ACPI: %u tables of the architecture, at most %u",
			cfg->nr_tables, ACPI_ARCH_TABLES_MAX);
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->nr_tables; i++) {
		memcpy(&arch[i], cfg->tables[i], sizeof(arch[i]));
		if (arch[i].len < sizeof(arch[i])) {
			err_msg("ACPI: table %.4s of %u bytes has no room for its header",
				arch[i].sig, arch[i].len);
			return -EINVAL;
		}
	}
	/* The RSDP must sit on a 16-byte boundary for a guest that scans. */
	if (!IS_ALIGNED(gpa, 16) || range_wraps(gpa, size)) {
		err_msg("ACPI: bad table area %#" PRIx64 " (+%#zx)", gpa, size);
		return -EINVAL;
	}
	if (cfg->oem_id) {
		if (strlen(cfg->oem_id) > 6) {
			err_msg("ACPI: OEM id '%s' is longer than 6 characters",
				cfg->oem_id);
			return -EINVAL;
		}
		/* Pad with blanks, as the spec's examples do. */
		memset(oem, ' ', 6);
		memcpy(oem, cfg->oem_id, strlen(cfg->oem_id));
	}

	aml_init(&a);
	err = build_dsdt_aml(pf, &a);
	if (err) {
		err_msg("ACPI: cannot build the DSDT: %s", strerror(-err));
		aml_free(&a);
		return err;
	}

	/*
	 * The XSDT lists the FADT, the architecture's tables (and MCFG); the
	 * FADT points to the DSDT.
	 */
	ntables = 1 + cfg->nr_tables + (pf->pci ? 1 : 0);
	xsdt = ALIGN_UP(sizeof(struct rsdp), 16);
	xsdt_len = sizeof(struct acpi_header) + ntables * sizeof(uint64_t);
	fadt = ALIGN_UP(xsdt + xsdt_len, 16);
	mcfg = ALIGN_UP(fadt + sizeof(struct fadt), 16);
	for (unsigned i = 0; i < cfg->nr_tables; i++) {
		at[i] = mcfg;
		mcfg = ALIGN_UP(mcfg + arch[i].len, 16);
	}
	dsdt = pf->pci ? ALIGN_UP(mcfg + sizeof(struct mcfg), 16) : mcfg;
	dsdt_len = sizeof(struct acpi_header) + a.len;
	total = dsdt + dsdt_len;
	if (total > size || dsdt_len > UINT32_MAX) {
		err_msg("ACPI: the tables need %zu bytes, %zu are reserved",
			total, size);
		aml_free(&a);
		return -ENOSPC;
	}
	memset(b, 0, total);

	header(b + dsdt, "DSDT", dsdt_len, 2, oem);	/* 2: 64-bit integers */
	memcpy(b + dsdt + sizeof(struct acpi_header), a.buf, a.len);
	seal(b + dsdt);
	aml_free(&a);

	for (unsigned i = 0; i < cfg->nr_tables; i++) {
		memcpy(b + at[i], cfg->tables[i], arch[i].len);
		header(b + at[i], arch[i].sig, arch[i].len, arch[i].rev, oem);
		seal(b + at[i]);
	}
	build_fadt((struct fadt *)(b + fadt), gpa + dsdt, oem);
	if (pf->pci)
		build_mcfg((struct mcfg *)(b + mcfg), pci_host_layout(pf->pci), oem);

	header(b + xsdt, "XSDT", xsdt_len, 1, oem);
	for (unsigned i = 0; i < ntables; i++) {
		uint64_t addr = gpa + (i == 0 ? fadt : i <= cfg->nr_tables ? at[i - 1] : mcfg);

		memcpy(b + xsdt + sizeof(struct acpi_header) + 8 * i, &addr, 8);
	}
	seal(b + xsdt);

	memcpy(r->sig, "RSD PTR ", 8);
	memcpy(r->oem_id, oem, 6);
	r->rev = 2;
	r->len = sizeof(*r);
	r->xsdt = gpa + xsdt;
	r->csum = checksum(r, 20);
	r->ext_csum = checksum(r, sizeof(*r));
	return total;
}
