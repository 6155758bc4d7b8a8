/* -device ...-pci,addr=: apart from pci.c so that device tests stub the transport. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "lib/log.h"
#include "virtio/transport.h"

/* Hex digits with an optional 0x, as QEMU reads PCI addresses. */
static int parse_hex(const char *s, const char **end, unsigned long *v)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!isxdigit((unsigned char)*s))
		return -EINVAL;
	*v = strtoul(s, (char **)end, 16);
	return 0;
}

/* QEMU's addr=: slot[.function], e.g. 4, 0x4, 04.0. */
int virtio_pci_parse_addr(const char *s, struct virtio_pci_opts *o, const char *owner)
{
	unsigned long slot, fn = 0;
	const char *p;

	o->slot = -1;
	o->function = 0;
	if (!s)
		return 0;
	if (parse_hex(s, &p, &slot) || (*p == '.' && parse_hex(p + 1, &p, &fn)) ||
	    *p || slot > 31 || fn > 7) {
		err_msg("%s: addr=%s: use slot[.function], slot 0..1f, function 0..7",
			owner, s);
		return -EINVAL;
	}
	o->slot = slot;
	o->function = fn;
	return 0;
}
