/*
 * Shared by the loader's files (loader.c, bzimage.c, elf.c), its unit tests
 * and fuzzers; not for the rest of ember. Layouts come from the Linux boot
 * protocol (Documentation/arch/x86/boot.rst, zero-page.rst) and Xen's
 * arch-x86/hvm/start_info.h.
 */
#ifndef EMBER_LOADER_INT_H
#define EMBER_LOADER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86/loader.h"

/* Offsets in struct boot_params (the zero page); the setup header starts at 0x1f1. */
#define BP_ACPI_RSDP		0x070
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_HDR			0x1f1	/* setup_sects */
#define BP_SYSSIZE		0x1f4
#define BP_VID_MODE		0x1fa
#define BP_BOOT_FLAG		0x1fe
#define BP_JUMP			0x200	/* byte 0x201: header length past 0x202 */
#define BP_HEADER		0x202	/* "HdrS" */
#define BP_VERSION		0x206
#define BP_TYPE_OF_LOADER	0x210
#define BP_LOADFLAGS		0x211
#define BP_RAMDISK_IMAGE	0x218
#define BP_RAMDISK_SIZE		0x21c
#define BP_HEAP_END_PTR		0x224
#define BP_CMD_LINE_PTR		0x228
#define BP_INITRD_ADDR_MAX	0x22c
#define BP_KERNEL_ALIGNMENT	0x230
#define BP_RELOCATABLE		0x234
#define BP_XLOADFLAGS		0x236
#define BP_CMDLINE_SIZE		0x238
#define BP_HARDWARE_SUBARCH	0x23c
#define BP_SETUP_DATA		0x250
#define BP_PREF_ADDRESS		0x258
#define BP_INIT_SIZE		0x260
#define BP_HDR_END		0x290	/* edd_mbr_sig_buffer follows the header */
#define BP_E820_TABLE		0x2d0
#define BP_SIZE			0x1000

#define BOOT_FLAG_MAGIC		0xaa55
#define HDRS_MAGIC		0x53726448	/* "HdrS" */
#define LOADFLAG_CAN_USE_HEAP	0x80
#define XLF_KERNEL_64		0x01
#define BZ_ENTRY64_OFFSET	0x200

/* PVH: struct hvm_start_info and friends, in the page at BOOT_PVH_INFO_GPA. */
#define HVM_START_MAGIC		0x336ec578
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PVH_MODLIST_OFF		0x40
#define PVH_MEMMAP_OFF		0x80

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

/* Unaligned little-endian access to images and the zero page (x86 host). */
static inline uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/*
 * The parsers with the subject of their messages: "kernel 'PATH'" from the
 * loader, "bzImage"/"vmlinux" from the public wrappers.
 */
int bzimage_check(const void *img, size_t len, struct bzimage_info *out, const char *who);
int elf_check(const void *img, size_t len, struct elf_info *out, const char *who);

struct elf_seg {
	uint64_t paddr, offset, filesz, memsz;
};
/* Next non-empty PT_LOAD of an image elf_check() accepted; *i starts at 0. */
bool elf_next_load(const void *img, unsigned *i, struct elf_seg *seg);

/*
 * loader_load() with kernel and initrd already in memory (initrd NULL for
 * none); cfg's paths only name them in messages. For tests and fuzzers.
 */
int loader_load_buf(struct gmem *m, const struct boot_config *cfg,
		    const void *kernel, size_t kernel_len,
		    const void *initrd, size_t initrd_len, struct boot_info *out);

#endif
