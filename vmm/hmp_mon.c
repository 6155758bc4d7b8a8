/*
 * The human monitor (HMP) on a chardev: a line editor with QEMU's banner
 * and "(qemu) " prompt over a QMP session of its own, so that every line
 * runs through QMP's human-monitor-command (vmm/qmp_cmd.c) and nothing is
 * implemented twice. quit and system_reset go as the QMP commands of
 * those names (their action comes after the reply, as in QMP). Events the
 * session receives are not shown.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "backends/chardev.h"
#include "lib/keyval.h"
#include "lib/log.h"
#include "lib/props.h"
#include "lib/util.h"
#include "vmm/cli_opts.h"
#include "vmm/hmp_mon.h"
#include "vmm/qmp.h"

#define HMP_LINE	512	/* longer lines are cut there, as QEMU's readline does */
#define PROMPT		"(qemu) "

struct hmp {
	struct qmp_session *sess;
	hmp_out_fn out;
	void *opaque;
	char line[HMP_LINE];
	size_t len;
	bool cr;		/* the last byte was CR: a LF after it ends nothing */
};

static void put(struct hmp *h, const char *s)
{
	h->out(h->opaque, s, strlen(s));
}

/* The session's replies: a return string is HMP's output, an error its message. */
static void on_reply(void *opaque, const char *json, size_t len)
{
	struct hmp *h = opaque;
	struct json_object *o = json_tokener_parse(json), *v;

	if (!o)
		return;
	if (json_object_object_get_ex(o, "return", &v) &&
	    json_object_is_type(v, json_type_string)) {
		put(h, json_object_get_string(v));
	} else if (json_object_object_get_ex(o, "error", &v) &&
		   json_object_object_get_ex(v, "desc", &v)) {
		put(h, "Error: ");
		put(h, json_object_get_string(v));
		put(h, "\r\n");
	}
	json_object_put(o);
}

/* Runs @cmd, a QMP command object, in the session. */
static void run_qmp(struct hmp *h, struct json_object *cmd)
{
	const char *txt = json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN);

	if (txt)
		qmp_session_input(h->sess, txt, strlen(txt));
	json_object_put(cmd);
}

static struct json_object *qmp_cmd(const char *name)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "execute", json_object_new_string(name));
	return o;
}

/* Runs the line; false after quit (no prompt then, as in QEMU). */
static bool run_line(struct hmp *h)
{
	struct json_object *cmd, *args;
	char *l = h->line;
	size_t n = h->len;

	while (*l == ' ')
		l++, n--;
	while (n && l[n - 1] == ' ')
		l[--n] = 0;
	if (!strcmp(l, "quit") || !strcmp(l, "q")) {
		run_qmp(h, qmp_cmd("quit"));
		return false;
	}
	if (!strcmp(l, "system_reset")) {
		run_qmp(h, qmp_cmd("system_reset"));
		return true;
	}
	if (n) {
		cmd = qmp_cmd("human-monitor-command");
		args = json_object_new_object();
		json_object_object_add(args, "command-line", json_object_new_string(l));
		json_object_object_add(cmd, "arguments", args);
		run_qmp(h, cmd);
	}
	return true;
}

struct hmp *hmp_new(const struct qmp_target *t, hmp_out_fn out, void *opaque)
{
	struct hmp *h = calloc(1, sizeof(*h));
	static const char nego[] = "{\"execute\":\"qmp_capabilities\"}";

	if (!h)
		return NULL;
	h->out = out;
	h->opaque = opaque;
	h->sess = qmp_session_new(t, on_reply, h);
	if (!h->sess) {
		free(h);
		return NULL;
	}
	/* the greeting and this {} are not shown (no "return" string) */
	qmp_session_input(h->sess, nego, sizeof(nego) - 1);
	put(h, "QEMU " QMP_QEMU_LEVEL " monitor - type 'help' for more information\r\n" PROMPT);
	return h;
}

void hmp_input(struct hmp *h, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];
		bool cr = h->cr;

		h->cr = c == '\r';
		if (c == '\n' && cr)
			continue;
		if (c == '\r' || c == '\n') {
			put(h, "\r\n");
			h->line[h->len] = 0;
			if (run_line(h))
				put(h, PROMPT);
			h->len = 0;
		} else if (c == 0x7f || c == '\b') {
			if (h->len) {
				h->len--;
				put(h, "\b \b");
			}
		} else if (c >= ' ' && c < 0x7f && h->len < HMP_LINE - 1) {
			/* echoed, as QEMU's readline does: a raw terminal shows nothing itself */
			h->line[h->len++] = (char)c;
			h->out(h->opaque, (const char *)&c, 1);
		}
	}
}

void hmp_free(struct hmp *h)
{
	if (!h)
		return;
	qmp_session_free(h->sess);
	free(h);
}

/* ---- on a chardev ---- */

struct hmp_mon {
	struct chardev *chr;
	struct hmp *hmp;		/* while a peer is there */
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

/* Each peer gets a new monitor: the banner and the prompt. */
static void chr_peer(void *opaque, int open)
{
	struct hmp_mon *mon = opaque;

	hmp_free(mon->hmp);
	mon->hmp = open ? hmp_new(target, chr_out, mon) : NULL;
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
