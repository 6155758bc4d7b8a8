/*
 * Before the first x86 instruction: ACPI tables, the reset vector stub,
 * the e820 map, kernel and initrd (loader.c). See arch/arch.h.
 */
#include <errno.h>
#include <stdlib.h>

#include "arch/arch.h"
#include "arch/x86/acpi.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/loader.h"
#include "devices/acpi.h"
#include "devices/platform.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/util.h"

static unsigned build_e820(const struct platform *pf, uint64_t size, struct e820_entry *e)
{
	uint64_t low = MIN(size, LOW_RAM_MAX);
	unsigned n = 0;

	e[n++] = (struct e820_entry){ 0, BOOT_EBDA_GPA, E820_RAM };
	e[n++] = (struct e820_entry){ BOOT_EBDA_GPA, BOOT_KERNEL_GPA - BOOT_EBDA_GPA, E820_RESERVED };
	e[n++] = (struct e820_entry){ BOOT_KERNEL_GPA, low - BOOT_KERNEL_GPA, E820_RAM };
	/* Linux trusts MMCONFIG early only if the ECAM is reserved in e820. */
	if (pf->pci)
		e[n++] = (struct e820_entry){ PCI_ECAM_BASE, PCI_ECAM_SIZE, E820_RESERVED };
	if (size > low)
		e[n++] = (struct e820_entry){ HIGH_RAM_GPA, size - low, E820_RAM };
	return n;
}

/*
 * Linux on a hardware-reduced ACPI machine without EFI ends its reboot
 * attempts with a jump to the BIOS reset vector (BOOT_EFI falls through
 * to BOOT_BIOS). There is no BIOS: a few real-mode instructions there
 * write the ACPI reset register instead, so `reboot` ends the VM cleanly.
 */
static int write_reset_vector(struct gmem *mem)
{
	const uint8_t stub[] = {
		0xba, ACPI_RESET_PORT & 0xff, ACPI_RESET_PORT >> 8,	/* mov dx, port */
		0xb0, ACPI_RESET_VALUE,					/* mov al, value */
		0xee,							/* out dx, al */
		0xf4,							/* hlt */
		0xeb, 0xfd,						/* jmp hlt */
	};

	return gmem_write(mem, BOOT_RESET_VECTOR_GPA, stub, sizeof(stub));
}

/* The generic tables of devices/acpi.c, with x86's MADT among them. */
static int build_acpi(struct platform *pf)
{
	struct acpi_config acfg = { .nr_tables = 1 };
	void *acpi, *madt;
	long n;
	int ret;

	acpi = gmem_ptr(pf->mem, BOOT_ACPI_GPA, BOOT_ACPI_SIZE);
	if (!acpi)
		return -EFAULT;
	ret = madt_build(pf->ncpus, &madt);
	if (ret)
		return ret;
	acfg.tables[0] = madt;
	n = acpi_build(pf, &acfg, acpi, BOOT_ACPI_SIZE, BOOT_ACPI_GPA);
	free(madt);
	return n < 0 ? (int)n : 0;
}

int arch_load_kernel(struct platform *pf, struct arch_boot_config *cfg, struct arch_boot *out)
{
	struct e820_entry e820[E820_MAX];
	struct boot_config bc = { 0 };
	struct loader_files f;
	struct boot_info bi;
	int ret;

	ret = build_acpi(pf);
	if (ret)
		return ret;
	ret = write_reset_vector(pf->mem);
	if (ret)
		return ret;
	bc.kernel_path = cfg->kernel;
	bc.initrd_path = cfg->initrd;
	bc.cmdline = cfg->cmdline;
	bc.rsdp_gpa = BOOT_ACPI_GPA;
	bc.e820 = e820;
	bc.e820_nr = build_e820(pf, cfg->ram_size, e820);
	/* Opened once; a reset reads the same open files again. */
	if (cfg->kernel_fd < 0) {
		ret = loader_open(&bc, &f);
		if (ret)
			return ret;
		cfg->kernel_fd = f.kernel_fd;
		cfg->initrd_fd = f.initrd_fd;
		cfg->kernel_len = f.kernel_len;
		cfg->initrd_len = f.initrd_len;
	}
	f = (struct loader_files){ cfg->kernel_fd, cfg->initrd_fd, cfg->kernel_len,
				   cfg->initrd_len };
	ret = loader_load_files(pf->mem, &bc, &f, &bi);
	if (ret)
		return ret;
	*out = (struct arch_boot){ .mode = bi.mode, .entry = bi.entry, .arg = bi.params_gpa };
	if (cfg->cpu_template) {
		out->cpu = cpu_template_find(cfg->cpu_template);
		if (!out->cpu) {
			err_msg("-cpu: unknown CPU template '%s' (host, minimal)", cfg->cpu_template);
			return -EINVAL;
		}
	}
	return 0;
}

void arch_boot_close(struct arch_boot_config *cfg)
{
	struct loader_files f = { cfg->kernel_fd, cfg->initrd_fd, 0, 0 };

	loader_close(&f);
	cfg->kernel_fd = cfg->initrd_fd = -1;
}
