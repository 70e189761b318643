#!/usr/bin/env python3
"""Runs a command and records its peak resident set size (kB), for per-rank memory numbers.

Usage: mpirun -np P scripts/peak_rss.py PREFIX COMMAND [ARGS...]
Each rank writes its peak to PREFIX.<rank> (the rank from Open MPI's or PMIx's environment)
and exits with the command's exit code.
"""
import os
import resource
import subprocess
import sys

prefix = sys.argv[1]
code = subprocess.call(sys.argv[2:])
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
rank = os.environ.get("OMPI_COMM_WORLD_RANK", os.environ.get("PMIX_RANK", "0"))
with open(f"{prefix}.{rank}", "w") as f:
    f.write(f"{peak_kb}\n")
sys.exit(code)
