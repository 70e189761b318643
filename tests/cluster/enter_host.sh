#!/usr/bin/env bash
# enter_host.sh HOST COMMAND [ARG...]: runs COMMAND on emulated host HOST of the test cluster
# that cluster_lib.sh made (named by DPTRAIN_CLUSTER_ID and DPTRAIN_CLUSTER_DIR):
#  - in HOST's network namespace (its own interfaces and addresses, its own ports),
#  - with hostname HOST (a new UTS namespace),
#  - with HOST's node-local folder at $DPTRAIN_CLUSTER_DIR/local (a bind mount in a new,
#    private mount namespace: like /scratch on a real cluster, the same path on every node
#    with different contents; everything else is the shared filesystem),
#  - with the cluster's host table ($DPTRAIN_CLUSTER_DIR/etc-hosts: h1, h2 and their test
#    addresses) as /etc/hosts in that mount namespace, so h1 and h2 resolve as node names do.
set -eu
host=$1
shift
: "${DPTRAIN_CLUSTER_ID:?enter_host.sh: DPTRAIN_CLUSTER_ID is not set (source cluster_lib.sh, make_hosts)}"
: "${DPTRAIN_CLUSTER_DIR:?enter_host.sh: DPTRAIN_CLUSTER_DIR is not set}"
# nsenter rather than `ip netns exec`, which remounts /sys (hiding /sys/fs/cgroup from slurmd).
exec nsenter --net="/run/netns/${DPTRAIN_CLUSTER_ID}$host" unshare --uts --mount --propagation private -- \
  /bin/sh -c 'hostname "$1" && mount --bind "$2/hosts/$1/local" "$2/local" &&
              mount --bind "$2/etc-hosts" /etc/hosts && shift 2 && exec "$@"' \
  enter_host "$host" "$DPTRAIN_CLUSTER_DIR" "$@"
