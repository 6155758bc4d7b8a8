/*
 * bzImage header checks (Linux x86 boot protocol). The file is untrusted:
 * every field that sizes or places something is checked before it is used.
 */
#include "arch/x86/loader_int.h"
#include "lib/log.h"
#include "lib/util.h"

#define SECTOR 512

int bzimage_check(const void *img, size_t len, struct bzimage_info *out, const char *who)
{
	const uint8_t *p = img;
	uint32_t setup_sects, syssize;
	uint64_t setup_size, kernel_size;

	if (len < BP_VERSION + 2 || get16(p + BP_BOOT_FLAG) != BOOT_FLAG_MAGIC ||
	    get32(p + BP_HEADER) != HDRS_MAGIC) {
		/* A disk image has the boot flag too, but no HdrS. */
		err_msg("%s: not a bzImage (no boot sector with a 'HdrS' setup header)", who);
		return -ENOEXEC;
	}
	*out = (struct bzimage_info){ .version = get16(p + BP_VERSION) };
	if (out->version < 0x0206) {
		err_msg("%s: boot protocol %u.%02u is too old (need 2.06)", who,
			out->version >> 8, out->version & 0xff);
		return -ENOTSUP;
	}

	setup_sects = p[BP_HDR] ? p[BP_HDR] : 4;	/* 0 means 4, for old loaders */
	setup_size = (setup_sects + 1) * SECTOR;
	if (setup_size >= len) {
		err_msg("%s: truncated (setup is %llu bytes, file only %zu)", who,
			(unsigned long long)setup_size, len);
		return -EINVAL;
	}
	/* setup_size >= 1 KiB, so the whole header (to 0x290) is in the file. */
	kernel_size = len - setup_size;
	syssize = get32(p + BP_SYSSIZE);
	if (!syssize) {
		err_msg("%s: the header gives no kernel size (syssize 0)", who);
		return -EINVAL;
	}
	/* syssize counts 16-byte paragraphs, rounded up; a signature may follow. */
	if ((uint64_t)syssize * 16 > kernel_size + 15) {
		err_msg("%s: truncated (header says %llu bytes of kernel, file has %llu)", who,
			(unsigned long long)syssize * 16, (unsigned long long)kernel_size);
		return -EINVAL;
	}

	out->setup_size = setup_size;
	out->kernel_offset = setup_size;
	out->kernel_size = kernel_size;
	out->initrd_addr_max = get32(p + BP_INITRD_ADDR_MAX);
	out->cmdline_size = get32(p + BP_CMDLINE_SIZE);
	out->relocatable = p[BP_RELOCATABLE];
	out->pref_address = BOOT_KERNEL_GPA;
	if (out->version >= 0x020a) {
		/* Before 2.10 init_size is unknown: 0, the loader uses kernel_size. */
		out->pref_address = get64(p + BP_PREF_ADDRESS);
		out->init_size = get32(p + BP_INIT_SIZE);
		if (!out->init_size || out->init_size > GiB) {
			err_msg("%s: absurd init_size 0x%x", who, out->init_size);
			return -EINVAL;
		}
		if (out->pref_address > GiB) {
			err_msg("%s: absurd preferred load address 0x%llx", who,
				(unsigned long long)out->pref_address);
			return -EINVAL;
		}
	}
	if (out->version >= 0x020c) {
		out->xloadflags = get16(p + BP_XLOADFLAGS);
		if (!(out->xloadflags & XLF_KERNEL_64)) {
			err_msg("%s: not a 64-bit kernel (no 64-bit entry point)", who);
			return -ENOTSUP;
		}
	}
	return 0;
}

int bzimage_parse(const void *img, size_t len, struct bzimage_info *out)
{
	return bzimage_check(img, len, out, "bzImage");
}
