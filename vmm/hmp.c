/*
 * The human monitor's line editor (HMP, see hmp_mon.h): QEMU's banner and
 * "(qemu) " prompt over a QMP session of its own, so that every line runs
 * through QMP's human-monitor-command (vmm/qmp_cmd.c) and nothing is
 * implemented twice. quit and system_reset go as the QMP commands of those
 * names (their action comes after the reply, as in QMP). Events the
 * session receives are not shown. No chardev here (hmp_mon.c), so that it
 * is unit-tested and fuzzed alone.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

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

void hmp_prompt(struct hmp *h)
{
	h->len = 0;
	put(h, PROMPT);
}

void hmp_free(struct hmp *h)
{
	if (!h)
		return;
	qmp_session_free(h->sess);
	free(h);
}
