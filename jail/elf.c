/* The ELF headers of the program and its libraries: interpreter and DT_NEEDED. */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lib/log.h"
#include "jail/jail.h"

/* An image being read. */
struct elf {
	const uint8_t *img;
	size_t len;
	Elf64_Ehdr eh;
	uint64_t dyn_off, dyn_size;	/* the PT_DYNAMIC segment */
	bool have_dyn;
};

static Elf64_Phdr phdr_at(const struct elf *e, unsigned i)
{
	Elf64_Phdr ph;

	memcpy(&ph, e->img + e->eh.e_phoff + (uint64_t)i * e->eh.e_phentsize, sizeof(ph));
	return ph;
}

/* File offset of the virtual address V (in a PT_LOAD's file part), or -1. */
static int64_t elf_vaddr_off(const struct elf *e, uint64_t v)
{
	for (unsigned i = 0; i < e->eh.e_phnum; i++) {
		Elf64_Phdr ph = phdr_at(e, i);

		if (ph.p_type != PT_LOAD || v < ph.p_vaddr || v - ph.p_vaddr >= ph.p_filesz)
			continue;
		if (ph.p_offset > e->len || v - ph.p_vaddr > e->len - ph.p_offset)
			return -1;
		return (int64_t)(ph.p_offset + (v - ph.p_vaddr));
	}
	return -1;
}

/* An x86-64 ELF64 executable or library, whose program headers are all there. */
static int check_header(struct elf *e)
{
	if (e->len < sizeof(e->eh) || memcmp(e->img, ELFMAG, SELFMAG)) {
		err_msg("not an ELF file");
		return -ENOEXEC;
	}
	memcpy(&e->eh, e->img, sizeof(e->eh));
	if (e->eh.e_ident[EI_CLASS] != ELFCLASS64 || e->eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    e->eh.e_machine != EM_X86_64) {
		err_msg("not an x86-64 ELF file");
		return -ENOEXEC;
	}
	if (e->eh.e_type != ET_EXEC && e->eh.e_type != ET_DYN) {
		err_msg("not an ELF executable or shared library");
		return -ENOEXEC;
	}
	if (e->eh.e_phnum && (e->eh.e_phentsize < sizeof(Elf64_Phdr) || e->eh.e_phoff > e->len ||
			      (uint64_t)e->eh.e_phnum * e->eh.e_phentsize > e->len - e->eh.e_phoff)) {
		err_msg("truncated ELF program headers");
		return -ENOEXEC;
	}
	return 0;
}

/* PT_INTERP into INTERP; where PT_DYNAMIC is. */
static int read_segments(struct elf *e, char *interp, size_t interp_size)
{
	for (unsigned i = 0; i < e->eh.e_phnum; i++) {
		Elf64_Phdr ph = phdr_at(e, i);

		if (ph.p_type != PT_INTERP && ph.p_type != PT_DYNAMIC)
			continue;
		if (ph.p_offset > e->len || ph.p_filesz > e->len - ph.p_offset) {
			err_msg("truncated ELF segment");
			return -ENOEXEC;
		}
		if (ph.p_type == PT_INTERP) {
			const char *s = (const char *)e->img + ph.p_offset;
			size_t sl = strnlen(s, ph.p_filesz);

			if (sl == ph.p_filesz || sl == 0 || sl >= interp_size || s[0] != '/') {
				err_msg("bad ELF interpreter (PT_INTERP)");
				return -ENOEXEC;
			}
			memcpy(interp, s, sl + 1);
		} else {
			e->have_dyn = true;
			e->dyn_off = ph.p_offset;
			e->dyn_size = ph.p_filesz;
		}
	}
	return 0;
}

/* The dynamic section's entry at byte offset O, or DT_NULL past its end. */
static Elf64_Dyn dyn_at(const struct elf *e, uint64_t o)
{
	Elf64_Dyn d = { .d_tag = DT_NULL };

	if (o + sizeof(d) <= e->dyn_size)
		memcpy(&d, e->img + e->dyn_off + o, sizeof(d));
	return d;
}

/* The string table: its file offset and size. 1: there is none. */
static int find_strtab(const struct elf *e, int64_t *off, uint64_t *size)
{
	uint64_t strtab = 0;
	bool have_strtab = false;
	Elf64_Dyn d;

	*size = 0;
	for (uint64_t o = 0; (d = dyn_at(e, o)).d_tag != DT_NULL; o += sizeof(d)) {
		if (d.d_tag == DT_STRTAB) {
			strtab = d.d_un.d_ptr;
			have_strtab = true;
		} else if (d.d_tag == DT_STRSZ) {
			*size = d.d_un.d_val;
		}
	}
	if (!have_strtab)
		return 1;
	*off = elf_vaddr_off(e, strtab);
	if (*off < 0 || *size > e->len - (uint64_t)*off) {
		err_msg("bad ELF string table (DT_STRTAB)");
		return -ENOEXEC;
	}
	return 0;
}

/* The DT_NEEDED names, from the string table at STR_OFF of STRSZ bytes. */
static int read_needed(const struct elf *e, int64_t str_off, uint64_t strsz,
		       char (*needed)[JAIL_NAME_MAX], int max_needed)
{
	Elf64_Dyn d;
	int n = 0;

	for (uint64_t o = 0; (d = dyn_at(e, o)).d_tag != DT_NULL; o += sizeof(d)) {
		const char *s;
		size_t sl;

		if (d.d_tag != DT_NEEDED)
			continue;
		if (d.d_un.d_val >= strsz) {
			err_msg("bad ELF DT_NEEDED entry");
			return -ENOEXEC;
		}
		s = (const char *)e->img + str_off + d.d_un.d_val;
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

int jail_elf_deps(const void *image, size_t len, char *interp, size_t interp_size,
		  char (*needed)[JAIL_NAME_MAX], int max_needed)
{
	struct elf e = { .img = image, .len = len };
	uint64_t strsz;
	int64_t str_off;
	int r;

	interp[0] = 0;
	if ((r = check_header(&e)) || (r = read_segments(&e, interp, interp_size)))
		return r;
	if (!e.have_dyn)
		return 0;
	r = find_strtab(&e, &str_off, &strsz);
	if (r)
		return r > 0 ? 0 : r;
	return read_needed(&e, str_off, strsz, needed, max_needed);
}
