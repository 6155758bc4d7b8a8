/* The x86 VM and its vCPUs as the machine wants them; see arch/arch.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "arch/arch.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/loader.h"
#include "arch/x86/x86_boot.h"
#include "kvm/kvm.h"
#include "kvm/vcpu.h"
#include "lib/log.h"

/*
 * The pins KVM_CREATE_IRQCHIP routed, which every table ember sets must
 * keep: the IOAPIC's, then the PIC's ISA IRQs 0-15 (minus the cascade) for
 * legacy guests. MSIs get the GSIs after the IOAPIC's.
 */
static int set_chip_routes(struct kvm_vm *vm)
{
	struct kvm_irq_routing_entry r[IOAPIC_PINS + 15];
	unsigned n = 0;

	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		r[n++] = (struct kvm_irq_routing_entry){
			.gsi = pin,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = pin },
		};
	}
	for (unsigned pin = 0; pin < 16; pin++) {
		if (pin == 2)
			continue;
		r[n++] = (struct kvm_irq_routing_entry){
			.gsi = pin,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = pin < 8 ? KVM_IRQCHIP_PIC_MASTER :
				       KVM_IRQCHIP_PIC_SLAVE, .pin = pin % 8 },
		};
	}
	return kvm_set_chip_routes(vm, r, n, IOAPIC_PINS);
}

/* What a reset gives back: the chips and the PIT as KVM created them. */
struct vm_reset_state {
	struct kvm_irqchip chip[3];	/* PIC master, PIC slave, IOAPIC */
	struct kvm_pit_state2 pit;
};

static int save_reset_state(struct kvm_vm *vm)
{
	struct vm_reset_state *rs = calloc(1, sizeof(*rs));
	int ret;

	if (!rs)
		return -ENOMEM;
	for (unsigned i = 0; i < 3; i++) {
		rs->chip[i].chip_id = i;
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &rs->chip[i]) < 0)
			goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &rs->pit) < 0)
		goto fail;
	vm->arch = rs;
	return 0;
fail:
	ret = -errno;
	err_msg("cannot read the interrupt controllers' state: %s", strerror(-ret));
	free(rs);
	return ret;
}

int arch_vm_reset(struct kvm_vm *vm)
{
	struct vm_reset_state *rs = vm->arch;

	if (!rs)
		return -EINVAL;
	/*
	 * The slave first: KVM passes a slave with a request still in its IRR
	 * (an edge no kernel acknowledged, e.g. the power button's IRQ 9) on
	 * to the master's IRQ 2 as the master is set, and that edge stays in
	 * the master's IRR. The next kernel, which never programs the PIC
	 * (ACPI hardware-reduced), then takes it through LINT0's ExtINT as a
	 * spurious vector 7 (base 0): "unexpected #NM exception" and a panic.
	 */
	static const unsigned order[3] = { KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_PIC_MASTER,
					   KVM_IRQCHIP_IOAPIC };

	for (unsigned i = 0; i < 3; i++)
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &rs->chip[order[i]]) < 0)
			goto fail;
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &rs->pit) < 0)
		goto fail;
	return 0;
fail:
	err_msg("reset: cannot restore the interrupt controllers: %s", strerror(errno));
	return -errno;
}

/* The CPUID KVM offers, in-kernel IOAPIC, PIC and LAPICs, and the PIT. */
int arch_vm_init(struct kvm_vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	int ret;

	ret = cpuid_get_supported(vm);
	if (ret)
		return ret;
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0) {
		err_msg("KVM_SET_TSS_ADDR: %s", strerror(errno));
		return -errno;
	}
	/* Only VMX without unrestricted guest uses it; failure elsewhere is fine. */
	ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		err_msg("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -errno;
	}
	ret = set_chip_routes(vm);
	if (ret)
		return ret;
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		err_msg("KVM_CREATE_PIT2: %s", strerror(errno));
		return -errno;
	}
	return save_reset_state(vm);
}

/* Where vCPU 0 starts: the kernel's entry as the loader found it. */
static struct x86_entry entry_of(const struct arch_boot *boot)
{
	struct x86_entry e = { .rsp = BOOT_STACK_GPA, .rip = boot->entry };

	if (boot->mode == BOOT_PVH) {
		e.mode = X86_ENTRY_PROT32;
		e.rbx = boot->arg;
	} else {
		e.mode = X86_ENTRY_LONG;
		e.rsi = boot->arg;
	}
	return e;
}

int arch_vcpu_init(struct kvm_vm *vm, struct vcpu *v, struct gmem *mem, unsigned ncpus,
		   const struct arch_boot *boot)
{
	struct x86_entry entry = entry_of(boot);
	int ret;

	v->arch_exit = arch_vcpu_exit;
	ret = cpuid_setup(vm, v, ncpus, boot->cpu);
	if (!ret)
		ret = vcpu_init_state(v);
	if (!ret)
		ret = vcpu_save_reset_state(v);
	/* Application processors wait for the guest's INIT/SIPI. */
	if (!ret && v->index == 0)
		ret = x86_boot_setup(v, mem, &entry);
	return ret;
}

int arch_vcpu_reset(struct vcpu *v, struct gmem *mem, const struct arch_boot *boot)
{
	struct x86_entry entry = entry_of(boot);
	int ret = vcpu_reset_state(v);

	if (!ret && v->index == 0)
		ret = x86_boot_setup(v, mem, &entry);
	return ret;
}
