/* ELF vmlinux (PVH) parsing and loading (see fuzz_loader.h). */
#include <elf.h>

#include "tests/fuzz/fuzz_loader.h"

#define NOTE_OFF	0xb0
#define DATA_OFF	0x100
#define TMPL_LEN	(DATA_OFF + 0x100)

static uint8_t tmpl[TMPL_LEN];

/* Header, PT_NOTE with the PVH entry, PT_LOAD with a zeroed tail. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	Elf64_Ehdr eh = {
		.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_phoff = sizeof(eh), .e_ehsize = sizeof(eh),
		.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 2,
	};
	Elf64_Phdr ph[2] = {
		{ .p_type = PT_NOTE, .p_offset = NOTE_OFF, .p_filesz = 20, .p_align = 4 },
		{ .p_type = PT_LOAD, .p_offset = DATA_OFF, .p_paddr = 2 * MiB,
		  .p_filesz = TMPL_LEN - DATA_OFF, .p_memsz = 0x2000 },
	};
	Elf64_Nhdr nh = { 4, 4, XEN_ELFNOTE_PHYS32_ENTRY };

	fuzz_setup();
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	memcpy(tmpl, &eh, sizeof(eh));
	memcpy(tmpl + sizeof(eh), ph, sizeof(ph));
	memcpy(tmpl + NOTE_OFF, &nh, sizeof(nh));
	memcpy(tmpl + NOTE_OFF + sizeof(nh), "Xen", 4);
	put32(tmpl + NOTE_OFF + sizeof(nh) + 4, 2 * MiB);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(data, size, tmpl, sizeof(tmpl));
	return 0;
}
