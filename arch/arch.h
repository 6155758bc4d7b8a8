/*
 * What vmm/ asks of the guest architecture. arch/<arch>/ implements these
 * and its layout.h names the guest-physical map, so that a second
 * architecture fills in only its own folder (docs/architecture.md).
 */
#ifndef EMBER_ARCH_H
#define EMBER_ARCH_H

#if defined(__x86_64__)
#include "arch/x86/layout.h"
#else
#error "ember runs x86-64 guests on x86-64 hosts only"
#endif

struct kvm_vm;

/* After KVM_CREATE_VM, before any vCPU: the in-kernel interrupt controllers and timers. */
int arch_vm_init(struct kvm_vm *vm);

#endif
