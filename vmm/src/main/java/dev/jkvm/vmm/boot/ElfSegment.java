package dev.jkvm.vmm.boot;

/** One program header of an ELF file (System V ABI, "Program Header"), widened to 64 bits. */
record ElfSegment(int index, int type, int flags, long offset, long virtualAddress,
                  long physicalAddress, long fileSize, long memorySize) {
    static final int PT_LOAD = 1;
    static final int PF_X = 1;

    boolean isLoad() { return type == PT_LOAD; }
    boolean isExecutable() { return (flags & PF_X) != 0; }
}
