#!/usr/bin/env bash
# Installs ntp: the compiled binary, its config (never overwriting one), the candidate list of `ntp pick`, the systemd unit, and the state and log directories.
#
# usage: scripts/install.sh [--binary PATH] [--dry-run]
#   --binary PATH  the binary to install (default: dist/ntp-<this machine's arch>-unknown-linux-gnu,
#                  built by `deno task compile`)
#   --dry-run      print what would be done and change nothing
# DESTDIR=/some/root installs under that root (for packaging or an image); systemctl is never
# run then. Without DESTDIR it must run as root, and it reloads systemd when systemd is running;
# enabling and starting the service is left to you (it conflicts with chrony, ntpd, ntpsec,
# systemd-timesyncd and openntpd, which systemd stops when ntp starts).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
destdir="${DESTDIR:-}"
destdir="${destdir%/}"
dry_run=0
binary=""

usage() {
  sed -n '4,/^[^#]/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --binary)
      [ "$#" -ge 2 ] || { echo "install.sh: --binary needs a path" >&2; usage >&2; exit 2; }
      binary="$2"
      shift 2
      ;;
    --binary=*) binary="${1#--binary=}"; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

if [ -z "$binary" ]; then
  case "$(uname -m)" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) echo "install.sh: no build for $(uname -m); pass --binary PATH" >&2; exit 1 ;;
  esac
  binary="$repo/dist/ntp-$arch-unknown-linux-gnu"
fi
if [ ! -f "$binary" ]; then
  echo "install.sh: $binary does not exist: build it with \`deno task compile\` or pass --binary PATH" >&2
  exit 1
fi
if [ "$dry_run" -eq 0 ] && [ -z "$destdir" ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: installing into / needs root (or set DESTDIR=/some/root)" >&2
  exit 1
fi

bin_path="$destdir/usr/local/bin/ntp"
config_path="$destdir/etc/ntp/ntp.toml"
candidates_path="$destdir/etc/ntp/candidates.txt"
unit_path="$destdir/etc/systemd/system/ntp.service"
state_dir="$destdir/var/lib/ntp"
log_dir="$destdir/var/log/ntp"

# ntpsec's unit has Alias=ntp.service: when enabled, ntp.service is a symlink to it.
if [ -L "$unit_path" ]; then
  echo "install.sh: $unit_path is a symlink to $(readlink "$unit_path") (ntpsec's Alias=ntp.service):" \
    "disable that service first (systemctl disable ntpsec)" >&2
  exit 1
fi

# Prints the command (prefixed with "would:" in a dry run) and runs it unless it is a dry run.
run() {
  if [ "$dry_run" -eq 1 ]; then
    echo "would: $*"
  else
    echo "+ $*"
    "$@"
  fi
}

run install -D -m 0755 "$binary" "$bin_path"

if [ ! -e "$config_path" ]; then
  run install -D -m 0644 "$repo/conf/ntp.toml" "$config_path"
elif cmp -s "$repo/conf/ntp.toml" "$config_path"; then
  echo "= $config_path is already the shipped config"
else
  echo "= $config_path exists and is kept; the shipped config goes to $config_path.new for comparison"
  run install -D -m 0644 "$repo/conf/ntp.toml" "$config_path.new"
fi

# The candidate list `ntp pick` reads by default; an operator's own list is kept.
if [ ! -e "$candidates_path" ]; then
  run install -D -m 0644 "$repo/conf/candidates.txt" "$candidates_path"
else
  echo "= $candidates_path exists and is kept"
fi

run install -D -m 0644 "$repo/conf/ntp.service" "$unit_path"
# Optional socket activation (restarts without refused requests): installed, not enabled.
run install -D -m 0644 "$repo/conf/ntp.socket" "${unit_path%.service}.socket"
# With DynamicUser=yes systemd takes these over (as /var/lib/private/ntp, /var/log/private/ntp)
# on the first start; creating them here makes the layout visible in a DESTDIR image.
for dir in "$state_dir" "$log_dir"; do
  if [ ! -e "$dir" ]; then run install -d -m 0755 "$dir"; fi
done

if [ -n "$destdir" ]; then
  echo "DESTDIR is set: systemctl not run"
elif [ -d /run/systemd/system ]; then
  run systemctl daemon-reload
  echo "next: systemctl enable --now ntp.service (and ntp.socket for restarts without a gap)"
else
  echo "systemd is not running here: systemctl not run"
fi
if [ "$dry_run" -eq 1 ]; then echo "dry run: nothing was changed"; fi
