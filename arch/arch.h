/*
 * What vmm/ asks of the guest architecture. arch/<arch>/ implements these
 * and its layout.h names the guest-physical map (and MAX_VCPUS,
 * MAX_SERIALS), so that a second architecture fills in only its own folder
 * (docs/architecture.md). The machine calls them in this order:
 *
 *   arch_ram_ranges     where guest RAM goes
 *   arch_vm_init        after KVM_CREATE_VM
 *   arch_platform_create  the platform's own devices; then -device ones
 *   arch_load_kernel    firmware tables, kernel, initrd
 *   arch_vcpu_init      each vCPU after vcpu_create
 *   arch_vcpu_exit      on a vCPU thread, exits kvm/vcpu.c does not know
 *   arch_vcpu_dump      after a fatal exit
 *   arch_vm_reset, arch_load_kernel, arch_vcpu_reset   at a machine reset
 *   arch_boot_close, arch_platform_destroy  after every device is gone
 *
 * and the option table asks arch_cpu_help for -cpu help.
 */
#ifndef EMBER_ARCH_H
#define EMBER_ARCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__x86_64__)
#include "arch/x86/layout.h"
#else
#error "ember runs x86-64 guests on x86-64 hosts only"
#endif

struct chardev;
struct cpu_template;
struct gmem;
struct kvm_vm;
struct platform;
struct vcpu;

/* The architecture's machines (-machine NAME), the default one flagged. */
struct machine_type {
	const char *name;
	const char *desc;
	int is_default;
	int has_pci;
	unsigned virtio_mmio_slots;
};
extern const struct machine_type arch_machine_types[];
extern const unsigned arch_nr_machine_types;

/* Guest RAM of @ram_size bytes: @size bytes from @offset of it go to @gpa. */
#define ARCH_RAM_RANGES_MAX	2
struct arch_ram_range {
	uint64_t gpa, size, offset;
};
/* Fills @r in ascending @gpa order; returns how many ranges. */
unsigned arch_ram_ranges(uint64_t ram_size, struct arch_ram_range r[ARCH_RAM_RANGES_MAX]);

/*
 * After KVM_CREATE_VM, before any vCPU: the in-kernel interrupt controllers,
 * their routes and first MSI GSI (kvm_set_chip_routes), and timers.
 */
int arch_vm_init(struct kvm_vm *vm);

struct arch_platform_config {
	const struct machine_type *type;
	uint64_t ram_size;
	struct chardev *serial[MAX_SERIALS];	/* NULL: that port is off */
	unsigned nr_serial;
};
/*
 * The platform's own devices and address windows on @pf, whose buses,
 * loop and KVM callbacks are set: serial ports, RTC, PCI host bridge,
 * virtio-mmio slots... One message on failure.
 */
int arch_platform_create(struct platform *pf, const struct arch_platform_config *cfg);
/* After every device is destroyed: what arch_platform_create() left. */
void arch_platform_destroy(struct platform *pf);

/* -cpu help: the CPU templates arch_load_kernel() takes by name. */
void arch_cpu_help(FILE *f);
/* Whether @name is one of them: -cpu is checked before the VM exists. */
int arch_cpu_known(const char *name);

struct arch_boot_config {
	const char *kernel, *initrd, *cmdline;
	const char *cpu_template;	/* -cpu NAME, or NULL */
	uint64_t ram_size;
	/*
	 * The kernel and initrd, opened by the first arch_load_kernel (set
	 * both fds to -1 before it) and kept open for the next ones (a
	 * reset), until arch_boot_close.
	 */
	int kernel_fd, initrd_fd;
	size_t kernel_len, initrd_len;
};
/* How vCPUs start; written by arch_load_kernel(). */
struct arch_boot {
	int mode;		/* the architecture's entry mode */
	uint64_t entry;		/* guest-physical entry point */
	uint64_t arg;		/* handed over in a register: boot_params, hvm_start_info */
	const struct cpu_template *cpu;	/* NULL: the host's CPU as KVM offers it */
};
/*
 * Firmware tables describing the devices on @pf, then kernel, initrd and
 * command line into guest memory (pf->mem); @out gets the entry and the
 * CPU template found by name. One message on failure. Called again at a
 * machine reset, it writes all of it again as at the first boot.
 */
int arch_load_kernel(struct platform *pf, struct arch_boot_config *cfg, struct arch_boot *out);
void arch_boot_close(struct arch_boot_config *cfg);

/*
 * Machine reset (vCPUs parked, devices reset): the in-kernel interrupt
 * controllers and timers as they were when arch_vm_init made them.
 */
int arch_vm_reset(struct kvm_vm *vm);
/*
 * A vCPU back to the state arch_vcpu_init gave it: registers, MSRs
 * (paravirtual ones off), FPU, LAPIC, pending events; vCPU 0 at the entry
 * of @boot, the others waiting for INIT/SIPI. The vCPU is parked.
 */
int arch_vcpu_reset(struct vcpu *v, struct gmem *mem, const struct arch_boot *boot);

/*
 * After vcpu_create(): CPU model and registers, and v->arch_exit; vCPU 0
 * gets the entry state of @boot, the others wait for the guest to start them.
 */
int arch_vcpu_init(struct kvm_vm *vm, struct vcpu *v, struct gmem *mem, unsigned ncpus,
		   const struct arch_boot *boot);

/*
 * The vCPU's arch_exit hook (kvm/vcpu.h): the exits only this architecture
 * has (x86: port I/O, handed to v->access on v->pio). 0 when handled,
 * -ENOENT when the exit is not one of them.
 */
int arch_vcpu_exit(struct vcpu *v);

/* The registers of a vCPU that stopped on a fatal exit, to @f. */
void arch_vcpu_dump(struct vcpu *v, FILE *f);

/*
 * Snapshot (vmm/snapshot.c): the VM's interrupt controllers, timers and
 * clock as section "vm" of @w, each vCPU's whole state as section @name;
 * and back, into a VM and vCPUs made as the saved ones were and not yet
 * run. Loop thread, vCPUs parked. One message on failure.
 */
struct snapw;
int arch_vm_save(struct kvm_vm *vm, struct snapw *w);
int arch_vm_load(struct kvm_vm *vm, const void *data, size_t len);
int arch_vcpu_save(struct kvm_vm *vm, struct vcpu *v, struct snapw *w, const char *name);
int arch_vcpu_load(struct vcpu *v, const void *data, size_t len);

#endif
