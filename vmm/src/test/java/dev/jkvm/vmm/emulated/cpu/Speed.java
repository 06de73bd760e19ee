package dev.jkvm.vmm.emulated.cpu;

/** Not a test: prints MIPS of a ring-0 loop (8 instructions per iteration, 50M iterations). */
public final class Speed {
    public static void main(String[] args) {
        for (int round = 0; round < 3; round++) {
            IsaMachine m = new IsaMachine(Decoder.MODE64);
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            long c0 = mx.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            m.run("b980f0fa0231c048c7c70000020001c8890731c248ff470883f9057200ffc975ed");
            long ns = System.nanoTime() - t0;
            long cpu = mx.getCurrentThreadCpuTime() - c0;
            long n = m.executor.retired;
            // CPU time, not wall time: on a shared host only the thread's own time says how fast the interpreter is.
            System.out.printf("%d instructions in %d ms wall, %d ms CPU: %.1f MIPS per CPU second%n", n, ns / 1_000_000,
                    cpu / 1_000_000, n * 1000.0 / cpu);
        }
    }
}
