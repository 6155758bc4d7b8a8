# virtio-net rate limits on the netdev (rx-bps, tx-bps): the net-smoke
# transfers take as long as the limit says, each way.
# e2e-timeout: 300
. "$E2E_DIR/cases/net-smoke.sh"
