#!/usr/bin/env bash
# Start-up time of the launcher, launch to exit, in three set-ups:
#   dist bin/vmm with the AOT cache, dist bin/vmm with -XX:AOTMode=off, and `java -jar` on the
#   plain launcher jar with the full JDK. Prints the archive size and a table; asserts nothing.
# Usage: scripts/bench/startup.sh [launcher arguments]
#   default: boot the default guest image when /dev/kvm is usable, else --version
# Needs a built distribution: mvn -B -ntp -DskipTests -pl dist -am package
# RUNS (default 10) sets the number of timed runs per set-up.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$jkvm_root"
find_jdk

runs="${RUNS:-10}"
jar="vmm/target/vmm-launcher.jar"
home="$(ls -d dist/target/jkvm-*/ 2>/dev/null | head -n1)"
archive="$(ls dist/target/jkvm-*-linux-x86_64.tar.gz 2>/dev/null | head -n1)"
if [ -z "$home" ] || [ -z "$archive" ] || [ ! -f "$jar" ]; then
  echo "error: no built distribution; run: mvn -B -ntp -DskipTests -pl dist -am package" >&2
  exit 2
fi
home="${home%/}"

# The default image boots when /dev/kvm is usable and the jar has the image: a status other
# than 2 (refused input, e.g. a build without the built-in image) means it booted.
default_image_boots() {
  [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
  local status=0
  "$home/bin/vmm" --quiet --timeout 60s >/dev/null 2>&1 || status=$?
  [ "$status" != 2 ]
}

if [ $# -gt 0 ]; then
  workload=("$@"); what="vmm $*"
elif default_image_boots; then
  workload=(--quiet --timeout 60s); what="boot of the default image, launch to exit"
else
  workload=(--version); what="vmm --version (the default image cannot boot here)"
fi

names=("dist bin/vmm, AOT cache" "dist bin/vmm, no AOT cache" "java -jar plain jar (JDK 25)")
commands=(
  "$home/bin/vmm ${workload[*]}"
  "env JKVM_JAVA_OPTIONS=-XX:AOTMode=off $home/bin/vmm ${workload[*]}"
  "$JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -jar $jar ${workload[*]}"
)

echo "archive: $archive $(du -h "$archive" | cut -f1) ($(stat -c %s "$archive") bytes); unpacked $(du -sh "$home" | cut -f1)"
echo "workload: $what; $runs runs each after warm-up"

if command -v hyperfine >/dev/null 2>&1; then
  table="$(mktemp)"
  trap 'rm -f "$table"' EXIT
  args=()
  for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${commands[$i]}"); done
  # -i: guest exit statuses (e.g. isa-debug-exit values) are results, not benchmark failures.
  hyperfine -N -i --style none --warmup 2 --runs "$runs" --export-markdown "$table" "${args[@]}" >/dev/null
  cat "$table"
  exit 0
fi

# Without hyperfine: wall clock per run from date +%s%N, reporting mean/min/max.
printf '| %-30s | %9s | %9s | %9s |\n' "set-up" "mean ms" "min ms" "max ms"
printf '|%s|%s|%s|%s|\n' "--------------------------------" "-----------" "-----------" "-----------"
for i in "${!names[@]}"; do
  read -r -a cmd <<<"${commands[$i]}"
  "${cmd[@]}" >/dev/null 2>&1 || true
  "${cmd[@]}" >/dev/null 2>&1 || true
  total=0; min=""; max=0
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    "${cmd[@]}" >/dev/null 2>&1 || true
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    total=$((total + ms))
    if [ -z "$min" ] || [ "$ms" -lt "$min" ]; then min=$ms; fi
    if [ "$ms" -gt "$max" ]; then max=$ms; fi
  done
  printf '| %-30s | %9d | %9d | %9d |\n' "${names[$i]}" $((total / runs)) "$min" "$max"
done
