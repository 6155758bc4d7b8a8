/*
 * vhost-user-fs: a virtio-fs device (id 26) whose queues a vhost-user
 * daemon (virtiofsd) serves, as QEMU's "vhost-user-fs-pci" and
 * "vhost-user-fs-device". The config space, the tag the guest mounts by
 * and the number of request queues, is ember's own.
 */
#ifndef EMBER_VHOST_USER_FS_H
#define EMBER_VHOST_USER_FS_H

#include <linux/virtio_fs.h>

#define VUFS_TAG_MAX	36u	/* sizeof(virtio_fs_config.tag): no NUL when full */

/*
 * Fills @cfg: @tag padded with NULs, @nrq request queues. -EINVAL for an
 * empty tag, -ENAMETOOLONG for one over VUFS_TAG_MAX bytes, -ERANGE for
 * no request queue.
 */
int vhost_user_fs_config(struct virtio_fs_config *cfg, const char *tag, unsigned nrq);

#endif
