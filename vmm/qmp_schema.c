/*
 * query-qmp-schema: QEMU's introspection (SchemaInfo, qapi/introspect.json)
 * of exactly the commands ember dispatches, from their own table
 * (qmp_cmd.c), the types their arguments and returns use, and the events
 * ember sends. Type names are QEMU's where it has one; QEMU's clients
 * follow the references and do not rely on them.
 */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "lib/util.h"
#include "vmm/qmp_internal.h"

/* Named types: an object's members ("name:type,opt?:type") or an enum's values. */
static const struct {
	const char *name, *spec;
	bool is_enum;
} types[] = {
	{ "CommandInfo", "name:str" },
	{ "SchemaInfo", "name:str,meta-type:str" },
	{ "StatusInfo", "running:bool,singlestep:bool,status:RunState" },
	{ "RunState", "prelaunch,running,paused,shutdown,guest-panicked,inmigrate", true },
	{ "MigrationInfo", "status?:MigrationStatus,total-time?:int,ram?:MigrationStats" },
	{ "MigrationStatus", "completed,failed", true },
	{ "MigrationStats", "total:int,remaining:int" },
	{ "VersionInfo", "qemu:VersionTriple,package:str" },
	{ "VersionTriple", "major:int,minor:int,micro:int" },
	{ "NameInfo", "name?:str" },
	{ "UuidInfo", "UUID:str" },
	{ "TargetInfo", "arch:str" },
	{ "KvmInfo", "enabled:bool,present:bool" },
	{ "MachineInfo", "name:str,is-default?:bool,cpu-max:int,hotpluggable-cpus:bool,"
	  "numa-mem-supported:bool,deprecated:bool" },
	{ "CpuInfoFast", "cpu-index:int,qom-path:str,thread-id:int,target:str" },
	{ "CommandLineOptionInfo", "option:str,parameters:[CommandLineParameterInfo]" },
	{ "CommandLineParameterInfo", "name:str,type:str,help?:str,default?:str" },
	{ "BalloonInfo", "actual:int" },
	{ "ChardevInfo", "label:str,filename:str,frontend-open:bool" },
	{ "BlockInfo", "device:str,qdev?:str,type:str,removable:bool,locked:bool,"
	  "inserted?:BlockDeviceInfo" },
	{ "BlockDeviceInfo", "file:str,node-name?:str,ro:bool,drv:str,encrypted:bool,"
	  "backing_file_depth:int,image:ImageInfo,cache:BlockdevCacheInfo" },
	{ "ImageInfo", "filename:str,format:str,virtual-size:int" },
	{ "BlockdevCacheInfo", "writeback:bool,direct:bool,no-flush:bool" },
	{ "ObjectPropertyInfo", "name:str,type:str,description?:str,default-value?:any" },
	{ "ObjectTypeInfo", "name:str,abstract?:bool,parent?:str" },
	{ "ShutdownCause", "host-error,host-qmp-quit,host-qmp-system-reset,host-signal,"
	  "guest-shutdown,guest-reset,guest-panic", true },
	{ "GuestPanicAction", "pause,poweroff,run", true },
};

/* The events ember sends (qmp.h's qmp_event_*), with their data. */
static const struct {
	const char *name, *data;
} events[] = {
	{ "SHUTDOWN", "guest:bool,reason:ShutdownCause" },
	{ "RESET", "guest:bool,reason:ShutdownCause" },
	{ "POWERDOWN", "" },
	{ "STOP", "" },
	{ "RESUME", "" },
	{ "GUEST_PANICKED", "action:GuestPanicAction" },
	{ "BALLOON_CHANGE", "actual:int" },
	{ "DEVICE_DELETED", "device?:str,path:str" },
};

/* Builtin names and their JSON types. */
static const char *const builtins[][2] = {
	{ "int", "int" }, { "str", "string" }, { "bool", "boolean" },
	{ "number", "number" }, { "any", "value" }, { "null", "null" },
};

struct gen {
	struct json_object *out, *seen;
};

static void add(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

static void emit_type(struct gen *g, const char *name);

/* First time @name comes up: true, and it is remembered. */
static bool first(struct gen *g, const char *name)
{
	if (json_object_object_get_ex(g->seen, name, NULL))
		return false;
	json_object_object_add(g->seen, name, NULL);
	return true;
}

static struct json_object *entry(struct gen *g, const char *name, const char *meta)
{
	struct json_object *o = json_object_new_object();

	add(o, "name", name);
	add(o, "meta-type", meta);
	json_object_array_add(g->out, o);
	return o;
}

struct members {
	struct gen *g;
	struct json_object *list;
};

static bool add_member(void *o, const char *name, size_t nlen, bool optional, const char *type)
{
	struct members *m = o;
	struct json_object *e = json_object_new_object();
	char key[64];

	snprintf(key, sizeof(key), "%.*s", (int)nlen, name);
	add(e, "name", key);
	add(e, "type", type);
	if (optional)
		json_object_object_add(e, "default", NULL);
	json_object_array_add(m->list, e);
	emit_type(m->g, type);
	return true;
}

/* An object type of members @spec. */
static void emit_object(struct gen *g, const char *name, const char *spec)
{
	struct members m = { g, json_object_new_array() };

	if (!first(g, name)) {
		json_object_put(m.list);
		return;
	}
	json_object_object_add(entry(g, name, "object"), "members", m.list);
	qmp_spec_each(spec, add_member, &m);
}

static void emit_enum(struct gen *g, const char *name, const char *values)
{
	struct json_object *o = entry(g, name, "enum");
	struct json_object *v = json_object_new_array(), *mem = json_object_new_array();

	while (*values) {
		const char *end = strchr(values, ',');
		size_t n = end ? (size_t)(end - values) : strlen(values);
		struct json_object *e = json_object_new_object();

		json_object_array_add(v, json_object_new_string_len(values, (int)n));
		json_object_object_add(e, "name", json_object_new_string_len(values, (int)n));
		json_object_array_add(mem, e);
		values += n + (end != NULL);
	}
	json_object_object_add(o, "values", v);
	json_object_object_add(o, "members", mem);
}

static void emit_type(struct gen *g, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(builtins); i++)
		if (!strcmp(name, builtins[i][0])) {
			if (first(g, name))
				add(entry(g, name, "builtin"), "json-type", builtins[i][1]);
			return;
		}
	if (name[0] == '[') {
		char elem[64];

		snprintf(elem, sizeof(elem), "%.*s", (int)strlen(name) - 2, name + 1);
		if (first(g, name))
			add(entry(g, name, "array"), "element-type", elem);
		emit_type(g, elem);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (!strcmp(name, types[i].name)) {
			if (types[i].is_enum && first(g, name))
				emit_enum(g, name, types[i].spec);
			else if (!types[i].is_enum)
				emit_object(g, name, types[i].spec);
			return;
		}
	/* q_empty, and anything misspelt in a table (a unit test walks them all). */
	emit_object(g, name, "");
}

/* The arguments of a command or event: q_empty, or an object of their own. */
static const char *emit_args(struct gen *g, const char *owner, const char *spec, char *buf,
			     size_t size)
{
	if (!*spec) {
		emit_object(g, "q_empty", "");
		return "q_empty";
	}
	snprintf(buf, size, "q_obj_%s-arg", owner);
	emit_object(g, buf, spec);
	return buf;
}

struct json_object *qmp_schema(const struct qmp_cmd *cmds)
{
	struct gen g = { json_object_new_array(), json_object_new_object() };
	char buf[96];

	for (const struct qmp_cmd *c = cmds; c->name; c++) {
		struct json_object *o = entry(&g, c->name, "command");

		add(o, "arg-type", emit_args(&g, c->name, c->args, buf, sizeof(buf)));
		add(o, "ret-type", c->ret);
		emit_type(&g, c->ret);
	}
	for (size_t i = 0; i < ARRAY_SIZE(events); i++) {
		struct json_object *o = entry(&g, events[i].name, "event");

		add(o, "arg-type", emit_args(&g, events[i].name, events[i].data, buf,
					     sizeof(buf)));
	}
	json_object_put(g.seen);
	return g.out;
}
