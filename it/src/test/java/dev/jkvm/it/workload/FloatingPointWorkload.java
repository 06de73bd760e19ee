package dev.jkvm.it.workload;

/** A workload outside the Java subset: floating point, which the kernel compiler refuses. */
public final class FloatingPointWorkload {
    private FloatingPointWorkload() {
    }

    public static long task(long index) {
        return (long) Math.sqrt(index);
    }
}
