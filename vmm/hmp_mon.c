/* The human monitor on a chardev (-monitor, -mon mode=readline); the line editor is hmp.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/chardev.h"
#include "lib/keyval.h"
#include "lib/log.h"
#include "lib/props.h"
#include "vmm/cli_opts.h"
#include "vmm/hmp_mon.h"
#include "vmm/qmp.h"

struct hmp_mon {
	struct chardev *chr;
	struct hmp *hmp;		/* while a peer is there */
	bool muxed, focused;		/* on a mux=on chardev; with the input there */
	bool peer;
	struct hmp_mon *next;
};

static struct hmp_mon *mons;
static const struct qmp_target *target;

static void chr_out(void *opaque, const char *text, size_t len)
{
	struct hmp_mon *mon = opaque;

	chardev_write(mon->chr, text, len);
}

static size_t chr_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct hmp_mon *mon = opaque;

	if (mon->hmp)
		hmp_input(mon->hmp, buf, len);
	return len;
}

/*
 * Each peer gets a new monitor: the banner and the prompt; on a mux only
 * once the monitor has the focus, as QEMU holds a muxed monitor's output.
 */
static void chr_peer(void *opaque, int open)
{
	struct hmp_mon *mon = opaque;

	hmp_free(mon->hmp);
	mon->hmp = NULL;
	mon->peer = open;
	if (open && (!mon->muxed || mon->focused))
		mon->hmp = hmp_new(target, chr_out, mon);
}

/* On a mux: QEMU's newline when the console takes over, a prompt when back. */
static void chr_focus(void *opaque, int in)
{
	struct hmp_mon *mon = opaque;

	mon->focused = in;
	if (!in && mon->hmp)
		chr_out(mon, "\r\n", 2);
	else if (in && mon->hmp)
		hmp_prompt(mon->hmp);
	else if (in && mon->peer)
		mon->hmp = hmp_new(target, chr_out, mon);
}

int hmp_mon_attach(struct chardev *chr, const char *owner, struct machine *m)
{
	struct hmp_mon *mon = calloc(1, sizeof(*mon));
	int ret;

	if (!mon)
		return -ENOMEM;
	mon->chr = chr;
	ret = chardev_attach(chr, chr_input, mon);
	if (ret) {
		err_msg("%s: chardev '%s' is already used by another front end", owner,
			chardev_id(chr));
		free(mon);
		return ret;
	}
	target = qmp_machine_target(m);
	mon->next = mons;
	mons = mon;
	mon->muxed = chardev_watch_focus(chr, chr_focus);
	chardev_watch_peer(chr, chr_peer);
	return 0;
}

int hmp_mon_create(const char *opt, struct loop *loop, struct machine *m)
{
	struct keyval kv;
	const char *id, *mode, *pretty;
	struct chardev *chr;
	char owner[128];
	int ret, on = 0;

	ret = keyval_parse(opt, "chardev", "-mon", &kv);
	if (ret)
		return ret;
	mode = keyval_get(&kv, "mode");
	if (mode && !strcmp(mode, "control")) {
		keyval_free(&kv);
		return qmp_mon_create(opt, loop, m);
	}
	id = kv.implied ? kv.implied : keyval_get(&kv, "chardev");
	pretty = keyval_get(&kv, "pretty");
	snprintf(owner, sizeof(owner), "-mon %s", opt);
	if (mode && strcmp(mode, "readline")) {
		err_msg("%s: mode=%s: expected readline (the human monitor) or control (QMP)",
			owner, mode);
		ret = -EINVAL;
	} else if (pretty && (parse_bool(pretty, &on) || on)) {
		err_msg("%s: pretty=%s: only QMP (mode=control) is pretty-printed, and ember's "
			"is not (pretty=off)", owner, pretty);
		ret = -EINVAL;
	} else if (!id) {
		err_msg("%s: chardev=ID is required", owner);
		ret = -EINVAL;
	}
	if (!ret)
		ret = cli_keys_check(&kv, "-mon");
	if (!ret && !(chr = chardev_find(id))) {
		err_msg("%s: no -chardev with id '%s'", owner, id);
		ret = -ENOENT;
	}
	if (!ret)
		ret = hmp_mon_attach(chr, owner, m);
	keyval_free(&kv);
	return ret;
}

void hmp_mon_destroy(void)
{
	while (mons) {
		struct hmp_mon *mon = mons;

		mons = mon->next;
		chardev_detach(mon->chr);
		hmp_free(mon->hmp);
		free(mon);
	}
}
