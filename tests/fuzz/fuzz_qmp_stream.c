/*
 * QMP's byte stream with sessions: up to four clients connect, send in
 * pieces, read their replies in pieces (or not at all), leave and come
 * back, while events go to every negotiated session; the real command
 * table against a fake machine (qmp_fake.h). Each client's unread output
 * is bounded as qmp.c bounds it (QMP_MAX_PENDING, then it is dropped).
 * Checked: every text a client reads is one JSON object ending in CR LF;
 * no event reaches a session before qmp_capabilities succeeded there;
 * nothing leaks or crashes.
 *
 * Input: a series of operations, each an opcode byte (client = low 2 bits,
 * operation = the rest modulo 5) and, for some, a length byte:
 *   0 connect          1 disconnect
 *   2 send LEN bytes   3 read LEN*16 bytes of output
 *   4 an event to all (STOP, RESUME, POWERDOWN, BALLOON_CHANGE by LEN)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/log.h"
#include "vmm/qmp.h"
#include "qmp_fake.h"

#define CLIENTS 4

struct client {
	struct qmp_session *s;
	char *out;
	size_t len;
	bool negotiated, dropped;
};

static struct client cl[CLIENTS];

/* A text the client would read; negotiation as the client sees it. */
static void check_text(struct client *c, const char *t, size_t n)
{
	char *z = strndup(t, n);
	struct json_object *r = json_tokener_parse(z), *v;

	if (!r || !json_object_is_type(r, json_type_object))
		__builtin_trap();
	if (json_object_object_get_ex(r, "event", &v) && !c->negotiated)
		__builtin_trap();
	/* Before negotiation only qmp_capabilities can succeed. */
	if (json_object_object_get_ex(r, "return", &v))
		c->negotiated = true;
	json_object_put(r);
	free(z);
}

/* Reads up to @max bytes of output: whole lines are checked, as a client parses them. */
static void client_read(struct client *c, size_t max)
{
	size_t took = 0;

	while (took < max && c->len) {
		char *nl = memchr(c->out, '\n', c->len);
		size_t n;

		if (!nl)
			__builtin_trap();	/* every text ends in CR LF */
		n = (size_t)(nl - c->out) + 1;
		if (n < 2 || nl[-1] != '\r')
			__builtin_trap();
		check_text(c, c->out, n - 2);
		memmove(c->out, c->out + n, c->len - n);
		c->len -= n;
		took += n;
	}
}

static void on_send(void *o, const char *json, size_t len)
{
	struct client *c = o;
	char *p;

	if (strlen(json) != len)
		__builtin_trap();
	if (c->dropped)
		return;
	if (c->len + len + 2 > QMP_MAX_PENDING) {
		c->dropped = true;	/* qmp.c disconnects it */
		return;
	}
	p = realloc(c->out, c->len + len + 2);
	if (!p)
		__builtin_trap();
	c->out = p;
	memcpy(c->out + c->len, json, len);
	memcpy(c->out + c->len + len, "\r\n", 2);
	c->len += len + 2;
}

static void disconnect(struct client *c)
{
	qmp_session_free(c->s);
	free(c->out);
	memset(c, 0, sizeof(*c));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i = 0;

	log_set_quiet(1);
	run_st = 0;
	while (i < size) {
		uint8_t op = data[i++], kind = (op >> 2) % 5;
		struct client *c = &cl[op & 3];
		size_t len = 0;

		if (kind >= 2 && i < size)
			len = data[i++];
		switch (kind) {
		case 0:
			if (!c->s) {
				c->s = qmp_session_new(&target, on_send, c);
				if (!c->s)
					__builtin_trap();
			}
			break;
		case 1:
			if (c->s)
				disconnect(c);
			break;
		case 2:
			len = MIN(len, size - i);
			if (c->s && !c->dropped) {
				/* A heap copy of exactly the piece: ASan sees any read past it. */
				char *piece = malloc(len ? len : 1);

				memcpy(piece, data + i, len);
				if (qmp_session_input(c->s, piece, len) < 0)
					c->dropped = true;
				free(piece);
			}
			i += len;
			break;
		case 3:
			if (c->s)
				client_read(c, len * 16);
			break;
		default:
			if (len % 4 == 0)
				qmp_event_simple("STOP");
			else if (len % 4 == 1)
				qmp_event_simple("RESUME");
			else if (len % 4 == 2)
				qmp_event_simple("POWERDOWN");
			else
				qmp_event_balloon(len << 20);
			break;
		}
		/* qmp.c closes a dropped client on its next wake-up. */
		if (c->s && c->dropped)
			disconnect(c);
	}
	for (unsigned k = 0; k < CLIENTS; k++) {
		if (cl[k].s)
			client_read(&cl[k], SIZE_MAX);
		disconnect(&cl[k]);
	}
	return 0;
}
