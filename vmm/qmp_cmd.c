/*
 * The QMP protocol: JSON texts in (json-c's incremental tokener), one
 * reply each out, commands from a table. No socket here (vmm/qmp.c), so
 * the whole of it is unit-tested and fuzzed (tests/fuzz/fuzz_qmp.c).
 * Error classes and descriptions follow QEMU's, so that QEMU's clients
 * understand them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/props.h"
#include "lib/util.h"
#include "virtio/balloon.h"
#include "vmm/qmp.h"

struct qmp_session {
	const struct qmp_target *t;
	qmp_send_fn send;
	void *send_opaque;
	struct json_tokener *tok;
	size_t pending;			/* bytes of the text being read */
	bool negotiated;		/* qmp_capabilities done */
	bool skip_line;			/* after a syntax error: resync at a newline */
};

/* A failed command: QEMU's error class and a description for people. */
struct qmp_err {
	const char *cls;
	char desc[160];
};

#define GENERIC		"GenericError"

static void set_err(struct qmp_err *e, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(struct qmp_err *e, const char *cls, const char *fmt, ...)
{
	va_list ap;

	e->cls = cls;
	va_start(ap, fmt);
	vsnprintf(e->desc, sizeof(e->desc), fmt, ap);
	va_end(ap);
}

static void send_obj(struct qmp_session *s, struct json_object *o)
{
	size_t len = 0;
	const char *txt = json_object_to_json_string_length(o,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	if (txt)
		s->send(s->send_opaque, txt, len);
}

static void add(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

static void reply(struct qmp_session *s, struct json_object *ret, const struct qmp_err *e,
		  struct json_object *id)
{
	struct json_object *o = json_object_new_object();

	if (!o) {
		json_object_put(ret);
		return;
	}
	if (e) {
		struct json_object *err = json_object_new_object();

		add(err, "class", json_object_new_string(e->cls));
		add(err, "desc", json_object_new_string(e->desc));
		add(o, "error", err);
		json_object_put(ret);
	} else {
		add(o, "return", ret ? ret : json_object_new_object());
	}
	if (id)
		add(o, "id", json_object_get(id));
	send_obj(s, o);
	json_object_put(o);
}

/* ---- argument checking ---- */

static bool check_args(struct json_object *args, const char *const *known, struct qmp_err *e)
{
	json_object_object_foreach(args, key, val) {
		bool ok = false;

		(void)val;
		for (const char *const *k = known; *k && !ok; k++)
			ok = !strcmp(key, *k);
		if (!ok) {
			set_err(e, GENERIC, "Parameter '%.64s' is unexpected", key);
			return false;
		}
	}
	return true;
}

/* A required integer argument; json-c keeps values above INT64_MAX as uint64. */
static bool get_int(struct json_object *args, const char *key, int64_t *v, bool *huge,
		    struct qmp_err *e)
{
	struct json_object *o;

	if (!json_object_object_get_ex(args, key, &o)) {
		set_err(e, GENERIC, "Parameter '%s' is missing", key);
		return false;
	}
	if (!json_object_is_type(o, json_type_int)) {
		set_err(e, GENERIC, "Invalid parameter type for '%s', expected: integer", key);
		return false;
	}
	*v = json_object_get_int64(o);
	*huge = *v == INT64_MAX;
	return true;
}

static const char *get_str(struct json_object *args, const char *key, struct qmp_err *e)
{
	struct json_object *o;

	if (!json_object_object_get_ex(args, key, &o)) {
		set_err(e, GENERIC, "Parameter '%s' is missing", key);
		return NULL;
	}
	if (!json_object_is_type(o, json_type_string)) {
		set_err(e, GENERIC, "Invalid parameter type for '%s', expected: string", key);
		return NULL;
	}
	return json_object_get_string(o);
}

/* ---- commands ---- */

typedef struct json_object *(*cmd_fn)(struct qmp_session *s, struct json_object *args,
				      struct qmp_err *e);

static struct json_object *cmd_capabilities(struct qmp_session *s, struct json_object *args,
					    struct qmp_err *e)
{
	static const char *const known[] = { "enable", NULL };
	struct json_object *en;

	if (!check_args(args, known, e))
		return NULL;
	if (json_object_object_get_ex(args, "enable", &en)) {
		if (!json_object_is_type(en, json_type_array)) {
			set_err(e, GENERIC, "Invalid parameter type for 'enable', expected: array");
			return NULL;
		}
		/* ember has no optional capabilities (no out-of-band execution). */
		if (json_object_array_length(en)) {
			struct json_object *c = json_object_array_get_idx(en, 0);

			set_err(e, GENERIC, "Capability '%.64s' not available",
				json_object_is_type(c, json_type_string) ?
				json_object_get_string(c) : "?");
			return NULL;
		}
	}
	s->negotiated = true;
	return json_object_new_object();
}

static struct json_object *cmd_query_status(struct qmp_session *s, struct json_object *args,
					    struct qmp_err *e)
{
	static const char *const known[] = { NULL };
	struct json_object *r;

	if (!check_args(args, known, e))
		return NULL;
	/* ember cannot pause a guest: while it answers, the guest runs. */
	r = json_object_new_object();
	add(r, "status", json_object_new_string("running"));
	add(r, "singlestep", json_object_new_boolean(0));
	add(r, "running", json_object_new_boolean(1));
	return r;
}

static struct json_object *version(void)
{
	unsigned v[3] = { 0 };
	struct json_object *r, *q;

	sscanf(EMBER_VERSION, "%u.%u.%u", &v[0], &v[1], &v[2]);
	q = json_object_new_object();
	add(q, "major", json_object_new_int(v[0]));
	add(q, "minor", json_object_new_int(v[1]));
	add(q, "micro", json_object_new_int(v[2]));
	r = json_object_new_object();
	add(r, "qemu", q);
	add(r, "package", json_object_new_string("ember " EMBER_VERSION));
	return r;
}

static struct json_object *cmd_query_version(struct qmp_session *s, struct json_object *args,
					     struct qmp_err *e)
{
	static const char *const known[] = { NULL };

	return check_args(args, known, e) ? version() : NULL;
}

static bool no_balloon(int ret, struct qmp_err *e)
{
	if (ret != -ENODEV)
		return false;
	set_err(e, "DeviceNotActive", "No balloon device has been activated");
	return true;
}

/* {} for a target call that worked; else the error that says why. */
static struct json_object *empty_or_err(int ret, struct qmp_err *e, const char *what)
{
	if (no_balloon(ret, e))
		return NULL;
	if (ret) {
		set_err(e, GENERIC, "%s: %s", what, strerror(-ret));
		return NULL;
	}
	return json_object_new_object();
}

static struct json_object *cmd_balloon(struct qmp_session *s, struct json_object *args,
				       struct qmp_err *e)
{
	static const char *const known[] = { "value", NULL };
	const struct qmp_target *t = s->t;
	uint64_t ram = t->ram_size(t->opaque);
	int64_t v;
	bool huge;
	int ret;

	if (!check_args(args, known, e) || !get_int(args, "value", &v, &huge, e))
		return NULL;
	if (v <= 0) {
		set_err(e, GENERIC, "Parameter 'value' expects a size in bytes above 0");
		return NULL;
	}
	ret = t->balloon_set(t->opaque, (uint64_t)v);
	if (ret == -ERANGE) {
		set_err(e, GENERIC, "Parameter 'value' expects a size from 4096 up to the "
			"guest's RAM (%" PRIu64 " bytes)%s", ram, huge ? "; it is too large" : "");
		return NULL;
	}
	return empty_or_err(ret, e, "balloon");
}

static struct json_object *cmd_query_balloon(struct qmp_session *s, struct json_object *args,
					     struct qmp_err *e)
{
	static const char *const known[] = { NULL };
	const struct qmp_target *t = s->t;
	struct json_object *r;
	uint64_t actual;

	if (!check_args(args, known, e) || no_balloon(t->balloon_get(t->opaque, &actual), e))
		return NULL;
	r = json_object_new_object();
	add(r, "actual", json_object_new_int64((int64_t)actual));
	return r;
}

/*
 * QEMU's paths: "/machine/peripheral/ID" (or just "ID") for -device
 * ...,id=ID, "/objects/ID" for -object ...,id=ID.
 */
static bool find_node(struct qmp_session *s, const char *path, struct qom_node *n,
		      struct qmp_err *e)
{
	static const char dev[] = "/machine/peripheral/", obj[] = "/objects/";
	const struct qmp_target *t = s->t;
	int ret;

	memset(n, 0, sizeof(*n));
	if (!strncmp(path, obj, sizeof(obj) - 1))
		ret = t->find_object(t->opaque, path + sizeof(obj) - 1, n);
	else
		ret = t->find_device(t->opaque, strncmp(path, dev, sizeof(dev) - 1) ?
				     path : path + sizeof(dev) - 1, n);
	if (!ret)
		return true;
	set_err(e, "DeviceNotFound", "Device '%.64s' not found%s", path,
		t->balloon_id(t->opaque) ? "" : " (give the balloon an id= to reach it)");
	return false;
}

static const struct prop *find_prop(const struct qom_node *n, const char *name)
{
	for (const struct prop *p = n->props; p && p->name; p++)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

/* A property's value, read at its offset in the node's state. */
static struct json_object *prop_value(const struct qom_node *n, const struct prop *p)
{
	const char *field = (const char *)n->state + p->offset;

	switch (p->type) {
	case PROP_STR:
		/* Unset is "", as QEMU reports it (a JSON null would read as {}). */
		return json_object_new_string(*(char *const *)field ? *(char *const *)field : "");
	case PROP_BOOL:
		return json_object_new_boolean(*(const bool *)field);
	case PROP_U32:
		return json_object_new_int64(*(const uint32_t *)field);
	default:
		return json_object_new_uint64(*(const uint64_t *)field);
	}
}

static struct json_object *stats_obj(const struct balloon_stats *st, int64_t when)
{
	struct json_object *r = json_object_new_object(), *o = json_object_new_object();

	/* QEMU reports the ten classic statistics always, -1 when unknown. */
	for (unsigned tag = 0; tag < BALLOON_STATS_MAX; tag++) {
		bool valid = st->valid & (1u << tag);

		if (valid || tag < VIRTIO_BALLOON_S_NR)
			add(o, balloon_stat_name(tag),
			    json_object_new_int64(valid ? (int64_t)st->val[tag] : -1));
	}
	add(r, "stats", o);
	add(r, "last-update", json_object_new_int64(when));
	return r;
}

#define PROP_STATS	"guest-stats"
#define PROP_INTERVAL	"guest-stats-polling-interval"

static void not_found(struct qmp_err *e, const struct qom_node *n, const char *prop)
{
	set_err(e, GENERIC, "Property '%.64s' not found%s", prop, n->balloon ?
		" (the balloon has " PROP_STATS " and " PROP_INTERVAL ")" : "");
}

static struct json_object *cmd_qom_get(struct qmp_session *s, struct json_object *args,
				       struct qmp_err *e)
{
	static const char *const known[] = { "path", "property", NULL };
	const struct qmp_target *t = s->t;
	struct balloon_stats st;
	const char *path, *prop;
	const struct prop *p;
	struct qom_node n;
	uint32_t interval;
	int64_t when;

	if (!check_args(args, known, e) || !(path = get_str(args, "path", e)) ||
	    !(prop = get_str(args, "property", e)) || !find_node(s, path, &n, e))
		return NULL;
	if (!strcmp(prop, "type"))
		return json_object_new_string(n.type);
	if (n.balloon && (!strcmp(prop, PROP_STATS) || !strcmp(prop, PROP_INTERVAL))) {
		if (no_balloon(t->balloon_stats(t->opaque, &st, &when, &interval), e))
			return NULL;
		if (!strcmp(prop, PROP_STATS))
			return stats_obj(&st, when);
		return json_object_new_int64(interval);
	}
	p = find_prop(&n, prop);
	if (p)
		return prop_value(&n, p);
	not_found(e, &n, prop);
	return NULL;
}

static struct json_object *cmd_qom_set(struct qmp_session *s, struct json_object *args,
				       struct qmp_err *e)
{
	static const char *const known[] = { "path", "property", "value", NULL };
	const struct qmp_target *t = s->t;
	const char *path, *prop;
	struct qom_node n;
	int64_t v;
	bool huge;

	if (!check_args(args, known, e) || !(path = get_str(args, "path", e)) ||
	    !(prop = get_str(args, "property", e)) || !find_node(s, path, &n, e))
		return NULL;
	if (!n.balloon || strcmp(prop, PROP_INTERVAL)) {
		/* The options of a type are fixed once the device or object exists. */
		if (!find_prop(&n, prop) && strcmp(prop, "type") &&
		    (!n.balloon || strcmp(prop, PROP_STATS)))
			not_found(e, &n, prop);
		else
			set_err(e, GENERIC, "Property '%.64s' cannot be set%s", prop,
				n.balloon ? " (only " PROP_INTERVAL ")" : " while ember runs");
		return NULL;
	}
	if (!get_int(args, "value", &v, &huge, e))
		return NULL;
	if (v < 0 || v > 86400) {
		set_err(e, GENERIC, "Parameter 'value' expects seconds from 0 (off) to 86400");
		return NULL;
	}
	return empty_or_err(t->balloon_set_interval(t->opaque, (uint32_t)v), e,
			    "cannot set the polling interval");
}

static void list_add(struct json_object *r, const char *name, const char *type)
{
	struct json_object *o = json_object_new_object();

	add(o, "name", json_object_new_string(name));
	add(o, "type", json_object_new_string(type));
	json_object_array_add(r, o);
}

/* QEMU's ObjectPropertyInfo list: the type's options, and the balloon's own. */
static struct json_object *cmd_qom_list(struct qmp_session *s, struct json_object *args,
					struct qmp_err *e)
{
	static const char *const known[] = { "path", NULL };
	struct json_object *r;
	const char *path;
	struct qom_node n;

	if (!check_args(args, known, e) || !(path = get_str(args, "path", e)) ||
	    !find_node(s, path, &n, e))
		return NULL;
	r = json_object_new_array();
	list_add(r, "type", "string");
	for (const struct prop *p = n.props; p && p->name; p++)
		list_add(r, p->name, props_type_name(p->type));
	if (n.balloon) {
		list_add(r, PROP_STATS, "guest-stats");
		list_add(r, PROP_INTERVAL, "int");
	}
	return r;
}

static struct json_object *cmd_quit(struct qmp_session *s, struct json_object *args,
				    struct qmp_err *e)
{
	static const char *const known[] = { NULL };

	return check_args(args, known, e) ? json_object_new_object() : NULL;
}

static struct json_object *cmd_query_commands(struct qmp_session *s, struct json_object *args,
					      struct qmp_err *e);

static const struct {
	const char *name;
	cmd_fn fn;
} commands[] = {
	{ "qmp_capabilities", cmd_capabilities },
	{ "query-commands", cmd_query_commands },
	{ "query-status", cmd_query_status },
	{ "query-version", cmd_query_version },
	{ "balloon", cmd_balloon },
	{ "query-balloon", cmd_query_balloon },
	{ "qom-get", cmd_qom_get },
	{ "qom-list", cmd_qom_list },
	{ "qom-set", cmd_qom_set },
	{ "quit", cmd_quit },
};

static struct json_object *cmd_query_commands(struct qmp_session *s, struct json_object *args,
					      struct qmp_err *e)
{
	static const char *const known[] = { NULL };
	struct json_object *r;

	if (!check_args(args, known, e))
		return NULL;
	r = json_object_new_array();
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		struct json_object *c = json_object_new_object();

		add(c, "name", json_object_new_string(commands[i].name));
		json_object_array_add(r, c);
	}
	return r;
}

/* ---- one JSON text ---- */

static void dispatch(struct qmp_session *s, struct json_object *in)
{
	struct json_object *id = NULL, *exec = NULL, *args = NULL, *ret = NULL;
	struct qmp_err e = { 0 };
	const char *name = NULL;
	bool quit = false;

	if (!json_object_is_type(in, json_type_object)) {
		set_err(&e, GENERIC, "QMP input must be a JSON object");
		goto out;
	}
	json_object_object_get_ex(in, "id", &id);
	json_object_object_foreach(in, key, val) {
		(void)val;
		if (strcmp(key, "execute") && strcmp(key, "arguments") && strcmp(key, "id")) {
			set_err(&e, GENERIC, "QMP input member '%.64s' is unexpected", key);
			goto out;
		}
	}
	if (!json_object_object_get_ex(in, "execute", &exec)) {
		set_err(&e, GENERIC, "QMP input lacks member 'execute'");
		goto out;
	}
	if (!json_object_is_type(exec, json_type_string)) {
		set_err(&e, GENERIC, "QMP input member 'execute' must be a string");
		goto out;
	}
	name = json_object_get_string(exec);
	if (json_object_object_get_ex(in, "arguments", &args) &&
	    !json_object_is_type(args, json_type_object)) {
		set_err(&e, GENERIC, "QMP input member 'arguments' must be an object");
		goto out;
	}
	if (!s->negotiated && strcmp(name, "qmp_capabilities")) {
		set_err(&e, "CommandNotFound",
			"Expecting capabilities negotiation with 'qmp_capabilities'");
		goto out;
	}
	if (s->negotiated && !strcmp(name, "qmp_capabilities")) {
		set_err(&e, "CommandNotFound",
			"Capabilities negotiation is already complete, command ignored");
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(name, commands[i].name))
			continue;
		if (!args)
			args = json_object_new_object();
		else
			json_object_get(args);
		ret = commands[i].fn(s, args, &e);
		json_object_put(args);
		quit = ret && commands[i].fn == cmd_quit;
		goto out;
	}
	set_err(&e, "CommandNotFound", "The command %.64s has not been found", name);
out:
	reply(s, ret, e.cls ? &e : NULL, id);
	if (quit)
		s->t->quit(s->t->opaque);
}

/* ---- the stream ---- */

/*
 * json-c seeds its hash tables from getrandom() on the first object with a
 * key: that happens now, during set-up, not under the sandbox.
 */
void qmp_init(void)
{
	struct json_object *o = json_object_new_object();

	add(o, "seed", json_object_new_null());
	json_object_put(o);
}

struct qmp_session *qmp_session_new(const struct qmp_target *t, qmp_send_fn send,
				    void *send_opaque)
{
	struct qmp_session *s = calloc(1, sizeof(*s));
	struct json_object *g, *qmp;

	if (!s)
		return NULL;
	s->tok = json_tokener_new();
	if (!s->tok) {
		free(s);
		return NULL;
	}
	s->t = t;
	s->send = send;
	s->send_opaque = send_opaque;
	/* The greeting: {"QMP": {"version": ..., "capabilities": []}} */
	qmp = json_object_new_object();
	add(qmp, "version", version());
	add(qmp, "capabilities", json_object_new_array());
	g = json_object_new_object();
	add(g, "QMP", qmp);
	send_obj(s, g);
	json_object_put(g);
	return s;
}

void qmp_session_free(struct qmp_session *s)
{
	if (!s)
		return;
	json_tokener_free(s->tok);
	free(s);
}

static void too_long(struct qmp_session *s)
{
	struct qmp_err e;

	set_err(&e, GENERIC, "QMP input is longer than %u bytes; closing the connection",
		QMP_MAX_COMMAND);
	reply(s, NULL, &e, NULL);
}

int qmp_session_input(struct qmp_session *s, const char *buf, size_t len)
{
	while (len) {
		enum json_tokener_error err;
		struct json_object *o;
		size_t chunk, used;

		if (s->skip_line) {
			const char *nl = memchr(buf, '\n', len);

			if (!nl)
				return 0;
			s->skip_line = false;
			len -= (size_t)(nl + 1 - buf);
			buf = nl + 1;
			continue;
		}
		/* Blanks between texts do not count against the limit. */
		if (!s->pending && (*buf == ' ' || *buf == '\t' || *buf == '\r' || *buf == '\n')) {
			buf++;
			len--;
			continue;
		}
		chunk = MIN(len, (size_t)QMP_MAX_COMMAND + 1 - s->pending);
		o = json_tokener_parse_ex(s->tok, buf, (int)chunk);
		err = json_tokener_get_error(s->tok);
		used = err == json_tokener_continue ? chunk : json_tokener_get_parse_end(s->tok);
		if (used > chunk)
			used = chunk;
		s->pending += used;
		buf += used;
		len -= used;
		if (err == json_tokener_continue) {
			if (s->pending > QMP_MAX_COMMAND) {
				too_long(s);
				return -E2BIG;
			}
			continue;
		}
		json_tokener_reset(s->tok);
		s->pending = 0;
		if (err != json_tokener_success || !o) {
			struct qmp_err e;

			set_err(&e, GENERIC, "JSON parse error, %s",
				json_tokener_error_desc(err));
			reply(s, NULL, &e, NULL);
			s->skip_line = true;
			continue;
		}
		dispatch(s, o);
		json_object_put(o);
	}
	return 0;
}
