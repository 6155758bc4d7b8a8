/*
 * An x86 vCPU's own exits: port I/O, which only x86 has, goes to the port
 * bus; and the registers of a vCPU that stopped on a fatal exit. See
 * arch/arch.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "arch/arch.h"
#include "kvm/vcpu.h"
#include "lib/log.h"
#include "lib/util.h"

int arch_vcpu_exit(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;

	if (r->exit_reason != KVM_EXIT_IO)
		return -ENOENT;
	if (unlikely(vcpu_trace_io))
		debug_msg("vCPU %u: %s port %#x size %u count %u first %#x", v->index,
			  r->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", r->io.port,
			  r->io.size, r->io.count, data[0]);
	/* String I/O (rep outsb) arrives as count back-to-back elements. */
	for (uint32_t i = 0; i < r->io.count; i++, data += r->io.size) {
		v->access(v->pio, r->io.port, data, r->io.size,
			  r->io.direction == KVM_EXIT_IO_OUT);
	}
	return 0;
}

static void dump_seg(FILE *f, const char *n, const struct kvm_segment *s)
{
	fprintf(f, "%-3s sel=%04x base=%016llx limit=%08x type=%x dpl=%u db=%u l=%u present=%u\n",
		n, s->selector, (unsigned long long)s->base, s->limit, s->type,
		s->dpl, s->db, s->l, s->present);
}

void arch_vcpu_dump(struct vcpu *v, FILE *f)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(f, "vCPU %u: registers unavailable: %s\n", v->index, strerror(errno));
		return;
	}
	fprintf(f, "vCPU %u registers:\n", v->index);
	fprintf(f, "rip=%016llx rsp=%016llx rflags=%016llx\n",
		r.rip, r.rsp, r.rflags);
	fprintf(f, "rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n",
		r.rax, r.rbx, r.rcx, r.rdx);
	fprintf(f, "rsi=%016llx rdi=%016llx rbp=%016llx r8 =%016llx\n",
		r.rsi, r.rdi, r.rbp, r.r8);
	fprintf(f, "r9 =%016llx r10=%016llx r11=%016llx r12=%016llx\n",
		r.r9, r.r10, r.r11, r.r12);
	fprintf(f, "r13=%016llx r14=%016llx r15=%016llx\n", r.r13, r.r14, r.r15);
	fprintf(f, "cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx\n",
		s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
	dump_seg(f, "cs", &s.cs);
	dump_seg(f, "ds", &s.ds);
	dump_seg(f, "ss", &s.ss);
	dump_seg(f, "tr", &s.tr);
	fprintf(f, "gdt base=%016llx limit=%04x idt base=%016llx limit=%04x\n",
		s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
	if (r.rip == 0xfff0 && s.cs.base == 0xffff0000)
		fprintf(f, "(this is the reset state: on AMD, KVM reinitialises a vCPU after a triple fault)\n");
	if (v->run && v->run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
		fprintf(f, "internal error data:");
		for (unsigned i = 0; i < v->run->internal.ndata && i < 16; i++)
			fprintf(f, " %llx", (unsigned long long)v->run->internal.data[i]);
		fprintf(f, "\n");
	}
}
