/*
 * The x86 guest-physical map, all of it: nothing else in ember places
 * anything in guest-physical space. vmm/ reads these names through
 * arch/arch.h; devices get their addresses as arguments.
 *
 *   0x0           RAM, low part
 *     0x500         boot GDT
 *     0x6000        PVH start info, memory map, module list
 *     0x7000        zero page (boot_params)
 *     0x8ff0        boot stack, growing down
 *     0x9000        page tables (PML4, PDPT, 4 PDs) up to 0xf000
 *     0x20000       kernel command line, 64 KiB
 *     0x9fc00       EBDA: reserved up to 1 MiB
 *     0xe0000       ACPI tables, RSDP first, 64 KiB
 *     0xffff0       reset vector stub
 *     0x100000      kernel; the initrd goes at the top of low RAM
 *   3 GiB at most end of low RAM: the MMIO hole up to 4 GiB
 *   0xc0000000    PCI 32-bit BAR window, 256 MiB ("pci" machine)
 *   0xd0000000    virtio-mmio slots, 512 bytes each
 *   0xe0000000    PCI ECAM, buses 0-31, 32 MiB ("pci" machine)
 *   0xfec00000    IOAPIC
 *   0xfee00000    LAPIC
 *   0xfffbc000    KVM's identity-map page, then its TSS (3 pages)
 *   4 GiB         RAM, the part above LOW_RAM_MAX
 *   above RAM     PCI 64-bit BAR window, 32 GiB, 1 GiB aligned
 *
 * The PCI host's I/O port window and INTx GSIs are in devices/pci.h; the
 * legacy devices' ports in arch/x86/platform.c. At the end, the limits
 * that the platform sets.
 */
#ifndef EMBER_ARCH_X86_LAYOUT_H
#define EMBER_ARCH_X86_LAYOUT_H

/* Low-memory layout of the boot structures. */
#define BOOT_GDT_GPA		0x500ULL
#define BOOT_PVH_INFO_GPA	0x6000ULL	/* hvm_start_info, memmap, modlist */
#define BOOT_PARAMS_GPA		0x7000ULL	/* zero page */
#define BOOT_STACK_GPA		0x8ff0ULL	/* initial RSP of the boot vCPU */
#define BOOT_PML4_GPA		0x9000ULL	/* page tables up to 0xf000 */
#define BOOT_CMDLINE_GPA	0x20000ULL
#define BOOT_CMDLINE_MAX	0x10000ULL
#define BOOT_EBDA_GPA		0x9fc00ULL	/* reserved from here to 1 MiB */
#define BOOT_ACPI_GPA		0xe0000ULL	/* RSDP and tables, in the BIOS area */
#define BOOT_ACPI_SIZE		0x10000ULL
#define BOOT_RESET_VECTOR_GPA	0xffff0ULL	/* real-mode f000:fff0 */
#define BOOT_KERNEL_GPA		0x100000ULL	/* bzImage protected-mode code */

/* RAM: from 0 up to LOW_RAM_MAX, the rest from HIGH_RAM_GPA. */
#define LOW_RAM_MAX		(3ULL << 30)	/* above: the MMIO hole up to 4 GiB */
#define HIGH_RAM_GPA		(4ULL << 30)

/* The "pci" machine: PCIe host bridge (ECAM buses 0-31) and its BAR windows. */
#define PCI_MMIO32_BASE		0xc0000000ULL
#define PCI_MMIO32_SIZE		0x10000000ULL
#define PCI_ECAM_BASE		0xe0000000ULL
#define PCI_ECAM_SIZE		0x2000000ULL	/* PCI_BUSES (32) buses of 1 MiB */
#define PCI_MMIO64_SIZE		(32ULL << 30)	/* above RAM, 1 GiB aligned */

/* virtio-mmio slots (microvm): in the MMIO hole, GSIs after the ISA lines. */
#define VIRTIO_MMIO_BASE	0xd0000000ULL
#define VIRTIO_MMIO_SLOT_SIZE	0x200
#define VIRTIO_MMIO_GSI_BASE	16
#define VIRTIO_MMIO_SLOTS	8	/* GSIs 16-23; 4 (16-19) with PCI */

/* Interrupt controllers, at their usual addresses (in the MADT). */
#define IOAPIC_ADDR		0xfec00000ULL
#define LAPIC_ADDR		0xfee00000ULL
#define IOAPIC_PINS		24	/* GSIs 0-23; MSI routes take the GSIs above */

/* KVM needs these pages out of guest RAM (used by VMX for real mode). */
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ULL
#define KVM_TSS_ADDR		0xfffbd000ULL

#define MAX_SERIALS	4	/* COM1-COM4 */
#define MAX_VCPUS	254	/* xAPIC ids; the IOAPIC takes id ncpus */

#endif
