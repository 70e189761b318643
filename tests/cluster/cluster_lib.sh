# Two emulated hosts on this machine, for multi-host tests. Each host is a network namespace
# of its own (interfaces, addresses, ports) joined to the other by a veth pair, plus its own
# hostname and node-local folder per process (enter_host.sh). Nothing is added to the root
# namespace: both ends of the veth pair are created inside the two namespaces and the
# addresses exist only there, with no route anywhere else.
#
#   require_cluster_tools      installs iproute2 if needed (root), else fails the test
#   cluster_privilege_problem  prints why namespaces cannot be made here (empty: they can)
#   skip_unless_hosts_can_be_made  both of the above; exit 77 (skip) without the privilege
#   make_hosts DIR             makes hosts h1 and h2, a hostfile DIR/hostfile (2 slots each),
#                              node-local folders DIR/hosts/HOST/local (seen as DIR/local),
#                              a host table DIR/etc-hosts (each host's /etc/hosts)
#   run_on HOST CMD...         runs CMD on HOST (its namespaces, hostname, node-local folder)
#   cluster_mpirun ARGS...     mpirun on h1 over both hosts: rsh launch through the namespaces,
#                              TCP restricted to the test interface; ended after
#                              CLUSTER_MPI_TIMEOUT seconds (default 120; exit 124)
#   destroy_hosts              ends every process on the hosts, deletes the namespaces (and
#                              with them the veth pair); safe to call twice
# Names carry this shell's PID ($$), so two runs never collide; make_hosts also removes the
# namespaces of earlier runs whose shell is gone (killed before their trap could run).
CLUSTER_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER_HOSTS=(h1 h2)
CLUSTER_SUBNET_PREFIX=10.218.0  # host i (1-based) is $CLUSTER_SUBNET_PREFIX.i/24
CLUSTER_MADE=""

cluster_host_address() {  # cluster_host_address HOST
  echo "$CLUSTER_SUBNET_PREFIX.${1#h}"
}

# cluster_tools_missing: prints the commands the fixture needs that are not installed.
cluster_tools_missing() {
  local c missing=()
  for c in ip nsenter unshare mount; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  echo "${missing[*]}"
}

# require_cluster_tools: installs iproute2 when ip is missing (root with apt-get, through
# scripts/install-deps.sh); fails the test when a tool is still missing.
require_cluster_tools() {
  local missing
  missing=$(cluster_tools_missing)
  if [ -n "$missing" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "installing iproute2 (missing: $missing)"
    "$CLUSTER_LIB_DIR/../../scripts/install-deps.sh" iproute2 util-linux mount >/dev/null 2>&1 || true
    missing=$(cluster_tools_missing)
  fi
  [ -z "$missing" ] || { echo "FAIL: the emulated hosts need $missing (apt-get install iproute2 util-linux mount)" >&2; exit 1; }
}

# cluster_privilege_problem: prints why namespaces cannot be made here (empty: they can).
cluster_privilege_problem() {
  local probe=dpt$$probe folder
  folder=$(mktemp -d)
  if ! ip netns add "$probe" 2>/dev/null; then
    echo "cannot create a network namespace (ip netns add needs root, or CAP_SYS_ADMIN and CAP_NET_ADMIN; running as uid $(id -u))"
  else
    # Everything enter_host.sh does: enter it, new UTS and mount namespaces, a hostname, a bind mount.
    nsenter --net="/run/netns/$probe" unshare --uts --mount --propagation private -- \
      /bin/sh -c 'hostname probe && mount --bind "$1" "$1"' probe "$folder" 2>/dev/null ||
      echo "cannot enter a network namespace, or set a hostname or bind mount in new UTS and mount namespaces (nsenter/unshare/mount failed: a container without CAP_SYS_ADMIN?)"
    ip netns del "$probe" 2>/dev/null || true
  fi
  rmdir "$folder"
}

# skip_unless_hosts_can_be_made: the start of every multi-host test: installs what is missing
# (or fails), and exits 77 (CTest: skipped) with the reason where namespaces cannot be made.
skip_unless_hosts_can_be_made() {
  require_cluster_tools
  local problem
  problem=$(cluster_privilege_problem)
  if [ -n "$problem" ]; then
    echo "SKIP: two emulated hosts need network, UTS and mount namespaces: $problem"
    exit 77
  fi
}

# Namespaces named dpt<PID>h<N> whose PID no longer runs: left by a run killed with SIGKILL.
remove_stale_hosts() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^dpt[0-9]+(h[0-9]+|probe)$' || true); do
    pid=${ns#dpt}
    pid=${pid%%[hp]*}
    kill -0 "$pid" 2>/dev/null && continue
    kill_host_processes "$ns"
    ip netns del "$ns" 2>/dev/null || true
  done
}

# kill_host_processes NAMESPACE: TERM, then (after up to 5 s) KILL, by PID.
kill_host_processes() {
  local pids i
  pids=$(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')
  [ -n "${pids// /}" ] || return 0
  kill $pids 2>/dev/null || true
  for i in $(seq 1 50); do
    pids=$(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')
    [ -n "${pids// /}" ] || return 0
    sleep 0.1
  done
  kill -9 $pids 2>/dev/null || true
}

make_hosts() {
  local dir=$1 host n=0
  remove_stale_hosts
  export DPTRAIN_CLUSTER_ID=dpt$$ DPTRAIN_CLUSTER_DIR=$dir
  CLUSTER_IFACE=dpt$$  # the same name in both namespaces (<= 15 characters)
  CLUSTER_MADE=1
  mkdir -p "$dir/local"
  : >"$dir/hostfile"
  printf '127.0.0.1 localhost\n' >"$dir/etc-hosts"
  for host in "${CLUSTER_HOSTS[@]}"; do
    printf '%s %s\n' "$(cluster_host_address "$host")" "$host" >>"$dir/etc-hosts"
    ip netns add "${DPTRAIN_CLUSTER_ID}$host" || return 1
    mkdir -p "$dir/hosts/$host/local"
    echo "$host slots=2" >>"$dir/hostfile"
  done
  # Both ends are created directly inside the two namespaces, never in the root namespace.
  ip link add name "$CLUSTER_IFACE" netns "${DPTRAIN_CLUSTER_ID}h1" type veth \
    peer name "$CLUSTER_IFACE" netns "${DPTRAIN_CLUSTER_ID}h2" || return 1
  for host in "${CLUSTER_HOSTS[@]}"; do
    ip -n "${DPTRAIN_CLUSTER_ID}$host" addr add "$(cluster_host_address "$host")/24" dev "$CLUSTER_IFACE" || return 1
    ip -n "${DPTRAIN_CLUSTER_ID}$host" link set lo up || return 1
    ip -n "${DPTRAIN_CLUSTER_ID}$host" link set "$CLUSTER_IFACE" up || return 1
  done
  # Until the link is up (a few ms): a TCP connection from h1 to a closed port of h2 is
  # refused (reached h2) rather than unroutable or timed out.
  local probe
  while :; do
    probe=$(run_on h1 timeout 2 bash -c "exec 3<>/dev/tcp/$(cluster_host_address h2)/9" 2>&1 || true)
    case $probe in *refused*) break ;; esac
    n=$((n + 1))
    [ $n -lt 50 ] || { echo "make_hosts: h1 cannot reach h2 over $CLUSTER_IFACE" >&2; return 1; }
    sleep 0.1
  done
}

run_on() {
  "$CLUSTER_LIB_DIR/enter_host.sh" "$@"
}

# Open MPI across both hosts: mpirun runs on h1 and starts its daemon on h2 through
# rsh_agent.sh; the ranks talk TCP (plus self), only over the test interface, and so does
# the daemons' out-of-band channel.
cluster_mpirun() {
  local flags=(--hostfile "$DPTRAIN_CLUSTER_DIR/hostfile" --mca plm_rsh_agent "$CLUSTER_LIB_DIR/rsh_agent.sh"
               --mca btl tcp,self --mca btl_tcp_if_include "$CLUSTER_IFACE"
               --mca oob_tcp_if_include "$CLUSTER_IFACE" --allow-run-as-root --bind-to none)
  timeout "${CLUSTER_MPI_TIMEOUT:-120}" "$CLUSTER_LIB_DIR/enter_host.sh" h1 \
    "${MPIEXEC:-mpirun}" "${flags[@]}" "$@"
}

destroy_hosts() {
  [ -n "$CLUSTER_MADE" ] || return 0
  local host
  for host in "${CLUSTER_HOSTS[@]}"; do
    kill_host_processes "${DPTRAIN_CLUSTER_ID}$host"
    ip netns del "${DPTRAIN_CLUSTER_ID}$host" 2>/dev/null || true
  done
  CLUSTER_MADE=""
}
