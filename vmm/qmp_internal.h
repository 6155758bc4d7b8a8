/* Shared by the QMP protocol (qmp_cmd.c), its schema (qmp_schema.c) and its sockets (qmp.c). */
#ifndef EMBER_QMP_INTERNAL_H
#define EMBER_QMP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct qmp_session;

/* A failed command: QEMU's error class and a description for people. */
struct qmp_err {
	const char *cls;
	char desc[160];
};

/*
 * A command: its arguments as "name:type,optional?:type" and its return
 * type, in the type names of qmp_schema.c ("int", "str", "[T]", a named
 * type); @after: what happens once the reply is out.
 */
struct qmp_cmd {
	const char *name, *args, *ret;
	struct json_object *(*fn)(struct qmp_session *s, struct json_object *args,
				  struct qmp_err *e);
	int after;
};

/* Calls @fn for each member of @spec; false as soon as @fn returns false. */
bool qmp_spec_each(const char *spec, bool (*fn)(void *o, const char *name, size_t nlen,
						 bool optional, const char *type), void *o);
/* query-qmp-schema's answer for @cmds (ended by a NULL name). */
struct json_object *qmp_schema(const struct qmp_cmd *cmds);

/* Whether the client sent qmp_capabilities (the sockets' handshake timeout). */
bool qmp_session_negotiated(const struct qmp_session *s);
/* How long a client may take to send qmp_capabilities (fixed; tests shorten it). */
extern unsigned qmp_handshake_ms;

#endif
