package dev.jkvm.it.workload;

import dev.jkvm.klib.kernel.user.Sys;
import dev.jkvm.klib.rt.Memory;

/**
 * Workloads that fail only in the guest, for the fault reports (GuestFaultReportTest): on the host
 * Sys.taskId() is the task's index (the build computes the expected answers there), in the guest
 * it is the kernel's task id, which never equals a small index. Lines marked "FAULT:" and "CALL:"
 * are where the reports must point.
 */
public final class GuestOnlyFaults {
    private GuestOnlyFaults() {
    }

    private static boolean inGuest(long index) {
        return Sys.taskId() != index;
    }

    /** Indices 5, 6 and 7 divide by zero in the guest. */
    public static long divide(long index) {
        long divisor = inGuest(index) && index >= 5 && index < 8 ? 0 : 1;
        return 1000 / divisor + index; // FAULT: divide
    }

    /** Index 3 reads address 8 in the guest: a page fault on a null-like address. */
    public static long nullRead(long index) {
        if (inGuest(index) && index == 3) {
            return Memory.load64(8); // FAULT: nullRead
        }
        return index;
    }

    /** Index 2 loops (practically) forever in the guest. */
    public static long spin(long index) {
        long rounds = inGuest(index) && index == 2 ? Long.MAX_VALUE : 10;
        long x = 0;
        for (long i = 0; i < rounds; i++) {
            x += i ^ index;
        }
        return x;
    }

    private static final long[] WEIGHTS = {3, 5, 7};

    /** Index 1 reads WEIGHTS[4] in the guest: the compiled bounds check. */
    public static long outOfBounds(long index) {
        int at = inGuest(index) && index == 1 ? 4 : (int) (index % 3);
        return WEIGHTS[at]; // FAULT: outOfBounds
    }

    /** Index 1 divides by zero in a callee two frames below the task method. */
    public static long deep(long index) {
        return middle(index) + 1; // CALL: deep
    }

    private static long middle(long index) {
        return leaf(index, inGuest(index) && index == 1 ? 0 : 2) * 3; // CALL: middle
    }

    private static long leaf(long index, long divisor) {
        return index / divisor; // FAULT: leaf
    }
}
