/* QEMU's JSON option form turned into keyval text (cli_json.h), with json-c. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "lib/log.h"
#include "vmm/cli_json.h"

/* Keys nest no deeper than QEMU's block graphs go in practice. */
#define MAX_DEPTH	8

struct buf {
	char *s;
	size_t len, size;
};

static int put(struct buf *b, const char *s, size_t n, int escape)
{
	for (size_t i = 0; i < n; i++) {
		if (b->len + 3 > b->size) {
			size_t size = b->size ? b->size * 2 : 128;
			char *p = realloc(b->s, size);

			if (!p)
				return -ENOMEM;
			b->s = p;
			b->size = size;
		}
		if (escape && s[i] == ',')
			b->s[b->len++] = ',';
		b->s[b->len++] = s[i];
	}
	if (b->s)
		b->s[b->len] = '\0';
	return 0;
}

static int put_str(struct buf *b, const char *s, int escape)
{
	return put(b, s, strlen(s), escape);
}

static int put_obj(struct buf *b, struct json_object *o, const char *prefix,
		   const char *what, int depth);

/* One "prefix.key=value" (or the keys under an object value). */
static int put_member(struct buf *b, const char *prefix, const char *key,
		      struct json_object *v, const char *what, int depth)
{
	char word[32];
	const char *text = word;
	int ret;

	if (!key[0] || strpbrk(key, ",=")) {
		err_msg("%s: JSON key '%s%s' cannot be an option key (empty, or with ',' or '=')",
			what, prefix, key);
		return -EINVAL;
	}
	switch (json_object_get_type(v)) {
	case json_type_object: {
		size_t n = strlen(prefix) + strlen(key) + 2;
		char *sub = malloc(n);

		if (!sub)
			return -ENOMEM;
		snprintf(sub, n, "%s%s.", prefix, key);
		ret = put_obj(b, v, sub, what, depth + 1);
		free(sub);
		return ret;
	}
	case json_type_string:
		text = json_object_get_string(v);
		break;
	case json_type_boolean:
		text = json_object_get_boolean(v) ? "on" : "off";
		break;
	case json_type_int:
		if (json_object_get_int64(v) < 0)
			snprintf(word, sizeof(word), "%lld", (long long)json_object_get_int64(v));
		else
			snprintf(word, sizeof(word), "%llu",
				 (unsigned long long)json_object_get_uint64(v));
		break;
	case json_type_array:
		err_msg("%s: '%s%s': JSON arrays are not supported", what, prefix, key);
		return -EINVAL;
	case json_type_double:
		err_msg("%s: '%s%s': expected an integer, not a fraction", what, prefix, key);
		return -EINVAL;
	default:
		err_msg("%s: '%s%s': null is not a value", what, prefix, key);
		return -EINVAL;
	}
	if ((b->len && put_str(b, ",", 0)) || put_str(b, prefix, 0) || put_str(b, key, 0) ||
	    put_str(b, "=", 0) || put_str(b, text, 1))
		return -ENOMEM;
	return 0;
}

static int put_obj(struct buf *b, struct json_object *o, const char *prefix,
		   const char *what, int depth)
{
	int ret;

	if (depth > MAX_DEPTH) {
		err_msg("%s: JSON objects nested deeper than %d", what, MAX_DEPTH);
		return -EINVAL;
	}
	json_object_object_foreach(o, key, v) {
		ret = put_member(b, prefix, key, v, what, depth);
		if (ret)
			return ret;
	}
	return 0;
}

int cli_json_to_keyval(const char *json, const char *what, char **out)
{
	enum json_tokener_error jerr;
	struct json_tokener *tok;
	struct json_object *o;
	struct buf b = { 0 };
	int ret;

	*out = NULL;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, json, (int)strnlen(json, INT32_MAX));
	jerr = json_tokener_get_error(tok);
	if (!o || jerr != json_tokener_success ||
	    json[json_tokener_get_parse_end(tok) + strspn(json + json_tokener_get_parse_end(tok),
							   " \t\n\r")]) {
		err_msg("%s: not valid JSON: %s", what,
			jerr == json_tokener_success ? "text after the object" :
			jerr == json_tokener_continue ? "unexpected end" :
			json_tokener_error_desc(jerr));
		ret = -EINVAL;
	} else if (!json_object_is_type(o, json_type_object)) {
		err_msg("%s: JSON form must be an object ({...})", what);
		ret = -EINVAL;
	} else {
		ret = put_obj(&b, o, "", what, 0);
		if (!ret && !b.len) {
			err_msg("%s: empty JSON object", what);
			ret = -EINVAL;
		}
	}
	if (ret == -ENOMEM)
		err_msg("%s: out of memory", what);
	json_object_put(o);
	json_tokener_free(tok);
	if (ret)
		free(b.s);
	else
		*out = b.s;
	return ret;
}
