/*
 * Loader: synthetic bzImages and ELF vmlinux images built here, parsed and
 * loaded into a malloc'ed guest RAM. Broken images must fail cleanly with a
 * message that names the problem.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/loader_int.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/util.h"

#define RAM_SIZE	(64 * MiB)
#define RSDP		0xe0000ULL

static uint8_t *ram;
static struct gmem mem;
static const struct e820_entry map[] = {
	{ 0, BOOT_EBDA_GPA, E820_RAM },
	{ BOOT_EBDA_GPA, 1 * MiB - BOOT_EBDA_GPA, E820_RESERVED },
	{ 1 * MiB, RAM_SIZE - 1 * MiB, E820_RAM },
};
static struct boot_config cfg;

static int setup(void **state)
{
	ram = malloc(RAM_SIZE);
	if (!ram || gmem_add(&mem, 0, RAM_SIZE, ram, -1, 0))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	free(ram);
	return 0;
}

/* Each test starts from dirty RAM and the default configuration. */
static int reset(void **state)
{
	memset(ram, 0xcc, RAM_SIZE);
	cfg = (struct boot_config){
		.kernel_path = "vmlinuz", .initrd_path = "initrd.img",
		.cmdline = "console=ttyS0", .rsdp_gpa = RSDP,
		.e820 = map, .e820_nr = ARRAY_SIZE(map),
	};
	return 0;
}

/* ---- synthetic images ---- */

#define BZ_SETUP	(5 * 512)	/* setup_sects 4 */
#define BZ_INIT_SIZE	(4 * MiB)
#define BZ_PREF		(16 * MiB)

static uint8_t *make_bz(size_t kernel_len, uint16_t version, size_t *len)
{
	uint8_t *p = calloc(1, BZ_SETUP + kernel_len);

	p[BP_HDR] = 4;
	put32(p + BP_SYSSIZE, (kernel_len + 15) / 16);
	put16(p + BP_BOOT_FLAG, BOOT_FLAG_MAGIC);
	p[BP_JUMP] = 0xeb;
	p[BP_JUMP + 1] = 0x6a;	/* header to 0x26c, as in 2.15 */
	put32(p + BP_HEADER, HDRS_MAGIC);
	put16(p + BP_VERSION, version);
	p[BP_LOADFLAGS] = 0x01;	/* LOADED_HIGH */
	put32(p + BP_INITRD_ADDR_MAX, 0x7fffffff);
	p[BP_RELOCATABLE] = 1;
	put16(p + BP_XLOADFLAGS, XLF_KERNEL_64 | 0x02);
	put32(p + BP_CMDLINE_SIZE, 2047);
	put64(p + BP_PREF_ADDRESS, BZ_PREF);
	put32(p + BP_INIT_SIZE, BZ_INIT_SIZE);
	put64(p + BP_SETUP_DATA, 0xdeadbeef);
	for (size_t i = 0; i < kernel_len; i++)
		p[BZ_SETUP + i] = i * 7 + 1;
	*len = BZ_SETUP + kernel_len;
	return p;
}

#define ELF_PHOFF	sizeof(Elf64_Ehdr)
#define ELF_NOTE	0xb0	/* after two program headers */
#define ELF_DATA	0x100
#define ELF_FILESZ	0x200
#define ELF_PADDR	(2 * MiB)
#define ELF_MEMSZ	0x3000
#define ELF_ENTRY	(ELF_PADDR + 0x10)

static Elf64_Phdr *ph(uint8_t *p, unsigned i)
{
	return (Elf64_Phdr *)(p + ELF_PHOFF + i * sizeof(Elf64_Phdr));
}

static Elf64_Nhdr *nh(uint8_t *p)
{
	return (Elf64_Nhdr *)(p + ELF_NOTE);
}

/* PT_NOTE (one "Xen" PHYS32_ENTRY note), then one PT_LOAD; data ends the file. */
static uint8_t *make_elf(size_t *len)
{
	uint8_t *p = calloc(1, ELF_DATA + ELF_FILESZ);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)p;

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0xffffffff81000000ULL;
	eh->e_phoff = ELF_PHOFF;
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 2;
	*ph(p, 0) = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = ELF_NOTE,
				  .p_filesz = 20, .p_align = 4 };
	*ph(p, 1) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = ELF_DATA,
				  .p_vaddr = 0xffffffff81000000ULL, .p_paddr = ELF_PADDR,
				  .p_filesz = ELF_FILESZ, .p_memsz = ELF_MEMSZ,
				  .p_align = 4096 };
	*nh(p) = (Elf64_Nhdr){ 4, 4, XEN_ELFNOTE_PHYS32_ENTRY };
	memcpy(p + ELF_NOTE + 12, "Xen", 4);
	put32(p + ELF_NOTE + 16, ELF_ENTRY);
	for (unsigned i = 0; i < ELF_FILESZ; i++)
		p[ELF_DATA + i] = i * 3 + 1;
	*len = ELF_DATA + ELF_FILESZ;
	return p;
}

static int load(const void *k, size_t klen, const void *initrd, size_t ilen,
		struct boot_info *bi)
{
	return loader_load_buf(&mem, &cfg, k, klen, initrd, ilen, bi);
}

static void assert_msg(const char *part)
{
	if (!strstr(log_last(), part))
		fail_msg("message '%s' lacks '%s'", log_last(), part);
}

/* The parser refuses the image with err and, if given, a message naming why. */
static void bz_fails(const uint8_t *p, size_t len, int err, const char *msg)
{
	struct bzimage_info bi;

	assert_int_equal(bzimage_parse(p, len, &bi), err);
	if (msg)
		assert_msg(msg);
}

static void elf_fails(const uint8_t *p, size_t len, int err, const char *msg)
{
	struct elf_info ei;

	assert_int_equal(elf_pvh_parse(p, len, &ei), err);
	if (msg)
		assert_msg(msg);
}

/* ---- bzImage parsing ---- */

static void t_bz_valid(void **state)
{
	struct bzimage_info bi;
	size_t len;
	uint8_t *p = make_bz(1000, 0x020f, &len);

	assert_int_equal(bzimage_parse(p, len, &bi), 0);
	assert_int_equal(bi.version, 0x020f);
	assert_int_equal(bi.setup_size, BZ_SETUP);
	assert_int_equal(bi.kernel_offset, BZ_SETUP);
	assert_int_equal(bi.kernel_size, 1000);
	assert_int_equal(bi.initrd_addr_max, 0x7fffffff);
	assert_int_equal(bi.cmdline_size, 2047);
	assert_int_equal(bi.pref_address, BZ_PREF);
	assert_int_equal(bi.init_size, BZ_INIT_SIZE);
	assert_int_equal(bi.relocatable, 1);
	assert_true(bi.xloadflags & XLF_KERNEL_64);

	p[BP_HDR] = 0;	/* means 4 */
	assert_int_equal(bzimage_parse(p, len, &bi), 0);
	assert_int_equal(bi.setup_size, BZ_SETUP);
	/* Before 2.10 there is no init_size; before 2.12 no xloadflags. */
	put16(p + BP_VERSION, 0x0206);
	put16(p + BP_XLOADFLAGS, 0);
	assert_int_equal(bzimage_parse(p, len, &bi), 0);
	assert_int_equal(bi.init_size, 0);
	assert_int_equal(bi.pref_address, BOOT_KERNEL_GPA);
	free(p);
}

static void t_bz_prefixes(void **state)
{
	struct bzimage_info bi;
	struct boot_info boot;
	size_t len;
	uint8_t *p = make_bz(64, 0x020f, &len);

	/* Exact-size copies so that the sanitizers see any over-read. */
	for (size_t n = 0; n < len; n++) {
		uint8_t *q = malloc(n ? n : 1);
		int r1, r2;

		memcpy(q, p, n);
		r1 = bzimage_parse(q, n, &bi);
		r2 = load(q, n, NULL, 0, &boot);
		/* syssize rounds up to 16 bytes: the last 15 may be missing. */
		if (n < len - 15) {
			assert_true(r1 < 0);
			assert_true(r2 < 0);
			assert_true(log_last()[0]);
		}
		free(q);
	}
	free(p);
}

static void t_bz_magic(void **state)
{
	size_t len;
	uint8_t *p = make_bz(64, 0x020f, &len);

	put16(p + BP_BOOT_FLAG, 0x55aa);
	bz_fails(p, len, -ENOEXEC, "bzImage: not a bzImage");
	put16(p + BP_BOOT_FLAG, BOOT_FLAG_MAGIC);
	memcpy(p + BP_HEADER, "HdrX", 4);
	bz_fails(p, len, -ENOEXEC, "HdrS");
	free(p);
}

static void t_bz_old_or_32bit(void **state)
{
	struct bzimage_info bi;
	size_t len;
	uint8_t *p = make_bz(64, 0x0205, &len);

	bz_fails(p, len, -ENOTSUP, "boot protocol 2.05 is too old (need 2.06)");
	put16(p + BP_VERSION, 0x020c);
	put16(p + BP_XLOADFLAGS, 0x02);
	bz_fails(p, len, -ENOTSUP, "not a 64-bit kernel");
	/* 2.11 has no xloadflags: nothing to check. */
	put16(p + BP_VERSION, 0x020b);
	assert_int_equal(bzimage_parse(p, len, &bi), 0);
	free(p);
}

static void t_bz_absurd(void **state)
{
	size_t len;
	uint8_t *p = make_bz(64, 0x020f, &len);

	p[BP_HDR] = 255;
	bz_fails(p, len, -EINVAL, "truncated (setup is 131072 bytes");
	p[BP_HDR] = 4;
	put32(p + BP_SYSSIZE, 0xffffffff);
	bz_fails(p, len, -EINVAL, "truncated");
	put32(p + BP_SYSSIZE, 5);	/* 80 bytes, 16 more than the file has */
	bz_fails(p, len, -EINVAL, NULL);
	put32(p + BP_SYSSIZE, 0);
	bz_fails(p, len, -EINVAL, "syssize 0");
	put32(p + BP_SYSSIZE, 4);
	put32(p + BP_INIT_SIZE, 0);
	bz_fails(p, len, -EINVAL, "init_size");
	put32(p + BP_INIT_SIZE, 0x80000000);
	bz_fails(p, len, -EINVAL, NULL);
	put32(p + BP_INIT_SIZE, BZ_INIT_SIZE);
	put64(p + BP_PREF_ADDRESS, UINT64_MAX - 4095);
	bz_fails(p, len, -EINVAL, "preferred load address");
	free(p);
}

/* ---- ELF parsing ---- */

static void t_elf_valid(void **state)
{
	struct elf_info ei;
	size_t len;
	uint8_t *p = make_elf(&len);

	assert_int_equal(elf_pvh_parse(p, len, &ei), 0);
	assert_int_equal(ei.pvh_entry, ELF_ENTRY);
	assert_int_equal(ei.lowest, ELF_PADDR);
	assert_int_equal(ei.highest, ELF_PADDR + ELF_MEMSZ);

	/* 8-byte entry, and 8-byte note alignment. */
	nh(p)->n_descsz = 8;
	put64(p + ELF_NOTE + 16, ELF_ENTRY + 4);
	ph(p, 0)->p_filesz = 24;
	ph(p, 0)->p_align = 8;
	assert_int_equal(elf_pvh_parse(p, len, &ei), 0);
	assert_int_equal(ei.pvh_entry, ELF_ENTRY + 4);
	free(p);
}

static void t_elf_prefixes(void **state)
{
	struct elf_info ei;
	struct boot_info boot;
	size_t len;
	uint8_t *p = make_elf(&len);

	for (size_t n = 0; n < len; n++) {
		uint8_t *q = malloc(n ? n : 1);

		memcpy(q, p, n);
		assert_true(elf_pvh_parse(q, n, &ei) < 0);
		assert_true(load(q, n, NULL, 0, &boot) < 0);
		assert_true(log_last()[0]);
		free(q);
	}
	free(p);
}

static void t_elf_header(void **state)
{
	size_t len;
	uint8_t *p = make_elf(&len);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)p;

	eh->e_ident[EI_CLASS] = ELFCLASS32;
	elf_fails(p, len, -ENOEXEC, "vmlinux: not a 64-bit little-endian x86-64 ELF");
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2MSB;
	elf_fails(p, len, -ENOEXEC, NULL);
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_machine = EM_AARCH64;
	elf_fails(p, len, -ENOEXEC, NULL);
	eh->e_machine = EM_X86_64;
	eh->e_type = ET_DYN;
	elf_fails(p, len, -ENOEXEC, "not an executable");
	eh->e_type = ET_EXEC;
	p[1] = 'X';
	elf_fails(p, len, -ENOEXEC, "not an ELF file");
	free(p);
}

static void t_elf_phdrs(void **state)
{
	struct elf_info ei;
	size_t len;
	uint8_t *p = make_elf(&len);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)p;

	eh->e_phoff = len - 8;
	elf_fails(p, len, -EINVAL, "program headers");
	eh->e_phoff = UINT64_MAX - 8;
	elf_fails(p, len, -EINVAL, NULL);
	eh->e_phoff = ELF_PHOFF;
	eh->e_phnum = 60000;
	elf_fails(p, len, -EINVAL, NULL);
	eh->e_phnum = 0;
	elf_fails(p, len, -EINVAL, NULL);
	eh->e_phnum = 2;
	eh->e_phentsize = 32;
	elf_fails(p, len, -EINVAL, NULL);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	assert_int_equal(elf_pvh_parse(p, len, &ei), 0);
	free(p);
}

static void t_elf_segments(void **state)
{
	size_t len;
	uint8_t *p = make_elf(&len);
	Elf64_Phdr *ld = ph(p, 1);

	ld->p_offset = len - ELF_FILESZ + 1;
	elf_fails(p, len, -EINVAL, "segment 1 lies outside the file");
	ld->p_offset = UINT64_MAX - 4;
	elf_fails(p, len, -EINVAL, NULL);
	ld->p_offset = ELF_DATA;
	ld->p_memsz = ELF_FILESZ - 1;
	elf_fails(p, len, -EINVAL, "more file bytes than memory bytes");
	ld->p_memsz = ELF_MEMSZ;
	ld->p_paddr = UINT64_MAX - 0x1000;
	elf_fails(p, len, -EINVAL, "beyond 64 GiB");
	ld->p_paddr = 64 * GiB - 0x1000;
	elf_fails(p, len, -EINVAL, NULL);
	ld->p_paddr = ELF_PADDR;
	ld->p_type = PT_NULL;
	elf_fails(p, len, -EINVAL, "no loadable segments");
	ld->p_type = PT_LOAD;
	put32(p + ELF_NOTE + 16, ELF_PADDR + ELF_MEMSZ);
	elf_fails(p, len, -EINVAL, "lies outside the loaded segments");
	free(p);
}

static void t_elf_notes(void **state)
{
	size_t len;
	uint8_t *p = make_elf(&len);
	Elf64_Phdr *note = ph(p, 0);

	note->p_offset = len - 4;
	elf_fails(p, len, -EINVAL, NULL);
	note->p_offset = ELF_NOTE;
	nh(p)->n_namesz = 0xffffffff;
	elf_fails(p, len, -EINVAL, "malformed ELF note");
	nh(p)->n_namesz = 4;
	nh(p)->n_descsz = 0xfffffff0;
	elf_fails(p, len, -EINVAL, NULL);
	nh(p)->n_descsz = 8;	/* 4 bytes past the segment */
	elf_fails(p, len, -EINVAL, NULL);
	nh(p)->n_descsz = 6;
	note->p_filesz = 24;
	elf_fails(p, len, -EINVAL, "PVH entry note has 6 bytes");
	nh(p)->n_descsz = 4;
	note->p_filesz = 20;
	nh(p)->n_type = 17;
	elf_fails(p, len, -ENOEXEC, "vmlinux has no PVH entry note (needs CONFIG_PVH)");
	nh(p)->n_type = XEN_ELFNOTE_PHYS32_ENTRY;
	memcpy(p + ELF_NOTE + 12, "Xe", 3);
	elf_fails(p, len, -ENOEXEC, NULL);
	/* A segment too short for a note header holds no note. */
	memcpy(p + ELF_NOTE + 12, "Xen", 4);
	note->p_filesz = 11;
	elf_fails(p, len, -ENOEXEC, NULL);
	free(p);
}

/* ---- loading a bzImage ---- */

static void t_load_bz(void **state)
{
	struct boot_info boot;
	uint8_t initrd[10000];
	uint8_t *zp = ram + BOOT_PARAMS_GPA;
	uint64_t igpa = ALIGN_DOWN(RAM_SIZE - sizeof(initrd), 4096);
	size_t len;
	uint8_t *p = make_bz(5000, 0x020f, &len);

	for (unsigned i = 0; i < sizeof(initrd); i++)
		initrd[i] = i ^ (i >> 8);
	assert_int_equal(load(p, len, initrd, sizeof(initrd), &boot), 0);
	assert_int_equal(boot.mode, BOOT_LINUX64);
	assert_int_equal(boot.entry, BOOT_KERNEL_GPA + 0x200);
	assert_int_equal(boot.params_gpa, BOOT_PARAMS_GPA);

	assert_memory_equal(ram + BOOT_KERNEL_GPA, p + BZ_SETUP, 5000);
	assert_string_equal((char *)ram + BOOT_CMDLINE_GPA, "console=ttyS0");
	assert_memory_equal(ram + igpa, initrd, sizeof(initrd));

	/* The setup header is the image's, with the loader's fields set. */
	assert_int_equal(get32(zp + BP_HEADER), HDRS_MAGIC);
	assert_int_equal(get16(zp + BP_VERSION), 0x020f);
	assert_int_equal(get64(zp + BP_PREF_ADDRESS), BZ_PREF);
	assert_int_equal(zp[BP_TYPE_OF_LOADER], 0xff);
	assert_int_equal(zp[BP_LOADFLAGS], 0x81);
	assert_int_equal(get16(zp + BP_HEAP_END_PTR), 0xfe00);
	assert_int_equal(get16(zp + BP_VID_MODE), 0xffff);
	assert_int_equal(get32(zp + BP_CMD_LINE_PTR), BOOT_CMDLINE_GPA);
	assert_int_equal(get32(zp + BP_EXT_CMD_LINE_PTR), 0);
	assert_int_equal(get32(zp + BP_RAMDISK_IMAGE), igpa);
	assert_int_equal(get32(zp + BP_RAMDISK_SIZE), sizeof(initrd));
	assert_int_equal(get32(zp + BP_EXT_RAMDISK_IMAGE), 0);
	assert_int_equal(get32(zp + BP_EXT_RAMDISK_SIZE), 0);
	assert_int_equal(get32(zp + BP_HARDWARE_SUBARCH), 0);
	assert_int_equal(get64(zp + BP_SETUP_DATA), 0);
	assert_int_equal(get64(zp + BP_ACPI_RSDP), RSDP);
	assert_int_equal(zp[BP_E820_ENTRIES], ARRAY_SIZE(map));
	assert_memory_equal(zp + BP_E820_TABLE, map, sizeof(map));
	/* Zeroed, not left as it was. */
	assert_int_equal(zp[0], 0);
	assert_int_equal(zp[BP_E820_TABLE + sizeof(map)], 0);
	assert_int_equal(zp[BP_SIZE - 1], 0);
	free(p);
}

static void t_load_bz_header_len(void **state)
{
	struct boot_info boot;
	uint8_t *zp = ram + BOOT_PARAMS_GPA;
	size_t len;
	uint8_t *p = make_bz(64, 0x020c, &len);

	/* The length byte says the header ends at 0x248: the rest is not copied. */
	p[BP_JUMP + 1] = 0x46;
	put32(p + 0x248, 0x12345678);	/* payload_offset, 2.08 */
	assert_int_equal(load(p, len, NULL, 0, &boot), 0);
	assert_int_equal(get32(zp + BP_CMDLINE_SIZE), 2047);
	assert_int_equal(get32(zp + 0x248), 0);
	assert_int_equal(get64(zp + BP_PREF_ADDRESS), 0);
	assert_int_equal(get64(zp + BP_ACPI_RSDP), 0);	/* needs 2.14 */
	assert_int_equal(get32(zp + BP_RAMDISK_IMAGE), 0);
	assert_int_equal(get32(zp + BP_RAMDISK_SIZE), 0);
	/* A header claiming to run to 0x301 stops at 0x290. */
	p[BP_JUMP + 1] = 0xff;
	p[0x2a0] = 0x77;
	assert_int_equal(load(p, len, NULL, 0, &boot), 0);
	assert_int_equal(zp[0x2a0], 0);
	free(p);
}

static void t_load_bz_initrd_limits(void **state)
{
	struct boot_info boot;
	uint8_t initrd[4096] = { 1 };
	size_t len;
	uint8_t *p = make_bz(64, 0x020f, &len);
	uint8_t *big = malloc(48 * MiB);

	put32(p + BP_INITRD_ADDR_MAX, 32 * MiB - 1);
	assert_int_equal(load(p, len, initrd, 100, &boot), 0);
	assert_int_equal(get32(ram + BOOT_PARAMS_GPA + BP_RAMDISK_IMAGE), 32 * MiB - 4096);

	/* The kernel runs from 16 MiB (pref_address) to 20 MiB. */
	put32(p + BP_INITRD_ADDR_MAX, 0x7fffffff);
	assert_int_equal(load(p, len, big, 44 * MiB, &boot), 0);
	assert_int_equal(get32(ram + BOOT_PARAMS_GPA + BP_RAMDISK_IMAGE), 20 * MiB);
	assert_int_equal(load(p, len, big, 44 * MiB + 1, &boot), -ENOMEM);
	assert_msg("initrd 'initrd.img' (45 MiB) does not fit in guest RAM below 64 MiB");
	/* Relocatable with 32 MiB alignment: runs from 32 MiB to 36 MiB. */
	put32(p + BP_KERNEL_ALIGNMENT, 32 * MiB);
	assert_int_equal(load(p, len, big, 28 * MiB, &boot), 0);
	assert_int_equal(get32(ram + BOOT_PARAMS_GPA + BP_RAMDISK_IMAGE), 36 * MiB);
	assert_int_equal(load(p, len, big, 28 * MiB + 1, &boot), -ENOMEM);
	free(big);
	free(p);
}

static void t_load_bz_too_big(void **state)
{
	struct boot_info boot;
	size_t len;
	uint8_t *p = make_bz(64, 0x020f, &len);
	char *cmd = malloc(3001);

	put32(p + BP_INIT_SIZE, 48 * MiB + 1);
	assert_int_equal(load(p, len, NULL, 0, &boot), -ENOMEM);
	assert_msg("kernel 'vmlinuz' needs guest RAM from 1 MiB to 65 MiB");
	put32(p + BP_INIT_SIZE, BZ_INIT_SIZE);

	memset(cmd, 'x', 3000);
	cmd[3000] = 0;
	cfg.cmdline = cmd;
	assert_int_equal(load(p, len, NULL, 0, &boot), -E2BIG);
	assert_msg("command line too long (3000 bytes, kernel accepts 2047)");
	cmd[2047] = 0;
	assert_int_equal(load(p, len, NULL, 0, &boot), 0);
	assert_int_equal(strlen((char *)ram + BOOT_CMDLINE_GPA), 2047);
	free(cmd);
	free(p);
}

static void t_load_garbage(void **state)
{
	struct boot_info boot;
	uint8_t junk[4096] = { 0 };

	junk[BP_BOOT_FLAG] = 0x55;	/* an MBR: boot flag, no HdrS */
	junk[BP_BOOT_FLAG + 1] = 0xaa;
	assert_int_equal(load(junk, sizeof(junk), NULL, 0, &boot), -ENOEXEC);
	assert_msg("kernel 'vmlinuz': not a bzImage or ELF vmlinux");
	assert_int_equal(load(junk, 3, NULL, 0, &boot), -ENOEXEC);
	cfg.e820_nr = E820_MAX + 1;
	assert_int_equal(load(junk, sizeof(junk), NULL, 0, &boot), -EINVAL);
}

/* ---- loading an ELF for PVH ---- */

static void t_load_pvh(void **state)
{
	struct boot_info boot;
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_table_entry mm[ARRAY_SIZE(map)];
	uint8_t initrd[5000];
	size_t len;
	uint8_t *p = make_elf(&len);
	uint64_t igpa = ALIGN_DOWN(RAM_SIZE - sizeof(initrd), 4096);

	memset(initrd, 0x3c, sizeof(initrd));
	assert_int_equal(load(p, len, initrd, sizeof(initrd), &boot), 0);
	assert_int_equal(boot.mode, BOOT_PVH);
	assert_int_equal(boot.entry, ELF_ENTRY);
	assert_int_equal(boot.params_gpa, BOOT_PVH_INFO_GPA);

	assert_memory_equal(ram + ELF_PADDR, p + ELF_DATA, ELF_FILESZ);
	for (unsigned i = ELF_FILESZ; i < ELF_MEMSZ; i++)
		assert_int_equal(ram[ELF_PADDR + i], 0);
	assert_int_equal(ram[ELF_PADDR + ELF_MEMSZ], 0xcc);
	assert_memory_equal(ram + igpa, initrd, sizeof(initrd));
	assert_string_equal((char *)ram + BOOT_CMDLINE_GPA, "console=ttyS0");

	memcpy(&si, ram + BOOT_PVH_INFO_GPA, sizeof(si));
	assert_int_equal(si.magic, HVM_START_MAGIC);
	assert_int_equal(si.version, 1);
	assert_int_equal(si.flags, 0);
	assert_int_equal(si.nr_modules, 1);
	assert_int_equal(si.cmdline_paddr, BOOT_CMDLINE_GPA);
	assert_int_equal(si.rsdp_paddr, RSDP);
	assert_int_equal(si.memmap_entries, ARRAY_SIZE(map));
	assert_true(si.modlist_paddr >= BOOT_PVH_INFO_GPA &&
		    si.modlist_paddr + sizeof(mod) <= BOOT_PVH_INFO_GPA + 4096);
	assert_true(si.memmap_paddr >= BOOT_PVH_INFO_GPA &&
		    si.memmap_paddr + sizeof(mm) <= BOOT_PVH_INFO_GPA + 4096);
	memcpy(&mod, ram + si.modlist_paddr, sizeof(mod));
	assert_int_equal(mod.paddr, igpa);
	assert_int_equal(mod.size, sizeof(initrd));
	assert_int_equal(mod.cmdline_paddr, 0);
	memcpy(mm, ram + si.memmap_paddr, sizeof(mm));
	for (unsigned i = 0; i < ARRAY_SIZE(map); i++) {
		assert_int_equal(mm[i].addr, map[i].addr);
		assert_int_equal(mm[i].size, map[i].size);
		assert_int_equal(mm[i].type, map[i].type);
		assert_int_equal(mm[i].reserved, 0);
	}

	/* Without initrd: no modules. */
	assert_int_equal(load(p, len, NULL, 0, &boot), 0);
	memcpy(&si, ram + BOOT_PVH_INFO_GPA, sizeof(si));
	assert_int_equal(si.nr_modules, 0);
	assert_int_equal(si.modlist_paddr, 0);
	free(p);
}

static void t_load_pvh_placement(void **state)
{
	struct boot_info boot;
	size_t len;
	uint8_t *p = make_elf(&len);
	uint8_t *big = malloc(62 * MiB);

	ph(p, 1)->p_paddr = 0x8000;	/* over the zero page */
	put32(p + ELF_NOTE + 16, 0x8010);
	assert_int_equal(load(p, len, NULL, 0, &boot), -ENOMEM);
	assert_msg("segment at 0x8000-0xb000 is not in guest RAM above 1 MiB");
	ph(p, 1)->p_paddr = RAM_SIZE - 0x1000;
	put32(p + ELF_NOTE + 16, RAM_SIZE - 0x1000);
	assert_int_equal(load(p, len, NULL, 0, &boot), -ENOMEM);
	ph(p, 1)->p_paddr = ELF_PADDR;
	put32(p + ELF_NOTE + 16, ELF_ENTRY);
	/* The initrd goes above the kernel's highest byte. */
	assert_int_equal(load(p, len, big, RAM_SIZE - ELF_PADDR - 0x4000, &boot), 0);
	assert_int_equal(load(p, len, big, RAM_SIZE - ELF_PADDR - 0x3000 + 1, &boot), -ENOMEM);
	assert_msg("initrd 'initrd.img' (62 MiB) does not fit in guest RAM below 64 MiB");
	free(big);
	free(p);
}

/* ---- loading from files ---- */

static char *tmp_file(const void *data, size_t len, off_t truncate_to)
{
	char *path = strdup("/tmp/ember-test-loader-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	if (len)
		assert_int_equal(write(fd, data, len), len);
	if (truncate_to)
		assert_int_equal(ftruncate(fd, truncate_to), 0);
	close(fd);
	return path;
}

static void t_load_files(void **state)
{
	struct boot_info boot;
	uint8_t initrd[3000];
	size_t len;
	uint8_t *p = make_bz(4096, 0x020f, &len);
	char *kpath, *ipath, *empty, *huge, *junk;

	memset(initrd, 0xa5, sizeof(initrd));
	kpath = tmp_file(p, len, 0);
	ipath = tmp_file(initrd, sizeof(initrd), 0);
	empty = tmp_file(NULL, 0, 0);
	huge = tmp_file(NULL, 0, 5 * GiB);	/* sparse */
	junk = tmp_file("hello", 5, 0);
	cfg.kernel_path = kpath;
	cfg.initrd_path = ipath;
	assert_int_equal(loader_load(&mem, &cfg, &boot), 0);
	assert_memory_equal(ram + BOOT_KERNEL_GPA, p + BZ_SETUP, 4096);
	assert_memory_equal(ram + ALIGN_DOWN(RAM_SIZE - sizeof(initrd), 4096), initrd,
			    sizeof(initrd));

	cfg.initrd_path = huge;
	assert_int_equal(loader_load(&mem, &cfg, &boot), -ENOMEM);
	assert_msg("initrd '/tmp/ember-test-loader-");
	assert_msg("(5120 MiB) does not fit in guest RAM below 64 MiB");
	cfg.initrd_path = empty;
	assert_int_equal(loader_load(&mem, &cfg, &boot), -EINVAL);
	assert_msg("is empty");
	cfg.initrd_path = "/nonexistent/initrd";
	assert_int_equal(loader_load(&mem, &cfg, &boot), -ENOENT);
	assert_msg("cannot open initrd '/nonexistent/initrd'");
	cfg.initrd_path = NULL;

	cfg.kernel_path = "/tmp";
	assert_int_equal(loader_load(&mem, &cfg, &boot), -EISDIR);
	assert_msg("kernel '/tmp' is a directory");
	cfg.kernel_path = empty;
	assert_int_equal(loader_load(&mem, &cfg, &boot), -EINVAL);
	cfg.kernel_path = huge;
	assert_int_equal(loader_load(&mem, &cfg, &boot), -EFBIG);
	assert_msg("is too large (5120 MiB, at most 512 MiB)");
	cfg.kernel_path = junk;
	assert_int_equal(loader_load(&mem, &cfg, &boot), -ENOEXEC);
	assert_msg("not a bzImage or ELF vmlinux");

	/*
	 * Opened once, loaded again later (a machine reset): the same files,
	 * read again; one cut shorter meanwhile is refused, not faulted on.
	 */
	{
		struct loader_files f;

		cfg.kernel_path = kpath;
		cfg.initrd_path = ipath;
		assert_int_equal(loader_open(&cfg, &f), 0);
		assert_int_equal(loader_load_files(&mem, &cfg, &f, &boot), 0);
		memset(ram + BOOT_KERNEL_GPA, 0, 4096);
		assert_int_equal(loader_load_files(&mem, &cfg, &f, &boot), 0);
		assert_memory_equal(ram + BOOT_KERNEL_GPA, p + BZ_SETUP, 4096);
		assert_int_equal(truncate(ipath, 100), 0);
		assert_int_equal(loader_load_files(&mem, &cfg, &f, &boot), -EIO);
		assert_msg("initrd '/tmp/ember-test-loader-");
		assert_msg("changed size since it was opened (100 bytes, was 3000)");
		loader_close(&f);
		assert_int_equal(f.kernel_fd, -1);
		cfg.initrd_path = NULL;
	}

	for (char **f = (char *[]){ kpath, ipath, empty, huge, junk, NULL }; *f; f++) {
		unlink(*f);
		free(*f);
	}
	free(p);
}

/* Reads a whole file for the real-kernel test; NULL if it cannot. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	if (f && !fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET)) {
		p = malloc(n);
		if (p && fread(p, 1, n, f) == (size_t)n) {
			*len = n;
		} else {
			free(p);
			p = NULL;
		}
	}
	if (f)
		fclose(f);
	return p;
}

/* A real kernel, when one was built: EMBER_TEST_KERNEL=path/to/bzImage (or vmlinux). */
static void t_real_kernel(void **state)
{
	const char *path = getenv("EMBER_TEST_KERNEL");
	const struct e820_entry bigmap[] = {
		{ 0, BOOT_EBDA_GPA, E820_RAM },
		{ BOOT_EBDA_GPA, 1 * MiB - BOOT_EBDA_GPA, E820_RESERVED },
		{ 1 * MiB, 511 * MiB, E820_RAM },
	};
	struct gmem big = { 0 };
	struct boot_info boot;
	uint8_t *img, *bigram;
	size_t len = 0;

	img = path ? slurp(path, &len) : NULL;
	if (!img) {
		print_message("EMBER_TEST_KERNEL unset or unreadable: skipped\n");
		skip();
	}
	if (!memcmp(img, ELFMAG, SELFMAG)) {
		struct elf_info ei;

		if (elf_pvh_parse(img, len, &ei))
			fail_msg("%s", log_last());
		assert_true(ei.lowest >= BOOT_KERNEL_GPA && ei.highest > ei.lowest);
		print_message("%s: PVH entry 0x%llx, loads 0x%llx-0x%llx\n", path,
			      (unsigned long long)ei.pvh_entry, (unsigned long long)ei.lowest,
			      (unsigned long long)ei.highest);
	} else {
		struct bzimage_info bi;

		if (bzimage_parse(img, len, &bi))
			fail_msg("%s", log_last());
		assert_true(bi.version >= 0x020c);
		assert_true(bi.xloadflags & XLF_KERNEL_64);
		assert_true(bi.init_size >= bi.kernel_size);
		print_message("%s: boot protocol %u.%02u, %llu KiB, init_size %u MiB\n", path,
			      bi.version >> 8, bi.version & 0xff,
			      (unsigned long long)bi.kernel_size >> 10, bi.init_size >> 20);
	}
	free(img);

	bigram = malloc(512 * MiB);	/* untouched pages cost nothing */
	assert_non_null(bigram);
	assert_int_equal(gmem_add(&big, 0, 512 * MiB, bigram, -1, 0), 0);
	cfg = (struct boot_config){
		.kernel_path = path, .cmdline = "console=ttyS0",
		.e820 = bigmap, .e820_nr = ARRAY_SIZE(bigmap),
	};
	if (loader_load(&big, &cfg, &boot))
		fail_msg("%s", log_last());
	if (boot.mode == BOOT_LINUX64)
		assert_int_equal(get32(bigram + BOOT_PARAMS_GPA + BP_HEADER), HDRS_MAGIC);
	free(bigram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(t_bz_valid, reset),
		cmocka_unit_test_setup(t_bz_prefixes, reset),
		cmocka_unit_test_setup(t_bz_magic, reset),
		cmocka_unit_test_setup(t_bz_old_or_32bit, reset),
		cmocka_unit_test_setup(t_bz_absurd, reset),
		cmocka_unit_test_setup(t_elf_valid, reset),
		cmocka_unit_test_setup(t_elf_prefixes, reset),
		cmocka_unit_test_setup(t_elf_header, reset),
		cmocka_unit_test_setup(t_elf_phdrs, reset),
		cmocka_unit_test_setup(t_elf_segments, reset),
		cmocka_unit_test_setup(t_elf_notes, reset),
		cmocka_unit_test_setup(t_load_bz, reset),
		cmocka_unit_test_setup(t_load_bz_header_len, reset),
		cmocka_unit_test_setup(t_load_bz_initrd_limits, reset),
		cmocka_unit_test_setup(t_load_bz_too_big, reset),
		cmocka_unit_test_setup(t_load_garbage, reset),
		cmocka_unit_test_setup(t_load_pvh, reset),
		cmocka_unit_test_setup(t_load_pvh_placement, reset),
		cmocka_unit_test_setup(t_load_files, reset),
		cmocka_unit_test_setup(t_real_kernel, reset),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, setup, teardown);
}
