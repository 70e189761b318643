#!/usr/bin/env bash
# Fresh Debian machine -> all tests: installs what is missing, builds, runs every test (ctest).
# Extra arguments go to ctest (e.g. -L unit, -R exact, -LE slow).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cd "${DPTRAIN_BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 600 "$@"
