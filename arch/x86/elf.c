/*
 * ELF vmlinux checks for the PVH entry. Headers are copied out of the image
 * with memcpy because a fuzzer's or mmap'ed buffer need not be aligned.
 */
#include <elf.h>

#include "arch/x86/loader_int.h"
#include "lib/log.h"
#include "lib/util.h"

#define PADDR_LIMIT (64 * GiB)

static void phdr(const void *img, const Elf64_Ehdr *eh, unsigned i, Elf64_Phdr *ph)
{
	memcpy(ph, (const uint8_t *)img + eh->e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

/* Finds XEN_ELFNOTE_PHYS32_ENTRY in one note segment; 1 if found. */
static int find_pvh_note(const uint8_t *p, uint64_t n, uint64_t align, uint64_t *entry,
			 const char *who)
{
	uint64_t off = 0;

	while (n - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t name, desc;

		memcpy(&nh, p + off, sizeof(nh));
		name = off + sizeof(nh);
		if (nh.n_namesz > n - name)
			goto bad;
		desc = ALIGN_UP(name + nh.n_namesz, align);
		if (desc > n || nh.n_descsz > n - desc)
			goto bad;
		/* The last note's padding may lie past the segment. */
		off = MIN(n, ALIGN_UP(desc + nh.n_descsz, align));

		if (nh.n_type != XEN_ELFNOTE_PHYS32_ENTRY || nh.n_namesz != 4 ||
		    memcmp(p + name, "Xen", 4))
			continue;
		if (nh.n_descsz == 4) {
			*entry = get32(p + desc);
		} else if (nh.n_descsz == 8) {
			*entry = get64(p + desc);
		} else {
			err_msg("%s: PVH entry note has %u bytes (need 4 or 8)", who, nh.n_descsz);
			return -EINVAL;
		}
		return 1;
	}
	return 0;
bad:
	err_msg("%s: malformed ELF note at offset %llu of a note segment", who,
		(unsigned long long)off);
	return -EINVAL;
}

static int check_phdrs(const uint8_t *p, size_t len, const Elf64_Ehdr *eh,
		       struct elf_info *out, const char *who)
{
	bool have_entry = false;
	unsigned i;

	out->lowest = UINT64_MAX;
	out->highest = 0;
	for (i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		phdr(p, eh, i, &ph);
		if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
			continue;
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset) {
			err_msg("%s: segment %u lies outside the file", who, i);
			return -EINVAL;
		}
		if (ph.p_type == PT_NOTE) {
			/* Linux aligns notes to 4; newer toolchains emit 8-aligned ones. */
			int ret = find_pvh_note(p + ph.p_offset, ph.p_filesz,
						ph.p_align == 8 ? 8 : 4, &out->pvh_entry, who);

			if (ret < 0)
				return ret;
			have_entry |= ret;
			continue;
		}
		if (ph.p_filesz > ph.p_memsz) {
			err_msg("%s: segment %u has more file bytes than memory bytes", who, i);
			return -EINVAL;
		}
		if (ph.p_paddr > PADDR_LIMIT || ph.p_memsz > PADDR_LIMIT - ph.p_paddr) {
			err_msg("%s: segment %u at 0x%llx lies beyond 64 GiB", who, i,
				(unsigned long long)ph.p_paddr);
			return -EINVAL;
		}
		if (!ph.p_memsz)
			continue;
		out->lowest = MIN(out->lowest, ph.p_paddr);
		out->highest = MAX(out->highest, ph.p_paddr + ph.p_memsz);
	}
	if (out->lowest >= out->highest) {
		err_msg("%s: no loadable segments", who);
		return -EINVAL;
	}
	if (!have_entry) {
		err_msg("%s: vmlinux has no PVH entry note (needs CONFIG_PVH)", who);
		return -ENOEXEC;
	}
	/* highest is exclusive; the entry runs in 32-bit mode. */
	if (out->pvh_entry < out->lowest || out->pvh_entry >= out->highest ||
	    out->pvh_entry >= 4 * GiB) {
		err_msg("%s: PVH entry 0x%llx lies outside the loaded segments", who,
			(unsigned long long)out->pvh_entry);
		return -EINVAL;
	}
	return 0;
}

int elf_check(const void *img, size_t len, struct elf_info *out, const char *who)
{
	const uint8_t *p = img;
	Elf64_Ehdr eh;

	if (len < SELFMAG || memcmp(p, ELFMAG, SELFMAG)) {
		err_msg("%s: not an ELF file", who);
		return -ENOEXEC;
	}
	if (len < sizeof(eh)) {
		err_msg("%s: ELF header truncated (%zu bytes)", who, len);
		return -EINVAL;
	}
	memcpy(&eh, p, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64) {
		err_msg("%s: not a 64-bit little-endian x86-64 ELF", who);
		return -ENOEXEC;
	}
	if (eh.e_type != ET_EXEC) {
		err_msg("%s: ELF type %u is not an executable", who, eh.e_type);
		return -ENOEXEC;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || !eh.e_phnum || eh.e_phnum == PN_XNUM ||
	    eh.e_phoff > len || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff) {
		err_msg("%s: program headers missing or outside the file", who);
		return -EINVAL;
	}
	*out = (struct elf_info){ 0 };
	return check_phdrs(p, len, &eh, out, who);
}

int elf_pvh_parse(const void *img, size_t len, struct elf_info *out)
{
	return elf_check(img, len, out, "vmlinux");
}

bool elf_next_load(const void *img, unsigned *i, struct elf_seg *seg)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	memcpy(&eh, img, sizeof(eh));
	while (*i < eh.e_phnum) {
		phdr(img, &eh, (*i)++, &ph);
		if (ph.p_type == PT_LOAD && ph.p_memsz) {
			*seg = (struct elf_seg){ ph.p_paddr, ph.p_offset, ph.p_filesz, ph.p_memsz };
			return true;
		}
	}
	return false;
}
