#!/bin/sh
# Entry point that needs nothing but a shell: installs `make` with apt-get when it is missing
# (as root, or through sudo), then runs `make` with the given arguments in the repository root.
# usage: scripts/bootstrap.sh [make arguments...]    e.g. scripts/bootstrap.sh test
set -eu
cd "$(dirname "$0")/.."
if ! command -v make >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        SUDO=
    elif command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "bootstrap: make is missing; run as root or install sudo: apt-get install make" >&2
        exit 1
    fi
    echo "bootstrap: make is missing: apt-get install make${SUDO:+ (through sudo)}"
    # update first: a fresh Debian image has no package lists
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends make
    command -v make >/dev/null 2>&1 || { echo "bootstrap: make still not found after apt-get" >&2; exit 1; }
fi
exec make "$@"
