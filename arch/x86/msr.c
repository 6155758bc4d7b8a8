/*
 * What every x86 vCPU starts with besides its registers: MSRs, the FPU
 * control words and the LAPIC's LINT0/LINT1 modes, as firmware leaves them
 * for Linux (vcpu_init_state in x86_boot.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "arch/x86/x86_boot.h"
#include "kvm/vcpu.h"
#include "lib/log.h"
#include "lib/util.h"

#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_IA32_TSC		0x10

#define MISC_ENABLE_FAST_STRING	1
/* MTRRs on, default type write-back: without it Linux maps RAM uncached. */
#define MTRR_ENABLE_WB		((1u << 11) | 6)

#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_MODE_EXTINT	0x7
#define APIC_MODE_NMI		0x4

static int set_msrs(struct vcpu *v)
{
	static const struct { uint32_t idx; uint64_t val; } init[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 }, { MSR_STAR, 0 }, { MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 }, { MSR_SYSCALL_MASK, 0 }, { MSR_LSTAR, 0 },
		{ MSR_IA32_TSC, 0 },
		{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE_WB },
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[ARRAY_SIZE(init)];
	} m;
	int n;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = ARRAY_SIZE(init);
	for (size_t i = 0; i < ARRAY_SIZE(init); i++) {
		m.e[i].index = init[i].idx;
		m.e[i].data = init[i].val;
	}
	n = ioctl(v->fd, KVM_SET_MSRS, &m);
	if (n < 0) {
		err_msg("vCPU %u: KVM_SET_MSRS: %s", v->index, strerror(errno));
		return -errno;
	}
	if ((size_t)n != ARRAY_SIZE(init))
		warn_msg("vCPU %u: KVM refused MSR 0x%x", v->index, init[n].idx);
	return 0;
}

static int set_fpu(struct vcpu *v)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };

	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0) {
		err_msg("vCPU %u: KVM_SET_FPU: %s", v->index, strerror(errno));
		return -errno;
	}
	return 0;
}

static void lvt_set_mode(struct kvm_lapic_state *l, unsigned reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &l->regs[reg], 4);
	v = (v & ~0x700u) | (mode << 8);
	memcpy(&l->regs[reg], &v, 4);
}

/* LINT0 as ExtINT and LINT1 as NMI, as firmware leaves them. */
static int set_lint(struct vcpu *v)
{
	struct kvm_lapic_state l;

	if (ioctl(v->fd, KVM_GET_LAPIC, &l) < 0) {
		err_msg("vCPU %u: KVM_GET_LAPIC: %s", v->index, strerror(errno));
		return -errno;
	}
	lvt_set_mode(&l, APIC_LVT0, APIC_MODE_EXTINT);
	lvt_set_mode(&l, APIC_LVT1, APIC_MODE_NMI);
	if (ioctl(v->fd, KVM_SET_LAPIC, &l) < 0) {
		err_msg("vCPU %u: KVM_SET_LAPIC: %s", v->index, strerror(errno));
		return -errno;
	}
	return 0;
}

int vcpu_init_state(struct vcpu *v)
{
	int ret = set_msrs(v);

	if (!ret)
		ret = set_fpu(v);
	if (!ret)
		ret = set_lint(v);
	return ret;
}
