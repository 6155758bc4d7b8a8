/* The ELF headers of the program and its libraries: interpreter and DT_NEEDED. */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "lib/log.h"
#include "jail/jail.h"

/* File offset of the virtual address V (in a PT_LOAD's file part), or -1. */
static int64_t elf_vaddr_off(const uint8_t *img, size_t len, const Elf64_Ehdr *eh, uint64_t v)
{
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img + eh->e_phoff + (uint64_t)i * eh->e_phentsize, sizeof(ph));
		if (ph.p_type != PT_LOAD || v < ph.p_vaddr || v - ph.p_vaddr >= ph.p_filesz)
			continue;
		if (ph.p_offset > len || v - ph.p_vaddr > len - ph.p_offset)
			return -1;
		return (int64_t)(ph.p_offset + (v - ph.p_vaddr));
	}
	return -1;
}

int jail_elf_deps(const void *image, size_t len, char *interp, size_t interp_size,
		  char (*needed)[JAIL_NAME_MAX], int max_needed)
{
	const uint8_t *img = image;
	Elf64_Ehdr eh;
	uint64_t dyn_off = 0, dyn_size = 0, strtab = 0, strsz = 0;
	bool have_dyn = false, have_strtab = false;
	int64_t str_off;
	int n = 0;

	interp[0] = 0;
	if (len < sizeof(eh) || memcmp(img, ELFMAG, SELFMAG)) {
		err_msg("not an ELF file");
		return -ENOEXEC;
	}
	memcpy(&eh, img, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64) {
		err_msg("not an x86-64 ELF file");
		return -ENOEXEC;
	}
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		err_msg("not an ELF executable or shared library");
		return -ENOEXEC;
	}
	if (eh.e_phnum && (eh.e_phentsize < sizeof(Elf64_Phdr) || eh.e_phoff > len ||
			   (uint64_t)eh.e_phnum * eh.e_phentsize > len - eh.e_phoff)) {
		err_msg("truncated ELF program headers");
		return -ENOEXEC;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img + eh.e_phoff + (uint64_t)i * eh.e_phentsize, sizeof(ph));
		if (ph.p_type != PT_INTERP && ph.p_type != PT_DYNAMIC)
			continue;
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset) {
			err_msg("truncated ELF segment");
			return -ENOEXEC;
		}
		if (ph.p_type == PT_INTERP) {
			const char *s = (const char *)img + ph.p_offset;
			size_t sl = strnlen(s, ph.p_filesz);

			if (sl == ph.p_filesz || sl == 0 || sl >= interp_size || s[0] != '/') {
				err_msg("bad ELF interpreter (PT_INTERP)");
				return -ENOEXEC;
			}
			memcpy(interp, s, sl + 1);
		} else {
			have_dyn = true;
			dyn_off = ph.p_offset;
			dyn_size = ph.p_filesz;
		}
	}
	if (!have_dyn)
		return 0;
	/* first pass: the string table */
	for (uint64_t o = 0; o + sizeof(Elf64_Dyn) <= dyn_size; o += sizeof(Elf64_Dyn)) {
		Elf64_Dyn d;

		memcpy(&d, img + dyn_off + o, sizeof(d));
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_STRTAB) {
			strtab = d.d_un.d_ptr;
			have_strtab = true;
		} else if (d.d_tag == DT_STRSZ) {
			strsz = d.d_un.d_val;
		}
	}
	if (!have_strtab)
		return 0;
	str_off = elf_vaddr_off(img, len, &eh, strtab);
	if (str_off < 0 || strsz > len - (uint64_t)str_off) {
		err_msg("bad ELF string table (DT_STRTAB)");
		return -ENOEXEC;
	}
	for (uint64_t o = 0; o + sizeof(Elf64_Dyn) <= dyn_size; o += sizeof(Elf64_Dyn)) {
		Elf64_Dyn d;
		const char *s;
		size_t sl;

		memcpy(&d, img + dyn_off + o, sizeof(d));
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag != DT_NEEDED)
			continue;
		if (d.d_un.d_val >= strsz) {
			err_msg("bad ELF DT_NEEDED entry");
			return -ENOEXEC;
		}
		s = (const char *)img + str_off + d.d_un.d_val;
		sl = strnlen(s, strsz - d.d_un.d_val);
		if (sl == strsz - d.d_un.d_val || sl == 0 || sl >= JAIL_NAME_MAX ||
		    strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, "..")) {
			err_msg("unsupported ELF DT_NEEDED entry '%.*s'", (int)(sl < 64 ? sl : 64), s);
			return -ENOEXEC;
		}
		if (n == max_needed) {
			err_msg("more than %d DT_NEEDED libraries", max_needed);
			return -E2BIG;
		}
		memcpy(needed[n++], s, sl + 1);
	}
	return n;
}
