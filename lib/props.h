/*
 * Typed property tables. One table per device or back-end type gives its
 * names, types, defaults and help: the parser and `NAME,help` both come from
 * it, so they cannot disagree.
 */
#ifndef EMBER_PROPS_H
#define EMBER_PROPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/keyval.h"

enum prop_type {
	PROP_STR,	/* char *, strdup'ed */
	PROP_BOOL,	/* bool: on/off/yes/no/true/false */
	PROP_U32,	/* uint32_t, decimal or 0x hex, within [min, max] */
	PROP_U64,	/* uint64_t */
	PROP_SIZE,	/* uint64_t with optional K/M/G/T suffix (powers of 2) */
};

struct prop {
	const char *name;
	enum prop_type type;
	size_t offset;		/* offsetof() into the owning struct */
	const char *def;	/* default as text, or NULL for none */
	const char *help;
	uint64_t min, max;	/* for numbers; max == 0 means no limit */
	int required;
};

/* Table end marker: { .name = NULL }. */

int props_set_defaults(const struct prop *p, void *obj, const char *owner);
/*
 * Applies the keys of @kv that the table knows; then errors on unknown keys
 * and on missing required properties. @owner names the object in messages,
 * e.g. "-device isa-serial". Returns 0 or -EINVAL after one message.
 */
int props_apply(const struct prop *p, void *obj, struct keyval *kv,
		const char *owner);
void props_help(const struct prop *p, FILE *f);
/* "str", "bool", "uint32", "uint64", "size": as in help and QMP's qom-list. */
const char *props_type_name(enum prop_type t);
void props_free(const struct prop *p, void *obj);

/* Number parsing shared with the CLI (-m, -smp). Return 0 or -EINVAL/-ERANGE. */
int parse_u64(const char *s, uint64_t *out);
/* Sizes: "256", "256M", "1G"; a bare number means @default_unit bytes. */
int parse_size(const char *s, uint64_t default_unit, uint64_t *out);
int parse_bool(const char *s, int *out);

/*
 * Ids (of devices and back ends) must start with a letter and hold only
 * letters, digits, '-', '.', '_'. -EINVAL after a message naming @what.
 */
int id_check(const char *id, const char *what);

#endif
