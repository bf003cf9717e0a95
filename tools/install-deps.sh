#!/usr/bin/env bash
# Installs everything bootherd needs to build, run and test, from Debian 12 packages only.
# Idempotent: packages already present are left alone. Run as root (or with sudo).
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build pkg-config clang-14 libclang-rt-14-dev clang-format
  # libraries
  libboost1.81-dev libboost-json1.81-dev libsqlite3-dev libpq-dev libvhdi-dev libcli11-dev doctest-dev libssl-dev
  libiscsi-dev libsystemd-dev
  # test peers
  libiscsi-bin tgt qemu-utils qemu-block-extra libvhdi-utils python3-libvhdi curl python3 chromium wrk sqlite3 postgresql-15
  # real PXE boots under qemu, and the peer boot stack (dnsmasq + tgt)
  qemu-system-x86 seabios ipxe ipxe-qemu ovmf dnsmasq-base iproute2 nasm mtools dosfstools gdisk
  grub-efi-amd64-bin grub-common
  # the real-OS boot test: a Debian disk built without mounts (mmdebstrap, syslinux, mkfs.ext4 -d)
  mmdebstrap syslinux syslinux-common e2fsprogs
  # the Debian package: man page from --help, lintian, dpkg-shlibdeps (dpkg-dev), setpriv (util-linux), adduser
  help2man lintian dpkg-dev util-linux adduser file binutils
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
