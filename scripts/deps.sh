#!/usr/bin/env bash
# Installs the Debian packages darknet-focal needs that are missing, and says which.
# Called by `make test` and `make demo`. Runs apt-get as root, or through sudo.
set -euo pipefail
pkgs=(build-essential pkg-config libopenblas-dev libstb-dev python3-numpy python3-opencv
      python3-matplotlib darknet dataset-fashion-mnist)
# `make fuzz` only (DN_DEPS_FUZZ=1): clang with libFuzzer and its sanitizer runtimes.
[ "${DN_DEPS_FUZZ:-0}" = 1 ] && pkgs+=(clang libclang-rt-14-dev)
[ "${DN_DEPS_EXTRA:-}" ] && pkgs+=(${DN_DEPS_EXTRA})
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all Debian packages present"
    exit 0
fi
echo "deps: installing missing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${missing[*]}"
