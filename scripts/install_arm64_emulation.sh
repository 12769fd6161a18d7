#!/usr/bin/env bash
# Installs what running the aarch64 Deno under emulation needs: Debian's qemu-user-static, an
# aarch64 libc, libssl and libnettle (for our FFI), the aarch64 cross compiler
# (tests/io/ffi_layout_test.ts checks our struct layouts against aarch64's headers), and the
# aarch64 Deno from npm (@deno/linux-arm64-glibc), unpacked to a root-owned directory of its
# version. Idempotent; needs root, apt and npm. Prints the Deno path on stdout; everything else
# goes to stderr.
set -euo pipefail
version=2.9.6
dir=/var/cache/ntp-arm64/deno-$version
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
fi
missing=()
for p in qemu-user-static libc6:arm64 libssl3:arm64 libnettle8:arm64 gcc-aarch64-linux-gnu \
  libc6-dev-arm64-cross; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
if ! qemu-aarch64-static "$dir/deno" --version 2>/dev/null | grep -q "^deno $version "; then
  rm -rf "$dir"
  install -d -m 0755 "$dir/pack"
  (cd "$dir/pack" && npm pack -q "@deno/linux-arm64-glibc@$version" >&2)
  tar -xzf "$dir"/pack/deno-linux-arm64-glibc-"$version".tgz -C "$dir/pack"
  install -m 0755 "$(find "$dir/pack/package" -name deno -type f | head -n 1)" "$dir/deno"
  rm -rf "$dir/pack"
fi
echo "$dir/deno"
