#!/usr/bin/env bash
# Installs a CPU Vulkan driver (Mesa's lavapipe >= 24) so the `webgpu` npm package (Dawn) finds an adapter
# on a machine without a GPU. Debian 12 (bookworm) ships Mesa 22, so the driver comes from the
# bookworm-backports suite, enabled on the Suites line of the existing Debian sources file (no repository
# address is written here). Idempotent; run as root. Does nothing on other systems.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-webgpu: must run as root" >&2
  exit 1
fi
if [ ! -r /etc/os-release ] || ! grep -q '^VERSION_CODENAME=bookworm' /etc/os-release || ! grep -q '^ID=debian' /etc/os-release; then
  echo "install-webgpu: not Debian 12 (bookworm); skipping (install Mesa >= 24 lavapipe and libvulkan1 yourself)"
  exit 0
fi

sources=/etc/apt/sources.list.d/debian.sources
if [ ! -f "$sources" ]; then
  echo "install-webgpu: $sources not found; cannot enable bookworm-backports" >&2
  exit 1
fi

# Add bookworm-backports to the Suites line of the stanza that lists `bookworm` (not the security one).
if ! grep -Eq '^Suites:.*\bbookworm-backports\b' "$sources"; then
  sed -i -E '/^Suites:/{/(^|[[:space:]])bookworm([[:space:]]|$)/s/$/ bookworm-backports/}' "$sources"
  echo "install-webgpu: added bookworm-backports to $sources"
fi

have_lvp() {
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 24 && dpkg-query -W libvulkan1 >/dev/null 2>&1
}

if have_lvp; then
  echo "install-webgpu: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) already installed"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1
echo "install-webgpu: installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
