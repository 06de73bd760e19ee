package dev.jkvm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jkvm.vmm.vcpu.Accelerator;
import dev.jkvm.vmm.api.RunningVm;
import dev.jkvm.vmm.api.VirtualMachine;
import dev.jkvm.vmm.devices.PortIoBus;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A file given to the builder is in the running VM's fw_cfg directory with its contents. */
class FwCfgFileTest {
    private static final int SELECTOR = 0x510;
    private static final int DATA = 0x511;
    private static final int FILE_DIR = 0x19;

    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void builderFileAppearsInTheFwCfgDirectory(Accelerator accel) throws Exception {
        byte[] contents = "cpus=4 mode=test\n".getBytes(StandardCharsets.US_ASCII);
        VirtualMachine machine = GuestAccelerators.builder(accel).cpus(1).memory(16L << 20)
                .kernel(TestKernels.build("spin")).fwCfgFile("opt/jkvm/config", contents)
                .timeout(Duration.ofSeconds(30)).build();
        try (RunningVm run = machine.start()) {
            run.pause();
            PortIoBus bus = run.machine().pio();
            // Directory (fw_cfg.rst): be32 count, then {be32 size, be16 select, be16 reserved, char name[56]}.
            bus.write(SELECTOR, 2, FILE_DIR);
            int count = readBigEndian(bus, 4);
            assertEquals(1, count);
            int size = readBigEndian(bus, 4);
            int select = readBigEndian(bus, 2);
            readBigEndian(bus, 2);
            StringBuilder name = new StringBuilder();
            for (int i = 0; i < 56; i++) {
                int c = bus.read(DATA, 1) & 0xFF;
                if (c != 0) name.append((char) c);
            }
            assertEquals("opt/jkvm/config", name.toString());
            assertEquals(contents.length, size);
            bus.write(SELECTOR, 2, select);
            byte[] read = new byte[size];
            for (int i = 0; i < size; i++) read[i] = (byte) bus.read(DATA, 1);
            assertEquals(new String(contents, StandardCharsets.US_ASCII), new String(read, StandardCharsets.US_ASCII));
            run.stop();
        }
    }

    private static int readBigEndian(PortIoBus bus, int bytes) {
        int v = 0;
        for (int i = 0; i < bytes; i++) v = v << 8 | (bus.read(DATA, 1) & 0xFF);
        return v;
    }
}
