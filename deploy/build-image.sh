#!/usr/bin/env bash
# Builds the secretscope container image without pulling anything from a
# container registry: a FROM-scratch image holding the release binary, the
# built site, the shared libraries the binary links (from ldd), CA
# certificates and a non-root user (uid 10001).
#
#   cargo leptos build --release        # target/release/secretscope and target/site
#   deploy/build-image.sh [TAG]         # default tag: localhost/secretscope:latest
#
# Environment: SECRETSCOPE_BIN (default target/release/secretscope),
# SECRETSCOPE_SITE (default target/site), PODMAN (the podman command with any
# global options, e.g. "podman --storage-driver vfs"), KEEP_DEBUG=1 to keep
# the binary's symbols (the image strips them: 126 MB -> 64 MB).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tag=${1:-localhost/secretscope:latest}
bin=${SECRETSCOPE_BIN:-$repo/target/release/secretscope}
site=${SECRETSCOPE_SITE:-$repo/target/site}
read -r -a podman <<<"${PODMAN:-podman}"
uid=10001

die() { echo "build-image: $*" >&2; exit 1; }
[ -x "$bin" ] || die "$bin is missing: run \`cargo leptos build --release\` first (or set SECRETSCOPE_BIN)"
[ -f "$site/pkg/secretscope.wasm" ] || die "$site/pkg/secretscope.wasm is missing: run \`cargo leptos build --release\` first (or set SECRETSCOPE_SITE)"
certs=/etc/ssl/certs/ca-certificates.crt
[ -f "$certs" ] || die "$certs is missing: apt-get install ca-certificates"

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
root=$ctx/rootfs
mkdir -p "$root"/usr/local/bin "$root"/usr/share/secretscope "$root"/etc/secretscope \
  "$root"/etc/ssl/certs "$root"/tmp "$ctx"/state/secretscope
chmod 1777 "$root"/tmp
# The store's directory, the user's own (COPY --chown in the Containerfile).
chmod 700 "$ctx"/state/secretscope

if [ "${KEEP_DEBUG:-0}" = 1 ] || ! command -v strip >/dev/null; then
  cp "$bin" "$root"/usr/local/bin/secretscope
else
  strip --strip-all -o "$root"/usr/local/bin/secretscope "$bin"
fi
cp -r "$site" "$root"/usr/share/secretscope/site
cp "$repo"/deploy/secretscope.toml "$root"/etc/secretscope/secretscope.toml
cp "$certs" "$root"/etc/ssl/certs/ca-certificates.crt

# The libraries the binary links, at the paths the loader looks for them
# ("libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6", and the loader itself).
libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
for lib in $libs; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done

cat >"$root"/etc/passwd <<PASSWD
root:x:0:0:root:/root:/usr/sbin/nologin
secretscope:x:$uid:$uid:secretscope:/var/lib/secretscope:/usr/sbin/nologin
PASSWD
cat >"$root"/etc/group <<GROUP
root:x:0:
secretscope:x:$uid:
GROUP
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root"/etc/nsswitch.conf

cp "$repo"/deploy/Containerfile "$ctx"/Containerfile
version=$("$bin" --version | awk '{ print $2 }')
"${podman[@]}" build --no-cache --file "$ctx"/Containerfile --tag "$tag" \
  --label org.opencontainers.image.title=secretscope \
  --label org.opencontainers.image.version="$version" \
  "$ctx"
echo "built $tag (secretscope $version)"
