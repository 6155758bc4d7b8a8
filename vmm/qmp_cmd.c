/*
 * The QMP protocol: JSON texts in (json-c's incremental tokener), one
 * reply each out, commands from a table. No socket here (vmm/qmp.c), so
 * the whole of it is unit-tested and fuzzed (tests/fuzz/fuzz_qmp.c).
 * Error classes and descriptions follow QEMU's, so that QEMU's clients
 * understand them. The command table also gives each command's arguments
 * and return type: dispatch checks arguments against it, and
 * query-qmp-schema describes it (qmp_schema.c), so the two cannot differ.
 * Events go to every session that finished negotiation.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <json-c/json.h>

#include "arch/arch.h"
#include "backends/block.h"
#include "backends/object.h"
#include "devices/device.h"
#include "lib/keyval.h"
#include "lib/log.h"
#include "lib/props.h"
#include "lib/util.h"
#include "virtio/balloon.h"
#include "vmm/cli_opts.h"
#include "vmm/qmp.h"
#include "vmm/qmp_internal.h"

struct qmp_session {
	const struct qmp_target *t;
	qmp_send_fn send;
	void *send_opaque;
	struct json_tokener *tok;
	size_t pending;			/* bytes of the text being read */
	bool negotiated;		/* qmp_capabilities done */
	bool skip_line;			/* after a syntax error: resync at a newline */
	size_t skipped;			/* bytes skipped so far, at most QMP_MAX_COMMAND */
	/* Where scan_nul is in the text: json-c cuts strings (keys too) at a NUL. */
	bool in_str, esc, nul;
	char quote;
	unsigned char uhex;		/* \u digits still to come */
	unsigned uval;
	struct qmp_session *next;	/* every session, for events */
};

static struct qmp_session *sessions;

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

/* ---- arguments, checked against the command's spec ---- */

/* "int" -> json-c's type and QEMU's word for it in messages. */
static bool type_ok(const char *type, struct json_object *v, const char **expected)
{
	if (type[0] == '[') {
		*expected = "array";
		return json_object_is_type(v, json_type_array);
	}
	if (!strcmp(type, "int")) {
		*expected = "integer";
		return json_object_is_type(v, json_type_int);
	}
	if (!strcmp(type, "number")) {
		*expected = "number";
		return json_object_is_type(v, json_type_int) ||
		       json_object_is_type(v, json_type_double);
	}
	if (!strcmp(type, "bool")) {
		*expected = "boolean";
		return json_object_is_type(v, json_type_boolean);
	}
	if (!strcmp(type, "any"))
		return true;
	*expected = "string";		/* str and enums */
	return json_object_is_type(v, json_type_string);
}

/*
 * Walks a spec "name:type,name?:type" ('?': optional), calling @fn for
 * each member; stops when it returns false.
 */
bool qmp_spec_each(const char *spec, bool (*fn)(void *o, const char *name, size_t nlen,
						 bool optional, const char *type), void *o)
{
	char type[64];

	while (spec && *spec) {
		const char *colon = strchr(spec, ':'), *end;
		size_t nlen, tlen;
		bool opt;

		if (!colon)
			return true;
		end = strchr(colon, ',');
		if (!end)
			end = colon + strlen(colon);
		nlen = (size_t)(colon - spec);
		opt = nlen && spec[nlen - 1] == '?';
		tlen = MIN((size_t)(end - colon - 1), sizeof(type) - 1);
		memcpy(type, colon + 1, tlen);
		type[tlen] = 0;
		if (!fn(o, spec, nlen - opt, opt, type))
			return false;
		spec = *end ? end + 1 : end;
	}
	return true;
}

struct arg_check {
	struct json_object *args;
	struct qmp_err *e;
	const char *key;	/* looked up in the spec */
	bool found;
};

static bool check_member(void *o, const char *name, size_t nlen, bool optional,
			 const char *type)
{
	struct arg_check *c = o;
	struct json_object *v;
	const char *expected = "";
	char key[64];

	snprintf(key, sizeof(key), "%.*s", (int)nlen, name);
	if (c->key) {
		c->found = !strcmp(key, c->key);
		return !c->found;
	}
	if (!json_object_object_get_ex(c->args, key, &v)) {
		if (optional)
			return true;
		set_err(c->e, GENERIC, "Parameter '%s' is missing", key);
		return false;
	}
	if (!type_ok(type, v, &expected)) {
		set_err(c->e, GENERIC, "Invalid parameter type for '%s', expected: %s", key,
			expected);
		return false;
	}
	return true;
}

/* QEMU's messages: an unknown member first, then missing, then wrong types. */
static bool check_args(struct json_object *args, const char *spec, struct qmp_err *e)
{
	struct arg_check c = { args, e, NULL, false };
	/* A spec ending in ",*" takes other members too (device_add's properties). */
	bool open = strlen(spec) > 1 && !strcmp(spec + strlen(spec) - 2, ",*");

	json_object_object_foreach(args, key, val) {
		(void)val;
		c.key = key;
		c.found = false;
		qmp_spec_each(spec, check_member, &c);
		if (!c.found && !open) {
			set_err(e, GENERIC, "Parameter '%.64s' is unexpected", key);
			return false;
		}
	}
	c.key = NULL;
	return qmp_spec_each(spec, check_member, &c);
}

/* Checked already: present, of the right type. */
static int64_t arg_int(struct json_object *args, const char *key)
{
	struct json_object *o = json_object_object_get(args, key);

	return o ? json_object_get_int64(o) : 0;
}

static const char *arg_str(struct json_object *args, const char *key)
{
	struct json_object *o = json_object_object_get(args, key);

	return o ? json_object_get_string(o) : NULL;
}

/* No such hook in this target (tests, the fuzzer): say so. */
static bool lacks(const void *fn, struct qmp_err *e)
{
	if (fn)
		return false;
	set_err(e, GENERIC, "ember cannot do that here");
	return true;
}

/* ---- commands ---- */

typedef struct json_object *(*cmd_fn)(struct qmp_session *s, struct json_object *args,
				      struct qmp_err *e);

#define CMD(name)	static struct json_object *name(struct qmp_session *s,	\
							struct json_object *args,	\
							struct qmp_err *e)

CMD(cmd_capabilities)
{
	struct json_object *en;

	/* ember has no optional capabilities (no out-of-band execution). */
	if (json_object_object_get_ex(args, "enable", &en) && json_object_array_length(en)) {
		struct json_object *c = json_object_array_get_idx(en, 0);

		set_err(e, GENERIC, "Capability '%.64s' not available",
			json_object_is_type(c, json_type_string) ?
			json_object_get_string(c) : "?");
		return NULL;
	}
	s->negotiated = true;
	return json_object_new_object();
}

static const char *run_state(struct qmp_session *s, bool *running)
{
	const struct qmp_target *t = s->t;

	*running = true;
	return t->run_state ? t->run_state(t->opaque, running) : "running";
}

CMD(cmd_query_status)
{
	struct json_object *r = json_object_new_object();
	bool running;
	const char *st = run_state(s, &running);

	add(r, "status", json_object_new_string(st));
	add(r, "singlestep", json_object_new_boolean(0));
	add(r, "running", json_object_new_boolean(running));
	return r;
}

/*
 * "qemu" is the QEMU release whose QMP ember follows (QMP_QEMU_LEVEL), so
 * that clients pick the right dialect; "package" says it is ember.
 */
static struct json_object *version(void)
{
	unsigned v[3] = { 0 };
	struct json_object *r, *q;

	sscanf(QMP_QEMU_LEVEL, "%u.%u.%u", &v[0], &v[1], &v[2]);
	q = json_object_new_object();
	add(q, "major", json_object_new_int(v[0]));
	add(q, "minor", json_object_new_int(v[1]));
	add(q, "micro", json_object_new_int(v[2]));
	r = json_object_new_object();
	add(r, "qemu", q);
	add(r, "package", json_object_new_string("ember " EMBER_VERSION));
	return r;
}

CMD(cmd_query_version)
{
	return version();
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

CMD(cmd_balloon)
{
	const struct qmp_target *t = s->t;
	int64_t v = arg_int(args, "value");
	bool huge = v == INT64_MAX;	/* json-c keeps values above INT64_MAX as uint64 */
	int ret;

	if (lacks(t->balloon_set, e))
		return NULL;
	if (v <= 0) {
		set_err(e, GENERIC, "Parameter 'value' expects a size in bytes above 0");
		return NULL;
	}
	ret = t->balloon_set(t->opaque, (uint64_t)v);
	if (ret == -ERANGE) {
		set_err(e, GENERIC, "Parameter 'value' expects a size from 4096 up to the "
			"guest's RAM (%" PRIu64 " bytes)%s", t->ram_size(t->opaque),
			huge ? "; it is too large" : "");
		return NULL;
	}
	return empty_or_err(ret, e, "balloon");
}

CMD(cmd_query_balloon)
{
	const struct qmp_target *t = s->t;
	struct json_object *r;
	uint64_t actual;

	if (lacks(t->balloon_get, e) || no_balloon(t->balloon_get(t->opaque, &actual), e))
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
	int ret = -ENOENT;

	memset(n, 0, sizeof(*n));
	if (!strncmp(path, obj, sizeof(obj) - 1)) {
		if (t->find_object)
			ret = t->find_object(t->opaque, path + sizeof(obj) - 1, n);
	} else if (t->find_device) {
		ret = t->find_device(t->opaque, strncmp(path, dev, sizeof(dev) - 1) ?
				     path : path + sizeof(dev) - 1, n);
	}
	if (!ret)
		return true;
	set_err(e, "DeviceNotFound", "Device '%.64s' not found%s", path,
		t->balloon_id && !t->balloon_id(t->opaque) ?
		" (give the balloon an id= to reach it)" : "");
	return false;
}

static const struct prop *find_prop(const struct prop *props, const char *name)
{
	for (const struct prop *p = props; p && p->name; p++)
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

CMD(cmd_qom_get)
{
	const struct qmp_target *t = s->t;
	const char *prop = arg_str(args, "property");
	struct balloon_stats st;
	const struct prop *p;
	struct qom_node n;
	uint32_t interval;
	int64_t when;

	if (!find_node(s, arg_str(args, "path"), &n, e))
		return NULL;
	if (!strcmp(prop, "type"))
		return json_object_new_string(n.type);
	if (n.balloon && (!strcmp(prop, PROP_STATS) || !strcmp(prop, PROP_INTERVAL))) {
		if (lacks(t->balloon_stats, e) ||
		    no_balloon(t->balloon_stats(t->opaque, &st, &when, &interval), e))
			return NULL;
		if (!strcmp(prop, PROP_STATS))
			return stats_obj(&st, when);
		return json_object_new_int64(interval);
	}
	p = find_prop(n.props, prop);
	if (p)
		return prop_value(&n, p);
	not_found(e, &n, prop);
	return NULL;
}

CMD(cmd_qom_set)
{
	const struct qmp_target *t = s->t;
	const char *prop = arg_str(args, "property");
	struct json_object *val = json_object_object_get(args, "value");
	struct qom_node n;
	int64_t v;

	if (!find_node(s, arg_str(args, "path"), &n, e))
		return NULL;
	if (!n.balloon || strcmp(prop, PROP_INTERVAL)) {
		/* The options of a type are fixed once the device or object exists. */
		if (!find_prop(n.props, prop) && strcmp(prop, "type") &&
		    (!n.balloon || strcmp(prop, PROP_STATS)))
			not_found(e, &n, prop);
		else
			set_err(e, GENERIC, "Property '%.64s' cannot be set%s", prop,
				n.balloon ? " (only " PROP_INTERVAL ")" : " while ember runs");
		return NULL;
	}
	if (!json_object_is_type(val, json_type_int)) {
		set_err(e, GENERIC, "Invalid parameter type for 'value', expected: integer");
		return NULL;
	}
	v = json_object_get_int64(val);
	if (v < 0 || v > 86400) {
		set_err(e, GENERIC, "Parameter 'value' expects seconds from 0 (off) to 86400");
		return NULL;
	}
	if (lacks(t->balloon_set_interval, e))
		return NULL;
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
CMD(cmd_qom_list)
{
	struct json_object *r;
	struct qom_node n;

	if (!find_node(s, arg_str(args, "path"), &n, e))
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

/* The action comes after the reply (the table's after). */
CMD(cmd_quit) { return json_object_new_object(); }
CMD(cmd_system_reset) { return json_object_new_object(); }

/* A run-state control of the target: {} or @why. */
static struct json_object *control(struct qmp_session *s, int (*fn)(void *o),
				   struct qmp_err *e, const char *why)
{
	if (lacks(fn, e))
		return NULL;
	if (fn(s->t->opaque)) {
		set_err(e, GENERIC, "%s", why);
		return NULL;
	}
	return json_object_new_object();
}

CMD(cmd_stop)
{
	return control(s, s->t->stop, e, "a vCPU did not leave the guest; the machine is "
		       "partly paused");
}

/* QEMU's words: system_reset brings the machine back to prelaunch. */
CMD(cmd_cont)
{
	return control(s, s->t->cont, e, "Resetting the Virtual Machine is required");
}

/* Done before the reply (a snapshot to a file takes no time worth reporting). */
static struct json_object *migration(struct qmp_session *s, int (*fn)(void *o, const char *uri),
				     struct json_object *args, struct qmp_err *e)
{
	const char *uri = arg_str(args, "uri");
	int ret;

	if (lacks(fn, e))
		return NULL;
	if (!uri) {
		set_err(e, GENERIC, "Parameter 'uri' is missing");
		return NULL;
	}
	ret = fn(s->t->opaque, uri);
	if (ret) {
		set_err(e, GENERIC, "%s", ret == -EBUSY ? "ember was not started with -incoming "
			"defer, or the snapshot is already in" : log_last());
		return NULL;
	}
	return json_object_new_object();
}

CMD(cmd_migrate)
{
	return migration(s, s->t->migrate, args, e);
}

CMD(cmd_migrate_incoming)
{
	return migration(s, s->t->migrate_incoming, args, e);
}

/* QEMU's MigrationInfo: {} before any migrate; a snapshot is written whole, so nothing remains. */
CMD(cmd_query_migrate)
{
	struct json_object *r = json_object_new_object(), *ram;
	uint64_t ms = 0, bytes = 0;
	const char *st = s->t->migrate_info ? s->t->migrate_info(s->t->opaque, &ms, &bytes) : NULL;

	if (!st)
		return r;
	add(r, "status", json_object_new_string(st));
	add(r, "total-time", json_object_new_int64((int64_t)ms));
	ram = json_object_new_object();
	add(ram, "total", json_object_new_int64((int64_t)bytes));
	add(ram, "remaining", json_object_new_int64(0));
	add(r, "ram", ram);
	return r;
}

CMD(cmd_system_powerdown)
{
	return control(s, s->t->powerdown, e, "this machine has no ACPI power button");
}

CMD(cmd_query_name)
{
	const struct qmp_target *t = s->t;
	const char *name = t->name ? t->name(t->opaque) : NULL;
	struct json_object *r = json_object_new_object();

	if (name)
		add(r, "name", json_object_new_string(name));
	return r;
}

CMD(cmd_query_uuid)
{
	const struct qmp_target *t = s->t;
	const char *uuid = t->uuid ? t->uuid(t->opaque) : NULL;
	struct json_object *r = json_object_new_object();

	add(r, "UUID", json_object_new_string(uuid ? uuid :
					      "00000000-0000-0000-0000-000000000000"));
	return r;
}

CMD(cmd_query_target)
{
	struct json_object *r = json_object_new_object();

	add(r, "arch", json_object_new_string(QMP_TARGET_ARCH));
	return r;
}

CMD(cmd_query_kvm)
{
	struct json_object *r = json_object_new_object();

	/* ember runs on KVM or not at all. */
	add(r, "enabled", json_object_new_boolean(1));
	add(r, "present", json_object_new_boolean(1));
	return r;
}

CMD(cmd_query_machines)
{
	struct json_object *r = json_object_new_array();

	for (unsigned i = 0; i < arch_nr_machine_types; i++) {
		const struct machine_type *mt = &arch_machine_types[i];
		struct json_object *o = json_object_new_object();

		add(o, "name", json_object_new_string(mt->name));
		if (mt->is_default)
			add(o, "is-default", json_object_new_boolean(1));
		add(o, "cpu-max", json_object_new_int(MAX_VCPUS));
		add(o, "hotpluggable-cpus", json_object_new_boolean(0));
		add(o, "numa-mem-supported", json_object_new_boolean(0));
		add(o, "deprecated", json_object_new_boolean(0));
		json_object_array_add(r, o);
	}
	return r;
}

CMD(cmd_query_cpus_fast)
{
	const struct qmp_target *t = s->t;
	struct json_object *r = json_object_new_array();
	char path[64];
	int tid;

	for (unsigned i = 0; t->cpu && !t->cpu(t->opaque, i, &tid); i++) {
		struct json_object *o = json_object_new_object();

		snprintf(path, sizeof(path), "/machine/unattached/device[%u]", i);
		add(o, "cpu-index", json_object_new_int((int)i));
		add(o, "qom-path", json_object_new_string(path));
		add(o, "thread-id", json_object_new_int(tid));
		add(o, "target", json_object_new_string(QMP_TARGET_ARCH));
		json_object_array_add(r, o);
	}
	return r;
}

/* Device types: QEMU's ObjectTypeInfo, all of them under "device". */
CMD(cmd_qom_list_types)
{
	const char *impl = arg_str(args, "implements");
	struct json_object *r = json_object_new_array();
	const struct device_type *dt;

	if (impl && strcmp(impl, "device"))
		return r;
	for (unsigned i = 0; (dt = device_type_nth(i)); i++) {
		struct json_object *o = json_object_new_object();

		add(o, "name", json_object_new_string(dt->name));
		add(o, "parent", json_object_new_string("device"));
		json_object_array_add(r, o);
	}
	return r;
}

CMD(cmd_device_list_properties)
{
	const char *name = arg_str(args, "typename");
	const struct device_type *dt = device_type_find(name);
	struct json_object *r;

	if (!dt || dt->internal) {
		set_err(e, "DeviceNotFound", "Device '%.64s' not found (-device help lists "
			"them)", name);
		return NULL;
	}
	r = json_object_new_array();
	for (const struct prop *p = dt->props; p && p->name; p++) {
		struct json_object *o = json_object_new_object();

		add(o, "name", json_object_new_string(p->name));
		add(o, "type", json_object_new_string(props_type_name(p->type)));
		if (p->help)
			add(o, "description", json_object_new_string(p->help));
		if (p->def)
			add(o, "default-value", json_object_new_string(p->def));
		json_object_array_add(r, o);
	}
	return r;
}

/* QEMU's CommandLineParameterInfo, unless @name is in @r already. */
static void param_add(struct json_object *r, const char *name, const char *type)
{
	struct json_object *o, *n;

	for (size_t i = 0; i < json_object_array_length(r); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(r, i), "name", &n) &&
		    !strcmp(json_object_get_string(n), name))
			return;
	o = json_object_new_object();
	add(o, "name", json_object_new_string(name));
	add(o, "type", json_object_new_string(type));
	json_object_array_add(r, o);
}

/* props.h's types as QEMU's command-line parameter types. */
static const char *param_type(enum prop_type t)
{
	switch (t) {
	case PROP_BOOL:
		return "boolean";
	case PROP_U32:
	case PROP_U64:
		return "number";
	case PROP_SIZE:
		return "size";
	default:
		return "string";
	}
}

/*
 * An option's parameters: its key table (the one its parser checks keys
 * against); for -chardev, as in QEMU, the keys of all its back ends (their
 * property tables, which the back ends parse with). Other back-end options
 * and -device list none, as QEMU's do.
 */
static struct json_object *params_of(const struct cli_opt *o)
{
	struct json_object *r = json_object_new_array();
	const struct object_type *t;

	for (const struct cli_param *p = o->params; p && p->name; p++)
		param_add(r, p->name, p->type);
	if (!strcmp(o->name, "-chardev")) {
		param_add(r, "backend", "string");
		for (unsigned i = 0; (t = object_type_at(OBJ_CHARDEV, i)); i++)
			for (const struct prop *p = t->props; p && p->name; p++)
				param_add(r, p->name, param_type(p->type));
	}
	return r;
}

/* From the option table itself: every option, with its parameters. */
CMD(cmd_query_command_line_options)
{
	const char *want = arg_str(args, "option");
	struct json_object *r = json_object_new_array();

	for (size_t i = 0; i < cli_nr_opts; i++) {
		const struct cli_opt *o = &cli_opts[i];
		struct json_object *c;
		bool dup = false;

		for (size_t j = 0; j < i && !dup; j++)
			dup = !strcmp(cli_opts[j].name, o->name);
		/* QEMU's libvirt probe names -machine, ember's table -M */
		if (o->kind == CLI_MORE || dup ||
		    (want && strcmp(want, o->name + 1) && (!o->alias || strcmp(want, o->alias + 1))))
			continue;
		c = json_object_new_object();
		/* QEMU's name is the long one: machine, not M */
		add(c, "option", json_object_new_string(o->alias && strlen(o->alias) >
							 strlen(o->name) ? o->alias + 1 :
							 o->name + 1));
		add(c, "parameters", params_of(o));
		json_object_array_add(r, c);
	}
	if (want && !json_object_array_length(r)) {
		json_object_put(r);
		set_err(e, GENERIC, "invalid option name: %.64s", want);
		return NULL;
	}
	return r;
}

/* Text at @buf + *@n; what does not fit is left out. */
static void appendf(char *buf, size_t size, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void appendf(char *buf, size_t size, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(buf + *n, size - *n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= size - *n)
		buf[*n] = 0;
	else
		*n += (size_t)k;
}

/*
 * HMP's commands, as text into @buf (@size bytes): false with @e set when
 * the command failed. Each is what QEMU's HMP command of that name prints.
 */
typedef bool (*hmp_fn)(struct qmp_session *s, char *buf, size_t size, struct qmp_err *e);

static bool hmp_info_status(struct qmp_session *s, char *buf, size_t size, struct qmp_err *e)
{
	bool running;
	const char *st = run_state(s, &running);

	if (running || !strcmp(st, "paused"))
		snprintf(buf, size, "VM status: %s\r\n", running ? "running" : st);
	else
		snprintf(buf, size, "VM status: paused (%s)\r\n", st);
	return true;
}

static bool hmp_info_qtree(struct qmp_session *s, char *buf, size_t size, struct qmp_err *e)
{
	const struct qmp_target *t = s->t;
	const char *type, *id, *bus;
	size_t n = 0;

	for (unsigned i = 0; t->device && !t->device(t->opaque, i, &type, &id, &bus); i++)
		appendf(buf, size, &n, "  dev: %s, id \"%s\"\r\n    bus: %s\r\n",
			type, id ? id : "", bus);
	return true;
}

static bool hmp_info_block(struct qmp_session *s, char *buf, size_t size, struct qmp_err *e)
{
	const struct qmp_target *t = s->t;
	struct blk_info bi;
	char qdev[96];
	size_t n = 0;

	for (unsigned i = 0; t->block && !t->block(t->opaque, i, &bi, qdev, sizeof(qdev)); i++) {
		appendf(buf, size, &n, "%s: %s (%s%s)\r\n",
			bi.node_name ? bi.node_name : "(anonymous)",
			bi.filename ? bi.filename : "", bi.driver, bi.ro ? ", read-only" : "");
		if (qdev[0])
			appendf(buf, size, &n, "    Attached to:      %s\r\n", qdev);
	}
	return true;
}

static bool hmp_info_version(struct qmp_session *s, char *buf, size_t size, struct qmp_err *e)
{
	snprintf(buf, size, "%s (ember %s)\r\n", QMP_QEMU_LEVEL, EMBER_VERSION);
	return true;
}

/* A QMP command without arguments whose reply is {}: HMP prints nothing. */
static bool hmp_qmp(struct qmp_session *s, struct qmp_err *e,
		    struct json_object *(*fn)(struct qmp_session *, struct json_object *,
					      struct qmp_err *))
{
	struct json_object *r = fn(s, NULL, e);

	json_object_put(r);
	return r != NULL;
}

static bool hmp_powerdown(struct qmp_session *s, char *buf, size_t size, struct qmp_err *e)
{
	return hmp_qmp(s, e, cmd_system_powerdown);
}

static bool hmp_stop(struct qmp_session *s, char *buf, size_t size, struct qmp_err *e)
{
	return hmp_qmp(s, e, cmd_stop);
}

static bool hmp_cont(struct qmp_session *s, char *buf, size_t size, struct qmp_err *e)
{
	return hmp_qmp(s, e, cmd_cont);
}

static bool hmp_help(struct qmp_session *s, char *buf, size_t size, struct qmp_err *e);

static const struct {
	const char *name, *alias, *help;
	hmp_fn fn;
} hmp_cmds[] = {
	{ "info status", NULL, "show the VM's run state", hmp_info_status },
	{ "info qtree", NULL, "show the devices", hmp_info_qtree },
	{ "info block", NULL, "show the block nodes and their devices", hmp_info_block },
	{ "info version", NULL, "show the version", hmp_info_version },
	{ "stop", "s", "pause the vCPUs", hmp_stop },
	{ "cont", "c", "resume the vCPUs", hmp_cont },
	{ "system_powerdown", NULL, "press the ACPI power button", hmp_powerdown },
	{ "help", "?", "list these commands", hmp_help },
};

static bool hmp_help(struct qmp_session *s, char *buf, size_t size, struct qmp_err *e)
{
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(hmp_cmds); i++)
		appendf(buf, size, &n, "%s%s%s -- %s\r\n", hmp_cmds[i].name,
			hmp_cmds[i].alias ? "|" : "", hmp_cmds[i].alias ? hmp_cmds[i].alias : "",
			hmp_cmds[i].help);
	/* the monitor itself (vmm/hmp_mon.c) sends these as QMP commands */
	appendf(buf, size, &n, "system_reset -- reset the machine\r\nquit|q -- quit ember\r\n");
	return true;
}

/* human-monitor-command: HMP's commands ember has, as text (help lists them). */
CMD(cmd_hmp)
{
	const char *line = arg_str(args, "command-line");
	char buf[4096];
	size_t len;

	while (*line == ' ')
		line++;
	len = strlen(line);
	while (len && line[len - 1] == ' ')
		len--;
	buf[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(hmp_cmds); i++) {
		const char *a = hmp_cmds[i].alias;

		if ((strlen(hmp_cmds[i].name) != len || strncmp(line, hmp_cmds[i].name, len)) &&
		    (!a || strlen(a) != len || strncmp(line, a, len)))
			continue;
		return hmp_cmds[i].fn(s, buf, sizeof(buf), e) ? json_object_new_string(buf) : NULL;
	}
	snprintf(buf, sizeof(buf), "unknown command: '%.*s' (ember's HMP: try help)\r\n",
		 (int)MIN(len, (size_t)64), line);
	return json_object_new_string(buf);
}

CMD(cmd_query_chardev)
{
	const struct qmp_target *t = s->t;
	struct json_object *r = json_object_new_array();
	const char *label;
	char fn[128];
	bool open;

	for (unsigned i = 0; t->chardev &&
	     !t->chardev(t->opaque, i, &label, fn, sizeof(fn), &open); i++) {
		struct json_object *o = json_object_new_object();

		add(o, "label", json_object_new_string(label ? label : ""));
		add(o, "filename", json_object_new_string(fn));
		add(o, "frontend-open", json_object_new_boolean(open));
		json_object_array_add(r, o);
	}
	return r;
}

/* QEMU's BlockDeviceInfo, the part ember has. */
static struct json_object *block_node(const struct blk_info *bi)
{
	struct json_object *o = json_object_new_object(), *img = json_object_new_object();
	struct json_object *cache = json_object_new_object();
	const char *file = bi->filename ? bi->filename : "";

	add(o, "file", json_object_new_string(file));
	if (bi->node_name)
		add(o, "node-name", json_object_new_string(bi->node_name));
	add(o, "ro", json_object_new_boolean(bi->ro));
	add(o, "drv", json_object_new_string(bi->driver));
	add(o, "encrypted", json_object_new_boolean(0));
	add(o, "backing_file_depth", json_object_new_int(0));
	add(img, "filename", json_object_new_string(file));
	add(img, "format", json_object_new_string(bi->driver));
	add(img, "virtual-size", json_object_new_int64((int64_t)bi->size));
	add(o, "image", img);
	add(cache, "writeback", json_object_new_boolean(bi->writeback));
	add(cache, "direct", json_object_new_boolean(bi->direct));
	add(cache, "no-flush", json_object_new_boolean(bi->no_flush));
	add(o, "cache", cache);
	return o;
}

/*
 * query-named-block-nodes: every node; query-block (@used): the nodes
 * devices use, as QEMU's BlockInfo ("device" is "": no -drive names).
 */
static struct json_object *blocks(struct qmp_session *s, bool used)
{
	const struct qmp_target *t = s->t;
	struct json_object *r = json_object_new_array(), *o;
	struct blk_info bi;
	char qdev[96];

	for (unsigned i = 0; t->block && !t->block(t->opaque, i, &bi, qdev, sizeof(qdev)); i++) {
		if (!used) {
			json_object_array_add(r, block_node(&bi));
			continue;
		}
		if (!qdev[0])
			continue;
		o = json_object_new_object();
		add(o, "device", json_object_new_string(""));
		add(o, "qdev", json_object_new_string(qdev));
		add(o, "type", json_object_new_string("unknown"));
		add(o, "removable", json_object_new_boolean(0));
		add(o, "locked", json_object_new_boolean(0));
		add(o, "inserted", block_node(&bi));
		json_object_array_add(r, o);
	}
	return r;
}

CMD(cmd_query_named_block_nodes) { return blocks(s, false); }
CMD(cmd_query_block) { return blocks(s, true); }

CMD(cmd_query_commands);
CMD(cmd_query_qmp_schema);

/*
 * Every command: its arguments ("name:type,opt?:type") and its return
 * type, both in the types of qmp_schema.c. After the reply, @after acts.
 */
enum after { NOTHING, QUIT, RESET };

/* device_add's properties, as -device would have them: scalars to text. */
static bool device_kv(struct json_object *args, struct keyval *kv, struct qmp_err *e)
{
	kv->pairs = calloc(json_object_object_length(args), sizeof(*kv->pairs));
	if (!kv->pairs) {
		set_err(e, GENERIC, "out of memory");
		return false;
	}
	json_object_object_foreach(args, key, val) {
		struct kv_pair *p = &kv->pairs[kv->n];

		if (!strcmp(key, "driver"))
			continue;
		if (json_object_is_type(val, json_type_boolean))
			p->val = strdup(json_object_get_boolean(val) ? "on" : "off");
		else if (json_object_is_type(val, json_type_string) ||
			 json_object_is_type(val, json_type_int))
			p->val = strdup(json_object_get_string(val));
		else {
			set_err(e, GENERIC, "Parameter '%.64s' expects a string, number or boolean",
				key);
			return false;
		}
		p->key = strdup(key);
		kv->n++;
		if (!p->key || !p->val) {
			set_err(e, GENERIC, "out of memory");
			return false;
		}
	}
	return true;
}

CMD(cmd_device_add)
{
	struct keyval kv = { 0 };
	bool ok = !lacks(s->t->device_add, e) && device_kv(args, &kv, e);

	if (ok && s->t->device_add(s->t->opaque, arg_str(args, "driver"), &kv)) {
		set_err(e, GENERIC, "%.150s", log_last());
		ok = false;
	}
	keyval_free(&kv);
	return ok ? json_object_new_object() : NULL;
}

CMD(cmd_device_del)
{
	int ret;

	if (lacks(s->t->device_del, e))
		return NULL;
	ret = s->t->device_del(s->t->opaque, arg_str(args, "id"));
	if (ret) {
		set_err(e, ret == -ENOENT ? "DeviceNotFound" : GENERIC, "%.150s", log_last());
		return NULL;
	}
	return json_object_new_object();
}

/*
 * blockdev-add's arguments as the command line's option:
 * nested objects as dotted keys (file.filename=...), commas doubled.
 */
static bool flatten(struct json_object *o, const char *prefix, char *buf, size_t size,
		    size_t *n, struct qmp_err *e)
{
	json_object_object_foreach(o, key, val) {
		char k[128];
		const char *v;

		snprintf(k, sizeof(k), "%s%s", prefix, key);
		if (json_object_is_type(val, json_type_object)) {
			strncat(k, ".", sizeof(k) - strlen(k) - 1);
			if (!flatten(val, k, buf, size, n, e))
				return false;
			continue;
		}
		if (json_object_is_type(val, json_type_boolean))
			v = json_object_get_boolean(val) ? "on" : "off";
		else if (json_object_is_type(val, json_type_string) ||
			 json_object_is_type(val, json_type_int))
			v = json_object_get_string(val);
		else {
			set_err(e, GENERIC, "Parameter '%.64s' expects a string, number, boolean "
				"or object", k);
			return false;
		}
		*n += snprintf(buf + MIN(*n, size), size - MIN(*n, size), "%s%s=", *n ? "," : "", k);
		for (; *v; v++)
			*n += snprintf(buf + MIN(*n, size), size - MIN(*n, size), *v == ',' ? ",," : "%c", *v);
	}
	if (*n >= size) {
		set_err(e, GENERIC, "the arguments are too long");
		return false;
	}
	return true;
}

static struct json_object *backend_add(struct qmp_session *s, struct json_object *args,
				      int kind, struct qmp_err *e)
{
	char opts[4096];
	size_t n = 0;

	if (lacks(s->t->object_add, e) || !flatten(args, "", opts, sizeof(opts), &n, e))
		return NULL;
	if (s->t->object_add(s->t->opaque, kind, opts)) {
		set_err(e, GENERIC, "%.150s", log_last());
		return NULL;
	}
	return json_object_new_object();
}

static struct json_object *backend_del(struct qmp_session *s, int kind, const char *id,
				      struct qmp_err *e)
{
	if (lacks(s->t->object_del, e))
		return NULL;
	if (s->t->object_del(s->t->opaque, kind, id)) {
		set_err(e, GENERIC, "%.150s", log_last());
		return NULL;
	}
	return json_object_new_object();
}

CMD(cmd_blockdev_add)
{
	return backend_add(s, args, OBJ_BLOCKDEV, e);
}

CMD(cmd_blockdev_del)
{
	return backend_del(s, OBJ_BLOCKDEV, arg_str(args, "node-name"), e);
}

static const struct qmp_cmd commands[] = {
	{ "qmp_capabilities", "enable?:[str]", "q_empty", cmd_capabilities },
	{ "query-commands", "", "[CommandInfo]", cmd_query_commands },
	{ "query-qmp-schema", "", "[SchemaInfo]", cmd_query_qmp_schema },
	{ "query-status", "", "StatusInfo", cmd_query_status },
	{ "query-version", "", "VersionInfo", cmd_query_version },
	{ "query-name", "", "NameInfo", cmd_query_name },
	{ "query-uuid", "", "UuidInfo", cmd_query_uuid },
	{ "query-target", "", "TargetInfo", cmd_query_target },
	{ "query-kvm", "", "KvmInfo", cmd_query_kvm },
	{ "query-machines", "", "[MachineInfo]", cmd_query_machines },
	{ "query-cpus-fast", "", "[CpuInfoFast]", cmd_query_cpus_fast },
	{ "query-chardev", "", "[ChardevInfo]", cmd_query_chardev },
	{ "query-block", "", "[BlockInfo]", cmd_query_block },
	{ "query-named-block-nodes", "flat?:bool", "[BlockDeviceInfo]",
	  cmd_query_named_block_nodes },
	{ "query-command-line-options", "option?:str", "[CommandLineOptionInfo]",
	  cmd_query_command_line_options },
	{ "stop", "", "q_empty", cmd_stop },
	{ "cont", "", "q_empty", cmd_cont },
	{ "system_powerdown", "", "q_empty", cmd_system_powerdown },
	{ "system_reset", "", "q_empty", cmd_system_reset, RESET },
	{ "quit", "", "q_empty", cmd_quit, QUIT },
	{ "balloon", "value:int", "q_empty", cmd_balloon },
	{ "query-balloon", "", "BalloonInfo", cmd_query_balloon },
	{ "qom-get", "path:str,property:str", "any", cmd_qom_get },
	{ "qom-set", "path:str,property:str,value:any", "q_empty", cmd_qom_set },
	{ "qom-list", "path:str", "[ObjectPropertyInfo]", cmd_qom_list },
	{ "qom-list-types", "implements?:str,abstract?:bool", "[ObjectTypeInfo]",
	  cmd_qom_list_types },
	{ "device-list-properties", "typename:str", "[ObjectPropertyInfo]",
	  cmd_device_list_properties },
	{ "device_add", "driver:str,id?:str,bus?:str,*", "q_empty", cmd_device_add },
	{ "device_del", "id:str", "q_empty", cmd_device_del },
	{ "blockdev-add", "driver:str,node-name:str,*", "q_empty", cmd_blockdev_add },
	{ "blockdev-del", "node-name:str", "q_empty", cmd_blockdev_del },
	{ "human-monitor-command", "command-line:str,cpu-index?:int", "str", cmd_hmp },
	{ "migrate", "uri:str,blk?:bool,inc?:bool,detach?:bool,resume?:bool", "q_empty",
	  cmd_migrate },
	{ "migrate-incoming", "uri:str", "q_empty", cmd_migrate_incoming },
	{ "query-migrate", "", "MigrationInfo", cmd_query_migrate },
	{ NULL },
};

CMD(cmd_query_commands)
{
	struct json_object *r = json_object_new_array();

	for (const struct qmp_cmd *c = commands; c->name; c++) {
		struct json_object *o = json_object_new_object();

		add(o, "name", json_object_new_string(c->name));
		json_object_array_add(r, o);
	}
	return r;
}

CMD(cmd_query_qmp_schema)
{
	return qmp_schema(commands);
}

/* ---- events ---- */

void qmp_event(const char *name, struct json_object *data)
{
	struct json_object *o = json_object_new_object(), *ts = json_object_new_object();
	struct timeval tv;

	gettimeofday(&tv, NULL);
	add(ts, "seconds", json_object_new_int64(tv.tv_sec));
	add(ts, "microseconds", json_object_new_int64(tv.tv_usec));
	add(o, "timestamp", ts);
	add(o, "event", json_object_new_string(name));
	if (data)
		add(o, "data", data);
	for (struct qmp_session *s = sessions; s; s = s->next)
		if (s->negotiated)
			send_obj(s, o);
	json_object_put(o);
}

void qmp_event_simple(const char *name)
{
	qmp_event(name, NULL);
}

/* SHUTDOWN and RESET carry the same data: who asked, and QEMU's ShutdownCause. */
static void cause_event(const char *name, bool guest, const char *reason)
{
	struct json_object *d = json_object_new_object();

	add(d, "guest", json_object_new_boolean(guest));
	add(d, "reason", json_object_new_string(reason));
	qmp_event(name, d);
}

void qmp_event_shutdown(bool guest, const char *reason)
{
	cause_event("SHUTDOWN", guest, reason);
}

void qmp_event_reset(bool guest, const char *reason)
{
	cause_event("RESET", guest, reason);
}

void qmp_event_panicked(const char *action)
{
	struct json_object *d = json_object_new_object();

	add(d, "action", json_object_new_string(action));
	qmp_event("GUEST_PANICKED", d);
}

void qmp_event_balloon(uint64_t actual)
{
	struct json_object *d = json_object_new_object();

	add(d, "actual", json_object_new_int64((int64_t)actual));
	qmp_event("BALLOON_CHANGE", d);
}

void qmp_event_migration(const char *status)
{
	struct json_object *d = json_object_new_object();

	add(d, "status", json_object_new_string(status));
	qmp_event("MIGRATION", d);
}

/* ---- one JSON text ---- */

static void dispatch(struct qmp_session *s, struct json_object *in)
{
	struct json_object *id = NULL, *exec = NULL, *args = NULL, *ret = NULL;
	struct qmp_err e = { 0 };
	const char *name = NULL;
	int after = NOTHING;

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
	for (const struct qmp_cmd *c = commands; c->name; c++) {
		if (strcmp(name, c->name))
			continue;
		if (!args)
			args = json_object_new_object();
		else
			json_object_get(args);
		if (check_args(args, c->args, &e))
			ret = c->fn(s, args, &e);
		json_object_put(args);
		if (ret)
			after = c->after;
		goto out;
	}
	set_err(&e, "CommandNotFound", "The command %.64s has not been found", name);
out:
	reply(s, ret, e.cls ? &e : NULL, id);
	/* QEMU's quit (SHUTDOWN) and system_reset (RESET) act after the reply. */
	if (after == QUIT && s->t->quit)
		s->t->quit(s->t->opaque);
	if (after == RESET && s->t->system_reset)
		s->t->system_reset(s->t->opaque);
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
	s->next = sessions;
	sessions = s;
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
	for (struct qmp_session **p = &sessions; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
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

/* Notes a NUL (raw or \u0000) inside a string of the text being read. */
static void scan_nul(struct qmp_session *s, const char *p, size_t n)
{
	for (; n; p++, n--) {
		unsigned char ch = (unsigned char)*p;

		if (!ch) {
			s->nul = true;
		} else if (s->uhex) {
			s->uval = s->uval << 4 | (isxdigit(ch) ? (unsigned)(ch <= '9' ? ch - '0' :
				   (ch | 0x20) - 'a' + 10) : 1u);
			if (!--s->uhex && !s->uval)
				s->nul = true;
		} else if (s->esc) {
			s->esc = false;
			if (ch == 'u') {
				s->uhex = 4;
				s->uval = 0;
			}
		} else if (s->in_str) {
			if (ch == '\\')
				s->esc = true;
			else if (ch == (unsigned char)s->quote)
				s->in_str = false;
		} else if (ch == '"' || ch == '\'') {
			s->in_str = true;
			s->quote = (char)ch;
		}
	}
}

int qmp_session_input(struct qmp_session *s, const char *buf, size_t len)
{
	while (len) {
		enum json_tokener_error err;
		struct json_object *o;
		size_t chunk, used;

		if (s->skip_line) {
			const char *nl = memchr(buf, '\n', len);
			size_t n = nl ? (size_t)(nl - buf) : len;

			/* A slot is not held forever by bytes without a newline. */
			s->skipped += n;
			if (s->skipped > QMP_MAX_COMMAND) {
				too_long(s);
				return -E2BIG;
			}
			if (!nl)
				return 0;
			s->skip_line = false;
			s->skipped = 0;
			len -= n + 1;
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
		scan_nul(s, buf, used);
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
		if (s->nul && err == json_tokener_success) {
			struct qmp_err e;

			/* Cut short, "quit\u0000 junk" would run quit: refused, as QEMU does. */
			set_err(&e, GENERIC, "JSON parse error, \\u0000 (NUL) in a string is not "
				"supported");
			reply(s, NULL, &e, NULL);
			json_object_put(o);
			o = NULL;
		} else if (err != json_tokener_success || !o) {
			struct qmp_err e;

			set_err(&e, GENERIC, "JSON parse error, %s",
				json_tokener_error_desc(err));
			reply(s, NULL, &e, NULL);
			s->skip_line = true;
		}
		s->in_str = s->esc = s->nul = false;
		s->uhex = 0;
		if (!o)
			continue;
		dispatch(s, o);
		json_object_put(o);
	}
	return 0;
}

bool qmp_session_negotiated(const struct qmp_session *s)
{
	return s->negotiated;
}
