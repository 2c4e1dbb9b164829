#!/usr/bin/env bash
# Assembles a stand-in for the Dockerfile's base image (node:20-slim) from this machine's own
# Node 20, for where no container registry is reachable:
#   test/image/stand-in-base.sh IMAGE_NAME
# It holds what the Dockerfile and the manifests use of the real base: node and npm where the
# host has them, the shared libraries node links (ldd), a static busybox for /bin/sh, /usr/bin/env
# (npm's shebang) and /bin/sleep (the Deployment's preStop hook), the CA bundle and npm's global
# npmrc (so that `npm ci` in the build reaches the registry exactly as it does outside), an
# /etc/passwd with root, and /tmp and /var/tmp writable by everyone as in Debian.
# Needs root and buildah; run by test/image/image-test.sh, which removes the image again.
set -euo pipefail

image=${1:?usage: stand-in-base.sh IMAGE_NAME}
node_bin=$(readlink -f "$(command -v node)")
npm_dir=$(readlink -f "$(dirname "$(readlink -f "$(command -v npm)")")/..")
npm_globalconfig=$(npm config get globalconfig)
ca_bundle=/etc/ssl/certs/ca-certificates.crt
busybox_bin=$(command -v busybox) || { echo "stand-in base: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
# A dynamically linked busybox would need its own libraries; the static one runs anywhere.
if ! "$busybox_bin" true 2>/dev/null || ldd "$busybox_bin" >/dev/null 2>&1; then
  echo "stand-in base: $busybox_bin is not static (apt-get install busybox-static)" >&2
  exit 1
fi

root=$(mktemp -d)
container=
cleanup() {
  rm -rf "$root"
  if [ -n "$container" ]; then buildah rm "$container" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# Copy a host file to the same path under $root, following symbolic links.
copy() { mkdir -p "$root$(dirname "$1")" && cp -L "$1" "$root$1"; }

copy "$node_bin"
# ldd prints "libx.so => /lib/.../libx.so (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)".
for lib in $(ldd "$node_bin" | grep -oE '/[^ ]+'); do copy "$lib"; done
mkdir -p "$root$(dirname "$npm_dir")"
cp -a "$npm_dir" "$root$npm_dir"
ln -s "$npm_dir/bin/npm-cli.js" "$root/usr/bin/npm"
ln -s "$npm_dir/bin/npx-cli.js" "$root/usr/bin/npx"
[ "$node_bin" = /usr/bin/node ] || ln -s "$node_bin" "$root/usr/bin/node"
if [ -f "$npm_globalconfig" ]; then copy "$npm_globalconfig"; fi
copy "$ca_bundle"

mkdir -p "$root/bin"
cp "$busybox_bin" "$root/bin/busybox"
for applet in $("$busybox_bin" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
ln -sf /bin/busybox "$root/usr/bin/env"

mkdir -p "$root/etc" "$root/root" "$root/tmp" "$root/var/tmp"
chmod 1777 "$root/tmp" "$root/var/tmp"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"

container=$(buildah from scratch)
buildah add --quiet "$container" "$root" / >/dev/null
buildah config --env PATH=/usr/local/bin:/usr/bin:/bin --env HOME=/root --cmd node "$container"
buildah commit --quiet --rm "$container" "$image" >/dev/null
container=
