/* The VM: a thin layer over the KVM ioctls that ember uses. */
#ifndef EMBER_KVM_H
#define EMBER_KVM_H

#include <stdint.h>
#include <linux/kvm.h>

struct kvm_vm {
	int sys_fd;
	int vm_fd;
	int run_size;		/* mmap size of struct kvm_run */
	struct kvm_cpuid2 *cpuid;	/* KVM_GET_SUPPORTED_CPUID, once */
	unsigned nr_slots;
};

/* Opens /dev/kvm (or $EMBER_KVM_DEV) and creates a VM; messages on failure. */
int kvm_vm_open(struct kvm_vm *vm);
void kvm_vm_close(struct kvm_vm *vm);
int kvm_check_cap(struct kvm_vm *vm, long cap);
/* Adds a memory slot; @size and @hva must be page aligned. */
int kvm_vm_add_memory(struct kvm_vm *vm, uint64_t gpa, uint64_t size, void *hva);
/* In-kernel IOAPIC/PIC/LAPIC and PIT. */
int kvm_vm_create_irqchip(struct kvm_vm *vm);
int kvm_irq_line(struct kvm_vm *vm, unsigned gsi, int level);

#endif
