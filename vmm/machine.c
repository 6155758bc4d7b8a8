/*
 * The machine (machine.h): the KVM VM and guest RAM, the platform lent to
 * the devices, the vCPUs, the run state QMP drives (pause, resume, the
 * power button, reset), the reset in place that boots the guest again,
 * and the run that ends at the first stop request, with QEMU's events
 * (SHUTDOWN, RESET, STOP, RESUME, GUEST_PANICKED) on the way.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include "arch/arch.h"
#include "backends/memory.h"
#include "backends/net.h"
#include "devices/acpi.h"
#include "devices/device.h"
#include "devices/pci.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"
#include "vmm/hotplug.h"
#include "vmm/machine.h"
#include "vmm/qmp.h"
#include "seccomp/seccomp.h"	/* sandbox */
#include "virtio/balloon.h"
#include "virtio/vhost_user_dev.h"

const struct machine_type *machine_type_find(const char *name)
{
	for (unsigned i = 0; i < arch_nr_machine_types; i++)
		if (!strcmp(arch_machine_types[i].name, name))
			return &arch_machine_types[i];
	return NULL;
}

void machine_types_help(FILE *f)
{
	fprintf(f, "Supported machines are:\n");
	for (unsigned i = 0; i < arch_nr_machine_types; i++)
		fprintf(f, "%-20s %s\n", arch_machine_types[i].name, arch_machine_types[i].desc);
}

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

static int pf_mem_map(void *opaque, uint64_t gpa, uint64_t size, void *hva)
{
	struct machine *m = opaque;

	return kvm_vm_map(&m->vm, gpa, size, hva);
}

static void pf_mem_unmap(void *opaque, int handle)
{
	struct machine *m = opaque;

	kvm_vm_unmap(&m->vm, handle);
}

static int pf_vfio_group(void *opaque, int group_fd, int add)
{
	struct machine *m = opaque;

	return kvm_vfio_group(&m->vm, group_fd, add);
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

/* QEMU's ShutdownCause for what the guest did (SHUTDOWN's reason). */
static const char *cause_of(enum stop_reason why)
{
	switch (why) {
	case STOP_POWEROFF:
		return "guest-shutdown";
	case STOP_RESET:
		return "guest-reset";
	case STOP_SIGNAL:
		return "host-signal";
	case STOP_PANIC:
		return "guest-panic";
	default:
		return "host-error";
	}
}

const char *run_state_name(enum run_state s)
{
	static const char *const names[] = {
		[RUN_PRELAUNCH] = "prelaunch", [RUN_RUNNING] = "running",
		[RUN_PAUSED] = "paused", [RUN_SHUTDOWN] = "shutdown",
		[RUN_GUEST_PANICKED] = "guest-panicked",
	};

	return s < ARRAY_SIZE(names) ? names[s] : "internal-error";
}

static void stop_as(struct machine *m, int status, enum stop_reason why, const char *cause,
		    const char *msg)
{
	if (__atomic_exchange_n(&m->stopping, 1, __ATOMIC_SEQ_CST))
		return;
	m->exit_status = status;
	m->stop_why = why;
	m->stop_cause = cause;
	snprintf(m->stop_msg, sizeof(m->stop_msg), "%s", msg);
	loop_stop(m->pf.loop, status);
}

static void request_stop_status(struct machine *m, int status, const char *msg)
{
	stop_as(m, status, STOP_ERROR, "host-error", msg);
}

static void pause_vcpus(struct machine *m)
{
	for (unsigned i = 0; i < m->nr_vcpus; i++)
		vcpu_pause(&m->vcpus[i]);
}

static void wake_loop(struct machine *m)
{
	uint64_t one = 1;

	if (m->reqfd >= 0 && write(m->reqfd, &one, sizeof(one)) < 0) {
		/* the counter is full: a wake-up is pending anyway */
	}
}

static void pf_event(void *opaque, enum platform_event ev)
{
	struct machine *m = opaque;

	__atomic_or_fetch(&m->events, 1u << ev, __ATOMIC_SEQ_CST);
	wake_loop(m);
}

/*
 * A guest reboot resets the machine in place (QEMU's default). The vCPU
 * that asked parks as it returns from the exit, the others at their next
 * one; the loop kicks them and does the reset (on_request). No kick here:
 * a vCPU thread may not signal.
 */
static void request_reset(struct machine *m, const char *msg)
{
	int none = 0;

	if (!__atomic_compare_exchange_n(&m->reset_pending, &none, 1, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	info_msg("%s; the machine resets", msg);
	for (unsigned i = 0; i < m->nr_vcpus; i++)
		vcpu_pause_soon(&m->vcpus[i]);
	wake_loop(m);
}

/*
 * With -no-shutdown a guest poweroff, reset (under -no-reboot) or panic
 * pauses the machine instead of ending the run; the loop does it
 * (on_request), since this may run on a vCPU thread.
 */
static void request_stop(void *opaque, enum stop_reason why, const char *msg)
{
	struct machine *m = opaque;
	int none = 0;

	boot_trace_once("the guest or a device asked to stop");
	if (why == STOP_RESET && !m->cfg.no_reboot && m->reqfd >= 0) {
		request_reset(m, msg);
		return;
	}
	if (m->cfg.no_shutdown && why != STOP_SIGNAL && why != STOP_ERROR && m->reqfd >= 0) {
		if (__atomic_compare_exchange_n(&m->pending, &none, (int)why + 1, false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
			info_msg("%s; paused (-no-shutdown)", msg);
			/*
			 * At once, as QEMU stops a vCPU that reports a panic: the
			 * guest must not go on to reboot (panic=-1) meanwhile. No
			 * kick here (a vCPU thread may not signal); the loop kicks.
			 */
			for (unsigned i = 0; i < m->nr_vcpus; i++)
				vcpu_pause_soon(&m->vcpus[i]);
			wake_loop(m);
		}
		return;
	}
	stop_as(m, status_of(why), why, cause_of(why), msg);
}

static int wait_vcpus(struct machine *m)
{
	int ret = 0;

	for (unsigned i = 0; i < m->nr_vcpus; i++)
		if (vcpu_wait_parked(&m->vcpus[i], 2000))
			ret = -EIO;
	return ret;
}

/* QEMU's vm_stop(): only a running machine stops, and says so (STOP). */
static int stop_to(struct machine *m, enum run_state to)
{
	int ret;

	if (m->state != RUN_RUNNING) {
		if (to != RUN_PAUSED)
			m->state = to;
		return 0;
	}
	pause_vcpus(m);
	ret = wait_vcpus(m);
	m->state = to;
	qmp_event_simple("STOP");
	return ret;
}

int machine_pause(struct machine *m)
{
	int ret = stop_to(m, RUN_PAUSED);

	if (ret)
		warn_msg("QMP stop: a vCPU did not leave the guest within 2 s");
	return ret;
}

int machine_resume(struct machine *m)
{
	if (m->state == RUN_SHUTDOWN || m->state == RUN_GUEST_PANICKED)
		return -EBUSY;
	if (m->state == RUN_RUNNING)
		return 0;
	m->state = RUN_RUNNING;
	for (unsigned i = 0; i < m->nr_vcpus; i++)
		vcpu_resume(&m->vcpus[i]);
	qmp_event_simple("RESUME");
	return 0;
}

int machine_powerdown(struct machine *m)
{
	qmp_event_simple("POWERDOWN");
	return acpi_pm_power_button(&m->pf);
}

void machine_quit(struct machine *m, const char *cause, const char *msg)
{
	stop_as(m, EXIT_OK, STOP_SIGNAL, cause, msg);
}

/*
 * QEMU's qemu_system_reset(), on the loop: every vCPU out of the guest,
 * every device at power-on (back ends kept, their I/O drained), the
 * interrupt controllers and timers, firmware tables, kernel and initrd
 * as at the first boot, each vCPU at its boot state; RESET; then the
 * vCPUs run again if the machine was running, else it is in prelaunch.
 */
static int reset(struct machine *m, bool guest, const char *cause)
{
	bool run = m->state == RUN_RUNNING;
	int ret;

	if (__atomic_load_n(&m->stopping, __ATOMIC_SEQ_CST))
		return 0;
	pause_vcpus(m);
	if (wait_vcpus(m)) {
		request_stop_status(m, EXIT_USAGE, "reset: a vCPU did not leave the guest within 2 s");
		return -EIO;
	}
	device_reset_all(&m->pf);
	if (m->pf.pci)
		pci_host_reset(m->pf.pci);
	ret = arch_vm_reset(&m->vm);
	if (!ret)
		ret = arch_load_kernel(&m->pf, &m->boot_cfg, &m->boot);
	for (unsigned i = 0; !ret && i < m->nr_vcpus; i++)
		ret = arch_vcpu_reset(&m->vcpus[i], &m->mem, &m->boot);
	if (ret) {
		request_stop_status(m, EXIT_USAGE, "the machine could not be reset");
		return -EIO;
	}
	__atomic_store_n(&m->pending, 0, __ATOMIC_SEQ_CST);	/* a -no-shutdown pause is over */
	__atomic_store_n(&m->reset_pending, 0, __ATOMIC_SEQ_CST);
	qmp_event_reset(guest, cause);
	if (!run) {
		m->state = RUN_PRELAUNCH;
		return 0;
	}
	for (unsigned i = 0; i < m->nr_vcpus; i++)
		vcpu_resume(&m->vcpus[i]);
	return 0;
}

int machine_system_reset(struct machine *m)
{
	if (!m->cfg.no_reboot)
		return reset(m, false, "host-qmp-system-reset");
	/* -no-reboot: QEMU makes it a shutdown request with this cause. */
	if (!m->cfg.no_shutdown) {
		machine_quit(m, "host-qmp-system-reset",
			     "terminating on QMP command 'system_reset' (-no-reboot)");
		return 0;
	}
	info_msg("QMP command 'system_reset' (-no-reboot); paused (-no-shutdown)");
	qmp_event_shutdown(false, "host-qmp-system-reset");
	stop_to(m, RUN_SHUTDOWN);
	return 0;
}

/*
 * Device events, and a guest poweroff, reset or panic under -no-shutdown,
 * now on the loop.
 */
static void on_request(void *opaque, uint32_t events)
{
	struct machine *m = opaque;
	unsigned ev;
	uint64_t n, actual;
	int why;

	if (read(m->reqfd, &n, sizeof(n)) != sizeof(n))
		return;
	ev = __atomic_exchange_n(&m->events, 0, __ATOMIC_SEQ_CST);
	if ((ev & 1u << PF_EVENT_BALLOON_CHANGE) && !balloon_get_actual(&m->pf, &actual))
		qmp_event_balloon(actual);
	if (ev & 1u << PF_EVENT_HOTPLUG)
		hotplug_released(&m->pf);
	if (__atomic_load_n(&m->reset_pending, __ATOMIC_SEQ_CST)) {
		reset(m, true, "guest-reset");
		return;
	}
	why = __atomic_load_n(&m->pending, __ATOMIC_SEQ_CST) - 1;
	if (why < 0 || m->state == RUN_SHUTDOWN || m->state == RUN_GUEST_PANICKED)
		return;
	/* QEMU: GUEST_PANICKED then STOP; or SHUTDOWN then STOP. */
	if (why == STOP_PANIC) {
		qmp_event_panicked("pause");
		stop_to(m, RUN_GUEST_PANICKED);
		return;
	}
	qmp_event_shutdown(true, cause_of((enum stop_reason)why));
	stop_to(m, RUN_SHUTDOWN);
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
			arch_vcpu_dump(v, stderr);
		}
		request_stop(m, STOP_ERROR, msg);
		break;
	}
}

static int map_ram(struct machine *m)
{
	struct arch_ram_range r[ARCH_RAM_RANGES_MAX];
	unsigned n = arch_ram_ranges(m->ram->size, r);
	uint8_t *hva;
	int ret;

	ret = mem_backend_map(m->ram);
	if (ret)
		return ret;
	hva = m->ram->hva;
	for (unsigned i = 0; !ret && i < n; i++) {
		ret = gmem_add(&m->mem, r[i].gpa, r[i].size, hva + r[i].offset, m->ram->fd,
			       r[i].offset);
		if (!ret)
			ret = kvm_vm_add_memory(&m->vm, r[i].gpa, r[i].size, hva + r[i].offset);
	}
	return ret;
}

int machine_init(struct machine *m, struct loop *loop, const struct machine_config *cfg)
{
	struct arch_platform_config pcfg = { .type = cfg->type, .nr_serial = cfg->nr_serial };
	int ret;

	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	m->boot_cfg.kernel_fd = m->boot_cfg.initrd_fd = -1;
	m->vm.sys_fd = m->vm.vm_fd = -1;
	m->sigfd = m->reqfd = -1;
	m->incoming_wait = cfg->incoming && !strcmp(cfg->incoming, "defer");
	m->state = cfg->start_paused || m->incoming_wait ? RUN_PRELAUNCH : RUN_RUNNING;
	ret = kvm_vm_open(&m->vm);
	if (ret)
		return ret;
	m->ram = cfg->ram;
	if (!m->ram) {
		ret = mem_backend_create_default(cfg->ram_size, &m->ram);
		if (ret)
			return ret;
	}
	boot_trace("VM created");
	ret = map_ram(m);
	if (ret)
		return ret;
	boot_trace("guest RAM mapped");
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
	m->pf.event = pf_event;
	m->pf.stop_opaque = m;
	m->pf.ioeventfd = pf_ioeventfd;
	m->pf.irqfd = pf_irqfd;
	m->pf.msi_route_alloc = pf_msi_route_alloc;
	m->pf.msi_route_set = pf_msi_route_set;
	m->pf.msi_route_free = pf_msi_route_free;
	m->pf.msi_send = pf_msi_send;
	m->pf.mem_map = pf_mem_map;
	m->pf.mem_unmap = pf_mem_unmap;
	m->pf.vfio_group = pf_vfio_group;
	m->pf.kvm_opaque = m;
	pcfg.ram_size = m->ram->size;
	for (unsigned i = 0; i < cfg->nr_serial; i++)
		pcfg.serial[i] = cfg->serial[i].kind == SERIAL_NONE ? NULL : cfg->serial[i].chr;
	return arch_platform_create(&m->pf, &pcfg);
}

static int vcpu_thread_init(struct vcpu *v)
{
	return sandbox_enter_vcpu(v->index);
}

static int setup_vcpus(struct machine *m, const struct arch_boot *boot)
{
	int ret;

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
		ret = arch_vcpu_init(&m->vm, v, &m->mem, m->cfg.ncpus, boot);
		if (ret)
			return ret;
	}
	return 0;
}

int machine_finish(struct machine *m)
{
	struct arch_boot_config *bc = &m->boot_cfg;
	int ret;

	bc->kernel = m->cfg.kernel;
	bc->initrd = m->cfg.initrd;
	bc->cmdline = m->cfg.append;
	bc->cpu_template = m->cfg.cpu_template;
	bc->ram_size = m->ram->size;
	boot_trace("platform created");
	ret = arch_load_kernel(&m->pf, bc, &m->boot);
	if (ret)
		return ret;
	boot_trace("kernel loaded");
	ret = setup_vcpus(m, &m->boot);
	boot_trace("vCPUs created");
	return ret;
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

/* After the run: what QEMU tells its clients as it exits. */
static void final_events(struct machine *m)
{
	if (!m->stop_cause)
		return;
	if (m->stop_why == STOP_PANIC)
		qmp_event_panicked("poweroff");
	qmp_event_shutdown(!strncmp(m->stop_cause, "guest-", 6), m->stop_cause);
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
	m->reqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->reqfd < 0 || loop_add(m->pf.loop, m->reqfd, EPOLLIN, on_request, m)) {
		err_msg("cannot create an eventfd: %s", strerror(errno));
		return EXIT_USAGE;
	}
	/* -S: the threads start, but park before their first KVM_RUN. */
	if (m->state == RUN_PRELAUNCH)
		pause_vcpus(m);
	/* sandbox: set-up is over; filters compiled and capabilities dropped before any thread */
	if (netdev_user_exists())
		sandbox_allow_user_net();	/* libslirp's sockets, only then */
	if (vhost_user_dev_any_reconnect())
		sandbox_allow_reconnect();	/* a socket to the back end again */
	if (m->cfg.snapshots)
		sandbox_allow_snapshot();	/* QMP migrate, migrate-incoming */
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
	boot_trace("vCPUs started, sandbox entered");
	loop_run(m->pf.loop);
	boot_trace("event loop ended");
	/* Stop every vCPU before any device goes away under it. */
	for (unsigned i = 0; i < m->nr_vcpus; i++)
		vcpu_kick(&m->vcpus[i]);
	for (unsigned i = 0; i < m->nr_vcpus; i++)
		vcpu_join(&m->vcpus[i]);
	boot_trace("vCPUs joined");
	final_events(m);
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
	arch_platform_destroy(&m->pf);
	/* After the devices: their unrealize unregisters ranges. */
	if (m->pf.pio.name)
		bus_destroy(&m->pf.pio);
	if (m->pf.mmio.name)
		bus_destroy(&m->pf.mmio);
	if (m->sigfd >= 0)
		close(m->sigfd);
	if (m->reqfd >= 0)
		close(m->reqfd);
	arch_boot_close(&m->boot_cfg);
	kvm_vm_close(&m->vm);
	boot_trace("machine destroyed");
}
