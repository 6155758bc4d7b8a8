/*
 * Snapshots to files, QEMU's way: QMP migrate with uri "file:PATH" writes
 * the machine's state to PATH (lib/snapfile.h) and guest RAM to PATH.mem,
 * page by page; -incoming file:PATH (or -incoming defer and QMP
 * migrate-incoming) maps PATH.mem copy-on-write as guest RAM and puts the
 * state back before the vCPUs first run.
 */
#ifndef EMBER_SNAPSHOT_H
#define EMBER_SNAPSHOT_H

struct machine;

/*
 * Pauses a running machine (STOP), saves, and leaves it paused. -EINVAL,
 * -ENOTSUP or -errno with one message (a device that cannot be saved,
 * the file); nothing is left at PATH then.
 */
int snapshot_save(struct machine *m, const char *uri);
/*
 * Into a machine made with the same options, whose vCPUs have not run.
 * Bad input (truncated, corrupt, other version, other machine) is refused
 * with one message before anything changes.
 */
int snapshot_load(struct machine *m, const char *uri);

#endif
