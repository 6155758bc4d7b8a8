/*
 * The sandbox; see seccomp.h and docs/sandbox.md.
 *
 * The allowlists below are the system calls each thread class makes after
 * set-up, found by reading the code and by running the e2e workloads under
 * strace -f (docs/sandbox.md says how). A call missing here kills ember
 * with SIGSYS and a line naming it; seccomp/allowlist.expected is the
 * reviewed copy of these lists that the unit test compares them with.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cap-ng.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <linux/vfio.h>
#include <linux/vhost.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "lib/log.h"
#include "lib/util.h"
#include "seccomp/seccomp.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1		/* si_code of a seccomp SIGSYS (asm-generic/siginfo.h) */
#endif

/* ---- the allowlists ---- */

enum test {
	T_EQ32 = 1,	/* (arg & 0xffffffff) == val: ioctl requests, fcntl commands, ints
			   (the kernel reads these as 32 bits, whatever the upper half) */
	T_CLEAR,	/* (arg & val) == 0 */
};

struct cond {
	unsigned arg;		/* 0..5 */
	enum test test;
	uint64_t val;
	const char *label;	/* printed; NULL ends the list */
	uint64_t (*val_fn)(void);	/* when the value is known only at run time */
};

struct allow {
	const char *sys;
	struct cond c[3];	/* ANDed; several entries for one call are ORed */
};

static uint64_t kick_signal(void) { return (uint64_t)(SIGRTMIN + 1); }	/* kvm/vcpu.c */
static uint64_t own_pid(void) { return (uint64_t)getpid(); }

#define ANY(sys)		{ #sys, { { 0 } } }
#define IOCTL(req)		{ "ioctl", { { 1, T_EQ32, req, #req } } }
#define ARG32(sys, n, v)	{ #sys, { { n, T_EQ32, v, #v } } }
#define NO_EXEC(sys)		{ #sys, { { 2, T_CLEAR, PROT_EXEC, "prot without PROT_EXEC" } } }

/*
 * Interrupts from device models, on either side: a device raises its line
 * from a vCPU's register write and from a back end's completion on the loop.
 */
static const struct allow irq_calls[] = {
	IOCTL(KVM_IRQ_LINE),		/* ISA lines, INTx, virtio-mmio without irqfd */
	IOCTL(KVM_SIGNAL_MSI),		/* MSI-X vectors without a route */
	/* MSI-X table writes route vectors (vCPU); teardown unroutes (main). */
	IOCTL(KVM_SET_GSI_ROUTING),
	IOCTL(KVM_IRQFD),
	/* virtio-pci BAR (un)mapping (vCPU); teardown (main). */
	IOCTL(KVM_IOEVENTFD),
	{ NULL }
};

/*
 * virtio-net's tap: offloads follow what the guest negotiated at DRIVER_OK
 * (a vCPU) and what it sets through the control queue (the loop); so does
 * which multi-queue tap queues take packets.
 */
static const struct allow tap_calls[] = {
	IOCTL(TUNSETOFFLOAD),
	IOCTL(TUNSETQUEUE),
	{ NULL }
};

/* What every thread needs: its locks, its clock, output, memory for libc. */
static const struct allow common_calls[] = {
	ANY(futex),			/* every mutex and condition variable, pthread_join */
	ANY(write),			/* chardev output, eventfds (irqfd, wakeups), the log */
	/*
	 * Chardev output to a socket (send) and waiting for room on a
	 * non-blocking stdout (poll): serial from a vCPU, virtio-console from
	 * the loop.
	 */
	ANY(sendto),
	ANY(poll),
	ANY(clock_gettime),		/* the RTC; the vDSO falls back to it on some clocks */
	/* QMP events' timestamps (main); a system call, not the vDSO, where the host's
	   clock source has none (an L1 whose TSC is unstable with 2 vCPUs) */
	ANY(gettimeofday),
	/* the RTC rearms its timer from both sides; rate limiters: the loop, a reset (vCPU) */
	ANY(timerfd_settime),
	ANY(restart_syscall),		/* a wait interrupted by a signal */
	ANY(rt_sigprocmask),		/* pthread_kill(); glibc's thread exit */
	/* Block and tap I/O; on a vCPU, virtio-net's DRIVER_OK and reset (its tap's ring). */
	ANY(io_uring_enter),
	/* malloc and free (a vCPU's first malloc makes an arena); never an executable mapping */
	NO_EXEC(mmap),
	NO_EXEC(mprotect),
	ANY(munmap),
	/* realloc() of a block malloc mapped on its own (QMP's reply buffer past
	   128 KiB); it keeps the mapping's protection, so never executable */
	ANY(mremap),
	ARG32(madvise, 2, MADV_DONTNEED),	/* free(), a thread's stack at its exit */
	{ NULL }
};

/*
 * vhost-kernel (virtio/vhost.c): a vhost device's DRIVER_OK and reset come
 * from the guest's status write, on a vCPU. The fds were opened at set-up;
 * teardown only closes them.
 */
static const struct allow vhost_calls[] = {
	IOCTL(VHOST_SET_FEATURES),
	IOCTL(VHOST_SET_MEM_TABLE),
	IOCTL(VHOST_SET_VRING_NUM),
	IOCTL(VHOST_SET_VRING_BASE),
	IOCTL(VHOST_SET_VRING_ADDR),
	IOCTL(VHOST_SET_VRING_KICK),
	IOCTL(VHOST_SET_VRING_CALL),
	IOCTL(VHOST_GET_VRING_BASE),	/* reset: the ring's state back */
	IOCTL(VHOST_VSOCK_SET_RUNNING),
	IOCTL(VHOST_NET_SET_BACKEND),	/* virtio-net vhost=on: the tap to the rings, and off */
	{ NULL }
};

/*
 * vhost-user (backends/vhost_user.c): a device's DRIVER_OK and reset come
 * from the guest's status write, on a vCPU, and are messages on the
 * daemon's socket, connected at set-up: sendmsg (SCM_RIGHTS: guest RAM's
 * memfds, the rings' eventfds) and recvmsg (replies), poll for the timeout.
 */
static const struct allow vhost_user_calls[] = {
	ANY(sendmsg),
	ANY(recvmsg),
	ANY(close),			/* fds a daemon sent with a reply that has none */
	{ NULL }
};

/* The same on the loop (main_calls has close): virtio-net's control queue
 * turns a vhost-user daemon's rings on and off, a machine reset stops them. */
static const struct allow vhost_user_main_calls[] = {
	ANY(sendmsg),
	ANY(recvmsg),
	{ NULL }
};

static const struct allow vcpu_calls[] = {
	IOCTL(KVM_RUN),
	IOCTL(KVM_GET_REGS),		/* the register dump of a crashed guest */
	IOCTL(KVM_GET_SREGS),
	ANY(rt_sigreturn),		/* the kick signal's handler */
	/* vhost: the queue's kick eventfd paused on the loop while the kernel has it */
	ANY(epoll_ctl),
	ANY(exit),			/* the thread ends */
	{ NULL }
};

/*
 * A machine reset runs on the loop (vmm/machine.c): each vCPU's registers,
 * MSRs, FPU, XCR0, LAPIC, events and MP state back to power-on (its
 * thread is parked), the interrupt controllers and PIT restored; the
 * kernel and initrd are mapped read-only from the files kept open.
 */
static const struct allow reset_calls[] = {
	IOCTL(KVM_GET_SREGS),		/* the boot vCPU's entry state starts from it */
	IOCTL(KVM_SET_SREGS),
	IOCTL(KVM_SET_REGS),
	IOCTL(KVM_SET_MSRS),
	IOCTL(KVM_SET_FPU),
	IOCTL(KVM_SET_XCRS),
	IOCTL(KVM_SET_LAPIC),
	IOCTL(KVM_SET_VCPU_EVENTS),
	IOCTL(KVM_SET_MP_STATE),
	IOCTL(KVM_SET_IRQCHIP),
	IOCTL(KVM_SET_PIT2),
	ANY(lseek),			/* the kernel's and initrd's size, before they are mapped */
	{ NULL }
};

static const struct allow main_calls[] = {
	ANY(epoll_wait),		/* the event loop */
	ANY(epoll_ctl),			/* chardev input paused and resumed, teardown */
	ANY(read),			/* chardevs, eventfds, timerfd, signalfd, rng-random */
	ANY(getrandom),			/* virtio-rng without rng= (GRND_NONBLOCK) */
	ANY(accept4),			/* socket chardev and -qmp servers: the next client */
	ANY(close),			/* a socket client left; teardown */
	ANY(unlink),			/* teardown: the socket chardev's path */
	ANY(brk),			/* malloc and free in the main arena */
	/* virtio-balloon: inflated and reported pages punched out of the RAM memfd */
	ARG32(fallocate, 1, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE),
	/* vcpu_kick(): pthread_kill() to this process's vCPU threads only */
	{ "tgkill", { { 0, T_EQ32, 0, "own process", own_pid },
		      { 2, T_EQ32, 0, "SIGRTMIN+1", kick_signal } } },
	ANY(getpid),			/* pthread_kill() */
	/* teardown: the terminal back from raw mode; glibc's tcsetattr reads it back */
	IOCTL(TCSETS),
	IOCTL(TCGETS),
	ANY(exit_group),
	{ NULL }
};

/*
 * -netdev user only (sandbox_allow_user_net()): libslirp on the loop
 * opens, connects, accepts and closes IPv4 and IPv6 sockets for the
 * guest's connections and the host forwards, and reads /etc/resolv.conf
 * (re-read when it changes) to forward the guest's DNS queries.
 */
static const struct allow user_net_calls[] = {
	ARG32(socket, 0, AF_INET),
	ARG32(socket, 0, AF_INET6),
	ANY(connect),			/* the guest's TCP connections, UDP and ICMP peers */
	ANY(bind),			/* UDP sockets; hostfwd added later would listen */
	ANY(listen),
	ANY(accept),			/* a connection to a host forward */
	ANY(setsockopt),		/* SO_REUSEADDR, SO_OOBINLINE, TCP_NODELAY, ... */
	ANY(getsockopt),		/* SO_ERROR of a connect that completed */
	ANY(getsockname),
	ANY(getpeername),
	ANY(shutdown),			/* the guest closed its half of a connection */
	ANY(recvfrom),			/* recv(), recvfrom(): TCP, UDP and ICMP data */
	ARG32(fcntl, 1, F_GETFL),	/* slirp_set_nonblock() */
	ARG32(fcntl, 1, F_SETFL),
	IOCTL(FIONREAD),		/* how much a UDP socket holds */
	/* /etc/resolv.conf, read only: stat() for a change, then fopen() */
	{ "openat", { { 2, T_CLEAR, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND,
			"read-only" } } },
	ANY(newfstatat),
	/* lseek: main has it (reset_calls) */
	{ NULL }
};

struct class_def {
	const char *name;
	const struct allow *lists[12];	/* NULL-terminated; room for the extras */
};

/* Printed as a class of its own; compiled into main's filter when wanted. */
static const struct class_def user_net_def = { "main+netdev-user", { user_net_calls } };
static bool user_net;

void sandbox_allow_user_net(void)
{
	user_net = true;
}

/*
 * -device vfio-pci only (sandbox_allow_vfio()): a vCPU forwards the
 * guest's trapped BAR and command register accesses to the VFIO device fd
 * with pread/pwrite and moves the mmap'd BARs' memory slots; a machine reset and teardown on main turn its interrupts
 * off and reset the device (for the guest's next boot, its next user).
 */
static const struct allow vfio_vcpu_calls[] = {
	ANY(pread64),
	ANY(pwrite64),
	IOCTL(VFIO_DEVICE_SET_IRQS),	/* the guest turns MSI-X on or off: INTx off or on */
	IOCTL(KVM_SET_USER_MEMORY_REGION),	/* the guest moves an mmap'd BAR */
	{ NULL }
};

static const struct allow vfio_main_calls[] = {
	IOCTL(VFIO_DEVICE_RESET),
	IOCTL(VFIO_DEVICE_SET_IRQS),	/* INTx unwired before the reset, MSI-X off at a machine reset */
	/* a machine reset (the loop): bus mastering off in the function's command register */
	ANY(pread64),
	ANY(pwrite64),
	IOCTL(KVM_SET_USER_MEMORY_REGION),	/* a reset takes the BARs out of the guest */
	IOCTL(KVM_SET_DEVICE_ATTR),	/* teardown: the group leaves KVM's VFIO device */
	{ NULL }
};

static const struct class_def vfio_main_def = { "main+vfio", { vfio_main_calls } };
static const struct class_def vfio_vcpu_def = { "vcpu+vfio", { vfio_vcpu_calls } };
static bool vfio_on;

void sandbox_allow_vfio(void)
{
	vfio_on = true;
}

/*
 * chardev reconnect= with vhost-user-blk only (sandbox_allow_reconnect()):
 * the loop connects to the back end's socket again after it left.
 */
static const struct allow reconnect_calls[] = {
	ARG32(socket, 0, AF_UNIX),
	ANY(connect),
	ARG32(fcntl, 1, F_SETFL),	/* the new socket non-blocking */
	{ NULL }
};

static const struct class_def reconnect_def = { "main+reconnect", { reconnect_calls } };
static bool reconnect_on;

void sandbox_allow_reconnect(void)
{
	reconnect_on = true;
}

/*
 * A QMP monitor or -incoming only (sandbox_allow_snapshot()): migrate and
 * migrate-incoming on the loop (vmm/snapshot.c): the VM's
 * and vCPUs' state read and set (the rest of the set calls are in
 * reset_calls), the state and RAM files written, or read and mapped
 * (mmap is common_calls', never executable).
 */
static const struct allow snapshot_calls[] = {
	IOCTL(KVM_GET_REGS),
	IOCTL(KVM_GET_XSAVE),
	IOCTL(KVM_GET_XCRS),
	IOCTL(KVM_GET_LAPIC),
	IOCTL(KVM_GET_MP_STATE),
	IOCTL(KVM_GET_VCPU_EVENTS),
	IOCTL(KVM_GET_DEBUGREGS),
	IOCTL(KVM_GET_MSRS),
	IOCTL(KVM_GET_MSR_INDEX_LIST),
	IOCTL(KVM_GET_CPUID2),
	IOCTL(KVM_GET_IRQCHIP),
	IOCTL(KVM_GET_PIT2),
	IOCTL(KVM_GET_CLOCK),
	IOCTL(KVM_SET_XSAVE),
	IOCTL(KVM_SET_DEBUGREGS),
	IOCTL(KVM_SET_CPUID2),
	IOCTL(KVM_SET_CLOCK),
	/* the state file and PATH.mem: written anew, or read; never appended or updated */
	{ "openat", { { 2, T_CLEAR, O_RDWR | O_APPEND, "write-only or read-only" } } },
	ANY(ftruncate),
	ANY(pwrite64),
	ANY(fstat),
	ANY(newfstatat),
	ANY(rename),			/* PATH.tmp to PATH, over an older snapshot */
	ARG32(madvise, 2, MADV_DONTDUMP),	/* the restored RAM kept out of core dumps */
	{ NULL }
};

static const struct class_def snapshot_def = { "main+snapshot", { snapshot_calls } };
static bool snapshot_on;

void sandbox_allow_snapshot(void)
{
	snapshot_on = true;
}

/*
 * A pcie-root-port with hotplug=on only (sandbox_allow_hotplug()): device_add
 * realizes a device on the loop while the guest runs, with the io_uring
 * rings of its block node and the eventfds of its queues and vectors;
 * blockdev-add opens an image file (its lock, size and O_DIRECT probe).
 */
static const struct allow hotplug_main_calls[] = {
	ANY(io_uring_setup),
	ANY(io_uring_register),
	ANY(eventfd2),
	ANY(openat),
	ANY(newfstatat),
	ARG32(fcntl, 1, F_OFD_SETLK),
	ARG32(fcntl, 1, F_OFD_GETLK),
	ANY(pread64),
	{ NULL }
};

static const struct class_def hotplug_main_def = { "main+hotplug", { hotplug_main_calls } };
static bool hotplug_on;

void sandbox_allow_hotplug(void)
{
	hotplug_on = true;
}

/* The optional lists, printed as classes of their own, compiled in when wanted. */
static const struct {
	const struct class_def *def;
	enum sandbox_class into;
	const bool *on;
} extras[] = {
	{ &user_net_def, SANDBOX_MAIN, &user_net },
	{ &vfio_main_def, SANDBOX_MAIN, &vfio_on },
	{ &vfio_vcpu_def, SANDBOX_VCPU, &vfio_on },
	{ &reconnect_def, SANDBOX_MAIN, &reconnect_on },
	{ &snapshot_def, SANDBOX_MAIN, &snapshot_on },
	{ &hotplug_main_def, SANDBOX_MAIN, &hotplug_on },
};

static const struct class_def classes[SANDBOX_NR_CLASSES] = {
	/* vhost_calls: a machine reset stops a vhost device on the loop (and
	 * the guest's DRIVER_OK after it starts it on a vCPU) */
	[SANDBOX_MAIN] = { "main", { common_calls, irq_calls, tap_calls, vhost_calls, main_calls,
				     reset_calls, vhost_user_main_calls } },
	[SANDBOX_VCPU] = { "vcpu", { common_calls, irq_calls, tap_calls, vhost_calls,
				     vhost_user_calls, vcpu_calls } },
};

/* ---- state ---- */

static bool enabled = true, enabled_set;

/* Filled by sandbox_setup(), read by threads loading and by the SIGSYS handler. */
static struct sock_fprog progs[SANDBOX_NR_CLASSES];
#define NAMES_MAX 1024
static const char *sys_names[NAMES_MAX];
static uint32_t native_arch;
static __thread char thread_name[16];

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned arrived, failed;
	int state;		/* 0: closed, 1: go, -1: abort */
} gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 };

#ifdef EMBER_TEST_TRIGGERS
static const char *trigger;	/* EMBER_TEST_FORBIDDEN_SYSCALL: vcpu or main */
#endif

bool sandbox_sanitized_build(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
	return true;
#else
	return false;
#endif
#else
	return false;
#endif
}

void sandbox_set_enabled(bool on)
{
	enabled = on;
	enabled_set = true;
}

bool sandbox_enabled(void)
{
	return enabled_set ? enabled : !sandbox_sanitized_build();
}

const char *sandbox_class_name(enum sandbox_class c)
{
	return (unsigned)c < SANDBOX_NR_CLASSES ? classes[c].name : NULL;
}

/* ---- building ---- */

static int resolve(const char *sys)
{
	int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, sys);

	if (nr == __NR_SCMP_ERROR || nr < 0) {
		err_msg("seccomp: unknown system call '%s' in the allowlist", sys);
		return -EINVAL;
	}
	return nr;
}

static struct scmp_arg_cmp to_cmp(const struct cond *c)
{
	uint64_t v = c->val_fn ? c->val_fn() : c->val;

	if (c->test == T_CLEAR)
		return SCMP_CMP64(c->arg, SCMP_CMP_MASKED_EQ, v, 0);
	return SCMP_CMP64(c->arg, SCMP_CMP_MASKED_EQ, 0xffffffffULL, v & 0xffffffffULL);
}

static unsigned nconds(const struct allow *a)
{
	unsigned n = 0;

	while (n < ARRAY_SIZE(a->c) && a->c[n].label)
		n++;
	return n;
}

/* An unconditional entry next to a conditional one would void the condition. */
/* The class's own lists (@n_base of them); the extras may overlap them and each other. */
static int check_class(const struct class_def *d, unsigned n_base)
{
	for (unsigned i = 0; i < n_base && d->lists[i]; i++)
		for (const struct allow *a = d->lists[i]; a->sys; a++)
			for (unsigned j = 0; j < n_base && d->lists[j]; j++)
				for (const struct allow *b = d->lists[j]; b->sys; b++)
					if (a != b && !strcmp(a->sys, b->sys) &&
					    (!nconds(a) || !nconds(b))) {
						err_msg("seccomp: class %s lists %s both with and "
							"without an argument filter", d->name, a->sys);
						return -EINVAL;
					}
	return 0;
}

static unsigned nbase(const struct class_def *d)
{
	unsigned n = 0;

	while (d->lists[n])
		n++;
	return n;
}

/*
 * Whether rule @a of class @d is covered by another: an unfiltered rule
 * for the same call (the first of several unfiltered ones counts). Extras
 * overlap (main+hotplug opens any file, main+netdev-user only to read).
 */
static bool covered(const struct class_def *d, const struct allow *a)
{
	for (unsigned i = 0; d->lists[i]; i++)
		for (const struct allow *b = d->lists[i]; b->sys; b++) {
			if (b == a)
				return false;	/* the first unfiltered one is kept */
			if (!strcmp(a->sys, b->sys) && !nconds(b))
				return true;
		}
	return false;
}

static bool any_later(const struct class_def *d, const struct allow *a)
{
	bool after = false;

	for (unsigned i = 0; d->lists[i]; i++)
		for (const struct allow *b = d->lists[i]; b->sys; b++) {
			if (after && !strcmp(a->sys, b->sys) && !nconds(b))
				return true;
			after |= b == a;
		}
	return false;
}

static int build_ctx(enum sandbox_class c, scmp_filter_ctx *out)
{
	struct class_def with = classes[c];
	const struct class_def *d = &with;
	scmp_filter_ctx ctx;
	unsigned nl = 0;
	int ret;

	while (with.lists[nl])
		nl++;
	/* lists[] has room for them: main has 7 of 11 (+3 extras), vcpu 6 (+1) */
	for (unsigned i = 0; i < ARRAY_SIZE(extras); i++)
		if (extras[i].into == c && *extras[i].on && nl < ARRAY_SIZE(with.lists) - 1)
			with.lists[nl++] = extras[i].def->lists[0];

	ret = check_class(d, nbase(&classes[c]));
	if (ret)
		return ret;
	/* TRAP, not KILL_PROCESS: the handler names the call, then dies of SIGSYS. */
#ifdef EMBER_SANDBOX_DISCOVER
	/* Maintainers' builds only (docs/sandbox.md): log what is missing, allow it. */
	ctx = seccomp_init(SCMP_ACT_LOG);
#else
	ctx = seccomp_init(SCMP_ACT_TRAP);
#endif
	if (!ctx) {
		err_msg("seccomp: cannot create a filter");
		return -ENOMEM;
	}
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	/* A binary tree: KVM_RUN's ioctl must not walk the whole list. */
	if (!ret)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (unsigned i = 0; !ret && d->lists[i]; i++) {
		for (const struct allow *a = d->lists[i]; !ret && a->sys; a++) {
			struct scmp_arg_cmp cmp[ARRAY_SIZE(a->c)];
			unsigned n = nconds(a);
			int nr = resolve(a->sys);

			if (nr < 0) {
				ret = nr;
				break;
			}
			if (covered(d, a) || (n && any_later(d, a)))
				continue;
			for (unsigned k = 0; k < n; k++)
				cmp[k] = to_cmp(&a->c[k]);
			ret = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
			if (ret)
				err_msg("seccomp: class %s: cannot add %s: %s", d->name, a->sys,
					strerror(-ret));
		}
	}
	if (ret) {
		seccomp_release(ctx);
		return ret;
	}
	*out = ctx;
	return 0;
}

/* libseccomp 2.5 exports BPF only to an fd: a memfd, read back. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	struct stat st;
	void *buf = NULL;
	int fd, ret;

	fd = memfd_create("ember-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = seccomp_export_bpf(ctx, fd);
	if (!ret && fstat(fd, &st))
		ret = -errno;
	if (!ret && (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) ||
		     st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS))
		ret = -E2BIG;
	if (!ret && !(buf = malloc(st.st_size)))
		ret = -ENOMEM;
	if (!ret && pread(fd, buf, st.st_size, 0) != st.st_size)
		ret = -EIO;
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	free(prog->filter);
	prog->filter = buf;
	prog->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	return 0;
}

int sandbox_compile(enum sandbox_class c)
{
	scmp_filter_ctx ctx;
	int ret;

	if ((unsigned)c >= SANDBOX_NR_CLASSES)
		return -EINVAL;
	ret = build_ctx(c, &ctx);
	if (ret)
		return ret;
	ret = export_bpf(ctx, &progs[c]);
	seccomp_release(ctx);
	if (ret) {
		err_msg("seccomp: cannot compile the %s filter: %s", classes[c].name,
			strerror(-ret));
		return ret;
	}
	return progs[c].len;
}

/* ---- printing ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sandbox_print(FILE *f)
{
	/* The classes, then what -netdev user and -device vfio-pci add. */
	for (unsigned c = 0; c < SANDBOX_NR_CLASSES + ARRAY_SIZE(extras); c++) {
		const struct class_def *d = c < SANDBOX_NR_CLASSES ? &classes[c] :
					    extras[c - SANDBOX_NR_CLASSES].def;
		char *lines[256];
		unsigned n = 0;
		int ret = check_class(d, nbase(d));

		for (unsigned i = 0; !ret && d->lists[i]; i++) {
			for (const struct allow *a = d->lists[i]; a->sys; a++) {
				char buf[160];
				int len;

				if ((ret = resolve(a->sys)) < 0)
					break;
				ret = 0;
				len = snprintf(buf, sizeof(buf), "%s %s", d->name, a->sys);
				for (unsigned k = 0; k < nconds(a); k++)
					len += snprintf(buf + len, sizeof(buf) - len, "%s%s",
							k ? ", " : "(", a->c[k].label);
				if (nconds(a))
					snprintf(buf + len, sizeof(buf) - len, ")");
				if (n == ARRAY_SIZE(lines) || !(lines[n] = strdup(buf))) {
					ret = -ENOMEM;
					break;
				}
				n++;
			}
		}
		if (!ret)
			qsort(lines, n, sizeof(lines[0]), cmp_str);
		for (unsigned i = 0; i < n; i++) {
			if (!ret)
				fprintf(f, "%s\n", lines[i]);
			free(lines[i]);
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- the report of a forbidden call ---- */

static size_t put_str(char *buf, size_t at, size_t size, const char *s)
{
	while (*s && at + 1 < size)
		buf[at++] = *s++;
	return at;
}

static size_t put_num(char *buf, size_t at, size_t size, unsigned long v, unsigned base)
{
	char tmp[24];
	unsigned n = 0;

	do
		tmp[n++] = "0123456789abcdef"[v % base];
	while ((v /= base) && n < sizeof(tmp));
	while (n && at + 1 < size)
		buf[at++] = tmp[--n];
	return at;
}

/*
 * SIGSYS: only async-signal-safe calls. One write(2), then death by SIGSYS:
 * SIGSYS is blocked while this handler runs, so if resetting it or raising
 * it is itself forbidden, the kernel resets the handler and kills the
 * process with SIGSYS at that trap.
 */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char msg[256];
	size_t n = 0;
	int nr = si->si_syscall;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t set;

	(void)uc;
	n = put_str(msg, n, sizeof(msg), "ember: error: seccomp: thread ");
	n = put_str(msg, n, sizeof(msg), thread_name[0] ? thread_name : "?");
	if (si->si_code != SYS_SECCOMP) {
		n = put_str(msg, n, sizeof(msg), " received SIGSYS not sent by seccomp");
	} else {
		n = put_str(msg, n, sizeof(msg), " made forbidden system call ");
		if (si->si_arch == native_arch && nr >= 0 && nr < NAMES_MAX && sys_names[nr])
			n = put_str(msg, n, sizeof(msg), sys_names[nr]);
		else
			n = put_str(msg, n, sizeof(msg), "syscall");
		n = put_str(msg, n, sizeof(msg), "(");
		n = put_num(msg, n, sizeof(msg), (unsigned)nr, 10);
		n = put_str(msg, n, sizeof(msg), ")");
		if (si->si_arch != native_arch) {
			n = put_str(msg, n, sizeof(msg), " of architecture 0x");
			n = put_num(msg, n, sizeof(msg), si->si_arch, 16);
		}
	}
	n = put_str(msg, n, sizeof(msg), "\n");
	if (write(STDERR_FILENO, msg, n) < 0) {
		/* nowhere to say it */
	}
	sigaction(SIGSYS, &dfl, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + SIGSYS);
}

static int build_names(void)
{
	native_arch = seccomp_arch_native();
	for (int nr = 0; nr < NAMES_MAX; nr++)
		if (!sys_names[nr])
			sys_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	return 0;
}

static int install_reporter(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL)) {
		err_msg("seccomp: cannot install the SIGSYS handler: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* ---- capabilities ---- */

/*
 * Nothing ember does after set-up needs a capability. The bounding set
 * goes first, while CAP_SETPCAP is still there; without CAP_SETPCAP (not
 * root) it cannot be dropped, and NO_NEW_PRIVS makes it moot: execve can
 * no longer grant anything (and is not allowed anyway).
 */
static int drop_privileges(void)
{
	bool setpcap;

	if (capng_get_caps_process()) {
		err_msg("sandbox: cannot read the process's capabilities");
		return -EPERM;
	}
	setpcap = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	capng_clear(CAPNG_SELECT_BOTH);
	if (setpcap && capng_apply(CAPNG_SELECT_BOUNDS)) {
		err_msg("sandbox: cannot clear the capability bounding set");
		return -EPERM;
	}
	if (capng_apply(CAPNG_SELECT_CAPS)) {
		err_msg("sandbox: cannot drop capabilities");
		return -EPERM;
	}
	/* Empty permitted and inheritable sets leave no ambient one; older kernels: EINVAL. */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err_msg("sandbox: cannot set no_new_privs: %s", strerror(errno));
		return -errno;
	}
	if (capng_get_caps_process() || capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE) {
		err_msg("sandbox: capabilities are still there after dropping them");
		return -EPERM;
	}
	if (!setpcap)
		debug_msg("sandbox: no CAP_SETPCAP: the capability bounding set stays as it is");
	return 0;
}

/* ---- loading ---- */

int sandbox_load(enum sandbox_class c, const char *name)
{
	if ((unsigned)c >= SANDBOX_NR_CLASSES || !progs[c].filter)
		return -EINVAL;
	snprintf(thread_name, sizeof(thread_name), "%s", name);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &progs[c])) {
		int e = errno;

		err_msg("seccomp: thread %s cannot load its filter: %s%s", name, strerror(e),
			e == EINVAL || e == ENOSYS ? " (no CONFIG_SECCOMP_FILTER? -sandbox off)" : "");
		return -e;
	}
	return 0;
}

int sandbox_setup(void)
{
	int ret;

	if (!sandbox_enabled())
		return 0;
	if (sandbox_sanitized_build())
		warn_msg("-sandbox on in a sanitizer build: the sanitizer's run time makes calls "
			 "no allowlist has (at a thread's exit, for leak checks and reports) and "
			 "ember may die of SIGSYS there");
	for (unsigned c = 0; c < SANDBOX_NR_CLASSES; c++) {
		ret = sandbox_compile(c);
		if (ret < 0)
			return ret;
	}
	/*
	 * glibc reads /etc/localtime (and mallocs) on the first gmtime_r(),
	 * which the RTC calls on a vCPU: now, before the filters.
	 */
	tzset();
	ret = build_names();
	if (!ret)
		ret = install_reporter();
	if (!ret)
		ret = drop_privileges();
#ifdef EMBER_TEST_TRIGGERS
	trigger = getenv("EMBER_TEST_FORBIDDEN_SYSCALL");
#endif
	pthread_mutex_lock(&gate.lock);
	gate.arrived = gate.failed = 0;
	gate.state = 0;
	pthread_mutex_unlock(&gate.lock);
	return ret;
}

#ifdef EMBER_TEST_TRIGGERS
/* Test builds only (-Dtest_triggers=true): a forbidden call, once, on request. */
static void test_trigger(const char *where)
{
	char *const argv[] = { "true", NULL };

	if (!trigger || strcmp(trigger, where))
		return;
	execve("/bin/true", argv, argv + 1);
}
#endif

int sandbox_enter_vcpu(unsigned index)
{
	char name[16];
	sigset_t set;
	int ret, state;

	if (!sandbox_enabled())
		return 0;
	/* vCPU threads start with every signal blocked; a blocked SIGSYS kills unreported. */
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	snprintf(name, sizeof(name), "vcpu%u", index);
	ret = sandbox_load(SANDBOX_VCPU, name);
	pthread_mutex_lock(&gate.lock);
	gate.arrived++;
	gate.failed += ret != 0;
	pthread_cond_broadcast(&gate.cond);
	while (!gate.state)
		pthread_cond_wait(&gate.cond, &gate.lock);
	state = gate.state;
	pthread_mutex_unlock(&gate.lock);
	if (ret || state < 0)
		return ret ? ret : -ECANCELED;
#ifdef EMBER_TEST_TRIGGERS
	if (index == 0)
		test_trigger("vcpu");
#endif
	return 0;
}

int sandbox_enter_main(unsigned nr_vcpus)
{
	int ret = 0;

	if (!sandbox_enabled())
		return 0;
	pthread_mutex_lock(&gate.lock);
	while (gate.arrived < nr_vcpus)
		pthread_cond_wait(&gate.cond, &gate.lock);
	if (gate.failed)
		ret = -EPERM;	/* the vCPU said why */
	pthread_mutex_unlock(&gate.lock);
	if (!ret)
		ret = sandbox_load(SANDBOX_MAIN, "main");
	pthread_mutex_lock(&gate.lock);
	gate.state = ret ? -1 : 1;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);
#ifdef EMBER_TEST_TRIGGERS
	if (!ret)
		test_trigger("main");
#endif
	return ret;
}
