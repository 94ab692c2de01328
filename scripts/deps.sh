#!/usr/bin/env bash
# Installs the Debian packages darknet-focal needs that are missing, and says which; puts the
# sample images of Debian's `darknet` package (dog.jpg, ...) into build/debian-darknet/ (or
# $DN_DARKNET_SHARE): only its data, fetched with `apt-get download` and unpacked with
# `dpkg-deb -x`, so that package's own 2018 `darknet` program never lands on the PATH.
# Called by `make test` and `make demo`. Runs apt-get as root, or through sudo.
# Output: one line when nothing is missing; else one line per step with the seconds elapsed,
# and apt's download / unpack / set-up lines with a count. apt's full output goes to a log file
# that is kept, and its end shown, only if a step fails.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
pkgs=(build-essential pkg-config libopenblas-dev libdnnl-dev libstb-dev python3-numpy python3-opencv
      python3-matplotlib python3-onnx dataset-fashion-mnist)
# `make fuzz` only (DN_DEPS_FUZZ=1): clang with libFuzzer and its sanitizer runtimes.
[ "${DN_DEPS_FUZZ:-0}" = 1 ] && pkgs+=(clang libclang-rt-14-dev)
[ "${DN_DEPS_EXTRA:-}" ] && pkgs+=(${DN_DEPS_EXTRA})
SHARE=${DN_DARKNET_SHARE:-$ROOT/build/debian-darknet}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing=()
for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done
need_share=0
[ -f "$SHARE/data/dog.jpg" ] || need_share=1
if installed darknet; then
    echo "deps: note: Debian's darknet package is installed; its /usr/bin/darknet is not ours" \
         "(type ./darknet) and nothing here needs it any more: apt-get remove darknet"
fi
if [ ${#missing[@]} -eq 0 ] && [ $need_share = 0 ]; then
    echo "deps: all Debian packages present"
    exit 0
fi

START=$SECONDS
step() { printf 'deps: %4ds  %s\n' $((SECONDS - START)) "$*"; }
LOG=$(mktemp "${TMPDIR:-/tmp}/deps-apt.XXXXXX")
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/deps-darknet.XXXXXX")
trap 'rm -rf "$TMPD"' EXIT
fail() {
    echo "deps: FAILED: $* (last lines of apt's output below; all of it in $LOG)" >&2
    tail -n 20 "$LOG" | sed 's/^/    /' >&2
    exit 1
}
SUDO=""
need_root() { # before the first as_root: sudo when we are not root
    [ "$(id -u)" = 0 ] || [ -n "$SUDO" ] && return 0
    command -v sudo >/dev/null || { echo "deps: need root or sudo to run apt-get $1" >&2; exit 1; }
    SUDO=sudo
}
as_root() { $SUDO env DEBIAN_FRONTEND=noninteractive "$@"; }
# apt_run TOTAL COMMAND...: runs COMMAND with its output appended to $LOG; shows its progress lines
# (downloads at every 10 %, each unpack and set-up, with a count out of TOTAL; with TOTAL 0
# every Get/Hit line as it is) and every error or warning line. Fails as COMMAND does.
apt_run() {
    local total=$1; shift
    echo "\$ ${*#as_root }" >> "$LOG"
    "$@" 2>&1 | {
        local got=0 unpacked=0 setup=0 every=$(( total / 10 > 1 ? total / 10 : 1 )) line pkg
        while IFS= read -r line; do
            line=${line%$'\r'}   # dpkg ends some lines with CR
            printf '%s\n' "$line" >> "$LOG"
            case $line in
                Get:*|Hit:*)
                    if [ "$total" = 0 ]; then step "  $line"; continue; fi
                    case $line in Get:*) got=$((got + 1));; *) continue;; esac
                    if [ $((got % every)) = 0 ] || [ $got = "$total" ]; then
                        read -r _ _ _ _ pkg _ <<<"$line"; step "  download $got/$total  ${pkg:-}"
                    fi;;
                Unpacking\ *)
                    unpacked=$((unpacked + 1)); line=${line#Unpacking }
                    step "  unpack $unpacked/$total  ${line% ...}";;
                Setting\ up\ *)
                    setup=$((setup + 1)); line=${line#Setting up }
                    step "  set up $setup/$total  ${line% ...}";;
                W:*unsandboxed*) ;;  # apt-get download as root into a private directory
                E:*|W:*|Err:*|dpkg:*) printf '%s\n' "$line" >&2;;
            esac
        done
    }
}

updated=0
if [ ${#missing[@]} -gt 0 ]; then
    step "missing Debian packages: ${missing[*]}"
    step "apt-get update"
    need_root "install ${missing[*]}"
    apt_run 0 as_root apt-get update -q || fail "apt-get update"
    updated=1
    # how many packages the install brings in (asked for + dependencies): the count shown below
    n=$(apt-get install -s -q --no-install-recommends "${missing[@]}" 2>>"$LOG" | grep -c '^Inst ' || true)
    step "apt-get install: ${#missing[@]} asked, $n to install with their dependencies"
    apt_run "$n" as_root apt-get install -y -q --no-install-recommends "${missing[@]}" \
        || fail "apt-get install ${missing[*]}"
    step "installed ${missing[*]}"
fi

if [ $need_share = 1 ]; then
    rel=${SHARE#"$ROOT"/}
    step "sample images of Debian's darknet package -> $rel (its data only: apt-get download," \
         "dpkg-deb -x; its darknet program is not installed)"
    dl() { (cd "$TMPD" && apt_run 0 apt-get download darknet); }
    if ! dl; then
        [ $updated = 1 ] && fail "apt-get download darknet"
        step "apt-get update (the package lists do not know darknet yet)"
        need_root update
        apt_run 0 as_root apt-get update -q || fail "apt-get update"
        dl || fail "apt-get download darknet"
    fi
    deb=$(ls "$TMPD"/darknet_*.deb 2>/dev/null | head -n 1)
    [ -n "$deb" ] || fail "apt-get download darknet: no .deb file"
    dpkg-deb -x "$deb" "$TMPD/x" >>"$LOG" 2>&1 || fail "dpkg-deb -x $(basename "$deb")"
    [ -f "$TMPD/x/usr/share/darknet/data/dog.jpg" ] || fail "$(basename "$deb") has no usr/share/darknet/data/dog.jpg"
    mkdir -p "$(dirname "$SHARE")"
    rm -rf "$SHARE"
    mv "$TMPD/x/usr/share/darknet" "$SHARE"
    step "sample images in $rel/data ($(ls "$SHARE/data" | wc -l) files)"
fi
rm -f "$LOG"
step "done"
