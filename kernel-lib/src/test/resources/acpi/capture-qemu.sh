#!/bin/bash
# Captures the ACPI tables SeaBIOS builds under QEMU, as raw guest-physical memory segments.
# Usage: capture-qemu.sh MACHINE CPUS OUTDIR   (e.g. capture-qemu.sh q35 4 qemu-q35-smp4)
# Writes OUTDIR/mem-<hex guest-physical address>.bin for: the BIOS data area (holds the EBDA
# segment word at 0x40E), the EBDA (whose first KiB is scanned for the RSDP), the BIOS area
# 0xE0000-0xFFFFF (ACPI 6.5 §5.2.5.1) and the top 128 KiB of RAM, where SeaBIOS puts the tables.
set -euo pipefail
machine=$1 cpus=$2 out=$3
ram_mib=32
mkdir -p "$out"
cd "$out"
# SeaBIOS writes the tables while it boots; with no boot device it then idles, so a few seconds
# in, the tables are complete. pmemsave file names are relative: HMP would parse '/' as division.
top=$((ram_mib * 1024 * 1024))
{
    sleep 4
    echo stop
    echo "pmemsave 0x400 0x100 mem-00000400.bin"
    echo "pmemsave 0x9fc00 0x400 mem-0009fc00.bin"
    echo "pmemsave 0xe0000 0x20000 mem-000e0000.bin"
    printf 'pmemsave 0x%x 0x20000 mem-%08x.bin\n' $((top - 0x20000)) $((top - 0x20000))
    sleep 1
    echo quit
} | qemu-system-x86_64 -M "$machine" -accel tcg -smp "$cpus" -m ${ram_mib}M \
        -nodefaults -display none -monitor stdio > /dev/null
ls mem-*.bin > /dev/null
