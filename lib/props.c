/* Typed property tables and the number parsers behind them; see props.h. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/props.h"
#include "lib/util.h"

static int digit(char c, unsigned base)
{
	int d;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	else
		return -1;
	return (unsigned)d < base ? d : -1;
}

/*
 * Decimal or 0x hex, digits only: no sign, no spaces (strtoull would take
 * "-1" and " 1"). Stops at the first non-digit, returned in *end.
 */
static int parse_num(const char *s, const char **end, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	bool big = false;
	const char *p;
	int d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (p = s; (d = digit(*p, base)) >= 0; p++) {
		if (v > (UINT64_MAX - d) / base)
			big = true;
		v = v * base + d;
	}
	*end = p;
	if (p == s)
		return -EINVAL;
	if (big)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_u64(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int ret;

	if (!s)
		return -EINVAL;
	ret = parse_num(s, &end, &v);
	if (*end)
		return -EINVAL;
	if (!ret)
		*out = v;
	return ret;
}

int parse_size(const char *s, uint64_t default_unit, uint64_t *out)
{
	static const char units[] = "bkmgtpe";
	uint64_t v, mult = default_unit ? default_unit : 1;
	const char *end, *u;
	int ret;

	if (!s)
		return -EINVAL;
	ret = parse_num(s, &end, &v);
	if (*end) {
		u = strchr(units, *end | 0x20);
		if (!u || end[1])
			return -EINVAL;
		mult = 1ULL << (10 * (u - units));
	}
	if (ret)
		return ret;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "on", "yes", "true" };
	static const char *const no[] = { "off", "no", "false" };

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			*out = !strcmp(s, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const type_name[] = {
	[PROP_STR] = "str",
	[PROP_BOOL] = "bool",
	[PROP_U32] = "uint32",
	[PROP_U64] = "uint64",
	[PROP_SIZE] = "size",
};

const char *props_type_name(enum prop_type t)
{
	return t < ARRAY_SIZE(type_name) && type_name[t] ? type_name[t] : "?";
}

static int set_number(const struct prop *p, void *field, const char *val,
		      const char *owner)
{
	uint64_t v, max = p->max;
	int ret;

	if (p->type == PROP_SIZE)
		ret = parse_size(val, 1, &v);
	else
		ret = parse_u64(val, &v);
	if (ret == -EINVAL) {
		err_msg("%s: property '%s': '%s' is not a %s", owner, p->name, val,
			p->type == PROP_SIZE ? "size" : "number");
		return -EINVAL;
	}
	if (!max)
		max = p->type == PROP_U32 ? UINT32_MAX : UINT64_MAX;
	if (ret == -ERANGE || v < p->min || v > max) {
		/* Show the range the way the user wrote the number. */
		bool hex = val[0] == '0' && (val[1] == 'x' || val[1] == 'X');

		err_msg(hex ? "%s: property '%s': '%s' is out of range (0x%" PRIx64 "..0x%" PRIx64 ")"
			    : "%s: property '%s': '%s' is out of range (%" PRIu64 "..%" PRIu64 ")",
			owner, p->name, val, p->min, max);
		return -EINVAL;
	}
	if (p->type == PROP_U32)
		*(uint32_t *)field = v;
	else
		*(uint64_t *)field = v;
	return 0;
}

static int set_prop(const struct prop *p, void *obj, const char *val,
		    const char *owner)
{
	void *field = (char *)obj + p->offset;
	char *str;
	int b;

	switch (p->type) {
	case PROP_STR:
		str = strdup(val);
		if (!str) {
			err_msg("%s: out of memory", owner);
			return -ENOMEM;
		}
		free(*(char **)field);
		*(char **)field = str;
		return 0;
	case PROP_BOOL:
		if (parse_bool(val, &b)) {
			err_msg("%s: property '%s': '%s' is not a boolean (use on or off)",
				owner, p->name, val);
			return -EINVAL;
		}
		*(bool *)field = b;
		return 0;
	case PROP_U32:
	case PROP_U64:
	case PROP_SIZE:
		return set_number(p, field, val, owner);
	}
	err_msg("%s: property '%s' has an unknown type", owner, p->name);
	return -EINVAL;
}

int props_set_defaults(const struct prop *p, void *obj, const char *owner)
{
	int ret;

	for (; p && p->name; p++) {
		if (!p->def)
			continue;
		ret = set_prop(p, obj, p->def, owner);
		if (ret)
			return ret;
	}
	return 0;
}

int props_apply(const struct prop *p, void *obj, struct keyval *kv,
		const char *owner)
{
	const struct prop *q;
	const char *val;
	int ret;

	for (q = p; q && q->name; q++) {
		val = keyval_get(kv, q->name);
		if (!val)
			continue;
		ret = set_prop(q, obj, val, owner);
		if (ret)
			return ret;
	}
	/* Unknown keys first: "pth=" is better reported than "path is required". */
	ret = keyval_check_unused(kv, owner);
	if (ret)
		return ret;
	for (q = p; q && q->name; q++) {
		if (q->required && !keyval_has(kv, q->name)) {
			err_msg("%s: property '%s' is required", owner, q->name);
			return -EINVAL;
		}
	}
	return 0;
}

void props_help(const struct prop *p, FILE *f)
{
	for (; p && p->name; p++) {
		fprintf(f, "  %s=<%s>", p->name, type_name[p->type]);
		if (p->help)
			fprintf(f, " - %s", p->help);
		if (p->def)
			fprintf(f, " (default: %s)", p->def);
		else if (p->required)
			fprintf(f, " (required)");
		fputc('\n', f);
	}
}

void props_free(const struct prop *p, void *obj)
{
	for (; p && p->name; p++) {
		if (p->type == PROP_STR) {
			char **field = (char **)((char *)obj + p->offset);

			free(*field);
			*field = NULL;
		}
	}
}

int id_check(const char *id, const char *what)
{
	const char *p = id;

	if (isalpha((unsigned char)*p)) {
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_')
			p++;
		if (!*p)
			return 0;
	}
	err_msg("%s: invalid id '%s' (use letters, digits, '-', '.', '_', starting with a letter)",
		what, id);
	return -EINVAL;
}
