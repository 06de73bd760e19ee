#!/usr/bin/env bash
# Creates the launcher's AOT cache (JEP 483/514) by a training run of the assembled distribution.
# Usage: train-aot-cache.sh DIST_HOME LOG_FILE
# With a usable /dev/kvm the training run boots the default guest image, so the cache holds the
# classes of a real boot (KVM setup, devices, serial); without one it only runs --help.
set -euo pipefail
home="$1"; log="$2"
cache="$home/lib/vmm.aot"

if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  # Two vCPUs so that AP start-up is trained too; the timeout keeps a hung guest from hanging the build.
  training=(--cpus 2 --timeout 60s); what="booting the default image on 2 vCPUs"
else
  training=(--help); what="--help (no usable /dev/kvm at build time)"
fi
echo "train-aot-cache: training run: $what" >&2

rm -f "$cache"
# The guest's exit status is irrelevant here: the JVM writes the cache when it exits.
set +e
"$home/runtime/bin/java" "@$home/lib/jvm.options" -XX:AOTCacheOutput="$cache" \
  -jar "$home/lib/vmm-launcher.jar" "${training[@]}" >"$log" 2>&1
status=$?
set -e
if [ ! -s "$cache" ]; then
  echo "error: the training run (status $status) wrote no AOT cache; its output is in $log" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
echo "train-aot-cache: $(du -h "$cache" | cut -f1) cache after training status $status (log $log)" >&2
if [ "${training[0]}" = --cpus ] && [ "$status" = 2 ]; then
  # Status 2 is the launcher refusing its input (e.g. a jar built without the guest image):
  # the cache then holds start-up and option parsing only.
  echo "train-aot-cache: the training boot was refused: $(head -n1 "$log")" >&2
fi
