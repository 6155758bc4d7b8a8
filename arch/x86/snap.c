/*
 * Snapshot of the x86 VM and vCPUs (arch/arch.h): the interrupt
 * controllers, PIT and kvmclock of the VM; each vCPU's registers, FPU and
 * XSAVE, XCRs, every MSR KVM lists (TSC and kvmclock among them), LAPIC,
 * MP state, pending events, debug registers and CPUID. Raw KVM structs:
 * a state file is only for an ember on the same kind of host.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "arch/arch.h"
#include "kvm/kvm.h"
#include "kvm/vcpu.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "lib/util.h"

#define MAX_MSRS	1024
#define MSR_IA32_TSC_DEADLINE	0x6e0
#define MAX_CPUID	256

struct vm_snap {
	struct kvm_irqchip chip[3];	/* PIC master, PIC slave, IOAPIC */
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

struct cpu_snap {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp;
	struct kvm_vcpu_events events;
	struct kvm_debugregs dregs;
	uint32_t nmsrs, ncpuid;
	/* then nmsrs struct kvm_msr_entry, ncpuid struct kvm_cpuid_entry2 */
};

static int fail(const char *what, const char *call)
{
	int e = errno;

	err_msg("snapshot: %s: %s: %s", what, call, strerror(e));
	return -e;
}

struct io {
	unsigned long req;
	void *p;
	const char *name;
};
#define IO(req, p) { req, p, #req }

static int do_io(struct vcpu *v, const struct io *io, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (ioctl(v->fd, io[i].req, io[i].p) < 0)
			return fail("vCPU", io[i].name);
	return 0;
}

int arch_vm_save(struct kvm_vm *vm, struct snapw *w)
{
	struct vm_snap s;

	memset(&s, 0, sizeof(s));
	for (unsigned i = 0; i < 3; i++) {
		s.chip[i].chip_id = i;
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &s.chip[i]) < 0)
			return fail("VM", "KVM_GET_IRQCHIP");
	}
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &s.pit) < 0)
		return fail("VM", "KVM_GET_PIT2");
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &s.clock) < 0)
		return fail("VM", "KVM_GET_CLOCK");
	snapw_add(w, "vm", &s, sizeof(s));
	return 0;
}

int arch_vm_load(struct kvm_vm *vm, const void *data, size_t len)
{
	/* The slave first, as at a reset (arch/x86/vm.c:arch_vm_reset). */
	static const unsigned order[3] = { KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_PIC_MASTER,
					   KVM_IRQCHIP_IOAPIC };
	struct vm_snap s;
	struct kvm_clock_data clock = { 0 };

	if (len != sizeof(s)) {
		err_msg("state file: section vm has %zu bytes, this ember wants %zu", len,
			sizeof(s));
		return -EINVAL;
	}
	memcpy(&s, data, len);
	for (unsigned i = 0; i < 3; i++)
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &s.chip[order[i]]) < 0)
			return fail("VM", "KVM_SET_IRQCHIP");
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &s.pit) < 0)
		return fail("VM", "KVM_SET_PIT2");
	/* kvmclock goes on from where it was: the guest sees no time pass. */
	clock.clock = s.clock.clock;
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
		return fail("VM", "KVM_SET_CLOCK");
	return 0;
}

/* Every MSR KVM can save, read in batches; the ones it refuses are left out. */
static int get_msrs(struct kvm_vm *vm, struct vcpu *v, struct kvm_msr_entry *e, uint32_t *n)
{
	struct {
		struct kvm_msr_list hdr;
		uint32_t idx[MAX_MSRS];
	} list = { .hdr.nmsrs = MAX_MSRS };
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[MAX_MSRS];
	} *m;
	uint32_t got = 0, i = 0;

	if (ioctl(vm->sys_fd, KVM_GET_MSR_INDEX_LIST, &list) < 0)
		return fail("vCPU", "KVM_GET_MSR_INDEX_LIST");
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	while (i < list.hdr.nmsrs) {
		int r;

		m->hdr.nmsrs = list.hdr.nmsrs - i;
		for (uint32_t j = 0; j < m->hdr.nmsrs; j++)
			m->e[j] = (struct kvm_msr_entry){ .index = list.idx[i + j] };
		r = ioctl(v->fd, KVM_GET_MSRS, m);
		if (r < 0) {
			free(m);
			return fail("vCPU", "KVM_GET_MSRS");
		}
		memcpy(e + got, m->e, r * sizeof(*e));
		got += r;
		i += r + 1;	/* past the one it refused */
	}
	free(m);
	*n = got;
	return 0;
}

int arch_vcpu_save(struct kvm_vm *vm, struct vcpu *v, struct snapw *w, const char *name)
{
	size_t size = sizeof(struct cpu_snap) + MAX_MSRS * sizeof(struct kvm_msr_entry) +
		      sizeof(struct kvm_cpuid2) + MAX_CPUID * sizeof(struct kvm_cpuid_entry2);
	struct cpu_snap *s = calloc(1, size);
	struct kvm_msr_entry *msrs = (void *)(s + 1);
	struct kvm_cpuid2 *cpuid;
	int ret = -ENOMEM;

	const struct io get[] = {
		IO(KVM_GET_REGS, &s->regs), IO(KVM_GET_SREGS, &s->sregs),
		IO(KVM_GET_XSAVE, &s->xsave), IO(KVM_GET_XCRS, &s->xcrs),
		IO(KVM_GET_LAPIC, &s->lapic), IO(KVM_GET_MP_STATE, &s->mp),
		IO(KVM_GET_VCPU_EVENTS, &s->events), IO(KVM_GET_DEBUGREGS, &s->dregs),
	};

	if (!s)
		return -ENOMEM;
	ret = do_io(v, get, ARRAY_SIZE(get));
	if (!ret)
		ret = get_msrs(vm, v, msrs, &s->nmsrs);
	if (ret)
		goto out;
	cpuid = (void *)(msrs + s->nmsrs);
	cpuid->nent = MAX_CPUID;
	if (ioctl(v->fd, KVM_GET_CPUID2, cpuid) < 0) {
		ret = fail("vCPU", "KVM_GET_CPUID2");
		goto out;
	}
	s->ncpuid = cpuid->nent;
	/* the entries follow the MSRs directly, without kvm_cpuid2's header */
	memmove(cpuid, cpuid->entries, s->ncpuid * sizeof(struct kvm_cpuid_entry2));
	snapw_add(w, name, s, sizeof(*s) + s->nmsrs * sizeof(*msrs) +
		  s->ncpuid * sizeof(struct kvm_cpuid_entry2));
	ret = 0;
out:
	free(s);
	return ret;
}

static int set_msrs(struct vcpu *v, const struct kvm_msr_entry *e, uint32_t n)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(*e));
	uint32_t i = 0;

	if (!m)
		return -ENOMEM;
	while (i < n) {
		int r;

		m->nmsrs = n - i;
		memcpy(m->entries, e + i, m->nmsrs * sizeof(*e));
		r = ioctl(v->fd, KVM_SET_MSRS, m);
		if (r < 0) {
			free(m);
			return fail("vCPU", "KVM_SET_MSRS");
		}
		if ((uint32_t)r < m->nmsrs)
			debug_msg("vCPU %u: KVM refused MSR 0x%x", v->index, e[i + r].index);
		i += r + 1;
	}
	free(m);
	return 0;
}

int arch_vcpu_load(struct vcpu *v, const void *data, size_t len)
{
	struct cpu_snap s;
	const struct kvm_msr_entry *msrs;
	struct kvm_cpuid2 *cpuid;
	size_t want;
	int ret;

	if (len < sizeof(s))
		goto bad;
	memcpy(&s, data, sizeof(s));
	if (s.nmsrs > MAX_MSRS || s.ncpuid > MAX_CPUID)
		goto bad;
	want = sizeof(s) + s.nmsrs * sizeof(*msrs) + s.ncpuid * sizeof(struct kvm_cpuid_entry2);
	if (len != want)
		goto bad;
	msrs = (const void *)((const uint8_t *)data + sizeof(s));
	cpuid = calloc(1, sizeof(*cpuid) + s.ncpuid * sizeof(struct kvm_cpuid_entry2));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = s.ncpuid;
	memcpy(cpuid->entries, msrs + s.nmsrs, s.ncpuid * sizeof(struct kvm_cpuid_entry2));
	ret = ioctl(v->fd, KVM_SET_CPUID2, cpuid);
	free(cpuid);
	if (ret < 0)
		return fail("vCPU", "KVM_SET_CPUID2 (a vCPU that has run, or another host CPU?)");
	s.events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	/* QEMU's order: EFER (sregs) before the MSRs, the APIC base before the LAPIC. */
	const struct io set1[] = {
		IO(KVM_SET_SREGS, &s.sregs), IO(KVM_SET_REGS, &s.regs),
		IO(KVM_SET_XSAVE, &s.xsave), IO(KVM_SET_XCRS, &s.xcrs),
	}, set2[] = {
		IO(KVM_SET_MP_STATE, &s.mp), IO(KVM_SET_LAPIC, &s.lapic),
		IO(KVM_SET_VCPU_EVENTS, &s.events), IO(KVM_SET_DEBUGREGS, &s.dregs),
	};

	ret = do_io(v, set1, ARRAY_SIZE(set1));
	if (!ret)
		ret = set_msrs(v, msrs, s.nmsrs);
	if (!ret)
		ret = do_io(v, set2, ARRAY_SIZE(set2));
	/*
	 * KVM drops a TSC deadline written while the LAPIC timer is not in
	 * TSC-deadline mode: again now that the LAPIC is back (QEMU does too).
	 */
	for (uint32_t i = 0; !ret && i < s.nmsrs; i++)
		if (msrs[i].index == MSR_IA32_TSC_DEADLINE)
			ret = set_msrs(v, &msrs[i], 1);
	return ret;
bad:
	err_msg("state file: vCPU %u's section has %zu bytes, not what this ember wrote", v->index,
		len);
	return -EINVAL;
}
