/*
 * Puts kernel, initrd and command line into guest RAM and writes what the
 * kernel reads first: the zero page (64-bit boot protocol) or hvm_start_info
 * (PVH). Everything is checked before anything is written, so that a failure
 * reports one problem and the caller can simply give up.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/loader_int.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/util.h"

#define KERNEL_FILE_MAX		(512 * MiB)
#define INITRD_ALIGN		4096ULL

_Static_assert(sizeof(struct hvm_start_info) <= PVH_MODLIST_OFF, "start_info");
_Static_assert(PVH_MODLIST_OFF + sizeof(struct hvm_modlist_entry) <= PVH_MEMMAP_OFF, "modlist");
_Static_assert(BOOT_PVH_INFO_GPA + PVH_MEMMAP_OFF +
	       E820_MAX * sizeof(struct hvm_memmap_table_entry) <= BOOT_PARAMS_GPA, "memmap");
_Static_assert(BP_E820_TABLE + E820_MAX * sizeof(struct e820_entry) <= BP_SIZE, "e820");
_Static_assert(sizeof(struct e820_entry) == 20, "boot_e820_entry");

/* True when one RAM entry of the map holds all of [gpa, gpa+len). */
static bool in_ram(const struct boot_config *cfg, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < cfg->e820_nr; i++) {
		const struct e820_entry *e = &cfg->e820[i];

		if (e->type == E820_RAM && gpa >= e->addr && gpa - e->addr <= e->size &&
		    len <= e->size - (gpa - e->addr))
			return true;
	}
	return false;
}

/* The highest RAM entry starting below 4 GiB: where an initrd goes. */
static uint64_t low_ram(const struct boot_config *cfg, uint64_t *base)
{
	uint64_t top = 0;

	*base = 0;
	for (unsigned i = 0; i < cfg->e820_nr; i++) {
		const struct e820_entry *e = &cfg->e820[i];
		uint64_t end = e->size > 4 * GiB - MIN(e->addr, 4 * GiB) ?
			       4 * GiB : e->addr + e->size;

		if (e->type == E820_RAM && e->addr < 4 * GiB && end > top) {
			top = end;
			*base = e->addr;
		}
	}
	return top;
}

static int place_initrd(const struct boot_config *cfg, uint64_t kernel_end,
			uint64_t addr_max, uint64_t len, uint64_t *gpa)
{
	uint64_t base, top = MIN(low_ram(cfg, &base), addr_max + 1);
	uint64_t lo = MAX(base, kernel_end);

	if (len > top || ALIGN_DOWN(top - len, INITRD_ALIGN) < lo) {
		err_msg("initrd '%s' (%llu MiB) does not fit in guest RAM below %llu MiB",
			cfg->initrd_path, (unsigned long long)((len + MiB - 1) / MiB),
			(unsigned long long)(top / MiB));
		return -ENOMEM;
	}
	*gpa = ALIGN_DOWN(top - len, INITRD_ALIGN);
	return 0;
}

static int check_cmdline(const struct boot_config *cfg, uint64_t accepts)
{
	size_t n = strlen(cfg->cmdline);

	accepts = MIN(accepts, BOOT_CMDLINE_MAX - 1);
	if (n > accepts) {
		err_msg("command line too long (%zu bytes, kernel accepts %llu)", n,
			(unsigned long long)accepts);
		return -E2BIG;
	}
	return 0;
}

static int put(struct gmem *m, uint64_t gpa, const void *buf, uint64_t len, const char *who)
{
	if (len > SIZE_MAX || gmem_write(m, gpa, buf, len)) {
		err_msg("%s: guest memory 0x%llx-0x%llx is not mapped", who,
			(unsigned long long)gpa, (unsigned long long)(gpa + len));
		return -EFAULT;
	}
	return 0;
}

static int put_zeros(struct gmem *m, uint64_t gpa, uint64_t len, const char *who)
{
	static const uint8_t zeros[4096];
	void *p = gmem_ptr(m, gpa, len);
	int ret = 0;

	if (p) {
		memset(p, 0, len);
		return 0;
	}
	for (uint64_t n; len && !ret; gpa += n, len -= n) {
		n = MIN(len, sizeof(zeros));
		ret = put(m, gpa, zeros, n, who);
	}
	return ret;
}

/* Command line and initrd are the same for both boot modes. */
static int put_common(struct gmem *m, const struct boot_config *cfg,
		      const void *initrd, size_t initrd_len, uint64_t initrd_gpa)
{
	int ret = put(m, BOOT_CMDLINE_GPA, cfg->cmdline, strlen(cfg->cmdline) + 1,
		      "command line");

	if (!ret && initrd)
		ret = put(m, initrd_gpa, initrd, initrd_len, "initrd");
	return ret;
}

static int load_bzimage(struct gmem *m, const struct boot_config *cfg, const uint8_t *img,
			size_t len, const void *initrd, size_t initrd_len,
			struct boot_info *out, const char *who)
{
	uint8_t zp[BP_SIZE] = { 0 };
	struct bzimage_info bi;
	uint64_t run_at, kernel_end, initrd_gpa = 0;
	uint32_t align;
	size_t hdr_end;
	int ret;

	ret = bzimage_check(img, len, &bi, who);
	if (ret)
		return ret;
	ret = check_cmdline(cfg, bi.cmdline_size);
	if (ret)
		return ret;
	/*
	 * init_size counts from where the kernel decompresses: pref_address
	 * (LOAD_PHYSICAL_ADDR) or higher, never below, and for a relocatable
	 * kernel the load address rounded up to kernel_alignment.
	 */
	run_at = MAX(BOOT_KERNEL_GPA, bi.pref_address);
	align = get32(img + BP_KERNEL_ALIGNMENT);
	if (bi.relocatable && align && !(align & (align - 1)))
		run_at = MAX(run_at, ALIGN_UP(BOOT_KERNEL_GPA, (uint64_t)align));
	kernel_end = MAX(BOOT_KERNEL_GPA + bi.kernel_size, run_at + bi.init_size);
	if (!in_ram(cfg, BOOT_KERNEL_GPA, kernel_end - BOOT_KERNEL_GPA)) {
		err_msg("%s needs guest RAM from 1 MiB to %llu MiB", who,
			(unsigned long long)((kernel_end + MiB - 1) / MiB));
		return -ENOMEM;
	}
	if (initrd) {
		ret = place_initrd(cfg, kernel_end, bi.initrd_addr_max, initrd_len, &initrd_gpa);
		if (ret)
			return ret;
	}

	/* The header's own length is in the jump at 0x200; never past the header area. */
	hdr_end = MIN((size_t)BP_HEADER + img[BP_JUMP + 1], (size_t)BP_HDR_END);
	memcpy(zp + BP_HDR, img + BP_HDR, hdr_end - BP_HDR);
	put16(zp + BP_VID_MODE, 0xffff);
	zp[BP_TYPE_OF_LOADER] = 0xff;
	zp[BP_LOADFLAGS] |= LOADFLAG_CAN_USE_HEAP;
	put16(zp + BP_HEAP_END_PTR, 0xfe00);
	put32(zp + BP_CMD_LINE_PTR, BOOT_CMDLINE_GPA);
	put32(zp + BP_RAMDISK_IMAGE, (uint32_t)initrd_gpa);
	put32(zp + BP_RAMDISK_SIZE, (uint32_t)initrd_len);
	put32(zp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd_gpa >> 32));
	put32(zp + BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)initrd_len >> 32));
	put32(zp + BP_HARDWARE_SUBARCH, 0);
	put64(zp + BP_SETUP_DATA, 0);	/* the image's value would point nowhere */
	if (bi.version >= 0x020e)
		put64(zp + BP_ACPI_RSDP, cfg->rsdp_gpa);
	zp[BP_E820_ENTRIES] = cfg->e820_nr;
	memcpy(zp + BP_E820_TABLE, cfg->e820, cfg->e820_nr * sizeof(*cfg->e820));

	ret = put(m, BOOT_KERNEL_GPA, img + bi.kernel_offset, bi.kernel_size, who);
	if (!ret)
		ret = put_common(m, cfg, initrd, initrd_len, initrd_gpa);
	if (!ret)
		ret = put(m, BOOT_PARAMS_GPA, zp, sizeof(zp), "zero page");
	if (ret)
		return ret;
	*out = (struct boot_info){
		.mode = BOOT_LINUX64,
		.entry = BOOT_KERNEL_GPA + BZ_ENTRY64_OFFSET,
		.params_gpa = BOOT_PARAMS_GPA,
	};
	return 0;
}

static int put_start_info(struct gmem *m, const struct boot_config *cfg,
			  size_t initrd_len, uint64_t initrd_gpa)
{
	uint8_t page[4096] = { 0 };
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = 1,
		.nr_modules = initrd_len ? 1 : 0,
		.modlist_paddr = initrd_len ? BOOT_PVH_INFO_GPA + PVH_MODLIST_OFF : 0,
		.cmdline_paddr = BOOT_CMDLINE_GPA,
		.rsdp_paddr = cfg->rsdp_gpa,
		.memmap_paddr = BOOT_PVH_INFO_GPA + PVH_MEMMAP_OFF,
		.memmap_entries = cfg->e820_nr,
	};
	struct hvm_modlist_entry mod = { .paddr = initrd_gpa, .size = initrd_len };

	memcpy(page, &si, sizeof(si));
	memcpy(page + PVH_MODLIST_OFF, &mod, sizeof(mod));
	for (unsigned i = 0; i < cfg->e820_nr; i++) {
		/* E820 and hvm_memmap types share their numbers. */
		struct hvm_memmap_table_entry e = {
			cfg->e820[i].addr, cfg->e820[i].size, cfg->e820[i].type, 0,
		};

		memcpy(page + PVH_MEMMAP_OFF + i * sizeof(e), &e, sizeof(e));
	}
	return put(m, BOOT_PVH_INFO_GPA, page, sizeof(page), "PVH start info");
}

static int load_pvh(struct gmem *m, const struct boot_config *cfg, const uint8_t *img,
		    size_t len, const void *initrd, size_t initrd_len,
		    struct boot_info *out, const char *who)
{
	struct elf_info ei;
	struct elf_seg s;
	uint64_t initrd_gpa = 0;
	unsigned i = 0;
	int ret;

	ret = elf_check(img, len, &ei, who);
	if (ret)
		return ret;
	ret = check_cmdline(cfg, BOOT_CMDLINE_MAX - 1);
	if (ret)
		return ret;
	while (elf_next_load(img, &i, &s)) {
		if (s.paddr < BOOT_KERNEL_GPA || !in_ram(cfg, s.paddr, s.memsz)) {
			err_msg("%s: segment at 0x%llx-0x%llx is not in guest RAM above 1 MiB", who,
				(unsigned long long)s.paddr, (unsigned long long)(s.paddr + s.memsz));
			return -ENOMEM;
		}
	}
	if (initrd) {
		ret = place_initrd(cfg, ei.highest, 4 * GiB - 1, initrd_len, &initrd_gpa);
		if (ret)
			return ret;
	}

	i = 0;
	while (!ret && elf_next_load(img, &i, &s)) {
		ret = put(m, s.paddr, img + s.offset, s.filesz, who);
		if (!ret)
			ret = put_zeros(m, s.paddr + s.filesz, s.memsz - s.filesz, who);
	}
	if (!ret)
		ret = put_common(m, cfg, initrd, initrd_len, initrd_gpa);
	if (!ret)
		ret = put_start_info(m, cfg, initrd ? initrd_len : 0, initrd_gpa);
	if (ret)
		return ret;
	*out = (struct boot_info){
		.mode = BOOT_PVH, .entry = ei.pvh_entry, .params_gpa = BOOT_PVH_INFO_GPA,
	};
	return 0;
}

int loader_load_buf(struct gmem *m, const struct boot_config *cfg,
		    const void *kernel, size_t kernel_len,
		    const void *initrd, size_t initrd_len, struct boot_info *out)
{
	const uint8_t *p = kernel;
	char who[512];

	if (!initrd)
		initrd_len = 0;
	snprintf(who, sizeof(who), "kernel '%s'", cfg->kernel_path ? cfg->kernel_path : "?");
	if (cfg->e820_nr > E820_MAX || !cfg->e820 || !cfg->cmdline) {
		err_msg("%s: bad boot configuration (%u memory map entries, at most %d)", who,
			cfg->e820_nr, E820_MAX);
		return -EINVAL;
	}
	if (kernel_len >= 4 && !memcmp(p, "\177ELF", 4))
		return load_pvh(m, cfg, p, kernel_len, initrd, initrd_len, out, who);
	if (kernel_len >= BP_HEADER + 4 && get16(p + BP_BOOT_FLAG) == BOOT_FLAG_MAGIC &&
	    get32(p + BP_HEADER) == HDRS_MAGIC)
		return load_bzimage(m, cfg, p, kernel_len, initrd, initrd_len, out, who);
	err_msg("%s: not a bzImage or ELF vmlinux", who);
	return -ENOEXEC;
}

/*
 * Opens a regular file and takes its size. Larger than max: -EFBIG with *len
 * set and no message, so that the caller can say what the limit means.
 */
static int open_file(const char *path, const char *what, uint64_t max, int *fdp, size_t *len)
{
	struct stat st;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		err_msg("cannot open %s '%s': %s", what, path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode) || !st.st_size) {
		ret = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		err_msg("%s '%s' is %s", what, path, S_ISDIR(st.st_mode) ? "a directory" :
			!S_ISREG(st.st_mode) ? "not a regular file" : "empty");
		goto out;
	}
	*len = st.st_size;
	if ((uint64_t)st.st_size > max)
		ret = -EFBIG;
out:
	if (ret && fd >= 0)
		close(fd);
	else
		*fdp = fd;
	return ret;
}

int loader_open(const struct boot_config *cfg, struct loader_files *f)
{
	uint64_t base;
	int ret;

	*f = (struct loader_files){ .kernel_fd = -1, .initrd_fd = -1 };
	ret = open_file(cfg->kernel_path, "kernel", KERNEL_FILE_MAX, &f->kernel_fd,
			&f->kernel_len);
	if (ret == -EFBIG)
		err_msg("kernel '%s' is too large (%llu MiB, at most %llu MiB)", cfg->kernel_path,
			f->kernel_len / MiB, KERNEL_FILE_MAX / MiB);
	if (!ret && cfg->initrd_path) {
		/* No initrd goes above 4 GiB, so a larger one is not even read. */
		ret = open_file(cfg->initrd_path, "initrd", 4 * GiB, &f->initrd_fd,
				&f->initrd_len);
		if (ret == -EFBIG) {
			err_msg("initrd '%s' (%llu MiB) does not fit in guest RAM below %llu MiB",
				cfg->initrd_path, f->initrd_len / MiB,
				(unsigned long long)(low_ram(cfg, &base) / MiB));
			ret = -ENOMEM;
		}
	}
	if (ret)
		loader_close(f);
	return ret;
}

void loader_close(struct loader_files *f)
{
	if (f->kernel_fd >= 0)
		close(f->kernel_fd);
	if (f->initrd_fd >= 0)
		close(f->initrd_fd);
	f->kernel_fd = f->initrd_fd = -1;
}

/*
 * The file, mapped for reading only: no copy of it stays in ember. A file
 * cut shorter since it was opened would fault (SIGBUS) past its end: its
 * size is checked first.
 */
static void *map_file(int fd, size_t len, const char *what, const char *path)
{
	off_t end = lseek(fd, 0, SEEK_END);
	void *p;

	if (end != (off_t)len) {
		err_msg("%s '%s' changed size since it was opened (%lld bytes, was %zu)", what,
			path, (long long)end, len);
		return NULL;
	}
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		err_msg("cannot read %s '%s': %s", what, path, strerror(errno));
		return NULL;
	}
	return p;
}

int loader_load_files(struct gmem *m, const struct boot_config *cfg,
		      const struct loader_files *f, struct boot_info *out)
{
	void *kernel, *initrd = NULL;
	int ret = -EIO;

	kernel = map_file(f->kernel_fd, f->kernel_len, "kernel", cfg->kernel_path);
	if (!kernel)
		return ret;
	if (f->initrd_fd >= 0) {
		initrd = map_file(f->initrd_fd, f->initrd_len, "initrd", cfg->initrd_path);
		if (!initrd)
			goto out;
	}
	ret = loader_load_buf(m, cfg, kernel, f->kernel_len, initrd, f->initrd_len, out);
out:
	munmap(kernel, f->kernel_len);
	if (initrd)
		munmap(initrd, f->initrd_len);
	return ret;
}

int loader_load(struct gmem *m, const struct boot_config *cfg, struct boot_info *out)
{
	struct loader_files f;
	int ret = loader_open(cfg, &f);

	if (!ret)
		ret = loader_load_files(m, cfg, &f, out);
	loader_close(&f);
	return ret;
}
