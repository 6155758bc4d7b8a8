/*
 * QEMU's JSON form of -device, -object, -netdev and -blockdev
 * ('{"driver":"virtio-blk-pci","drive":"d0"}'), turned into the keyval
 * string the dotted form gives, so that one parser serves both.
 */
#ifndef EMBER_CLI_JSON_H
#define EMBER_CLI_JSON_H

/* Whether @s is meant as JSON (QEMU's rule: it starts with '{'). */
static inline int cli_json_is(const char *s)
{
	return s && s[0] == '{';
}

/*
 * @json, a JSON object, as "key=value,..." in *@out (malloc'ed): strings
 * with ',' doubled, booleans as on/off, integers in decimal, nested objects
 * as dotted keys ("file":{"driver":"file"} is file.driver=file). 0, or
 * -EINVAL after one message naming @what ("-device") and the problem:
 * not JSON, not an object, an array, null, a fraction, a key keyval cannot
 * carry.
 */
int cli_json_to_keyval(const char *json, const char *what, char **out);

#endif
