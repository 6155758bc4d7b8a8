/* -qmp's option string, parsed once for the command line and the server. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/keyval.h"
#include "lib/log.h"
#include "lib/props.h"
#include "vmm/cli_opts.h"
#include "vmm/qmp_opts.h"

static const char usage[] = "use -qmp unix:PATH,server=on[,wait=on|off]";

int qmp_parse_opts(const char *opt, char **path, bool *wait)
{
	struct keyval kv;
	const char *v;
	int server_on = 0, wait_on = 1, ret;

	ret = keyval_parse(opt, "path", "-qmp", &kv);
	if (ret)
		return ret;
	if (!kv.implied || strncmp(kv.implied, "unix:", 5) || !kv.implied[5]) {
		err_msg("-qmp %s: only unix sockets are supported: %s", opt, usage);
		ret = -EINVAL;
	}
	v = keyval_get(&kv, "server");
	if (!ret && (!v || parse_bool(v, &server_on) || !server_on)) {
		err_msg("-qmp %s: server=on is required (ember listens; it does not "
			"connect): %s", opt, usage);
		ret = -EINVAL;
	}
	v = keyval_get(&kv, "wait");
	if (!ret && v && parse_bool(v, &wait_on)) {
		err_msg("-qmp %s: wait=%s: expected on or off", opt, v);
		ret = -EINVAL;
	}
	if (!ret)
		ret = cli_keys_check(&kv, "-qmp");
	if (!ret && path && !(*path = strdup(kv.implied + 5)))
		ret = -ENOMEM;
	if (wait)
		*wait = wait_on;
	keyval_free(&kv);
	return ret;
}
