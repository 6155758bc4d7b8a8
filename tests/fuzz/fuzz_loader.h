/*
 * Shared by fuzz_bzimage.c and fuzz_elf.c. Each input runs twice: as a file
 * of its own, and XORed onto a valid image (the target's template) so that
 * mutations start from something the parser accepts and reach the loader
 * without a seed corpus.
 */
#ifndef EMBER_FUZZ_LOADER_H
#define EMBER_FUZZ_LOADER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/x86/loader_int.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/util.h"

#define FUZZ_RAM_SIZE	(16 * MiB)

static struct gmem fuzz_mem;
static uint8_t fuzz_initrd[64 * 1024];
static const struct e820_entry fuzz_map[] = {
	{ 0, BOOT_EBDA_GPA, E820_RAM },
	{ BOOT_EBDA_GPA, 1 * MiB - BOOT_EBDA_GPA, E820_RESERVED },
	{ 1 * MiB, FUZZ_RAM_SIZE - 1 * MiB, E820_RAM },
};

static void fuzz_setup(void)
{
	void *ram = mmap(NULL, FUZZ_RAM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (ram == MAP_FAILED || gmem_add(&fuzz_mem, 0, FUZZ_RAM_SIZE, ram, -1, 0))
		abort();
	log_set_quiet(1);
}

/* Both parsers on their own, then the whole loader, on both images. */
static void fuzz_run(const uint8_t *data, size_t size, const uint8_t *tmpl, size_t tmpl_len)
{
	struct boot_config cfg = {
		.kernel_path = "fuzz", .initrd_path = "fuzz-initrd",
		.cmdline = "console=ttyS0", .rsdp_gpa = BOOT_ACPI_GPA,
		.e820 = fuzz_map, .e820_nr = ARRAY_SIZE(fuzz_map),
	};
	const void *initrd = size && (data[size - 1] & 1) ? fuzz_initrd : NULL;
	size_t len = MAX(size, tmpl_len);
	uint8_t *img = malloc(len);
	struct bzimage_info bi;
	struct elf_info ei;
	struct boot_info boot;

	for (size_t i = 0; i < len; i++)
		img[i] = (i < tmpl_len ? tmpl[i] : 0) ^ (i < size ? data[i] : 0);
	bzimage_parse(data, size, &bi);
	elf_pvh_parse(data, size, &ei);
	loader_load_buf(&fuzz_mem, &cfg, data, size, initrd, sizeof(fuzz_initrd), &boot);
	bzimage_parse(img, len, &bi);
	elf_pvh_parse(img, len, &ei);
	loader_load_buf(&fuzz_mem, &cfg, img, len, initrd, sizeof(fuzz_initrd), &boot);
	free(img);
}

#endif
