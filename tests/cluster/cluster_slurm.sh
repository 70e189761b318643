# A two-node Slurm cluster on the emulated hosts of cluster_lib.sh (source that first, then
# make_hosts): slurmctld on h1, one slurmd per host with its own NodeName (h1, h2) and
# NodeAddr (its test address), both inside their host's namespaces; munged runs once (on h1)
# and is shared through its socket file, which every host sees on the shared filesystem (as
# every node of a real cluster runs munged with the same key). The daemons use Slurm's standard
# ports: they listen only inside the test's namespaces, where nothing else runs. TmpFS is in
# each host's node-local folder: the PMIx plugin makes per-step folders there that two nodes
# must not share.
#   start_slurm_cluster DIR   starts the daemons, waits until both nodes are idle, exports
#                             SLURM_CONF; Slurm commands then work on the hosts (run_on h1 ...)
#   stop_slurm_cluster        cancels every job, stops the daemons (destroy_hosts then ends
#                             anything left on the hosts, e.g. a slurmstepd)
source "$CLUSTER_LIB_DIR/../slurm/cluster.sh"  # start_munge, slurm_missing, job_field, wait_job_done

SLURM_CLUSTER_DIR=""

start_slurm_cluster() {
  SLURM_CLUSTER_DIR=$1
  local d=$1 host hardware
  mkdir -p "$d/state" "$d/log"
  for host in "${CLUSTER_HOSTS[@]}"; do
    mkdir -p "$d/spool/slurmd.$host" "$DPTRAIN_CLUSTER_DIR/hosts/$host/local/slurm-tmp"
  done
  # munged on h1 too, so that it ends with the hosts even if this shell is killed outright.
  start_munge "$d" run_on h1 || return 1
  # What slurmd sees of this machine; both emulated nodes share it (CPUs are oversubscribed).
  hardware=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //')
  {
    slurm_conf_common "$d"
    cat <<CONF
ClusterName=dptrain-multihost
SlurmctldHost=h1($(cluster_host_address h1))
SlurmctldPort=6817
SlurmdPort=6818
TmpFS=$DPTRAIN_CLUSTER_DIR/local/slurm-tmp
SlurmdPidFile=$d/slurmd.%n.pid
SlurmdLogFile=$d/log/slurmd.%n.log
CONF
    for host in "${CLUSTER_HOSTS[@]}"; do
      echo "NodeName=$host NodeAddr=$(cluster_host_address "$host") $hardware"
    done
    echo "PartitionName=debug Nodes=$(IFS=,; echo "${CLUSTER_HOSTS[*]}") Default=YES MaxTime=INFINITE State=UP"
  } >"$d/slurm.conf"
  export SLURM_CONF=$d/slurm.conf
  run_on h1 slurmctld -D -i -f "$SLURM_CONF" >"$d/log/slurmctld.out" 2>&1 &
  CLUSTER_PIDS+=($!)
  for host in "${CLUSTER_HOSTS[@]}"; do
    run_on "$host" slurmd -D -f "$SLURM_CONF" -N "$host" >"$d/log/slurmd.$host.out" 2>&1 &
    CLUSTER_PIDS+=($!)
  done
  wait_nodes_idle "h1=idle h2=idle" run_on h1 || { tail -n 20 "$d"/log/* >&2 || true; return 1; }
}

stop_slurm_cluster() {
  [ -n "$SLURM_CLUSTER_DIR" ] || return 0
  cancel_all_jobs run_on h1
  stop_daemons
  SLURM_CLUSTER_DIR=""
}
