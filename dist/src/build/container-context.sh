#!/usr/bin/env bash
# Builds the Docker build context of a FROM-scratch image: the distribution under /opt/jkvm,
# the host shared libraries its runtime links against, the dynamic loader, and passwd/group.
# Usage: container-context.sh DIST_HOME CONTAINER_SOURCES CONTEXT_DIR
set -euo pipefail
home="$1"; sources="$2"; context="$3"
rootfs="$context/rootfs"

rm -rf "$context"
mkdir -p "$rootfs/opt" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
cp -R "$sources/." "$context/"
mv "$context/etc" "$rootfs/etc"
# Keep the tree's relative layout: the AOT cache recorded the jar and runtime relative to it.
cp -a "$home" "$rootfs/opt/jkvm"

# Every ELF object of the runtime (the launcher binary, libjvm, the JDK's JNI libraries,
# libsyslookup for FFM's default lookup) and what they need, by the path the loader resolved.
mapfile -t objects < <(find "$rootfs/opt/jkvm/runtime" -type f \( -name '*.so' -o -path '*/bin/*' \) \
  -exec sh -c 'head -c 4 "$1" | grep -q ELF' _ {} \; -print)
mapfile -t needed < <(ldd "${objects[@]}" 2>/dev/null \
  | sed -n -e 's/^.*=> \(\/[^ ]*\) (0x.*$/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) (0x.*$/\1/p' \
  | grep -v "^$rootfs/" | sort -u)
if [ ${#needed[@]} -eq 0 ]; then
  echo "error: ldd found no shared libraries for the runtime; is ldd (libc-bin) installed?" >&2
  exit 1
fi
for lib in "${needed[@]}"; do
  # Same path as on the host: the loader looks there (its built-in multiarch directories, and
  # PT_INTERP for ld-linux itself); -L copies the file a symlink such as libc.so.6 names.
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
  echo "container-context: $lib" >&2
done
