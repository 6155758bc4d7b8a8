/*
 * The chardev multiplexer (mux=on, -serial mon:stdio): several front ends
 * share one chardev; its input goes to the one with the focus, and the
 * escape key (Ctrl-a, -echr) with the next key is a command, as in QEMU's
 * char-mux.c. Output is not muxed: every front end writes to the chardev.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/chardev_mux.h"

struct mux_fe {
	chr_input_fn fn;
	chr_event_fn peer_fn, focus_fn;
	void *opaque;
};

struct chr_mux {
	struct chardev *chr;
	struct mux_fe fe[CHR_MUX_MAX];
	unsigned n, focus;
	bool peer_open;		/* the chardev's peer, as last reported */
	bool started;		/* chardev_mux_start: input read, events sent */
	bool escaped;		/* the last byte was the escape key */
	bool quit;		/* after Ctrl-a x: input is swallowed */
	struct chr_mux *next;
};

static struct chr_mux *muxes;
static int escape_key = 1;	/* Ctrl-a */
static void (*quit_fn)(void *opaque);
static void *quit_opaque;

void chardev_mux_set_escape(int ch)
{
	escape_key = ch;
}

void chardev_mux_set_quit(void (*fn)(void *opaque), void *opaque)
{
	quit_fn = fn;
	quit_opaque = opaque;
}

struct chr_mux *chr_mux_new(struct chardev *c, int peer_open)
{
	struct chr_mux *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->chr = c;
	m->peer_open = peer_open;
	m->next = muxes;
	muxes = m;
	return m;
}

void chr_mux_free(struct chr_mux *m)
{
	for (struct chr_mux **p = &muxes; *p; p = &(*p)->next)
		if (*p == m) {
			*p = m->next;
			break;
		}
	free(m);
}

static void put(struct chr_mux *m, const char *s)
{
	chardev_write(m->chr, s, strlen(s));
}

static void focus_event(struct chr_mux *m, unsigned i, int in)
{
	if (i < m->n && m->fe[i].focus_fn)
		m->fe[i].focus_fn(m->fe[i].opaque, in);
}

/* QEMU's mux_set_focus: out, then in, even to the same front end. */
static void set_focus(struct chr_mux *m, unsigned i)
{
	if (m->started)
		focus_event(m, m->focus, 0);
	m->focus = i;
	if (m->started)
		focus_event(m, m->focus, 1);
}

int chr_mux_attach(struct chr_mux *m, chr_input_fn fn, void *opaque)
{
	if (m->n == CHR_MUX_MAX)
		return -EBUSY;
	m->fe[m->n++] = (struct mux_fe){ .fn = fn, .opaque = opaque };
	set_focus(m, m->n - 1);
	return 0;
}

void chr_mux_watch_peer(struct chr_mux *m, chr_event_fn fn)
{
	if (!m->n)
		return;
	m->fe[m->n - 1].peer_fn = fn;
	if (fn && m->started && m->peer_open)
		fn(m->fe[m->n - 1].opaque, 1);
}

void chr_mux_watch_focus(struct chr_mux *m, chr_event_fn fn)
{
	if (m->n)
		m->fe[m->n - 1].focus_fn = fn;
}

void chr_mux_detach(struct chr_mux *m)
{
	memset(m->fe, 0, sizeof(m->fe));
	m->n = m->focus = 0;
}

void chr_mux_peer(void *opaque, int open)
{
	struct chr_mux *m = opaque;

	m->peer_open = open;
	if (!m->started)
		return;
	for (unsigned i = 0; i < m->n; i++)
		if (m->fe[i].peer_fn)
			m->fe[i].peer_fn(m->fe[i].opaque, open);
}

void chardev_mux_start(void)
{
	for (struct chr_mux *m = muxes; m; m = m->next) {
		if (m->started)
			continue;
		m->started = true;
		chr_mux_peer(m, m->peer_open);
		focus_event(m, m->focus, 1);
		chardev_accept_input(m->chr);
	}
}

/* QEMU's mux_help; s, t and b are QEMU's but not ember's. */
static const char *const help[] = {
	"% h    print this help\n\r",
	"% x    exit emulator\n\r",
	"% s    save disk data back to file (if -snapshot): not in ember\n\r",
	"% t    toggle console timestamps: not in ember\n\r",
	"% b    send break (magic sysrq): not in ember\n\r",
	"% c    switch between console and monitor\n\r",
	"% %  sends %\n\r",
	NULL
};

/* "C-a", or "Escape-Char" for a key that has no such name, as QEMU says it. */
static void key_name(char *buf, size_t size)
{
	if (escape_key > 0 && escape_key < 26)
		snprintf(buf, size, "C-%c", escape_key - 1 + 'a');
	else
		snprintf(buf, size, "Escape-Char");
}

static void print_help(struct chr_mux *m)
{
	char key[16], line[96];

	key_name(key, sizeof(key));
	if (escape_key > 0 && escape_key < 26) {
		put(m, "\n\r");
	} else {
		snprintf(line, sizeof(line), "\n\rEscape-Char set to Ascii: 0x%02x\n\r\n\r",
			 escape_key & 0xff);
		put(m, line);
	}
	for (unsigned i = 0; help[i]; i++) {
		size_t k = 0;

		for (const char *p = help[i]; *p && k < sizeof(line) - sizeof(key); p++)
			if (*p == '%')
				k += (size_t)snprintf(line + k, sizeof(line) - k, "%s", key);
			else
				line[k++] = *p;
		line[k] = 0;
		put(m, line);
	}
}

/* The key after the escape key (not the escape key itself). */
static void command(struct chr_mux *m, uint8_t ch)
{
	char key[16], msg[96];

	switch (ch) {
	case 'h':
	case '?':
		print_help(m);
		break;
	case 'x':
		put(m, "QEMU: Terminated\n\r");
		m->quit = true;
		if (quit_fn)
			quit_fn(quit_opaque);
		break;
	case 'c':
		if (m->n)
			set_focus(m, (m->focus + 1) % m->n);
		break;
	case 's':
	case 't':
	case 'b':
		key_name(key, sizeof(key));
		snprintf(msg, sizeof(msg), "\n\r%s %c: %s\n\r", key, ch,
			 ch == 's' ? "ember has no -snapshot to save" :
			 ch == 't' ? "console timestamps are not supported" :
				     "sending a break is not supported");
		put(m, msg);
		break;
	default:	/* QEMU ignores other keys */
		break;
	}
}

/* Hands @len bytes to the focused front end; how many it took (all without one). */
static size_t to_focus(struct chr_mux *m, const uint8_t *buf, size_t len)
{
	struct mux_fe *fe = &m->fe[m->focus];
	size_t k;

	if (m->focus >= m->n || !fe->fn)
		return len;
	k = fe->fn(fe->opaque, buf, len);
	return k < len ? k : len;
}

size_t chr_mux_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct chr_mux *m = opaque;
	size_t i = 0;

	if (!m->started)
		return 0;	/* read again at chardev_mux_start */
	while (i < len && !m->quit) {
		const uint8_t *esc;
		size_t run, k;

		if (m->escaped) {
			if (buf[i] == escape_key) {
				/* a literal escape key; on refusal it is tried again, escaped still */
				if (!to_focus(m, buf + i, 1))
					return i;
			} else {
				command(m, buf[i]);
			}
			m->escaped = false;
			i++;
			continue;
		}
		if (buf[i] == escape_key) {
			m->escaped = true;
			i++;
			continue;
		}
		esc = memchr(buf + i, escape_key, len - i);
		run = esc ? (size_t)(esc - (buf + i)) : len - i;
		k = to_focus(m, buf + i, run);
		i += k;
		if (k < run)
			return i;
	}
	return len;
}
