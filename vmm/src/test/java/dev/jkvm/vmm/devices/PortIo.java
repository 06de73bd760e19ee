package dev.jkvm.vmm.devices;

/**
 * The guest's view of port I/O ({@code in}/{@code out} of 1, 2 or 4 bytes), so that one probe
 * sequence can run against our {@link PortIoBus} and against QEMU through qtest.
 */
interface PortIo {
    int in(int port, int size);

    void out(int port, int size, int value);

    default int inb(int port) { return in(port, 1); }

    default void outb(int port, int value) { out(port, 1, value); }

    default void outw(int port, int value) { out(port, 2, value); }

    static PortIo of(PortIoBus bus) {
        return new PortIo() {
            @Override
            public int in(int port, int size) { return bus.read(port, size); }

            @Override
            public void out(int port, int size, int value) { bus.write(port, size, value); }
        };
    }
}
