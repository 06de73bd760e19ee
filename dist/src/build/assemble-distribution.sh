#!/usr/bin/env bash
# Lays out the distribution tree: bin/vmm, lib/{vmm-launcher.jar,jvm.options}, runtime/.
# Usage: assemble-distribution.sh JDK_HOME LAUNCHER_JAR SKELETON_DIR DIST_HOME
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
jdk="$1"; jar="$2"; skeleton="$3"; home="$4"

rm -rf "$home"
mkdir -p "$home"
cp -R "$skeleton/." "$home/"
chmod 755 "$home/bin/vmm"
cp "$jar" "$home/lib/vmm-launcher.jar"
"$here/jlink-runtime.sh" "$jdk" "$jar" "$home/runtime"
