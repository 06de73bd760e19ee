package dev.jkvm.vmm.acpi;

/**
 * ACPI 6.5 §5.2.3.2 Generic Address Structure: 12 bytes naming a register by address space,
 * bit width, bit offset, access size and address.
 */
record GenericAddress(int addressSpace, int bitWidth, int bitOffset, int accessSize, long address) {
    /** §5.2.3.2 Address Space ID values. */
    static final int SYSTEM_MEMORY = 0;
    static final int SYSTEM_IO = 1;

    /** §5.2.3.2 Access Size values. */
    static final int ACCESS_UNDEFINED = 0;
    static final int ACCESS_BYTE = 1;
    static final int ACCESS_WORD = 2;
    static final int ACCESS_DWORD = 3;

    /** The all-zero structure, meaning "register not present". */
    static final GenericAddress NONE = new GenericAddress(0, 0, 0, 0, 0);

    /** A register of {@code bytes} bytes in I/O space, accessed {@code accessSize} at a time. */
    static GenericAddress ioPort(int port, int bytes, int accessSize) {
        return new GenericAddress(SYSTEM_IO, bytes * 8, 0, accessSize, port);
    }

    void writeTo(AcpiByteWriter w) {
        w.u8(addressSpace).u8(bitWidth).u8(bitOffset).u8(accessSize).u64(address);
    }
}
