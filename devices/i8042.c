/*
 * The PS/2 controller, reduced to what matters without a keyboard: command
 * 0xfe (or a write of the output port with bit 0 clear) pulses the CPU reset
 * line, which many guests and bootloaders use to reboot. A few controller
 * commands answer so that a probe finds a sane, idle controller; nothing
 * ever waits on us, since the output buffer is only full after a command.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "devices/bus.h"
#include "devices/device.h"
#include "devices/i8042.h"
#include "devices/platform.h"
#include "lib/log.h"

#define STS_OBF		0x01
#define STS_SYS		0x04
#define STS_CMD		0x08	/* last write went to the command port */
#define STS_UNLOCKED	0x10	/* keyboard not inhibited */

#define CTR_SYS		0x04
#define CTR_KBD_OFF	0x10
#define CTR_AUX_OFF	0x20

#define CMD_READ_CTR	0x20
#define CMD_WRITE_CTR	0x60
#define CMD_AUX_OFF	0xa7
#define CMD_AUX_ON	0xa8
#define CMD_SELF_TEST	0xaa
#define CMD_KBD_TEST	0xab
#define CMD_KBD_OFF	0xad
#define CMD_KBD_ON	0xae
#define CMD_READ_OUT	0xd0
#define CMD_WRITE_OUT	0xd1
#define CMD_PULSE	0xf0	/* 0xf0-0xff: pulse output lines whose bit is 0 */

#define OUT_RESET	0x01	/* output port bit 0: CPU reset, active low */

/* What the guest can see; plain data so a snapshot can copy it. */
struct i8042_regs {
	uint8_t out;		/* output buffer */
	uint8_t obf;		/* output buffer full */
	uint8_t ctr;		/* controller configuration byte */
	uint8_t outport;
	uint8_t pending;	/* command waiting for its data byte, or 0 */
	uint8_t last_cmd;	/* last write went to the command port */
};

struct i8042 {
	struct i8042_regs r;
	pthread_mutex_t lock;
	struct platform *pf;
};

static void reply(struct i8042_regs *r, uint8_t v)
{
	r->out = v;
	r->obf = 1;
}

/* Returns true when the guest asked for a reset. */
static bool command(struct i8042_regs *r, uint8_t cmd)
{
	r->last_cmd = 1;
	r->pending = 0;
	switch (cmd) {
	case CMD_READ_CTR:
		reply(r, r->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUT:
		r->pending = cmd;
		break;
	case CMD_AUX_OFF:
		r->ctr |= CTR_AUX_OFF;
		break;
	case CMD_AUX_ON:
		r->ctr &= ~CTR_AUX_OFF;
		break;
	case CMD_SELF_TEST:
		r->ctr |= CTR_SYS;
		reply(r, 0x55);
		break;
	case CMD_KBD_TEST:
		reply(r, 0x00);
		break;
	case CMD_KBD_OFF:
		r->ctr |= CTR_KBD_OFF;
		break;
	case CMD_KBD_ON:
		r->ctr &= ~CTR_KBD_OFF;
		break;
	case CMD_READ_OUT:
		reply(r, r->outport);
		break;
	default:
		if (cmd >= CMD_PULSE)
			return !(cmd & OUT_RESET);
		break;		/* unknown: ignored, as nobody waits for it */
	}
	return false;
}

static bool data(struct i8042_regs *r, uint8_t v)
{
	uint8_t cmd = r->pending;

	r->last_cmd = 0;
	r->pending = 0;
	if (cmd == CMD_WRITE_CTR) {
		r->ctr = v;
	} else if (cmd == CMD_WRITE_OUT) {
		r->outport = v;
		return !(v & OUT_RESET);
	}
	/* Otherwise a byte for the keyboard, which is not there. */
	return false;
}

static void i8042_access(struct i8042 *s, bool is_cmd, bool is_write,
			 uint8_t *p, unsigned len)
{
	struct i8042_regs *r = &s->r;
	bool reset = false;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < len; i++) {
		if (is_write && is_cmd) {
			reset |= command(r, p[i]);
		} else if (is_write) {
			reset |= data(r, p[i]);
		} else if (is_cmd) {
			p[i] = (r->obf ? STS_OBF : 0) | (r->last_cmd ? STS_CMD : 0) |
			       (r->ctr & CTR_SYS ? STS_SYS : 0) | STS_UNLOCKED;
		} else {
			p[i] = r->obf ? r->out : 0;
			r->obf = 0;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (reset)
		platform_stop(s->pf, STOP_RESET, "guest reset via i8042");
}

static void data_read(void *opaque, uint64_t off, void *p, unsigned len)
{
	i8042_access(opaque, false, false, p, len);
}

static void data_write(void *opaque, uint64_t off, const void *p, unsigned len)
{
	i8042_access(opaque, false, true, (uint8_t *)p, len);
}

static void cmd_read(void *opaque, uint64_t off, void *p, unsigned len)
{
	i8042_access(opaque, true, false, p, len);
}

static void cmd_write(void *opaque, uint64_t off, const void *p, unsigned len)
{
	i8042_access(opaque, true, true, (uint8_t *)p, len);
}

static const struct bus_ops data_ops = { .read = data_read, .write = data_write };
static const struct bus_ops cmd_ops = { .read = cmd_read, .write = cmd_write };

/* As firmware leaves it: self-tested, both ports off, no interrupts. */
static void power_on(struct i8042_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->ctr = CTR_SYS | CTR_KBD_OFF | CTR_AUX_OFF;
	r->outport = OUT_RESET;
}

static void i8042_reset(struct device *dev, struct platform *pf)
{
	struct i8042 *s = dev->state;

	pthread_mutex_lock(&s->lock);
	power_on(&s->r);
	pthread_mutex_unlock(&s->lock);
}

static int i8042_realize(struct device *dev, struct platform *pf)
{
	struct i8042 *s = dev->state;
	int ret;

	s->pf = pf;
	power_on(&s->r);
	ret = pthread_mutex_init(&s->lock, NULL);
	if (ret) {
		err_msg("i8042: cannot create lock: %s", strerror(ret));
		return -ret;
	}
	ret = bus_register(&pf->pio, I8042_DATA_PORT, 1, &data_ops, s, "i8042");
	if (ret)
		goto err_lock;
	ret = bus_register(&pf->pio, I8042_CMD_PORT, 1, &cmd_ops, s, "i8042");
	if (ret)
		goto err_data;
	return 0;

err_data:
	bus_unregister(&pf->pio, I8042_DATA_PORT);
err_lock:
	pthread_mutex_destroy(&s->lock);
	return ret;
}

static void i8042_unrealize(struct device *dev, struct platform *pf)
{
	struct i8042 *s = dev->state;

	bus_unregister(&pf->pio, I8042_CMD_PORT);
	bus_unregister(&pf->pio, I8042_DATA_PORT);
	pthread_mutex_destroy(&s->lock);
}

static const struct prop i8042_props[] = { { .name = NULL } };

static const struct device_type i8042_type = {
	.name = "i8042",
	.bus = "isa",
	.desc = "PS/2 controller (reset line only)",
	.state_size = sizeof(struct i8042),
	.props = i8042_props,
	.realize = i8042_realize,
	.unrealize = i8042_unrealize,
	.reset = i8042_reset,
	.snap_off = offsetof(struct i8042, r),
	.snap_size = sizeof(struct i8042_regs),
	.internal = 1,
};
DEVICE_TYPE(i8042_type)

int i8042_create(struct platform *pf)
{
	return device_create_internal(pf, i8042_type.name);
}
