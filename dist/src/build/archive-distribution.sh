#!/usr/bin/env bash
# Packs the distribution tree into one tar.gz whose single top directory is the tree's name.
# Usage: archive-distribution.sh DIST_HOME ARCHIVE
set -euo pipefail
home="$1"; archive="$2"
# Owner 0 and sorted names: the archive does not depend on who built it or the directory order.
tar --sort=name --owner=0 --group=0 --numeric-owner \
  -C "$(dirname "$home")" -czf "$archive" "$(basename "$home")"
echo "archive-distribution: $archive $(du -h "$archive" | cut -f1)" >&2
