/*
 * Each vCPU's CPUID table: the leaves KVM supports, with ember's topology
 * (one thread per core, every core in one package) and the -cpu template's
 * masks applied; see cpuid.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "arch/arch.h"
#include "arch/x86/cpuid.h"
#include "kvm/kvm.h"
#include "kvm/vcpu.h"
#include "lib/log.h"
#include "lib/util.h"

#define CPUID_HYPERVISOR	(1u << 31)	/* leaf 1 ECX */
#define CPUID_TSC_DEADLINE	(1u << 24)	/* leaf 1 ECX */
#define CPUID_HTT		(1u << 28)	/* leaf 1 EDX */
#define CPUID_CMP_LEGACY	(1u << 1)	/* 0x80000001 ECX */
#define TOPO_LEVEL_SMT		1
#define TOPO_LEVEL_CORE		2

/* KVM_GET_SUPPORTED_CPUID: the host's, so one for every VM of the process. */
static struct kvm_cpuid2 *supported;

static const struct cpuid_mask no_masks[1];
static const struct cpuid_mask minimal_masks[] = {
	/* No PMU, no TSX, no MPX: features that break migration between hosts. */
	{ .leaf = 0xa, .any_subleaf = 1, .reg = CPUID_EAX, .clear = ~0u },
	{ .leaf = 7, .subleaf = 0, .reg = CPUID_EBX,
	  .clear = (1u << 4) | (1u << 11) | (1u << 14) },
};
static const struct cpu_template templates[] = {
	{ "host", no_masks, 0 },
	{ "minimal", minimal_masks, ARRAY_SIZE(minimal_masks) },
};

const struct cpu_template *cpu_template_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(templates); i++)
		if (!strcmp(templates[i].name, name))
			return &templates[i];
	return NULL;
}

int arch_cpu_known(const char *name)
{
	return cpu_template_find(name) != NULL;
}

void arch_cpu_help(FILE *f)
{
	fprintf(f, "Available CPU templates:\n");
	for (size_t i = 0; i < ARRAY_SIZE(templates); i++)
		fprintf(f, "%s\n", templates[i].name);
}

static unsigned order_base_2(unsigned n)
{
	unsigned s = 0;

	while ((1u << s) < n)
		s++;
	return s;
}

static uint32_t *reg_of(struct kvm_cpuid_entry2 *e, enum cpuid_reg r)
{
	switch (r) {
	case CPUID_EAX: return &e->eax;
	case CPUID_EBX: return &e->ebx;
	case CPUID_ECX: return &e->ecx;
	default: return &e->edx;
	}
}

/* Leaves 0xB and 0x1F: one thread per core, all cores in one package. */
static void set_topology_leaf(struct kvm_cpuid_entry2 *e, unsigned apic_id,
			      unsigned ncpus)
{
	unsigned shift = order_base_2(ncpus);

	e->edx = apic_id;
	switch (e->index) {
	case 0:
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (TOPO_LEVEL_SMT << 8) | 0;
		break;
	case 1:
		e->eax = shift;
		e->ebx = ncpus;
		e->ecx = (TOPO_LEVEL_CORE << 8) | 1;
		break;
	default:
		e->eax = e->ebx = 0;
		e->ecx = e->index;
		break;
	}
}

struct kvm_cpuid2 *cpuid_build(const struct kvm_cpuid2 *sup, unsigned index,
			       unsigned ncpus, const struct cpu_template *t)
{
	/* Room for three subleaves of 0xB and 0x1F that KVM may not list. */
	unsigned max = sup->nent + 6;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + max * sizeof(c->entries[0]));
	unsigned apic_id = index;
	unsigned shift = order_base_2(ncpus);

	if (!c)
		return NULL;
	for (unsigned i = 0; i < sup->nent; i++) {
		const struct kvm_cpuid_entry2 *s = &sup->entries[i];

		/* 0xB/0x1F are rebuilt below with our own subleaves. */
		if (s->function == 0xb || s->function == 0x1f)
			continue;
		c->entries[c->nent++] = *s;
	}
	/* Only advertise 0x1F if the host lists it: max basic leaf decides. */
	uint32_t max_basic = 0;
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0)
			max_basic = c->entries[i].eax;
	for (uint32_t leaf = 0xb; leaf <= 0x1f; leaf += 0x1f - 0xb) {
		if (leaf > max_basic)
			continue;
		for (unsigned sub = 0; sub < 3; sub++) {
			struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

			memset(e, 0, sizeof(*e));
			e->function = leaf;
			e->index = sub;
			e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
			set_topology_leaf(e, apic_id, ncpus);
		}
	}
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x0000ffff) | (apic_id << 24) |
				 ((1u << shift) << 16);
			e->ecx |= CPUID_HYPERVISOR;
			if (ncpus > 1)
				e->edx |= CPUID_HTT;
			else
				e->edx &= ~CPUID_HTT;
			break;
		case 4:
			/* Cores per package - 1 in EAX[31:26]; caches not shared by threads. */
			if (e->eax & 0x1f)
				e->eax = (e->eax & 0x3ff) | ((MIN(ncpus, 64u) - 1) << 26);
			break;
		case 0x40000000:
			/* KVM's own leaves; the guest uses them for kvm-clock. */
			e->eax = MAX(e->eax, 0x40000001u);
			memcpy(&e->ebx, "KVMKVMKVM\0\0\0", 12);
			break;
		case 0x80000001:
			if (ncpus > 1)
				e->ecx |= CPUID_CMP_LEGACY;
			else
				e->ecx &= ~CPUID_CMP_LEGACY;
			break;
		case 0x80000008:
			/* AMD: NC = cores - 1, ApicIdCoreIdSize = shift. */
			e->ecx = (e->ecx & ~0xf0ffu) | (ncpus - 1) | (shift << 12);
			break;
		case 0x8000001e:
			e->eax = apic_id;
			e->ebx = index & 0xff;	/* core id, one thread per core */
			e->ecx = 0;
			break;
		}
	}
	if (t) {
		for (unsigned m = 0; m < t->nr; m++) {
			const struct cpuid_mask *k = &t->masks[m];

			for (unsigned i = 0; i < c->nent; i++) {
				struct kvm_cpuid_entry2 *e = &c->entries[i];

				if (e->function == k->leaf &&
				    (k->any_subleaf || e->index == k->subleaf))
					*reg_of(e, k->reg) &= ~k->clear;
			}
		}
	}
	return c;
}

int cpuid_get_supported(struct kvm_vm *vm)
{
	if (supported)
		return 0;
	if (ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_EXT_CPUID) <= 0) {
		err_msg("%s lacks KVM_CAP_EXT_CPUID", vm->dev);
		return -ENOTSUP;
	}
	for (int nent = 128; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (ioctl(vm->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			supported = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG) {
			err_msg("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
			return -errno;
		}
	}
	return -E2BIG;
}

int cpuid_setup(struct kvm_vm *vm, struct vcpu *v, unsigned ncpus,
		const struct cpu_template *t)
{
	struct kvm_cpuid2 *c = cpuid_build(supported, v->index, ncpus, t);
	int ret = 0;

	if (!c)
		return -ENOMEM;
	/*
	 * KVM emulates the TSC-deadline timer but does not list it as supported;
	 * without it the guest calibrates the LAPIC timer, slowly, against a
	 * PIT that a hardware-reduced machine does not offer.
	 */
	if (kvm_check_cap(vm, KVM_CAP_TSC_DEADLINE_TIMER)) {
		for (unsigned i = 0; i < c->nent; i++)
			if (c->entries[i].function == 1)
				c->entries[i].ecx |= CPUID_TSC_DEADLINE;
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0) {
		ret = -errno;
		err_msg("vCPU %u: KVM_SET_CPUID2: %s", v->index, strerror(errno));
	}
	free(c);
	return ret;
}
