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

/* The power-on state a reset puts back (v->arch). */
struct vcpu_reset_state {
	struct kvm_sregs sregs;
	struct kvm_lapic_state lapic;
};

int vcpu_save_reset_state(struct vcpu *v)
{
	struct vcpu_reset_state *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return -ENOMEM;
	if (ioctl(v->fd, KVM_GET_SREGS, &rs->sregs) < 0 ||
	    ioctl(v->fd, KVM_GET_LAPIC, &rs->lapic) < 0) {
		int e = errno;

		err_msg("vCPU %u: cannot read its power-on state: %s", v->index, strerror(e));
		free(rs);
		return -e;
	}
	free(v->arch);
	v->arch = rs;
	return 0;
}

/*
 * What the last kernel turned on and KVM would go on doing behind the new
 * one's back: kvmclock and steal time write guest pages, async page faults
 * and PV EOI use them. One at a time: KVM may lack some of them.
 */
static void reset_pv_msrs(struct vcpu *v)
{
	static const struct { uint32_t idx; uint64_t val; } pv[] = {
		{ 0x11, 0 }, { 0x12, 0 },			/* kvmclock, old numbers */
		{ 0x4b564d00, 0 }, { 0x4b564d01, 0 },		/* kvmclock */
		{ 0x4b564d02, 0 }, { 0x4b564d03, 0 },		/* async PF, steal time */
		{ 0x4b564d04, 0 }, { 0x4b564d05, 1 },		/* PV EOI, poll control */
		{ 0x277, 0x0007040600070406ULL },		/* PAT */
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m;

	for (size_t i = 0; i < ARRAY_SIZE(pv); i++) {
		memset(&m, 0, sizeof(m));
		m.hdr.nmsrs = 1;
		m.e.index = pv[i].idx;
		m.e.data = pv[i].val;
		ioctl(v->fd, KVM_SET_MSRS, &m);
	}
}

static int vcpu_ioctl(struct vcpu *v, unsigned long req, void *arg, const char *name)
{
	int e;

	if (ioctl(v->fd, req, arg) >= 0)
		return 0;
	e = errno;
	err_msg("vCPU %u: reset: %s: %s", v->index, name, strerror(e));
	return -e;
}

int vcpu_reset_state(struct vcpu *v)
{
	struct vcpu_reset_state *rs = v->arch;
	struct kvm_regs regs = { .rflags = 2, .rip = 0xfff0 };
	struct kvm_vcpu_events ev;
	struct kvm_xcrs xcrs = { .nr_xcrs = 1, .xcrs = { { .xcr = 0, .value = 1 } } };
	struct kvm_mp_state mp = {
		.mp_state = v->index ? KVM_MP_STATE_UNINITIALIZED : KVM_MP_STATE_RUNNABLE,
	};
	int ret;

	if (!rs)
		return -EINVAL;
	memset(&ev, 0, sizeof(ev));
	ret = vcpu_ioctl(v, KVM_SET_SREGS, &rs->sregs, "KVM_SET_SREGS");
	if (!ret)
		ret = vcpu_ioctl(v, KVM_SET_REGS, &regs, "KVM_SET_REGS");
	if (!ret)
		ret = set_msrs(v);
	if (!ret)
		reset_pv_msrs(v);
	if (!ret)
		ret = set_fpu(v);
	/* Without XSAVE in the host's KVM there is no XCR0 to reset. */
	if (!ret)
		ioctl(v->fd, KVM_SET_XCRS, &xcrs);
	if (!ret)
		ret = vcpu_ioctl(v, KVM_SET_LAPIC, &rs->lapic, "KVM_SET_LAPIC");
	if (!ret)
		ret = vcpu_ioctl(v, KVM_SET_VCPU_EVENTS, &ev, "KVM_SET_VCPU_EVENTS");
	if (!ret)
		ret = vcpu_ioctl(v, KVM_SET_MP_STATE, &mp, "KVM_SET_MP_STATE");
	return ret;
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
