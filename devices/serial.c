/*
 * 16550A UART, modelled as far as the Linux 8250 driver looks: it probes the
 * scratch, IER and loopback registers, identifies a 16550A by the FIFO bits
 * in IIR, and checks at start-up that enabling THRI raises an interrupt.
 *
 * Transmission is instant: a byte written to THR goes to the chardev at
 * once, so THRE and TEMT are always set. Input is taken only as far as the
 * RX FIFO has room; the chardev holds the rest until we ask for more, so
 * nothing is lost while the guest is slow.
 *
 * vCPU threads (register access) and the event loop (input) share the
 * registers under one mutex. chardev calls are made after dropping it, so
 * a chardev that delivers input under its own lock cannot deadlock with us.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "backends/chardev.h"
#include "devices/aml.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "devices/serial.h"
#include "lib/keyval.h"
#include "lib/log.h"
#include "lib/props.h"
#include "lib/util.h"

#define SERIAL_PORTS	8
#define RX_FIFO_SIZE	16

/* Register offsets (DLAB selects DLL/DLM at 0/1). */
enum { R_RBR, R_IER, R_IIR, R_LCR, R_MCR, R_LSR, R_MSR, R_SCR };

#define IER_RDI		0x01
#define IER_THRI	0x02
#define IER_RLSI	0x04
#define IER_MSI		0x08

#define IIR_NO_INT	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_CTI		0x0c
#define IIR_FIFO_ON	0xc0

#define FCR_FE		0x01
#define FCR_RFR		0x02
#define FCR_XFR		0x04
#define FCR_KEEP	0xc9	/* enable, DMA mode, trigger level */

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_ERR		0x1e	/* OE, PE, FE, BI: cleared by reading LSR */
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_DELTA	0x0f
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

/* What the guest can see; plain data so a snapshot can copy it. */
struct serial_regs {
	uint8_t ier, lcr, mcr, fcr, scr, dll, dlm;
	uint8_t lsr;		/* error bits only; DR/THRE/TEMT are derived */
	uint8_t msr;
	uint8_t thr_pending;	/* THRE interrupt not yet acknowledged */
	uint8_t rx_head, rx_count;
	uint8_t rx[RX_FIFO_SIZE];
};

struct serial {
	/* properties */
	char *chardev;
	uint32_t iobase;
	uint32_t irq;

	struct serial_regs r;
	pthread_mutex_t lock;
	struct irq_pin pin;
	int level;		/* what we last drove on the pin */
	bool rx_blocked;	/* refused input: tell the chardev once there is room */
	struct chardev *chr;
	const char *name;
	int index;		/* among the machine's UARTs: COM<index+1> in the DSDT */
};

static unsigned rx_capacity(const struct serial_regs *r)
{
	/* With the FIFO off the 16550 behaves as a 16450: one holding byte. */
	return (r->fcr & FCR_FE) ? RX_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct serial_regs *r)
{
	static const uint8_t level[4] = { 1, 4, 8, 14 };

	return level[r->fcr >> 6];
}

static void rx_push(struct serial_regs *r, uint8_t c)
{
	r->rx[(r->rx_head + r->rx_count) % RX_FIFO_SIZE] = c;
	r->rx_count++;
}

static uint8_t iir_cause(const struct serial_regs *r)
{
	if ((r->ier & IER_RLSI) && (r->lsr & LSR_ERR))
		return IIR_RLSI;
	if ((r->ier & IER_RDI) && r->rx_count) {
		/*
		 * Without a character timer, data below the trigger level is
		 * reported as a timeout straight away, as it would be after
		 * four idle character times.
		 */
		if ((r->fcr & FCR_FE) && r->rx_count < rx_trigger(r))
			return IIR_CTI;
		return IIR_RDI;
	}
	if ((r->ier & IER_THRI) && r->thr_pending)
		return IIR_THRI;
	if ((r->ier & IER_MSI) && (r->msr & MSR_DELTA))
		return IIR_MSI;
	return IIR_NO_INT;
}

static void update_irq(struct serial *s)
{
	int level = iir_cause(&s->r) != IIR_NO_INT;

	if (level != s->level) {
		s->level = level;
		irq_pin_set(&s->pin, level);
	}
}

/* Modem input lines: fixed "cable connected", or MCR outputs in loopback. */
static void msr_update(struct serial_regs *r)
{
	uint8_t old = r->msr, now, delta = 0;

	if (r->mcr & MCR_LOOP)
		now = ((r->mcr & MCR_DTR) ? MSR_DSR : 0) |
		      ((r->mcr & MCR_RTS) ? MSR_CTS : 0) |
		      ((r->mcr & MCR_OUT1) ? MSR_RI : 0) |
		      ((r->mcr & MCR_OUT2) ? MSR_DCD : 0);
	else
		now = MSR_CTS | MSR_DSR | MSR_DCD;
	if ((old ^ now) & MSR_CTS)
		delta |= MSR_DCTS;
	if ((old ^ now) & MSR_DSR)
		delta |= MSR_DDSR;
	if ((old & MSR_RI) && !(now & MSR_RI))
		delta |= MSR_TERI;
	if ((old ^ now) & MSR_DCD)
		delta |= MSR_DDCD;
	r->msr = now | (old & MSR_DELTA) | delta;
}

static void serial_reset(struct serial *s)
{
	struct serial_regs *r = &s->r;

	memset(r, 0, sizeof(*r));
	r->dll = 0x0c;		/* 9600 baud */
	r->msr = MSR_CTS | MSR_DSR | MSR_DCD;
	s->level = 0;
	s->rx_blocked = false;
}

/* Reads one register; sets *notify when the chardev may send more. */
static uint8_t reg_read(struct serial *s, unsigned off, bool *notify)
{
	struct serial_regs *r = &s->r;
	bool was_full;
	uint8_t v;

	switch (off) {
	case R_RBR:
		if (r->lcr & LCR_DLAB)
			return r->dll;
		if (!r->rx_count)
			return 0;
		was_full = r->rx_count == rx_capacity(r);
		v = r->rx[r->rx_head];
		r->rx_head = (r->rx_head + 1) % RX_FIFO_SIZE;
		r->rx_count--;
		if ((was_full || s->rx_blocked) && !(r->mcr & MCR_LOOP)) {
			s->rx_blocked = false;
			*notify = true;
		}
		return v;
	case R_IER:
		return (r->lcr & LCR_DLAB) ? r->dlm : r->ier;
	case R_IIR:
		v = iir_cause(r);
		/* Reading IIR acknowledges THRE, as on a real 16550. */
		if (v == IIR_THRI)
			r->thr_pending = 0;
		return v | ((r->fcr & FCR_FE) ? IIR_FIFO_ON : 0);
	case R_LCR:
		return r->lcr;
	case R_MCR:
		return r->mcr;
	case R_LSR:
		v = r->lsr | (r->rx_count ? LSR_DR : 0) | LSR_THRE | LSR_TEMT;
		r->lsr &= ~LSR_ERR;
		return v;
	case R_MSR:
		v = r->msr;
		r->msr &= ~MSR_DELTA;
		return v;
	default:
		return r->scr;
	}
}

/* Writes one register; returns true with *tx set for a byte to send. */
static bool reg_write(struct serial *s, unsigned off, uint8_t v, uint8_t *tx,
		      bool *notify)
{
	struct serial_regs *r = &s->r;
	uint8_t changed;

	switch (off) {
	case R_RBR:
		if (r->lcr & LCR_DLAB) {
			r->dll = v;
			return false;
		}
		/* Sent at once: the holding register is empty again. */
		r->thr_pending = 1;
		if (!(r->mcr & MCR_LOOP)) {
			*tx = v;
			return true;
		}
		if (r->rx_count < rx_capacity(r))
			rx_push(r, v);
		else
			r->lsr |= LSR_OE;
		return false;
	case R_IER:
		if (r->lcr & LCR_DLAB) {
			r->dlm = v;
			return false;
		}
		changed = (r->ier ^ v) & IER_THRI;
		r->ier = v & 0x0f;
		/*
		 * Enabling THRI while THR is empty raises the interrupt even
		 * if it was acknowledged before; Linux's start-up test and
		 * Windows rely on it.
		 */
		if (changed)
			r->thr_pending = !!(r->ier & IER_THRI);
		return false;
	case R_IIR:	/* FCR */
		if ((v ^ r->fcr) & FCR_FE)
			v |= FCR_RFR | FCR_XFR;
		if (v & FCR_RFR) {
			r->rx_head = r->rx_count = 0;
			if (s->rx_blocked && !(r->mcr & MCR_LOOP)) {
				s->rx_blocked = false;
				*notify = true;
			}
		}
		if (v & FCR_XFR)
			r->thr_pending = 1;
		r->fcr = v & FCR_KEEP;
		return false;
	case R_LCR:
		r->lcr = v;
		return false;
	case R_MCR:
		changed = (r->mcr ^ v) & MCR_LOOP;
		r->mcr = v & MCR_MASK;
		if (changed && !(r->mcr & MCR_LOOP) && s->rx_blocked) {
			s->rx_blocked = false;
			*notify = true;
		}
		msr_update(r);
		return false;
	case R_LSR:
	case R_MSR:
		return false;	/* factory-test writes: ignored */
	default:
		r->scr = v;
		return false;
	}
}

/* A wider access is a run of byte accesses, as the ISA bus would make it. */
static void serial_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct serial *s = opaque;
	uint8_t *p = data;
	bool notify = false;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < len; i++)
		p[i] = reg_read(s, (off + i) % SERIAL_PORTS, &notify);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	if (notify && s->chr)
		chardev_accept_input(s->chr);
}

static void serial_write(void *opaque, uint64_t off, const void *data,
			 unsigned len)
{
	struct serial *s = opaque;
	const uint8_t *p = data;
	uint8_t tx[8], c;
	unsigned ntx = 0;
	bool notify = false;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < len; i++) {
		if (reg_write(s, (off + i) % SERIAL_PORTS, p[i], &c, &notify) &&
		    ntx < sizeof(tx))
			tx[ntx++] = c;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	if (ntx)
		boot_trace_once("the guest's first serial output");
	if (ntx && s->chr)
		chardev_write(s->chr, tx, ntx);
	if (notify && s->chr)
		chardev_accept_input(s->chr);
}

static const struct bus_ops serial_ops = {
	.read = serial_read,
	.write = serial_write,
};

/* Chardev input, on the event-loop thread. */
static size_t serial_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct serial *s = opaque;
	struct serial_regs *r = &s->r;
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	/* In loopback the receiver hears only the transmitter. */
	if (!(r->mcr & MCR_LOOP)) {
		n = MIN(len, (size_t)(rx_capacity(r) - r->rx_count));
		for (size_t i = 0; i < n; i++)
			rx_push(r, buf[i]);
	}
	if (n < len)
		s->rx_blocked = true;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

static int serial_realize(struct device *dev, struct platform *pf)
{
	struct serial *s = dev->state;
	struct chardev *chr = NULL;
	int ret;

	s->name = dev->id ? dev->id : "isa-serial";
	for (struct device *d = pf->devices; d; d = d->next)
		if (d->type == dev->type)
			s->index++;
	if (s->chardev) {
		chr = chardev_find(s->chardev);
		if (!chr) {
			err_msg("%s: no chardev with id '%s'", s->name,
				s->chardev);
			return -ENOENT;
		}
	}
	ret = pthread_mutex_init(&s->lock, NULL);
	if (ret) {
		err_msg("%s: cannot create lock: %s", s->name, strerror(ret));
		return -ret;
	}
	s->pin = (struct irq_pin){ .pf = pf, .gsi = s->irq };
	serial_reset(s);
	ret = bus_register(&pf->pio, s->iobase, SERIAL_PORTS, &serial_ops, s,
			   s->name);
	if (ret)
		goto err_lock;
	if (chr) {
		s->chr = chr;
		ret = chardev_attach(chr, serial_input, s);
		if (ret) {
			err_msg("%s: chardev '%s' is in use by another device",
				s->name, chardev_id(chr) ? chardev_id(chr) : "?");
			s->chr = NULL;
			goto err_bus;
		}
	}
	return 0;

err_bus:
	bus_unregister(&pf->pio, s->iobase);
err_lock:
	pthread_mutex_destroy(&s->lock);
	return ret;
}

/* Machine reset: registers at power-on, the line low; the chardev stays. */
static void serial_dev_reset(struct device *dev, struct platform *pf)
{
	struct serial *s = dev->state;
	bool blocked;
	int level;

	pthread_mutex_lock(&s->lock);
	blocked = s->rx_blocked;
	level = s->level;
	serial_reset(s);
	if (level)
		irq_pin_set(&s->pin, 0);
	pthread_mutex_unlock(&s->lock);
	/* Input the old FIFO refused can come now. */
	if (blocked && s->chr)
		chardev_accept_input(s->chr);
}

static void serial_unrealize(struct device *dev, struct platform *pf)
{
	struct serial *s = dev->state;

	if (s->chr)
		chardev_detach(s->chr);
	s->chr = NULL;
	bus_unregister(&pf->pio, s->iobase);
	if (s->level)
		irq_pin_set(&s->pin, 0);
	pthread_mutex_destroy(&s->lock);
}

/*
 * Without a DSDT node a hardware-reduced guest has no mapping for ISA IRQ 4:
 * Linux's 8250 driver then fails to start the port when it is opened.
 */
static void serial_aml(struct device *dev, struct aml *a)
{
	struct serial *s = dev->state;

	/* Names stop at COM9; a tenth UART gets no node (and no usable IRQ). */
	if (s->index <= 8)
		acpi_dsdt_add_serial(a, s->index, s->iobase, s->irq);
}

static const struct prop serial_props[] = {
	{ .name = "chardev", .type = PROP_STR,
	  .offset = offsetof(struct serial, chardev),
	  .help = "id of the -chardev for input and output (none: output dropped)" },
	{ .name = "iobase", .type = PROP_U32,
	  .offset = offsetof(struct serial, iobase), .def = "0x3f8",
	  .help = "first of the 8 I/O ports", .max = 0xfff8 },
	{ .name = "irq", .type = PROP_U32,
	  .offset = offsetof(struct serial, irq), .def = "4",
	  .help = "ISA interrupt line", .min = 1, .max = 15 },
	{ .name = NULL },
};

/* Snapshot restored: the line as the registers say. */
static void serial_post_load(struct device *dev)
{
	struct serial *s = dev->state;

	pthread_mutex_lock(&s->lock);
	s->level = -1;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static const struct device_type serial_type = {
	.name = "isa-serial",
	.bus = "isa",
	.desc = "16550A UART",
	.state_size = sizeof(struct serial),
	.props = serial_props,
	.realize = serial_realize,
	.unrealize = serial_unrealize,
	.reset = serial_dev_reset,
	.aml = serial_aml,
	.snap_off = offsetof(struct serial, r),
	.snap_size = sizeof(struct serial_regs),
	.post_load = serial_post_load,
};
DEVICE_TYPE(serial_type)

int serial_create(struct platform *pf, struct chardev *chr, uint16_t iobase,
		  unsigned irq, struct device **out)
{
	char k_base[] = "iobase", k_irq[] = "irq", k_chr[] = "chardev", v_base[16], v_irq[16];
	/* The -serial chardevs have ids too ("serialN"): realize finds it by id. */
	struct kv_pair pairs[] = {
		{ .key = k_base, .val = v_base },
		{ .key = k_irq, .val = v_irq },
		{ .key = k_chr, .val = chr ? (char *)chardev_id(chr) : NULL },
	};
	struct keyval kv = { .pairs = pairs, .n = ARRAY_SIZE(pairs) - !chr };

	snprintf(v_base, sizeof(v_base), "%#x", iobase);
	snprintf(v_irq, sizeof(v_irq), "%u", irq);
	return device_create_kv(pf, serial_type.name, &kv, out);
}
