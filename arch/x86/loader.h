/*
 * Kernel loading: the Linux x86 boot protocol for a bzImage (64-bit entry)
 * and the PVH entry of an ELF vmlinux. Parsing works on a buffer so that unit
 * tests and fuzzers can feed it anything; every failure names the problem.
 */
#ifndef EMBER_LOADER_H
#define EMBER_LOADER_H

#include <stddef.h>
#include <stdint.h>

/* Where the boot structures go: BOOT_*_GPA. */
#include "arch/x86/layout.h"

struct gmem;

#define E820_RAM	1
#define E820_RESERVED	2
#define E820_MAX	32

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

enum boot_mode {
	BOOT_LINUX64,	/* 64-bit entry, RSI = boot_params */
	BOOT_PVH,	/* 32-bit flat protected mode, EBX = hvm_start_info */
};

struct boot_info {
	enum boot_mode mode;
	uint64_t entry;		/* guest-physical entry point */
	uint64_t params_gpa;	/* boot_params or hvm_start_info */
};

struct boot_config {
	const char *kernel_path;
	const char *initrd_path;	/* or NULL */
	const char *cmdline;		/* never NULL */
	uint64_t rsdp_gpa;
	const struct e820_entry *e820;	/* guest memory map, sorted */
	unsigned e820_nr;
};

/* What a bzImage header says, checked. */
struct bzimage_info {
	uint16_t version;		/* boot protocol, e.g. 0x020f */
	uint32_t setup_size;		/* bytes of real-mode setup incl. boot sector */
	uint64_t kernel_offset;		/* protected-mode code offset in the file */
	uint64_t kernel_size;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
	uint64_t pref_address;
	uint32_t init_size;
	int relocatable;
	int xloadflags;
};

/* Parses a bzImage. -ENOEXEC (not a bzImage), -EINVAL (inconsistent), -ENOTSUP (too old). */
int bzimage_parse(const void *img, size_t len, struct bzimage_info *out);

struct elf_info {
	uint64_t pvh_entry;		/* XEN_ELFNOTE_PHYS32_ENTRY */
	uint64_t lowest, highest;	/* guest-physical span of PT_LOAD */
};
/* Parses an ELF64 x86-64 vmlinux and finds its PVH entry note. */
int elf_pvh_parse(const void *img, size_t len, struct elf_info *out);

/*
 * Loads kernel and initrd into guest memory and writes boot_params or
 * hvm_start_info. Errors name the file and the problem (one message).
 */
int loader_load(struct gmem *m, const struct boot_config *cfg, struct boot_info *out);

/*
 * The same in two steps, for a machine that boots again (a reset): the
 * files are opened and checked once (loader_open, one message on failure)
 * and stay open, so each loader_load_files reads them again without a
 * path (the sandbox allows no open) and keeps no copy in memory.
 */
struct loader_files {
	int kernel_fd, initrd_fd;	/* -1: none */
	size_t kernel_len, initrd_len;
};
int loader_open(const struct boot_config *cfg, struct loader_files *f);
int loader_load_files(struct gmem *m, const struct boot_config *cfg,
		      const struct loader_files *f, struct boot_info *out);
void loader_close(struct loader_files *f);

#endif
