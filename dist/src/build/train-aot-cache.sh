#!/usr/bin/env bash
# Creates the launcher's AOT cache (JEP 483/514) by a training run of the assembled distribution.
# Usage: train-aot-cache.sh DIST_HOME LOG_FILE
# One JVM runs the launcher twice (dev.jkvm.vmm.cli.AotTraining), so the one cache holds the
# classes of both accelerators' boots: with a usable /dev/kvm the default image on KVM and then on
# the emulated CPU; without one the default image under `auto` (the fallback line, then the
# emulated CPU). The emulated boot is cut off by its timeout: its first seconds load every class
# the CPU, the irqchip and the devices need, and a timeout is a normal end for a training run.
# The emulated boot reads the image from a file (--kernel default-image-file, see AotTraining),
# so that the cache also holds what reading a kernel file needs, as most users' runs do.
set -euo pipefail
home="$1"; log="$2"
cache="$home/lib/vmm.aot"

emulated=(--cpus 2 --kernel default-image-file --timeout 10s)
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  # Two vCPUs so that AP start-up is trained too; the timeout keeps a hung guest from hanging the build.
  training=(--cpus 2 --timeout 60s --next --accel emulated "${emulated[@]}")
  what="the default image on KVM, then on the emulated CPU (2 vCPUs each)"
else
  training=(--accel auto "${emulated[@]}")
  what="the default image under --accel auto, i.e. the emulated CPU (no usable /dev/kvm at build time)"
fi
echo "train-aot-cache: training run: $what" >&2

rm -f "$cache"
# The guest's exit status is irrelevant here: the JVM writes the cache when it exits.
set +e
"$home/runtime/bin/java" "@$home/lib/jvm.options" -XX:AOTCacheOutput="$cache" \
  -cp "$home/lib/vmm-launcher.jar" dev.jkvm.vmm.cli.AotTraining "${training[@]}" >"$log" 2>&1
status=$?
set -e
if [ ! -s "$cache" ]; then
  echo "error: the training run (status $status) wrote no AOT cache; its output is in $log" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
echo "train-aot-cache: $(du -h "$cache" | cut -f1) cache after training status $status (log $log)" >&2
# Status 2 is the launcher refusing its input (e.g. a jar built without the guest image): the
# cache then holds start-up and option parsing only. Say so rather than ship it silently.
if grep -q -- '-> status 2$' "$log"; then
  echo "train-aot-cache: a training boot was refused: $(grep -m1 '^error: ' "$log" || true)" >&2
fi
grep '^aot-training: ' "$log" >&2 || true

# The cache was recorded with -cp and a training main class; bin/vmm starts with -jar. Check that
# the JVM accepts it for the real start (AOTMode=on turns "cache not usable" into an error).
if ! JKVM_JAVA_OPTIONS="-XX:AOTMode=on" "$home/bin/vmm" --version >/dev/null 2>"$log.check"; then
  echo "error: bin/vmm cannot use the AOT cache just trained: $(head -n1 "$log.check")" >&2
  exit 1
fi
rm -f "$log.check"
