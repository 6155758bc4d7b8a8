/*
 * The boot vCPU at the kernel's entry: a GDT and, for the 64-bit entry,
 * page tables identity-mapping 4 GiB, at the low addresses of layout.h;
 * then its segment and general registers (x86_boot.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "arch/x86/layout.h"
#include "arch/x86/x86_boot.h"
#include "kvm/gmem.h"
#include "kvm/vcpu.h"
#include "lib/log.h"

#define X86_CR0_PE	(1ULL << 0)
#define X86_CR0_ET	(1ULL << 4)
#define X86_CR0_NE	(1ULL << 5)
#define X86_CR0_PG	(1ULL << 31)
#define X86_CR4_PAE	(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define PTE_P		1ULL
#define PTE_RW		2ULL
#define PTE_PS		0x80ULL

/* Selectors into the boot GDT. */
#define SEL_CODE	0x08
#define SEL_DATA	0x10
#define SEL_TSS		0x18

static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000) << 32) | ((uint64_t)(flags & 0xf0ff) << 40) |
	       ((uint64_t)(limit & 0x000f0000) << 32) | ((uint64_t)(base & 0x00ffffff) << 16) |
	       (limit & 0x0000ffff);
}

static struct kvm_segment seg_from_gdt(uint64_t d, uint16_t sel)
{
	struct kvm_segment s = {
		.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24),
		.limit = (uint32_t)((d & 0xffff) | (((d >> 48) & 0xf) << 16)),
		.selector = sel,
		.type = (d >> 40) & 0xf,
		.s = (d >> 44) & 1,
		.dpl = (d >> 45) & 3,
		.present = (d >> 47) & 1,
		.avl = (d >> 52) & 1,
		.l = (d >> 53) & 1,
		.db = (d >> 54) & 1,
		.g = (d >> 55) & 1,
	};

	if (s.g)
		s.limit = (s.limit << 12) | 0xfff;
	s.unusable = !s.present;
	return s;
}

static int write_gdt(struct gmem *m, struct kvm_sregs *s, int long_mode)
{
	uint64_t gdt[4] = {
		0,
		long_mode ? gdt_entry(0xa09b, 0, 0xfffff) : gdt_entry(0xc09b, 0, 0xfffff),
		gdt_entry(0xc093, 0, 0xfffff),
		gdt_entry(0x008b, 0, 0xfffff),
	};

	if (gmem_write(m, BOOT_GDT_GPA, gdt, sizeof(gdt)))
		return -EFAULT;
	s->gdt.base = BOOT_GDT_GPA;
	s->gdt.limit = sizeof(gdt) - 1;
	s->idt.base = 0;
	s->idt.limit = 0;
	s->cs = seg_from_gdt(gdt[1], SEL_CODE);
	s->ds = s->es = s->fs = s->gs = s->ss = seg_from_gdt(gdt[2], SEL_DATA);
	s->tr = seg_from_gdt(gdt[3], SEL_TSS);
	return 0;
}

/* Identity map of the first 4 GiB with 2 MiB pages: PML4, PDPT, 4 PDs. */
static int write_page_tables(struct gmem *m, struct kvm_sregs *s)
{
	uint64_t pml4 = BOOT_PML4_GPA, pdpt = pml4 + 0x1000, pd = pml4 + 0x2000;
	uint64_t e;

	e = pdpt | PTE_P | PTE_RW;
	if (gmem_write(m, pml4, &e, 8))
		return -EFAULT;
	for (int i = 0; i < 4; i++) {
		e = (pd + i * 0x1000) | PTE_P | PTE_RW;
		if (gmem_write(m, pdpt + i * 8, &e, 8))
			return -EFAULT;
	}
	for (uint64_t i = 0; i < 4 * 512; i++) {
		e = (i << 21) | PTE_P | PTE_RW | PTE_PS;
		if (gmem_write(m, pd + i * 8, &e, 8))
			return -EFAULT;
	}
	s->cr3 = pml4;
	s->cr4 |= X86_CR4_PAE;
	s->cr0 |= X86_CR0_PG;
	s->efer |= EFER_LME | EFER_LMA;
	return 0;
}

int x86_boot_setup(struct vcpu *v, struct gmem *m, const struct x86_entry *e)
{
	struct kvm_sregs s;
	struct kvm_regs r = { .rflags = 2 };
	int ret;

	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		err_msg("vCPU %u: KVM_GET_SREGS: %s", v->index, strerror(errno));
		return -errno;
	}
	if (e->mode == X86_ENTRY_REAL) {
		s.cs.selector = (e->rip >> 4) & 0xffff;
		s.cs.base = e->rip & ~0xfULL;
		r.rip = e->rip & 0xf;
	} else {
		ret = write_gdt(m, &s, e->mode == X86_ENTRY_LONG);
		if (!ret && e->mode == X86_ENTRY_LONG)
			ret = write_page_tables(m, &s);
		if (ret) {
			err_msg("guest RAM does not cover the boot page tables");
			return ret;
		}
		s.cr0 |= X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
		r.rip = e->rip;
	}
	r.rsi = e->rsi;
	r.rbx = e->rbx;
	r.rsp = r.rbp = e->rsp;
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0) {
		err_msg("vCPU %u: KVM_SET_SREGS: %s", v->index, strerror(errno));
		return -errno;
	}
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0) {
		err_msg("vCPU %u: KVM_SET_REGS: %s", v->index, strerror(errno));
		return -errno;
	}
	return 0;
}
