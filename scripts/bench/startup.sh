#!/usr/bin/env bash
# Start-up time of the launcher (issue 11 §6: launch to first serial byte), against QEMU TCG in
# the same run. Each set-up is launched once in turn, RUNS times (interleaved, so drift in the
# load of a shared machine hits every set-up alike); each launch is timed by serial-timing.py
# --first-byte from just before the process is spawned to the first byte on its stdout (the
# guest's first serial line), then killed. Prints medians of that time and of the process's CPU
# time up to the kill (all threads: on a loaded host a steadier measure of the work done), and
# the 1-minute load average; asserts nothing.
#   jkvm bin/vmm emulated    dist bin/vmm --accel emulated (jlinked runtime, AOT cache lib/vmm.aot)
#   jkvm bin/vmm kvm         dist bin/vmm --accel kvm (only where /dev/kvm is usable)
#   jkvm bin/vmm auto, no kvm  dist bin/vmm (--accel auto) under without-kvm, as on a host without
#                            /dev/kvm (only where scripts/without-kvm is installed; includes its setup)
#   jkvm java -jar emulated  the full JDK's java -jar vmm-launcher.jar --accel emulated, no AOT cache
#   qemu tcg                 qemu-system-x86_64 -accel tcg -M microvm,acpi=on -m 256M -nographic
#                            -no-reboot -kernel KERNEL (when installed)
# With OLD_HOME=DIR (another built distribution, e.g. of an older commit) its bin/vmm and its
# lib/vmm-launcher.jar are measured the same way, interleaved, as "old ..." rows.
# Usage: scripts/bench/startup.sh [KERNEL]   (default: images/.../hello.elf, one serial line)
# Needs a built distribution: mvn -B -ntp -DskipTests -pl dist -am package
# Environment: RUNS (default 7).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$jkvm_root"
find_jdk

runs="${RUNS:-7}"
kernel="${1:-images/target/classes/dev/jkvm/images/hello.elf}"
home="$(ls -d dist/target/jkvm-*/ 2>/dev/null | head -n1)"
home="${home%/}"
if [ -z "$home" ] || [ ! -x "$home/bin/vmm" ]; then
  echo "error: no built distribution; run: mvn -B -ntp -DskipTests -pl dist -am package" >&2
  exit 2
fi
if [ ! -f "$kernel" ]; then
  echo "error: kernel $kernel does not exist; build the images (mvn -B -ntp -DskipTests -pl images -am package) or name one" >&2
  exit 2
fi
if [ -n "${OLD_HOME:-}" ] && [ ! -x "$OLD_HOME/bin/vmm" ]; then
  echo "error: OLD_HOME=$OLD_HOME has no bin/vmm; point it at an unpacked jkvm distribution" >&2
  exit 2
fi
out="target/bench/startup"
mkdir -p "$out"
rm -f "$out"/*.fig

kvm_usable() { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
java_jar=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -jar)

names=(); commands=()
add() { names+=("$1"); commands+=("$2"); }
for side in new old; do
  if [ "$side" = new ]; then dir="$home"; prefix=""; else [ -n "${OLD_HOME:-}" ] || continue; dir="$OLD_HOME"; prefix="old "; fi
  add "${prefix}jkvm bin/vmm emulated" "$dir/bin/vmm --accel emulated --kernel $kernel --serial stdio --quiet"
  if kvm_usable; then add "${prefix}jkvm bin/vmm kvm" "$dir/bin/vmm --accel kvm --kernel $kernel --serial stdio --quiet"; fi
  if command -v without-kvm >/dev/null 2>&1; then
    add "${prefix}jkvm bin/vmm auto, no kvm" "without-kvm $dir/bin/vmm --kernel $kernel --serial stdio --quiet"
  fi
  add "${prefix}jkvm java -jar emulated" "${java_jar[*]} $dir/lib/vmm-launcher.jar --accel emulated --kernel $kernel --serial stdio --quiet"
done
if command -v qemu-system-x86_64 >/dev/null 2>&1; then
  add "qemu tcg" "qemu-system-x86_64 -accel tcg -M microvm,acpi=on -m 256M -nographic -no-reboot -kernel $kernel"
fi

echo "kernel: $kernel; distribution: $home${OLD_HOME:+; old: $OLD_HOME}; $runs interleaved runs each, after one warm-up round"
for round in $(seq 0 "$runs"); do
  for i in "${!names[@]}"; do
    read -r -a cmd <<<"${commands[$i]}"
    load="$(cut -d' ' -f1 /proc/loadavg)"
    result="$(python3 scripts/bench/serial-timing.py --first-byte "${cmd[@]}")"
    [ "$round" = 0 ] && continue # warm-up: page cache, first JIT of python itself
    echo "$result" | sed -n 's/^first-byte //p' >>"$out/$i.ms.fig"
    echo "$result" | sed -n 's/^cpu //p' >>"$out/$i.cpu.fig"
    echo "$load" >>"$out/$i.load.fig"
  done
done

median() { sort -g "$1" | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
printf '| %-30s | %14s | %14s | %13s | %9s |\n' "set-up" "first byte ms" "(min-max)" "CPU ms to it" "load 1m"
printf '|%s|%s|%s|%s|%s|\n' "--------------------------------" "----------------" "----------------" "---------------" "-----------"
for i in "${!names[@]}"; do
  ms="$(median "$out/$i.ms.fig")"
  range="$(sort -g "$out/$i.ms.fig" | sed -n '1p;$p' | paste -sd- -)"
  cpu="$(median "$out/$i.cpu.fig" | awk '{printf "%.0f", $1 * 1000}')"
  printf '| %-30s | %14.1f | %14s | %13s | %9s |\n' "${names[$i]}" "$ms" "$range" "$cpu" "$(median "$out/$i.load.fig")"
done
echo "raw figures: $out/ (N.ms.fig, N.cpu.fig, N.load.fig; N = row, top first)"
