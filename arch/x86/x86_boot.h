/* Register and memory state of the boot vCPU at the kernel's entry. */
#ifndef EMBER_X86_BOOT_H
#define EMBER_X86_BOOT_H

#include <stdint.h>

struct gmem;
struct vcpu;

enum x86_entry_mode {
	X86_ENTRY_LONG,		/* 64-bit, paging on, identity map of 4 GiB */
	X86_ENTRY_PROT32,	/* 32-bit flat protected mode, paging off (PVH) */
	X86_ENTRY_REAL,		/* real mode at cs:ip = entry >> 4 : entry & 0xf */
};

struct x86_entry {
	enum x86_entry_mode mode;
	uint64_t rip;
	uint64_t rsi;		/* boot_params for Linux 64-bit */
	uint64_t rbx;		/* hvm_start_info for PVH */
	uint64_t rsp;
};

/* msr.c: MSRs, FPU and LAPIC LINT pins as Linux expects at entry (every vCPU). */
int vcpu_init_state(struct vcpu *v);
/*
 * msr.c, for a machine reset: after vcpu_init_state, keep the power-on
 * segment registers and LAPIC (v->arch); later put them back with the
 * MSRs (paravirtual ones off), FPU, XCR0, no pending events, and the
 * vCPU runnable (vCPU 0) or waiting for INIT/SIPI (the others).
 */
int vcpu_save_reset_state(struct vcpu *v);
int vcpu_reset_state(struct vcpu *v);

/*
 * Writes GDT and (long mode) page tables at the fixed low addresses of
 * arch/x86/layout.h and loads registers. -EFAULT if guest RAM does not cover them.
 */
int x86_boot_setup(struct vcpu *v, struct gmem *m, const struct x86_entry *e);

#endif
