/*
 * The KVM layer against the host's /dev/kvm with guests of a few
 * instructions (real mode and long mode; nothing the PVM emulator lacks).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/loader.h"
#include "arch/x86/x86_boot.h"
#include "devices/bus.h"
#include "kvm/gmem.h"
#include "kvm/kvm.h"
#include "kvm/vcpu.h"
#include "lib/log.h"

#define RAM_SIZE (4u << 20)

struct env {
	struct kvm_vm vm;
	struct gmem mem;
	struct bus pio, mmio;
	struct vcpu v;
	uint8_t *ram;
	enum vcpu_exit last;
	int exits;
	char msg[160];
};

static uint8_t port_log[64];
static unsigned port_log_n;
static uint64_t mmio_written, mmio_write_len;

static void log_write(void *o, uint64_t off, const void *d, unsigned len)
{
	for (unsigned i = 0; i < len && port_log_n < sizeof(port_log); i++)
		port_log[port_log_n++] = ((const uint8_t *)d)[i];
}

static void const_read(void *o, uint64_t off, void *d, unsigned len)
{
	uint64_t v = (uint64_t)(uintptr_t)o;

	memcpy(d, &v, len);
}

static void mmio_write(void *o, uint64_t off, const void *d, unsigned len)
{
	mmio_written = 0;
	memcpy(&mmio_written, d, len);
	mmio_write_len = len;
}

static const struct bus_ops log_ops = { .read = const_read, .write = log_write };
static const struct bus_ops mmio_ops = { .read = const_read, .write = mmio_write };

static void on_exit_cb(void *opaque, struct vcpu *v, enum vcpu_exit why, const char *msg)
{
	struct env *e = opaque;

	e->last = why;
	e->exits++;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	log_set_quiet(1);
	if (access("/dev/kvm", R_OK | W_OK)) {
		free(e);
		*state = NULL;
		return 0;
	}
	assert_int_equal(kvm_vm_open(&e->vm), 0);
	e->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_ptr_not_equal(e->ram, MAP_FAILED);
	assert_int_equal(gmem_add(&e->mem, 0, RAM_SIZE, e->ram, -1, 0), 0);
	assert_int_equal(kvm_vm_add_memory(&e->vm, 0, RAM_SIZE, e->ram), 0);
	bus_init(&e->pio, "pio");
	bus_init(&e->mmio, "mmio");
	assert_int_equal(vcpu_create(&e->vm, &e->v, 0), 0);
	e->v.pio = &e->pio;
	e->v.mmio = &e->mmio;
	e->v.access = bus_access;
	e->v.arch_exit = arch_vcpu_exit;	/* port I/O */
	e->v.on_exit = on_exit_cb;
	e->v.opaque = e;
	port_log_n = 0;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	if (!e)
		return 0;
	vcpu_destroy(&e->v);
	kvm_vm_close(&e->vm);
	bus_destroy(&e->pio);
	bus_destroy(&e->mmio);
	munmap(e->ram, RAM_SIZE);
	free(e);
	return 0;
}

#define NEED_KVM(e) do { if (!(e)) { skip(); return; } } while (0)

static void t_real_mode_port_io(void **state)
{
	struct env *e = *state;
	static const uint8_t code[] = {
		0xb0, 0x5a,		/* mov al, 0x5a */
		0xe6, 0x10,		/* out 0x10, al */
		0xba, 0xf8, 0x03,	/* mov dx, 0x3f8 */
		0xec,			/* in al, dx */
		0xe6, 0x10,		/* out 0x10, al */
		0xf4,			/* hlt */
	};
	struct x86_entry entry = { .mode = X86_ENTRY_REAL, .rip = 0x1000 };

	NEED_KVM(e);
	memcpy(e->ram + 0x1000, code, sizeof(code));
	assert_int_equal(bus_register(&e->pio, 0x10, 1, &log_ops, NULL, "log"), 0);
	assert_int_equal(bus_register(&e->pio, 0x3f8, 8, &log_ops, (void *)0x33, "in"), 0);
	assert_int_equal(x86_boot_setup(&e->v, &e->mem, &entry), 0);
	assert_int_equal(vcpu_run_loop(&e->v), VCPU_POWEROFF);
	assert_int_equal(port_log_n, 2);
	assert_int_equal(port_log[0], 0x5a);
	assert_int_equal(port_log[1], 0x33);
}

static void t_real_mode_string_io(void **state)
{
	struct env *e = *state;
	static const uint8_t code[] = {
		0xbe, 0x00, 0x20,	/* mov si, 0x2000 */
		0xb9, 0x05, 0x00,	/* mov cx, 5 */
		0xba, 0x20, 0x00,	/* mov dx, 0x20 */
		0xf3, 0x6e,		/* rep outsb */
		0xf4,			/* hlt */
	};
	struct x86_entry entry = { .mode = X86_ENTRY_REAL, .rip = 0x1000 };

	NEED_KVM(e);
	memcpy(e->ram + 0x1000, code, sizeof(code));
	memcpy(e->ram + 0x2000, "hello", 5);
	assert_int_equal(bus_register(&e->pio, 0x20, 1, &log_ops, NULL, "log"), 0);
	assert_int_equal(x86_boot_setup(&e->v, &e->mem, &entry), 0);
	assert_int_equal(vcpu_run_loop(&e->v), VCPU_POWEROFF);
	assert_int_equal(port_log_n, 5);
	assert_memory_equal(port_log, "hello", 5);
}

static void t_long_mode_mmio(void **state)
{
	struct env *e = *state;
	static const uint8_t code[] = {
		0x48, 0x8b, 0x06,			/* mov rax, [rsi] */
		0x48, 0xbb, 0, 0, 0, 0xd0, 0, 0, 0, 0,	/* mov rbx, 0xd0000000 */
		0x89, 0x03,				/* mov [rbx], eax */
		0x48, 0x8b, 0x0b,			/* mov rcx, [rbx] */
		0x48, 0xba, 0, 0, 0, 0xe0, 0, 0, 0, 0,	/* mov rdx, 0xe0000000 */
		0x48, 0x8b, 0x12,			/* mov rdx, [rdx] */
		0xf4,					/* hlt */
	};
	uint64_t magic = 0x1122334455667788ULL;
	struct x86_entry entry = {
		.mode = X86_ENTRY_LONG, .rip = 0x100000, .rsi = BOOT_PARAMS_GPA, .rsp = 0x8ff0,
	};
	struct kvm_regs r;
	struct kvm_sregs s;

	NEED_KVM(e);
	memcpy(e->ram + 0x100000, code, sizeof(code));
	memcpy(e->ram + BOOT_PARAMS_GPA, &magic, 8);
	assert_int_equal(bus_register(&e->mmio, 0xd0000000, 0x1000, &mmio_ops,
				      (void *)0x0123456789abcdefULL, "dev"), 0);
	assert_int_equal(x86_boot_setup(&e->v, &e->mem, &entry), 0);
	assert_int_equal(ioctl(e->v.fd, KVM_GET_SREGS, &s), 0);
	assert_true(s.efer & (1 << 10));	/* LMA */
	assert_int_equal(s.cs.l, 1);
	assert_int_equal(vcpu_run_loop(&e->v), VCPU_POWEROFF);
	assert_int_equal(ioctl(e->v.fd, KVM_GET_REGS, &r), 0);
	assert_int_equal(r.rax, magic);
	assert_int_equal(mmio_write_len, 4);
	assert_int_equal(mmio_written, 0x55667788);
	assert_int_equal(r.rcx, 0x0123456789abcdefULL);
	/* Nothing claims 0xe0000000: the floating bus reads as all-ones. */
	assert_int_equal(r.rdx, ~0ULL);
}

/* A slot mapped over an MMIO range: reads come from its memory, without an exit, until unmapped. */
static void t_mem_map_slot(void **state)
{
	struct env *e = *state;
	static const uint8_t code[] = {
		0x48, 0x8b, 0x06,	/* mov rax, [rsi] */
		0xf4,			/* hlt */
	};
	struct x86_entry entry = {
		.mode = X86_ENTRY_LONG, .rip = 0x100000, .rsi = 0xd0000000, .rsp = 0x8ff0,
	};
	uint64_t page_val = 0x5a5a5a5a12345678ULL;
	struct kvm_regs r;
	uint8_t *page;
	int slot, again;

	NEED_KVM(e);
	page = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_ptr_not_equal(page, MAP_FAILED);
	memcpy(page, &page_val, 8);
	memcpy(e->ram + 0x100000, code, sizeof(code));
	assert_int_equal(bus_register(&e->mmio, 0xd0000000, 0x1000, &mmio_ops,
				      (void *)0x0123456789abcdefULL, "dev"), 0);
	slot = kvm_vm_map(&e->vm, 0xd0000000, 0x1000, page);
	assert_true(slot > 0);	/* RAM holds slot 0 */
	assert_int_equal(x86_boot_setup(&e->v, &e->mem, &entry), 0);
	assert_int_equal(vcpu_run_loop(&e->v), VCPU_POWEROFF);
	assert_int_equal(ioctl(e->v.fd, KVM_GET_REGS, &r), 0);
	assert_int_equal(r.rax, page_val);

	kvm_vm_unmap(&e->vm, slot);
	assert_int_equal(x86_boot_setup(&e->v, &e->mem, &entry), 0);
	assert_int_equal(vcpu_run_loop(&e->v), VCPU_POWEROFF);
	assert_int_equal(ioctl(e->v.fd, KVM_GET_REGS, &r), 0);
	assert_int_equal(r.rax, 0x0123456789abcdefULL);

	/* the freed slot is handed out again; an overlap with RAM is refused and costs none */
	assert_true(kvm_vm_map(&e->vm, 0x1000, 0x1000, page) < 0);
	again = kvm_vm_map(&e->vm, 0xd0000000, 0x1000, page);
	assert_int_equal(again, slot);
	kvm_vm_unmap(&e->vm, again);
	munmap(page, 0x1000);
}

static void t_prot32_entry(void **state)
{
	struct env *e = *state;
	static const uint8_t code[] = {
		0x89, 0xd8,		/* mov eax, ebx */
		0xe6, 0x10,		/* out 0x10, al */
		0xf4,			/* hlt */
	};
	struct x86_entry entry = { .mode = X86_ENTRY_PROT32, .rip = 0x100000, .rbx = 0x6042 };

	NEED_KVM(e);
	memcpy(e->ram + 0x100000, code, sizeof(code));
	assert_int_equal(bus_register(&e->pio, 0x10, 1, &log_ops, NULL, "log"), 0);
	assert_int_equal(x86_boot_setup(&e->v, &e->mem, &entry), 0);
	assert_int_equal(vcpu_run_loop(&e->v), VCPU_POWEROFF);
	assert_int_equal(port_log_n, 1);
	assert_int_equal(port_log[0], 0x42);
}

static void t_kick_stops_spinning_vcpu(void **state)
{
	struct env *e = *state;
	static const uint8_t code[] = { 0xeb, 0xfe };	/* jmp $ */
	struct x86_entry entry = { .mode = X86_ENTRY_REAL, .rip = 0x1000 };
	struct timespec t0, t1;

	NEED_KVM(e);
	memcpy(e->ram + 0x1000, code, sizeof(code));
	assert_int_equal(x86_boot_setup(&e->v, &e->mem, &entry), 0);
	assert_int_equal(vcpu_start(&e->v), 0);
	usleep(100 * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	vcpu_kick(&e->v);
	vcpu_join(&e->v);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_int_equal(e->exits, 0);	/* a stop is not a fatal exit */
}

static uint32_t counter(struct env *e)
{
	return __atomic_load_n((uint32_t *)(e->ram + 0x2000), __ATOMIC_RELAXED);
}

/*
 * Pause and resume (QMP stop/cont, -S): a guest that counts in memory
 * stops counting while parked and counts again once resumed; a vCPU paused
 * before it starts never enters the guest; a kick ends a parked vCPU.
 */
static void t_pause_resume(void **state)
{
	struct env *e = *state;
	/* inc dword [0x2000]; jmp back */
	static const uint8_t code[] = { 0x66, 0xff, 0x06, 0x00, 0x20, 0xeb, 0xf9 };
	struct x86_entry entry = { .mode = X86_ENTRY_REAL, .rip = 0x1000 };
	uint32_t c1;

	NEED_KVM(e);
	memcpy(e->ram + 0x1000, code, sizeof(code));
	assert_int_equal(x86_boot_setup(&e->v, &e->mem, &entry), 0);
	vcpu_pause(&e->v);
	assert_int_equal(vcpu_start(&e->v), 0);
	assert_int_equal(vcpu_wait_parked(&e->v, 2000), 0);
	usleep(100 * 1000);
	assert_int_equal(counter(e), 0);
	assert_true(e->v.tid > 0);

	vcpu_resume(&e->v);
	usleep(100 * 1000);
	assert_int_not_equal(counter(e), 0);

	vcpu_pause(&e->v);
	assert_int_equal(vcpu_wait_parked(&e->v, 2000), 0);
	c1 = counter(e);
	usleep(200 * 1000);
	assert_int_equal(counter(e), c1);

	vcpu_resume(&e->v);
	usleep(100 * 1000);
	assert_int_not_equal(counter(e), c1);

	/* Parked again, then stopped: the thread ends without running. */
	vcpu_pause(&e->v);
	assert_int_equal(vcpu_wait_parked(&e->v, 2000), 0);
	c1 = counter(e);
	vcpu_kick(&e->v);
	vcpu_join(&e->v);
	assert_int_equal(counter(e), c1);
	assert_int_equal(e->exits, 0);
}

static void t_init_state(void **state)
{
	struct kvm_vm vm;
	struct vcpu v;
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry m[1];
	} msrs = { .h.nmsrs = 1, .m[0].index = 0x2ff };
	struct kvm_lapic_state l;
	struct kvm_fpu fpu;
	uint32_t lvt0, lvt1;

	if (!*state) {
		skip();
		return;
	}
	/* The irqchip must exist before vCPUs: a VM of its own. */
	assert_int_equal(kvm_vm_open(&vm), 0);
	assert_int_equal(arch_vm_init(&vm), 0);
	assert_int_equal(vcpu_create(&vm, &v, 0), 0);
	assert_int_equal(cpuid_setup(&vm, &v, 1, NULL), 0);
	assert_int_equal(vcpu_init_state(&v), 0);
	assert_int_equal(ioctl(v.fd, KVM_GET_MSRS, &msrs), 1);
	assert_int_equal(msrs.m[0].data, (1u << 11) | 6);	/* MTRRs on, WB */
	assert_int_equal(ioctl(v.fd, KVM_GET_FPU, &fpu), 0);
	assert_int_equal(fpu.fcw, 0x37f);
	/* mxcsr is not checked: the host's PVM KVM does not report it back. */
	assert_int_equal(ioctl(v.fd, KVM_GET_LAPIC, &l), 0);
	memcpy(&lvt0, &l.regs[0x350], 4);
	memcpy(&lvt1, &l.regs[0x360], 4);
	assert_int_equal((lvt0 >> 8) & 7, 7);	/* ExtINT */
	assert_int_equal((lvt1 >> 8) & 7, 4);	/* NMI */
	assert_int_equal(kvm_irq_line(&vm, 4, 1), 0);
	assert_int_equal(kvm_irq_line(&vm, 4, 0), 0);
	vcpu_destroy(&v);
	kvm_vm_close(&vm);
}

/*
 * A machine reset leaves both PICs' IRR clear even when the old kernel left
 * an edge in the slave (the power button's IRQ 9, never acknowledged): set
 * master first, KVM passed it on to the master's IRQ 2, which the next
 * kernel took as vector 7 (#NM) through LINT0.
 */
static void t_vm_reset_pics(void **state)
{
	struct kvm_vm vm;
	struct kvm_irqchip c = { .chip_id = KVM_IRQCHIP_PIC_SLAVE };

	if (!*state) {
		skip();
		return;
	}
	assert_int_equal(kvm_vm_open(&vm), 0);
	assert_int_equal(arch_vm_init(&vm), 0);
	assert_int_equal(kvm_irq_line(&vm, 9, 1), 0);
	assert_int_equal(kvm_irq_line(&vm, 9, 0), 0);
	assert_int_equal(ioctl(vm.vm_fd, KVM_GET_IRQCHIP, &c), 0);
	assert_int_equal(c.chip.pic.irr, 0x02);		/* latched: the test is real */
	assert_int_equal(arch_vm_reset(&vm), 0);
	for (unsigned id = KVM_IRQCHIP_PIC_MASTER; id <= KVM_IRQCHIP_PIC_SLAVE; id++) {
		memset(&c, 0, sizeof(c));
		c.chip_id = id;
		assert_int_equal(ioctl(vm.vm_fd, KVM_GET_IRQCHIP, &c), 0);
		assert_int_equal(c.chip.pic.irr, 0);
	}
	kvm_vm_close(&vm);
}

/* A notify write lands in the eventfd, not in ember's bus handler. */
static void t_ioeventfd(void **state)
{
	struct env *e = *state;
	static const uint8_t code[] = {
		0xb0, 0x07,		/* mov al, 7 */
		0xe6, 0x40,		/* out 0x40, al  (ioeventfd, datamatch 7) */
		0xb0, 0x08,		/* mov al, 8 */
		0xe6, 0x40,		/* out 0x40, al  (no match: exits to the bus) */
		0xf4,			/* hlt */
	};
	struct x86_entry entry = { .mode = X86_ENTRY_REAL, .rip = 0x1000 };
	uint64_t count = 0;
	int fd;

	NEED_KVM(e);
	fd = eventfd(0, EFD_NONBLOCK);
	assert_true(fd >= 0);
	memcpy(e->ram + 0x1000, code, sizeof(code));
	assert_int_equal(bus_register(&e->pio, 0x40, 1, &log_ops, NULL, "log"), 0);
	assert_int_equal(kvm_ioeventfd(&e->vm, 0x40, 1, fd, 1, 1, 7, 0), 0);
	assert_int_equal(x86_boot_setup(&e->v, &e->mem, &entry), 0);
	assert_int_equal(vcpu_run_loop(&e->v), VCPU_POWEROFF);
	assert_int_equal(read(fd, &count, 8), 8);
	assert_int_equal(count, 1);
	assert_int_equal(port_log_n, 1);
	assert_int_equal(port_log[0], 8);
	assert_int_equal(kvm_ioeventfd(&e->vm, 0x40, 1, fd, 1, 1, 7, 1), 0);
	close(fd);
}

/* MSI routes: allocate, program, free; irqfd on an MSI route and a pin. */
static void t_msi_routes(void **state)
{
	struct kvm_vm vm;
	int gsi, gsi2, fd, rfd;

	if (!*state) {
		skip();
		return;
	}
	assert_int_equal(kvm_vm_open(&vm), 0);
	assert_int_equal(arch_vm_init(&vm), 0);
	gsi = kvm_msi_route_alloc(&vm);
	gsi2 = kvm_msi_route_alloc(&vm);
	assert_int_equal(gsi, IOAPIC_PINS);
	assert_int_equal(gsi2, IOAPIC_PINS + 1);
	assert_int_equal(kvm_msi_route_set(&vm, gsi, 0xfee00000, 0x4031), 0);
	fd = eventfd(0, 0);
	rfd = eventfd(0, 0);
	assert_int_equal(kvm_irqfd(&vm, gsi, fd, -1, 0), 0);
	assert_int_equal(kvm_irqfd(&vm, gsi, fd, -1, 1), 0);
	/* A level-triggered IOAPIC pin with a resample fd (virtio-mmio, INTx). */
	assert_int_equal(kvm_irqfd(&vm, 5, fd, rfd, 0), 0);
	assert_int_equal(kvm_irqfd(&vm, 5, fd, rfd, 1), 0);
	kvm_msi_route_free(&vm, gsi);
	assert_int_equal(kvm_msi_route_alloc(&vm), gsi);	/* reused */
	assert_int_equal(kvm_msi_route_set(&vm, 3, 0, 0), -EINVAL);
	close(fd);
	close(rfd);
	kvm_vm_close(&vm);
}

/* CPUID topology, from a synthetic "supported" table: no KVM needed. */
/*
 * The architecture's pin routes and where MSI GSIs start: no /dev/kvm
 * needed, as nothing is set until an MSI route is programmed.
 */
static void t_chip_routes(void **state)
{
	struct kvm_irq_routing_entry r[2] = {
		{ .gsi = 0, .type = KVM_IRQ_ROUTING_IRQCHIP },
		{ .gsi = 1, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip.pin = 1 },
	};
	struct kvm_vm vm = { .sys_fd = -1, .vm_fd = -1,
			     .route_lock = PTHREAD_MUTEX_INITIALIZER };

	log_set_quiet(1);
	assert_int_equal(kvm_set_chip_routes(&vm, r, KVM_MAX_GSI_ROUTES, 8), -EINVAL);
	assert_int_equal(kvm_set_chip_routes(&vm, r, 2, KVM_MAX_GSI_ROUTES), -EINVAL);
	assert_null(vm.chip_routes);
	assert_int_equal(kvm_set_chip_routes(&vm, r, 2, 8), 0);
	r[1].u.irqchip.pin = 7;		/* the table was copied */
	assert_int_equal(vm.nr_chip_routes, 2);
	assert_int_equal(vm.chip_routes[1].u.irqchip.pin, 1);
	assert_int_equal(kvm_msi_route_alloc(&vm), 8);
	assert_int_equal(kvm_msi_route_alloc(&vm), 9);
	/* Below the first MSI GSI is the controllers'. */
	assert_int_equal(kvm_msi_route_set(&vm, 7, 0xfee00000, 0), -EINVAL);
	kvm_vm_close(&vm);
	assert_null(vm.chip_routes);
	assert_null(vm.msi);
}

static struct kvm_cpuid2 *fake_supported(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 8 * sizeof(c->entries[0]));

	c->entries[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0x1f };
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = 0x00000800,
		.edx = 1u << 28 };
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0,
		.eax = 7, .ebx = 7 };
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0x40000000 };
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .ecx = 0xff };
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){ .function = 0xa, .eax = 0x07300402 };
	return c;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *c, uint32_t f, uint32_t i)
{
	for (unsigned k = 0; k < c->nent; k++)
		if (c->entries[k].function == f && c->entries[k].index == i)
			return &c->entries[k];
	return NULL;
}

static void t_cpuid_topology(void **state)
{
	struct kvm_cpuid2 *sup = fake_supported();
	struct kvm_cpuid2 *c = cpuid_build(sup, 2, 3, NULL);
	const struct kvm_cpuid_entry2 *e;

	(void)state;
	assert_non_null(c);
	e = find(c, 1, 0);
	assert_int_equal(e->ebx >> 24, 2);		/* APIC id */
	assert_int_equal((e->ebx >> 16) & 0xff, 4);	/* addressable ids: 2^ceil(log2 3) */
	assert_int_equal(e->ebx & 0xffff, 0x0800);	/* CLFLUSH size kept */
	assert_true(e->ecx & (1u << 31));		/* hypervisor bit */
	assert_true(e->edx & (1u << 28));		/* HTT with >1 CPU */
	e = find(c, 0xb, 0);
	assert_int_equal(e->ebx, 1);
	assert_int_equal(e->edx, 2);
	assert_int_equal((e->ecx >> 8) & 0xff, 1);	/* SMT level */
	e = find(c, 0xb, 1);
	assert_int_equal(e->eax, 2);			/* core shift */
	assert_int_equal(e->ebx, 3);
	assert_int_equal((e->ecx >> 8) & 0xff, 2);	/* core level */
	assert_non_null(find(c, 0x1f, 2));
	e = find(c, 0x40000000, 0);
	assert_memory_equal(&e->ebx, "KVMKVMKVM\0\0\0", 12);
	e = find(c, 0x80000008, 0);
	assert_int_equal(e->ecx & 0xff, 2);		/* NC = cores - 1 */
	free(c);

	c = cpuid_build(sup, 0, 1, NULL);
	assert_false(find(c, 1, 0)->edx & (1u << 28));
	free(c);

	c = cpuid_build(sup, 0, 1, cpu_template_find("minimal"));
	assert_int_equal(find(c, 0xa, 0)->eax, 0);	/* PMU masked */
	free(c);
	assert_null(cpu_template_find("nonsense"));
	free(sup);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_real_mode_port_io, setup, teardown),
		cmocka_unit_test_setup_teardown(t_real_mode_string_io, setup, teardown),
		cmocka_unit_test_setup_teardown(t_long_mode_mmio, setup, teardown),
		cmocka_unit_test_setup_teardown(t_prot32_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(t_mem_map_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(t_kick_stops_spinning_vcpu, setup, teardown),
		cmocka_unit_test_setup_teardown(t_pause_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(t_init_state, setup, teardown),
		cmocka_unit_test_setup_teardown(t_ioeventfd, setup, teardown),
		cmocka_unit_test_setup_teardown(t_msi_routes, setup, teardown),
		cmocka_unit_test(t_chip_routes),
		cmocka_unit_test_setup_teardown(t_vm_reset_pics, setup, teardown),
		cmocka_unit_test(t_cpuid_topology),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
