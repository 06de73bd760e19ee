package dev.jkvm.it.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.it.GuestAccelerators;
import dev.jkvm.it.TestKernels;
import dev.jkvm.klib.kernel.acpi.Acpi;
import dev.jkvm.klib.kernel.acpi.Signature;
import dev.jkvm.klib.kernel.acpi.Topology;
import dev.jkvm.klib.rt.HostAddressSpace;
import dev.jkvm.klib.rt.HostArena;
import dev.jkvm.klib.rt.Memory;
import dev.jkvm.vmm.api.RunningVm;
import dev.jkvm.vmm.api.VirtualMachine;
import dev.jkvm.vmm.memory.GuestMemory;
import dev.jkvm.vmm.vcpu.Accelerator;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A VM started with NUMA nodes carries an SRAT: read from the running guest's memory with the
 * kernel's own ACPI discovery, it assigns each vCPU and each RAM block to its node. Once per
 * accelerator (GuestAccelerators).
 */
class NumaSratTest {
    @ParameterizedTest
    @MethodSource("dev.jkvm.it.GuestAccelerators#all")
    void runningVmWithTwoNodesDescribesThemInItsSrat(Accelerator accel) throws Exception {
        long memory = 64L << 20;
        VirtualMachine machine = GuestAccelerators.builder(accel).cpus(4).memory(memory).numaNodes(2)
                .kernel(TestKernels.build("spin")).timeout(Duration.ofSeconds(30)).build();
        try (RunningVm run = machine.start(); Arena arena = HostArena.ofConfined()) {
            GuestMemory.Region ram = run.machine().memory().regions().getFirst();
            long guestZero = ram.segment().address();
            // The running guest's RAM is what the kernel code reads here; given for this test only.
            HostAddressSpace.grant(ram.segment());
            try {
                readSrat(memory, guestZero, ram.size(), arena);
            } finally {
                HostAddressSpace.revoke(ram.segment());
            }
            run.stop();
        }
    }

    private static void readSrat(long memory, long guestZero, long ramSize, Arena arena) {
        MemorySegment topology = arena.allocate(Topology.bytesNeeded(16, 4, 16, 8), 16);
        Topology.format(topology.address(), 16, 4, 16, 8);
        Acpi.discover(guestZero, ramSize, 0, topology.address());
        long srat = Acpi.findTable(Signature.SRAT);
        assertNotEquals(Acpi.NOT_FOUND, srat, "no SRAT in a VM with NUMA nodes");

        // SRAT (ACPI 6.5 §5.2.16): 48-byte header, then typed entries {type, length, ...}.
        List<Integer> cpuDomains = new ArrayList<>();
        List<long[]> memoryRanges = new ArrayList<>();
        int length = Memory.load32(guestZero + srat + 4);
        for (long at = srat + 48; at < srat + length; ) {
            int type = Memory.load8(guestZero + at) & 0xFF;
            int entryLength = Memory.load8(guestZero + at + 1) & 0xFF;
            assertTrue(entryLength > 0, "zero-length SRAT entry");
            if (type == 0) { // Processor Local APIC affinity: domain bits 7:0 at +2
                cpuDomains.add(Memory.load8(guestZero + at + 2) & 0xFF);
            } else if (type == 1) { // Memory affinity: domain at +2, base at +8, length at +16
                memoryRanges.add(new long[] {Memory.load32(guestZero + at + 2),
                        Memory.load64(guestZero + at + 8), Memory.load64(guestZero + at + 16)});
            }
            at += entryLength;
        }
        assertEquals(List.of(0, 0, 1, 1), cpuDomains);
        assertEquals(2, memoryRanges.size());
        assertEquals(0, memoryRanges.get(0)[0]);
        assertEquals(1, memoryRanges.get(1)[0]);
        assertEquals(0, memoryRanges.get(0)[1]);
        assertEquals(memoryRanges.get(0)[2], memoryRanges.get(1)[1], "node 1 starts where node 0 ends");
        assertEquals(memory, memoryRanges.get(0)[2] + memoryRanges.get(1)[2], "the nodes cover all RAM");
    }
}
