#!/usr/bin/env bash
# Installs the Debian packages dptrain needs, only those missing. Nothing else is downloaded.
# Usage: scripts/install-deps.sh [extra-package ...]
set -euo pipefail
packages=(build-essential cmake pkg-config openmpi-bin libopenmpi-dev libhdf5-dev hdf5-tools
          libeigen3-dev libdnnl-dev libgtest-dev libcli11-dev zlib1g-dev nlohmann-json3-dev universal-ctags dataset-fashion-mnist
          python3 python3-numpy python3-h5py python3-matplotlib slurm-wlm munge
          liblinear-tools python3-scipy python3-sklearn
          libcpp-httplib-dev wrk curl iproute2 libxml2-utils python3-lxml python3-yaml git
          python3-torch libopenblas0-pthread
          libtomlplusplus-dev python3-onnx "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
