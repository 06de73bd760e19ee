package dev.jkvm.vmm.boot;

import dev.jkvm.vmm.memory.GuestLayout;
import dev.jkvm.vmm.memory.GuestMemory;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes the Multiboot information structure (Multiboot 0.6.96 §3.3) and everything it points
 * to into the boot-info area {@link GuestLayout#BOOT_INFO}..{@link GuestLayout#BOOT_INFO_END}:
 *
 * <pre>
 *   BOOT_INFO + 0x000  the information structure (116 bytes in 0.6.96, 128 reserved)
 *   BOOT_INFO + 0x080  memory map, up to 32 entries of 24 bytes
 *   BOOT_INFO + 0x380  boot loader name
 *   BOOT_INFO + 0x400  kernel command line, up to BOOT_INFO_END
 * </pre>
 * A fixed layout lets the CLI check the command line length before it creates a VM.
 */
public final class MultibootInfo {
    private MultibootInfo() {}

    /** §3.3 "flags" bits for the fields this loader fills in. */
    public static final int FLAG_MEMORY = 1;
    public static final int FLAG_CMDLINE = 1 << 2;
    public static final int FLAG_MODULES = 1 << 3;
    public static final int FLAG_ELF_SECTIONS = 1 << 5;
    public static final int FLAG_MEMORY_MAP = 1 << 6;
    public static final int FLAG_BOOT_LOADER_NAME = 1 << 9;

    /** §3.3 field offsets. */
    public static final int OFFSET_FLAGS = 0;
    public static final int OFFSET_MEM_LOWER = 4;
    public static final int OFFSET_MEM_UPPER = 8;
    public static final int OFFSET_CMDLINE = 16;
    public static final int OFFSET_MODS_COUNT = 20;
    public static final int OFFSET_MODS_ADDR = 24;
    public static final int OFFSET_SYMS_NUM = 28;
    public static final int OFFSET_SYMS_SIZE = 32;
    public static final int OFFSET_SYMS_ADDR = 36;
    public static final int OFFSET_SYMS_SHNDX = 40;
    public static final int OFFSET_MMAP_LENGTH = 44;
    public static final int OFFSET_MMAP_ADDR = 48;
    public static final int OFFSET_BOOT_LOADER_NAME = 64;

    private static final int INFO_RESERVED = 0x80;
    public static final long ADDRESS = GuestLayout.BOOT_INFO;
    static final long MEMORY_MAP_ADDRESS = ADDRESS + INFO_RESERVED;
    static final int MAX_MEMORY_MAP_ENTRIES = 32;
    static final long LOADER_NAME_ADDRESS = MEMORY_MAP_ADDRESS + (long) MAX_MEMORY_MAP_ENTRIES * MemoryMapEntry.BYTES;
    static final long CMDLINE_ADDRESS = LOADER_NAME_ADDRESS + 0x80;
    /** Longest command line in bytes (UTF-8), leaving room for its terminating NUL. */
    public static final int MAX_COMMAND_LINE = (int) (GuestLayout.BOOT_INFO_END - CMDLINE_ADDRESS - 1);

    public static final String BOOT_LOADER_NAME = "jkvm";

    /** Refuses a command line that does not fit the boot-info area, before anything is written. */
    public static void checkCommandLine(String cmdline) {
        int length = cmdline.getBytes(StandardCharsets.UTF_8).length;
        if (length > MAX_COMMAND_LINE) {
            throw new MultibootException("command line too long: " + length + " bytes, at most " + MAX_COMMAND_LINE);
        }
        if (cmdline.indexOf('\0') >= 0) {
            throw new MultibootException("command line contains a NUL character, which would end it early; remove it");
        }
    }

    /** Refuses guest memory without room for the structure, before anything is written. */
    static void checkMemory(GuestMemory memory) {
        if (!memory.isRam(GuestLayout.BOOT_INFO, GuestLayout.BOOT_INFO_END - GuestLayout.BOOT_INFO)) {
            throw new MultibootException("guest RAM does not cover the multiboot information area [0x"
                    + Long.toHexString(GuestLayout.BOOT_INFO) + ", 0x" + Long.toHexString(GuestLayout.BOOT_INFO_END)
                    + "); give the VM RAM from address 0");
        }
        int entries = PcMemoryMap.entries(memory).size();
        if (entries > MAX_MEMORY_MAP_ENTRIES) {
            throw new MultibootException("the guest memory map has " + entries + " entries, at most "
                    + MAX_MEMORY_MAP_ENTRIES + " fit the boot-info area; use fewer RAM regions");
        }
    }

    /**
     * Writes the structure; returns its guest-physical address (for EBX at entry, §3.2).
     *
     * @param sections the copied ELF section headers, or null to leave flags bit 5 clear
     */
    static long write(GuestMemory memory, String cmdline, SectionHeaderTable sections) {
        checkCommandLine(cmdline);
        checkMemory(memory);
        List<MemoryMapEntry> map = PcMemoryMap.entries(memory);
        memory.fill(ADDRESS, INFO_RESERVED, (byte) 0);
        int flags = FLAG_MEMORY | FLAG_CMDLINE | FLAG_MODULES | FLAG_MEMORY_MAP | FLAG_BOOT_LOADER_NAME;
        memory.write32(ADDRESS + OFFSET_MEM_LOWER, (int) PcMemoryMap.memLowerKiB(memory));
        memory.write32(ADDRESS + OFFSET_MEM_UPPER, (int) PcMemoryMap.memUpperKiB(memory));

        memory.writeCString(CMDLINE_ADDRESS, cmdline);
        memory.write32(ADDRESS + OFFSET_CMDLINE, (int) CMDLINE_ADDRESS);
        memory.writeCString(LOADER_NAME_ADDRESS, BOOT_LOADER_NAME);
        memory.write32(ADDRESS + OFFSET_BOOT_LOADER_NAME, (int) LOADER_NAME_ADDRESS);
        // No modules; the flag is still set with a count of 0, as QEMU's -kernel does, so a kernel
        // that insists on flags bit 3 boots the same way under both.
        memory.write32(ADDRESS + OFFSET_MODS_COUNT, 0);
        memory.write32(ADDRESS + OFFSET_MODS_ADDR, 0);

        long at = MEMORY_MAP_ADDRESS;
        for (MemoryMapEntry e : map) {
            memory.write32(at, MemoryMapEntry.SIZE_FIELD);
            memory.write64(at + 4, e.base());
            memory.write64(at + 12, e.length());
            memory.write32(at + 20, e.type());
            at += MemoryMapEntry.BYTES;
        }
        memory.write32(ADDRESS + OFFSET_MMAP_LENGTH, (int) (at - MEMORY_MAP_ADDRESS));
        memory.write32(ADDRESS + OFFSET_MMAP_ADDR, (int) MEMORY_MAP_ADDRESS);

        if (sections != null) {
            flags |= FLAG_ELF_SECTIONS;
            memory.write32(ADDRESS + OFFSET_SYMS_NUM, (int) sections.count());
            memory.write32(ADDRESS + OFFSET_SYMS_SIZE, (int) sections.entrySize());
            memory.write32(ADDRESS + OFFSET_SYMS_ADDR, (int) sections.address());
            memory.write32(ADDRESS + OFFSET_SYMS_SHNDX, (int) sections.namesIndex());
        }
        memory.write32(ADDRESS + OFFSET_FLAGS, flags);
        return ADDRESS;
    }
}
