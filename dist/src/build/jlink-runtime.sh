#!/usr/bin/env bash
# Links the smallest Java runtime that runs the launcher jar.
# Usage: jlink-runtime.sh JDK_HOME LAUNCHER_JAR OUTPUT_DIR
set -euo pipefail
jdk="$1"; jar="$2"; out="$3"

if [ ! -f "$jar" ]; then
  echo "error: launcher jar $jar is missing; build it first (mvn -B -ntp -pl dist -am package)" >&2
  exit 2
fi
if [ ! -x "$jdk/bin/jlink" ] || [ ! -x "$jdk/bin/jdeps" ]; then
  echo "error: $jdk has no jlink/jdeps; point JAVA_HOME at a full JDK 25" >&2
  exit 2
fi

# jdeps reads the bytecode, so the set follows the code.
modules="$("$jdk/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 25 "$jar")"
echo "jlink-runtime: modules $modules" >&2

rm -rf "$out"
# The JDK ships no jmods: jlink links from the run-time image (JEP 493), which is why the
# JDK's own lib/modules must stay untouched.
"$jdk/bin/jlink" \
  --add-modules "$modules" \
  --strip-debug --no-header-files --no-man-pages \
  --compress zip-6 \
  --output "$out"
