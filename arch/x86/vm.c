/* The x86 VM and its vCPUs as the machine wants them; see arch/arch.h. */
#include <errno.h>
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
	return 0;
}

int arch_vcpu_init(struct kvm_vm *vm, struct vcpu *v, struct gmem *mem, unsigned ncpus,
		   const struct arch_boot *boot)
{
	struct x86_entry entry = { .rsp = BOOT_STACK_GPA, .rip = boot->entry };
	int ret;

	v->arch_exit = arch_vcpu_exit;
	if (boot->mode == BOOT_PVH) {
		entry.mode = X86_ENTRY_PROT32;
		entry.rbx = boot->arg;
	} else {
		entry.mode = X86_ENTRY_LONG;
		entry.rsi = boot->arg;
	}
	ret = cpuid_setup(vm, v, ncpus, boot->cpu);
	if (!ret)
		ret = vcpu_init_state(v);
	/* Application processors wait for the guest's INIT/SIPI. */
	if (!ret && v->index == 0)
		ret = x86_boot_setup(v, mem, &entry);
	return ret;
}
