#!/usr/bin/env bash
# Builds one test kernel: build.sh NAME OUTDIR -> OUTDIR/NAME.elf, an ELF32 multiboot file
# (QEMU's -kernel refuses ELF64 multiboot kernels; objcopy re-wraps the 64-bit object).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
name="$1"; out="$2"
mkdir -p "$out"
gcc -c -I"$here" -o "$out/$name.o" "$here/$name.S"
ld -m elf_x86_64 -z max-page-size=4096 -T "$here/kernel.ld" -o "$out/$name.elf64" "$out/$name.o"
objcopy -O elf32-i386 "$out/$name.elf64" "$out/$name.elf"
