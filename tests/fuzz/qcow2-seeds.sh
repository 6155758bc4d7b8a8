#!/bin/sh
# Writes the seeds of fuzz_qcow2 into tests/fuzz/corpus/qcow2/ with qemu-img
# and qemu-io (qemu-utils): small images of 512-byte clusters, so that the
# seeds stay a few KiB. Run from the top of the tree.
set -eu
out=tests/fuzz/corpus/qcow2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
cd "$tmp"
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=512 v2.qcow2 64k
qemu-io -f qcow2 -c 'write -P 0xab 0 2k' -c 'write -P 0xcd 40k 1k' v2.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o cluster_size=512 v3.qcow2 64k
qemu-io -f qcow2 -c 'write -P 0xab 1k 3k' -c 'write -z 8k 2k' v3.qcow2 >/dev/null
qemu-img create -q -f raw c.raw 64k
qemu-io -f raw -c 'write -P 0x61 0 4k' c.raw >/dev/null
qemu-img convert -c -O qcow2 -o cluster_size=512 c.raw compressed.qcow2
qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=64 rc64.qcow2 32k
qemu-io -f qcow2 -c 'write -P 0x11 0 1k' rc64.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o cluster_size=512 -b v3.qcow2 -F qcow2 backing.qcow2
cd - >/dev/null
for f in v2 v3 compressed rc64 backing; do
	cp "$tmp/$f.qcow2" "$out/$f"
done
