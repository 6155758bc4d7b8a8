#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "arch/x86/cpuid.h"
#include "arch/x86/loader.h"
#include "arch/x86/x86_boot.h"
#include "backends/chardev.h"
#include "backends/memory.h"
#include "devices/acpi.h"
#include "devices/device.h"
#include "devices/i8042.h"
#include "devices/pci.h"
#include "devices/port80.h"
#include "devices/pvpanic.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"
#include "vmm/machine.h"
#include "seccomp/seccomp.h"	/* sandbox */

static const struct machine_type machine_types[] = {
	{ "microvm", "minimal x86 machine: ACPI, 16550A, CMOS RTC, virtio-mmio (default)",
	  .is_default = 1, .virtio_mmio_slots = VIRTIO_MMIO_SLOTS },
	{ "pci", "microvm plus a PCIe host bridge pci.0 (virtio-pci, MSI-X); virtio-mmio too",
	  .has_pci = 1, .virtio_mmio_slots = 4 },
};

static const struct { uint16_t iobase; unsigned irq; } com_ports[MAX_SERIALS] = {
	{ 0x3f8, 4 }, { 0x2f8, 3 }, { 0x3e8, 4 }, { 0x2e8, 3 },
};

const struct machine_type *machine_type_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(machine_types); i++)
		if (!strcmp(machine_types[i].name, name))
			return &machine_types[i];
	return NULL;
}

void machine_types_help(FILE *f)
{
	fprintf(f, "Supported machines are:\n");
	for (size_t i = 0; i < ARRAY_SIZE(machine_types); i++)
		fprintf(f, "%-20s %s\n", machine_types[i].name, machine_types[i].desc);
}

/*
 * microvm has no PCI host bridge, but every kernel probes the 0xcf8/0xcfc
 * configuration ports: answer as an empty bus would (all-ones) without
 * the unclaimed-port warning on every boot.
 */
static void no_pci_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0xff, len);
}

static void no_pci_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
}

static const struct bus_ops no_pci_ops = { .read = no_pci_read, .write = no_pci_write };

static int pf_ioeventfd(void *opaque, uint64_t addr, unsigned len, int pio, int fd,
			int use_datamatch, uint64_t datamatch, int deassign)
{
	struct machine *m = opaque;

	return kvm_ioeventfd(&m->vm, addr, len, fd, pio, use_datamatch, datamatch, deassign);
}

static int pf_irqfd(void *opaque, unsigned gsi, int fd, int resample_fd, int deassign)
{
	struct machine *m = opaque;

	return kvm_irqfd(&m->vm, gsi, fd, resample_fd, deassign);
}

static int pf_msi_route_alloc(void *opaque)
{
	struct machine *m = opaque;

	return kvm_msi_route_alloc(&m->vm);
}

static int pf_msi_route_set(void *opaque, unsigned gsi, uint64_t addr, uint32_t data)
{
	struct machine *m = opaque;

	return kvm_msi_route_set(&m->vm, gsi, addr, data);
}

static void pf_msi_route_free(void *opaque, unsigned gsi)
{
	struct machine *m = opaque;

	kvm_msi_route_free(&m->vm, gsi);
}

static int pf_msi_send(void *opaque, uint64_t addr, uint32_t data)
{
	struct machine *m = opaque;

	return kvm_signal_msi(&m->vm, addr, data);
}

static void irq_set(void *opaque, unsigned gsi, int level)
{
	struct machine *m = opaque;

	kvm_irq_line(&m->vm, gsi, level);
}

static int status_of(enum stop_reason why)
{
	switch (why) {
	case STOP_POWEROFF:
	case STOP_RESET:
	case STOP_SIGNAL:
		return EXIT_OK;
	case STOP_PANIC:
		return EXIT_GUEST_PANIC;
	default:
		return EXIT_GUEST_CRASH;
	}
}

static void request_stop_status(struct machine *m, int status, const char *msg)
{
	if (__atomic_exchange_n(&m->stopping, 1, __ATOMIC_SEQ_CST))
		return;
	m->exit_status = status;
	snprintf(m->stop_msg, sizeof(m->stop_msg), "%s", msg);
	loop_stop(m->pf.loop, status);
}

static void request_stop(void *opaque, enum stop_reason why, const char *msg)
{
	struct machine *m = opaque;

	request_stop_status(m, status_of(why), msg);
}

static void on_vcpu_exit(void *opaque, struct vcpu *v, enum vcpu_exit why,
			 const char *msg)
{
	struct machine *m = opaque;

	switch (why) {
	case VCPU_RESET:
		request_stop(m, STOP_RESET, msg);
		break;
	case VCPU_POWEROFF:
		request_stop(m, STOP_POWEROFF, msg);
		break;
	default:
		if (!__atomic_load_n(&m->stopping, __ATOMIC_SEQ_CST)) {
			err_msg("%s", msg);
			vcpu_dump(v, stderr);
		}
		request_stop(m, STOP_ERROR, msg);
		break;
	}
}

static int map_ram(struct machine *m)
{
	uint64_t size = m->ram->size, low = MIN(size, LOW_RAM_MAX);
	uint8_t *hva;
	int ret;

	ret = mem_backend_map(m->ram);
	if (ret)
		return ret;
	hva = m->ram->hva;
	ret = gmem_add(&m->mem, 0, low, hva, m->ram->fd, 0);
	if (!ret)
		ret = kvm_vm_add_memory(&m->vm, 0, low, hva);
	if (!ret && size > low) {
		ret = gmem_add(&m->mem, 4 * GiB, size - low, hva + low, m->ram->fd, low);
		if (!ret)
			ret = kvm_vm_add_memory(&m->vm, 4 * GiB, size - low, hva + low);
	}
	return ret;
}

/* The 64-bit BAR window: above RAM, 1 GiB aligned. */
static uint64_t mmio64_base(const struct machine *m)
{
	uint64_t size = m->ram->size, low = MIN(size, LOW_RAM_MAX);

	return ALIGN_UP(4 * GiB + (size - low), GiB);
}

static int add_serials(struct machine *m)
{
	for (unsigned i = 0; i < m->cfg.nr_serial; i++) {
		struct serial_cfg *s = &m->cfg.serial[i];
		struct device *dev;
		int ret;

		if (s->kind == SERIAL_NONE)
			continue;
		ret = serial_create(&m->pf, s->chr, com_ports[i].iobase,
				    com_ports[i].irq, &dev);
		if (ret)
			return ret;
	}
	return 0;
}

int machine_init(struct machine *m, struct loop *loop, const struct machine_config *cfg)
{
	int ret;

	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	m->vm.sys_fd = m->vm.vm_fd = -1;
	ret = kvm_vm_open(&m->vm);
	if (ret)
		return ret;
	m->ram = cfg->ram;
	if (!m->ram) {
		ret = mem_backend_create_default(cfg->ram_size, &m->ram);
		if (ret)
			return ret;
	}
	ret = map_ram(m);
	if (ret)
		return ret;
	ret = arch_vm_init(&m->vm);
	if (ret)
		return ret;

	bus_init(&m->pf.pio, "pio");
	bus_init(&m->pf.mmio, "mmio");
	m->pf.loop = loop;
	m->pf.mem = &m->mem;
	m->pf.ncpus = cfg->ncpus;
	m->pf.irq_set = irq_set;
	m->pf.irq_opaque = m;
	m->pf.request_stop = request_stop;
	m->pf.stop_opaque = m;
	m->pf.ioeventfd = pf_ioeventfd;
	m->pf.irqfd = pf_irqfd;
	m->pf.msi_route_alloc = pf_msi_route_alloc;
	m->pf.msi_route_set = pf_msi_route_set;
	m->pf.msi_route_free = pf_msi_route_free;
	m->pf.msi_send = pf_msi_send;
	m->pf.kvm_opaque = m;
	/* Like QEMU's microvm: 512-byte virtio-mmio slots with their own GSIs. */
	m->pf.virtio_mmio_base = VIRTIO_MMIO_BASE;
	m->pf.virtio_mmio_size = VIRTIO_MMIO_SLOT_SIZE;
	m->pf.virtio_mmio_gsi_base = VIRTIO_MMIO_GSI_BASE;
	m->pf.virtio_mmio_slots = cfg->type->virtio_mmio_slots;

	ret = add_serials(m);
	if (!ret && cfg->type->has_pci)
		ret = pci_host_create(&m->pf, PCI_ECAM_BASE, PCI_MMIO32_BASE, PCI_MMIO32_SIZE,
				      mmio64_base(m), PCI_MMIO64_SIZE);
	else if (!ret)
		ret = bus_register(&m->pf.pio, 0xcf8, 8, &no_pci_ops, m, "no-pci");
	if (!ret)
		ret = rtc_create(&m->pf);
	if (!ret)
		ret = i8042_create(&m->pf);
	if (!ret)
		ret = port80_create(&m->pf);
	if (!ret)
		ret = acpi_pm_create(&m->pf);
	if (!ret)
		ret = pvpanic_create(&m->pf);
	return ret;
}

static unsigned build_e820(const struct machine *m, struct e820_entry *e)
{
	uint64_t size = m->ram->size, low = MIN(size, LOW_RAM_MAX);
	unsigned n = 0;

	e[n++] = (struct e820_entry){ 0, BOOT_EBDA_GPA, E820_RAM };
	e[n++] = (struct e820_entry){ BOOT_EBDA_GPA, BOOT_KERNEL_GPA - BOOT_EBDA_GPA, E820_RESERVED };
	e[n++] = (struct e820_entry){ BOOT_KERNEL_GPA, low - BOOT_KERNEL_GPA, E820_RAM };
	/* Linux trusts MMCONFIG early only if the ECAM is reserved in e820. */
	if (m->pf.pci)
		e[n++] = (struct e820_entry){ PCI_ECAM_BASE, PCI_ECAM_SIZE, E820_RESERVED };
	if (size > low)
		e[n++] = (struct e820_entry){ 4 * GiB, size - low, E820_RAM };
	return n;
}

static int vcpu_thread_init(struct vcpu *v)
{
	return sandbox_enter_vcpu(v->index);
}

static int setup_vcpus(struct machine *m, const struct boot_info *bi)
{
	const struct cpu_template *t = NULL;
	struct x86_entry entry = { .rsp = BOOT_STACK_GPA, .rip = bi->entry };
	int ret;

	if (m->cfg.cpu_template) {
		t = cpu_template_find(m->cfg.cpu_template);
		if (!t) {
			err_msg("-cpu: unknown CPU template '%s' (host, minimal)", m->cfg.cpu_template);
			return -EINVAL;
		}
	}
	if (bi->mode == BOOT_PVH) {
		entry.mode = X86_ENTRY_PROT32;
		entry.rbx = bi->params_gpa;
	} else {
		entry.mode = X86_ENTRY_LONG;
		entry.rsi = bi->params_gpa;
	}
	m->vcpus = calloc(m->cfg.ncpus, sizeof(*m->vcpus));
	if (!m->vcpus)
		return -ENOMEM;
	for (unsigned i = 0; i < m->cfg.ncpus; i++) {
		struct vcpu *v = &m->vcpus[i];

		ret = vcpu_create(&m->vm, v, i);
		if (ret)
			return ret;
		m->nr_vcpus++;
		v->pio = &m->pf.pio;
		v->mmio = &m->pf.mmio;
		v->access = bus_access;
		v->on_exit = on_vcpu_exit;
		v->opaque = m;
		v->thread_init = vcpu_thread_init;
		ret = cpuid_setup(&m->vm, v, m->cfg.ncpus, t);
		if (!ret)
			ret = vcpu_init_state(v);
		/* Application processors wait for the guest's INIT/SIPI. */
		if (!ret && i == 0)
			ret = x86_boot_setup(v, &m->mem, &entry);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Linux on a hardware-reduced ACPI machine without EFI ends its reboot
 * attempts with a jump to the BIOS reset vector (BOOT_EFI falls through
 * to BOOT_BIOS). There is no BIOS: a few real-mode instructions there
 * write the ACPI reset register instead, so `reboot` ends the VM cleanly.
 */
static int write_reset_vector(struct machine *m)
{
	const uint8_t stub[] = {
		0xba, ACPI_RESET_PORT & 0xff, ACPI_RESET_PORT >> 8,	/* mov dx, port */
		0xb0, ACPI_RESET_VALUE,					/* mov al, value */
		0xee,							/* out dx, al */
		0xf4,							/* hlt */
		0xeb, 0xfd,						/* jmp hlt */
	};

	return gmem_write(&m->mem, BOOT_RESET_VECTOR_GPA, stub, sizeof(stub));
}

int machine_finish(struct machine *m)
{
	struct acpi_config acfg = {
		.ncpus = m->cfg.ncpus, .lapic_addr = LAPIC_ADDR, .ioapic_addr = IOAPIC_ADDR,
	};
	struct e820_entry e820[E820_MAX];
	struct boot_config bc = { 0 };
	struct boot_info bi;
	void *acpi;
	long n;
	int ret;

	acpi = gmem_ptr(&m->mem, BOOT_ACPI_GPA, BOOT_ACPI_SIZE);
	if (!acpi)
		return -EFAULT;
	n = acpi_build(&m->pf, &acfg, acpi, BOOT_ACPI_SIZE, BOOT_ACPI_GPA);
	if (n < 0)
		return (int)n;
	ret = write_reset_vector(m);
	if (ret)
		return ret;
	bc.kernel_path = m->cfg.kernel;
	bc.initrd_path = m->cfg.initrd;
	bc.cmdline = m->cfg.append;
	bc.rsdp_gpa = BOOT_ACPI_GPA;
	bc.e820 = e820;
	bc.e820_nr = build_e820(m, e820);
	ret = loader_load(&m->mem, &bc, &bi);
	if (ret)
		return ret;
	return setup_vcpus(m, &bi);
}

static void on_signal(void *opaque, uint32_t events)
{
	struct machine *m = opaque;
	struct signalfd_siginfo si;
	char msg[64];

	if (read(m->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	snprintf(msg, sizeof(msg), "terminating on signal %u (%s)", si.ssi_signo,
		 strsignal((int)si.ssi_signo));
	request_stop(m, STOP_SIGNAL, msg);
}

int machine_run(struct machine *m)
{
	sigset_t set;
	unsigned started = 0;	/* sandbox */
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	m->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (m->sigfd < 0 || loop_add(m->pf.loop, m->sigfd, EPOLLIN, on_signal, m)) {
		err_msg("cannot watch signals: %s", strerror(errno));
		return EXIT_USAGE;
	}
	/* sandbox: set-up is over; filters compiled and capabilities dropped before any thread */
	if (sandbox_setup())
		return EXIT_USAGE;
	mem_backend_check_thp(m->ram);
	for (unsigned i = 0; i < m->nr_vcpus; i++) {
		ret = vcpu_start(&m->vcpus[i]);
		if (ret) {
			request_stop_status(m, EXIT_USAGE, "cannot start vCPU threads");
			break;
		}
		started++;
	}
	/* sandbox: the main filter once every vCPU has its own; only then may they run */
	if (sandbox_enter_main(started))
		request_stop_status(m, EXIT_USAGE, "cannot enter the sandbox");
	loop_run(m->pf.loop);
	/* Stop every vCPU before any device goes away under it. */
	for (unsigned i = 0; i < m->nr_vcpus; i++)
		vcpu_kick(&m->vcpus[i]);
	for (unsigned i = 0; i < m->nr_vcpus; i++)
		vcpu_join(&m->vcpus[i]);
	/* A crash was reported with its register dump already. */
	if (m->exit_status != EXIT_GUEST_CRASH)
		info_msg("%s", m->stop_msg);
	return m->exit_status;
}

void machine_destroy(struct machine *m)
{
	for (unsigned i = 0; i < m->nr_vcpus; i++)
		vcpu_destroy(&m->vcpus[i]);
	free(m->vcpus);
	m->vcpus = NULL;
	m->nr_vcpus = 0;
	if (m->pf.loop)
		device_destroy_all(&m->pf);
	if (m->pf.pci)
		pci_host_destroy(&m->pf);
	/* After the devices: their unrealize unregisters ranges. */
	if (m->pf.pio.name)
		bus_destroy(&m->pf.pio);
	if (m->pf.mmio.name)
		bus_destroy(&m->pf.mmio);
	if (m->sigfd > 0)
		close(m->sigfd);
	kvm_vm_close(&m->vm);
}
