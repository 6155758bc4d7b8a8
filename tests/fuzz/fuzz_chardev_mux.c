/*
 * libFuzzer target: the chardev mux's input stream (escape keys, focus
 * switches, quit) into two fake front ends that take what they can, a few
 * bytes at a time, as the core hands input over. What each front end gets
 * must be what a byte-at-a-time model of QEMU's mux gives it, whatever the
 * back-pressure.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/chardev_mux.h"
#include "lib/log.h"
#include "tests/common/fake_platform.h"

#define MAX_IN	4096

struct fe {
	uint8_t got[MAX_IN];
	size_t len, credit;
	int in;			/* focus events: in +1, out -1, must stay 0 or 1 */
};

static struct fe fes[2];
static int quits;
static uint32_t rnd;

static uint32_t next(void)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 17;
	rnd ^= rnd << 5;
	return rnd;
}

static size_t fe_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct fe *f = opaque;
	size_t k = len < f->credit ? len : f->credit;

	memcpy(f->got + f->len, buf, k);
	f->len += k;
	f->credit -= k;
	return k;
}

static void fe_focus(void *opaque, int in)
{
	struct fe *f = opaque;

	f->in += in ? 1 : -1;
	if (f->in < 0 || f->in > 1)
		abort();
}

static void on_quit(void *opaque)
{
	quits++;
}

/* QEMU's mux_proc_byte, one byte at a time, every front end taking everything. */
static void model(const uint8_t *p, size_t n, int esc, struct fe *want)
{
	unsigned focus = 1;
	int escaped = 0;

	for (size_t i = 0; i < n; i++) {
		if (escaped) {
			escaped = 0;
			if (p[i] == esc)
				want[focus].got[want[focus].len++] = p[i];
			else if (p[i] == 'c')
				focus ^= 1;
			else if (p[i] == 'x')
				return;
		} else if (p[i] == esc) {
			escaped = 1;
		} else {
			want[focus].got[want[focus].len++] = p[i];
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fe want[2];
	struct chr_mux *m;
	size_t off = 0;
	int esc;

	if (size < 2 || size > MAX_IN)
		return 0;
	log_set_quiet(1);
	/* Ctrl-a mostly; any key with -echr */
	esc = data[0] & 1 ? 1 : data[0];
	rnd = 0x9e3779b9u ^ data[1];
	data += 2;
	size -= 2;
	fake_chardevs_reset();
	memset(fes, 0, sizeof(fes));
	memset(want, 0, sizeof(want));
	quits = 0;
	chardev_mux_set_escape(esc);
	chardev_mux_set_quit(on_quit, NULL);
	m = chr_mux_new(&fake_chrs[0], 1);
	if (!m)
		return 0;
	for (int i = 0; i < 2; i++) {
		if (chr_mux_attach(m, fe_input, &fes[i]))
			abort();
		chr_mux_watch_focus(m, fe_focus);
	}
	chardev_mux_start();
	/* what the core does: hand over what is left, again once there is room */
	while (off < size) {
		size_t chunk = 1 + next() % 64, k;

		if (chunk > size - off)
			chunk = size - off;
		for (int i = 0; i < 2; i++)
			fes[i].credit += next() % 8;
		k = chr_mux_input(m, data + off, chunk);
		if (k > chunk)
			abort();
		if (!k)	/* nothing taken: the front ends make room */
			fes[0].credit++, fes[1].credit++;
		off += k;
	}
	model(data, size, esc, want);
	for (int i = 0; i < 2; i++)
		if (fes[i].len != want[i].len || memcmp(fes[i].got, want[i].got, want[i].len))
			abort();
	if (quits > 1 || fes[0].in + fes[1].in != 1)
		abort();
	chr_mux_free(m);
	return 0;
}
