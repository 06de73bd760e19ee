# Shared by scripts/*: find a JDK >= 25 and Maven, honouring JAVA_HOME.
# Sourced, not executed.

jkvm_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

jdk_major() { # prints the feature version of the JDK at $1, or nothing
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1
}

find_jdk() {
  local candidate
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
    local v; v="$(jdk_major "$candidate")"
    if [ -n "$v" ] && [ "$v" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME="$candidate"
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  echo "error: no JDK 25 or newer found (JAVA_HOME=${JAVA_HOME:-unset}); install Temurin 25 or set JAVA_HOME to a JDK >= 25" >&2
  exit 2
}

need_maven() {
  command -v mvn >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven >/dev/null
  fi
  command -v mvn >/dev/null 2>&1 || { echo "error: Maven (mvn) not found; install it (apt-get install maven)" >&2; exit 2; }
}

# Installs the Debian packages named in "$@" that are missing; nothing when all are present.
apt_ensure() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "error: missing Debian packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
    exit 2
  fi
  echo "installing: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# build_test_kernel SOURCE.S OUT.elf [gcc options]: a GNU-toolchain multiboot kernel (gcc, ld,
# objcopy to ELF32) built by the tests' one builder, test-support's GnuToolchain, run as a
# source-file program (no Maven build needed). Needs find_jdk first; gcc options take absolute paths.
build_test_kernel() {
  "$JAVA_HOME/bin/java" "$jkvm_root/test-support/src/main/java/dev/jkvm/testsupport/GnuToolchain.java" "$@"
}
