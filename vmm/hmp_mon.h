/*
 * QEMU's human monitor (HMP) on a chardev: -monitor DEV and -mon
 * chardev=ID[,mode=readline]. A line editor with QEMU's "(qemu) " prompt
 * in front of a QMP session of its own: each line is QMP's
 * human-monitor-command (vmm/qmp_cmd.c), so HMP and QMP share one
 * implementation of every command. The line editor is hmp.c, its chardev
 * glue hmp_mon.c.
 */
#ifndef EMBER_HMP_MON_H
#define EMBER_HMP_MON_H

#include <stddef.h>
#include <stdint.h>

struct chardev;
struct loop;
struct machine;
struct qmp_target;

/* Text for the peer (the terminal or the socket's client). */
typedef void (*hmp_out_fn)(void *opaque, const char *text, size_t len);

/* hmp.c: one peer's monitor; sends the banner and the first prompt. NULL: out of memory. */
struct hmp *hmp_new(const struct qmp_target *t, hmp_out_fn out, void *opaque);
/* Bytes typed, in any pieces; each line is run once it ends (CR or LF). */
void hmp_input(struct hmp *h, const uint8_t *buf, size_t len);
void hmp_free(struct hmp *h);
/* A new prompt on an empty line (back from the mux's other front end). */
void hmp_prompt(struct hmp *h);

/*
 * hmp_mon.c. -mon chardev=ID[,mode=readline|control][,pretty=off]: readline (QEMU's
 * default) is HMP here; control goes to QMP's qmp_mon_create. One message
 * on error.
 */
int hmp_mon_create(const char *opt, struct loop *loop, struct machine *m);
/* HMP on @chr (a -monitor's chardev); @owner names the option in messages. */
int hmp_mon_attach(struct chardev *chr, const char *owner, struct machine *m);
/* Detaches every HMP monitor (before the chardevs go). */
void hmp_mon_destroy(void);

#endif
