/*
 * QMP from an arbitrary client: the bytes are fed to a session in pieces
 * whose sizes come from the input, against a fake target. Every reply must
 * be one JSON object (parsed back) and nothing may leak or crash; the fake
 * balloon checks that a size it is given is one the command allowed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "arch/arch.h"
#include "backends/block.h"
#include "devices/device.h"
#include "lib/log.h"
#include "lib/props.h"
#include "lib/util.h"
#include "virtio/balloon.h"
#include "backends/object.h"
#include "vmm/cli_opts.h"
#include "vmm/hmp_mon.h"
#include "vmm/qmp.h"
#include "qmp_fake.h"

static void on_send(void *o, const char *json, size_t len)
{
	struct json_object *r = json_tokener_parse(json);

	if (strlen(json) != len || !r || !json_object_is_type(r, json_type_object))
		__builtin_trap();
	json_object_put(r);
}

/* What the human monitor shows: text, never more than it was given room for. */
static void on_hmp(void *o, const char *text, size_t len)
{
	if (memchr(text, 0, len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmp_session *s;
	size_t cut = 0;

	log_set_quiet(1);
	run_st = 0;
	s = qmp_session_new(&target, on_send, NULL);
	if (!s)
		return 0;
	/* The first byte picks the piece size: 1..255 bytes, 0: all at once. */
	if (size) {
		cut = data[0];
		data++;
		size--;
	}
	for (size_t off = 0; off < size;) {
		size_t n = cut ? cut : size;
		char *piece;

		if (n > size - off)
			n = size - off;
		/* A heap copy of exactly the piece: ASan sees any read past it. */
		piece = malloc(n);
		memcpy(piece, data + off, n);
		if (qmp_session_input(s, piece, n) < 0)
			off = size;
		free(piece);
		off += n;
	}
	qmp_session_free(s);
	/* The same bytes typed into the human monitor, which must echo and answer. */
	if (size <= 4096) {
		struct hmp *h = hmp_new(&target, on_hmp, NULL);

		if (h) {
			hmp_input(h, data, size);
			hmp_free(h);
		}
	}
	return 0;
}
