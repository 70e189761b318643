#!/usr/bin/env bash
# Open MPI's remote launcher for the test cluster (--mca plm_rsh_agent rsh_agent.sh). mpirun
# calls it the way it calls ssh, `rsh_agent.sh HOST COMMAND-WORDS...`, to start its daemon
# (orted) on HOST; like sshd, it runs the words as one shell command line, here inside HOST's
# namespaces (enter_host.sh).
host=$1
shift
exec "$(dirname "$0")/enter_host.sh" "$host" /bin/sh -c "$*"
