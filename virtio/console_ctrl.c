/*
 * virtio-console's control protocol; see console.h. Pure: no locks, no
 * guest memory but the iovecs given, so a fuzzer can drive it.
 *
 * The handshake (Linux's virtio_console): the driver fills the control
 * receiveq and sends DEVICE_READY; we announce every port with PORT_ADD;
 * the driver answers PORT_READY for each; we then say which is a console
 * (CONSOLE_PORT, the guest's hvc), its name (PORT_NAME) and that the host
 * side is connected (PORT_OPEN); the driver says PORT_OPEN when the guest
 * opens it.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "virtio/console.h"

void vcon_init(struct vcon_proto *p, unsigned max_ports)
{
	memset(p, 0, sizeof(*p));
	p->max_ports = MIN(max_ports, (unsigned)VCON_MAX_PORTS);
}

void vcon_reset(struct vcon_proto *p)
{
	p->multiport = p->driver_ready = false;
	p->out_head = p->out_count = 0;
	for (unsigned i = 0; i < VCON_MAX_PORTS; i++)
		p->ports[i].added = p->ports[i].ready = p->ports[i].guest_open = false;
}

static int say(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int say(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -1;
}

int vcon_pick_nr(const struct vcon_proto *p, int want, bool console, const char *name,
		 char *why, size_t why_size)
{
	if (name && strlen(name) > VCON_NAME_MAX)
		return say(why, why_size, "name is longer than %d bytes", VCON_NAME_MAX);
	for (unsigned i = 0; name && i < p->max_ports; i++)
		if (p->ports[i].present && !strcmp(p->ports[i].name, name))
			return say(why, why_size, "port name '%s' is used by port %u", name, i);
	if (want >= 0) {
		if ((unsigned)want >= p->max_ports)
			return say(why, why_size, "nr=%d is not below max_ports=%u", want,
				   p->max_ports);
		if (p->ports[want].present)
			return say(why, why_size, "port nr=%d is already in use", want);
		if (!want && !console)
			return say(why, why_size, "port 0 is kept for a virtconsole");
		return want;
	}
	if (console && !p->ports[0].present)
		return 0;
	for (unsigned i = 1; i < p->max_ports; i++)
		if (!p->ports[i].present)
			return i;
	return say(why, why_size, "no free port (max_ports=%u)", p->max_ports);
}

bool vcon_port_open(const struct vcon_proto *p, unsigned nr)
{
	if (nr >= p->max_ports || !p->ports[nr].present)
		return false;
	if (!p->multiport)
		return nr == 0;
	return p->ports[nr].ready && p->ports[nr].guest_open;
}

int vcon_ctrl_read(const struct iovec *iov, unsigned n, struct vcon_msg *m)
{
	uint8_t raw[VCON_CTRL_SIZE];
	size_t got = 0;
	uint32_t id;
	uint16_t ev, val;

	for (unsigned i = 0; i < n && got < sizeof(raw); i++) {
		size_t k = MIN(iov[i].iov_len, sizeof(raw) - got);

		memcpy(raw + got, iov[i].iov_base, k);
		got += k;
	}
	if (got < sizeof(raw))
		return -EINVAL;
	memcpy(&id, raw, 4);
	memcpy(&ev, raw + 4, 2);
	memcpy(&val, raw + 6, 2);
	*m = (struct vcon_msg){ le32toh(id), le16toh(ev), le16toh(val) };
	return 0;
}

static void owe(struct vcon_proto *p, uint32_t id, uint16_t event, uint16_t value)
{
	/* Full only if the driver flaps PORT_READY without reading: its loss. */
	if (p->out_count == VCON_OUT_MAX)
		return;
	p->out[(p->out_head + p->out_count++) % VCON_OUT_MAX] =
		(struct vcon_msg){ id, event, value };
}

static enum vcon_result port_msg(struct vcon_proto *p, const struct vcon_msg *m,
				 char *why, size_t size)
{
	struct vcon_port *port;

	if (!p->driver_ready) {
		say(why, size, "event %u for port %u before DEVICE_READY", m->event, m->id);
		return VCON_IGNORED;
	}
	if (m->id >= p->max_ports || !p->ports[m->id].added) {
		say(why, size, "event %u for port %u, which was never added", m->event, m->id);
		return VCON_IGNORED;
	}
	port = &p->ports[m->id];
	if (m->event == VIRTIO_CONSOLE_PORT_READY) {
		if (!m->value) {
			/* The driver could not set the port up: it stays dark. */
			port->ready = port->guest_open = false;
			say(why, size, "the driver failed to add port %u", m->id);
			return VCON_IGNORED;
		}
		if (port->ready) {
			say(why, size, "PORT_READY twice for port %u", m->id);
			return VCON_IGNORED;
		}
		port->ready = true;
		if (port->console)
			owe(p, m->id, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
		if (port->name[0])
			owe(p, m->id, VIRTIO_CONSOLE_PORT_NAME, 1);
		/* The chardev is the host side, and it is always there. */
		owe(p, m->id, VIRTIO_CONSOLE_PORT_OPEN, 1);
		return VCON_OK;
	}
	/* PORT_OPEN */
	if (!port->ready) {
		say(why, size, "PORT_OPEN for port %u before PORT_READY", m->id);
		return VCON_IGNORED;
	}
	port->guest_open = m->value != 0;
	return port->guest_open ? VCON_OPENED : VCON_OK;
}

enum vcon_result vcon_ctrl_handle(struct vcon_proto *p, const struct vcon_msg *m,
				  char *why, size_t size)
{
	switch (m->event) {
	case VIRTIO_CONSOLE_DEVICE_READY:
		if (!m->value) {
			say(why, size, "the driver failed to initialise");
			return VCON_IGNORED;
		}
		if (p->driver_ready) {
			say(why, size, "DEVICE_READY twice");
			return VCON_IGNORED;
		}
		p->driver_ready = true;
		for (unsigned i = 0; i < p->max_ports; i++)
			if (p->ports[i].present) {
				p->ports[i].added = true;
				owe(p, i, VIRTIO_CONSOLE_PORT_ADD, 1);
			}
		return VCON_OK;
	case VIRTIO_CONSOLE_PORT_READY:
	case VIRTIO_CONSOLE_PORT_OPEN:
		return port_msg(p, m, why, size);
	default:
		/* PORT_ADD, CONSOLE_PORT, RESIZE, PORT_NAME...: ours to send, not to get. */
		say(why, size, "unknown event %u from the driver", m->event);
		return VCON_IGNORED;
	}
}

size_t vcon_copy_to_iov(const struct iovec *iov, unsigned n, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t k = MIN(iov[i].iov_len, len - done);

		memcpy(iov[i].iov_base, buf + done, k);
		done += k;
	}
	return done;
}

int vcon_ctrl_next(struct vcon_proto *p, const struct iovec *iov, unsigned n)
{
	uint8_t buf[VCON_CTRL_SIZE + VCON_NAME_MAX];
	const struct vcon_msg *m;
	size_t room = 0, len = VCON_CTRL_SIZE;
	uint32_t id;
	uint16_t ev, val;

	if (!p->out_count)
		return 0;
	for (unsigned i = 0; i < n; i++)
		room += iov[i].iov_len;
	if (room < VCON_CTRL_SIZE)
		return -EINVAL;
	m = &p->out[p->out_head];
	id = htole32(m->id);
	ev = htole16(m->event);
	val = htole16(m->value);
	memcpy(buf, &id, 4);
	memcpy(buf + 4, &ev, 2);
	memcpy(buf + 6, &val, 2);
	/* Linux reads the name up to the buffer's end: no NUL is sent. */
	if (m->event == VIRTIO_CONSOLE_PORT_NAME) {
		size_t nl = strlen(p->ports[m->id].name);

		memcpy(buf + len, p->ports[m->id].name, nl);
		len += nl;
	}
	p->out_head = (p->out_head + 1) % VCON_OUT_MAX;
	p->out_count--;
	return vcon_copy_to_iov(iov, n, buf, MIN(len, room));
}
