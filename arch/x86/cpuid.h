/*
 * CPU templates: the one place where CPUID features are masked, so a fleet
 * can present the same CPU everywhere (like Firecracker's templates).
 */
#ifndef EMBER_CPUID_H
#define EMBER_CPUID_H

#include <stdint.h>

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

struct cpuid_mask {
	uint32_t leaf;
	uint32_t subleaf;	/* ignored when any_subleaf */
	int any_subleaf;
	enum cpuid_reg reg;
	uint32_t clear;		/* bits forced to 0 */
};

struct cpu_template {
	const char *name;
	const struct cpuid_mask *masks;
	unsigned nr;
};

const struct cpu_template *cpu_template_find(const char *name);

struct kvm_cpuid2;
/* Builds vCPU @index's table from @supported (exposed for unit tests). */
struct kvm_cpuid2 *cpuid_build(const struct kvm_cpuid2 *supported, unsigned index,
			       unsigned ncpus, const struct cpu_template *t);

struct kvm_vm;
struct vcpu;
/* Asks KVM once which leaves it supports (arch_vm_init). */
int cpuid_get_supported(struct kvm_vm *vm);
/* Per-vCPU CPUID from the supported set, with topology; after cpuid_get_supported(). */
int cpuid_setup(struct kvm_vm *vm, struct vcpu *v, unsigned ncpus,
		const struct cpu_template *t);

#endif
