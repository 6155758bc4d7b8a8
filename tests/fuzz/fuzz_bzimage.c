/* bzImage header parsing and loading (see fuzz_loader.h). */
#include "tests/fuzz/fuzz_loader.h"

#define SETUP		(5 * 512)
#define TMPL_LEN	(SETUP + 256)

static uint8_t tmpl[TMPL_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_setup();
	tmpl[BP_HDR] = 4;
	put32(tmpl + BP_SYSSIZE, (TMPL_LEN - SETUP) / 16);
	put16(tmpl + BP_BOOT_FLAG, BOOT_FLAG_MAGIC);
	tmpl[BP_JUMP + 1] = 0x6a;
	put32(tmpl + BP_HEADER, HDRS_MAGIC);
	put16(tmpl + BP_VERSION, 0x020f);
	put32(tmpl + BP_INITRD_ADDR_MAX, 0x7fffffff);
	put16(tmpl + BP_XLOADFLAGS, XLF_KERNEL_64);
	put32(tmpl + BP_CMDLINE_SIZE, 255);
	put64(tmpl + BP_PREF_ADDRESS, 1 * MiB);
	put32(tmpl + BP_INIT_SIZE, 2 * MiB);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(data, size, tmpl, sizeof(tmpl));
	return 0;
}
