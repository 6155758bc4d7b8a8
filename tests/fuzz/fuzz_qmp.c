/*
 * QMP from an arbitrary client: the bytes are fed to a session in pieces
 * whose sizes come from the input, against a fake target. Every reply must
 * be one JSON object (parsed back) and nothing may leak or crash; the fake
 * balloon checks that a size it is given is one the command allowed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/log.h"
#include "lib/props.h"
#include "virtio/balloon.h"
#include "vmm/qmp.h"

#define RAM (512ull << 20)

static void on_send(void *o, const char *json, size_t len)
{
	struct json_object *r = json_tokener_parse(json);

	if (strlen(json) != len || !r || !json_object_is_type(r, json_type_object))
		__builtin_trap();
	json_object_put(r);
}

static int f_set(void *o, uint64_t b)
{
	if (!b || b > INT64_MAX)
		__builtin_trap();
	return b > RAM ? -ERANGE : 0;
}

static int f_get(void *o, uint64_t *a)
{
	*a = RAM;
	return 0;
}

static uint64_t f_ram(void *o) { return RAM; }
static const char *f_id(void *o) { return "b0"; }

static int f_stats(void *o, struct balloon_stats *st, int64_t *when, uint32_t *iv)
{
	memset(st, 0, sizeof(*st));
	st->valid = 0xffff;
	*when = 1;
	*iv = 0;
	return 0;
}

static int f_interval(void *o, uint32_t s)
{
	if (s > 86400)
		__builtin_trap();
	return 0;
}

static void f_quit(void *o) {}

/* "b0" the balloon, "d0" a device and "/objects/o0" an object, with every kind of option. */
struct fake_state {
	char *s;
	bool b;
	uint32_t u;
	uint64_t v;
};

static const struct prop props[] = {
	{ "s", PROP_STR, offsetof(struct fake_state, s) },
	{ "b", PROP_BOOL, offsetof(struct fake_state, b) },
	{ "u", PROP_U32, offsetof(struct fake_state, u) },
	{ "v", PROP_U64, offsetof(struct fake_state, v) },
	{ "z", PROP_SIZE, offsetof(struct fake_state, v) },
	{ NULL }
};

static struct fake_state state = { .s = "x", .v = UINT64_MAX };

static int f_device(void *o, const char *id, struct qom_node *n)
{
	if (strcmp(id, "b0") && strcmp(id, "d0"))
		return -ENOENT;
	*n = (struct qom_node){ "t", props, &state, !strcmp(id, "b0") };
	return 0;
}

static int f_object(void *o, const char *id, struct qom_node *n)
{
	if (strcmp(id, "o0"))
		return -ENOENT;
	*n = (struct qom_node){ "o", props, &state, false };
	return 0;
}

static const struct qmp_target target = {
	.find_device = f_device, .find_object = f_object,
	.balloon_set = f_set, .balloon_get = f_get, .ram_size = f_ram,
	.balloon_id = f_id, .balloon_stats = f_stats,
	.balloon_set_interval = f_interval, .quit = f_quit,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmp_session *s;
	size_t cut = 0;

	log_set_quiet(1);
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
	return 0;
}
