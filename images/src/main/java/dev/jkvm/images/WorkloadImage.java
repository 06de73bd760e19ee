package dev.jkvm.images;

import dev.jkvm.klib.image.KernelImage;
import dev.jkvm.klib.kernel.build.SmpKernelImage;
import dev.jkvm.klib.workload.UserWorkload;
import dev.jkvm.klib.workload.WorkloadException;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Builds an SMP kernel image that runs a user's workload (kernel-lib's UserWorkload): the class,
 * found on the class path, its method {@code static long METHOD(long index)}, and how many ring-3
 * tasks run it. A workload the kernel cannot run is one line on stderr and exit status 2.
 */
public final class WorkloadImage {
    private WorkloadImage() {
    }

    private static final String USAGE = "usage: WorkloadImage <workload-class> <method> <tasks> <output.elf>";

    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            fail(USAGE);
        }
        Class<?> workloadClass = null;
        int tasks = 0;
        try {
            workloadClass = Class.forName(args[0], false, WorkloadImage.class.getClassLoader());
            tasks = Integer.parseInt(args[2]);
        } catch (ClassNotFoundException e) {
            fail("workload class " + args[0] + " is not on the class path: add its classes directory or jar to -cp");
        } catch (NumberFormatException e) {
            fail("tasks \"" + args[2] + "\" is not a number: give how many ring-3 tasks run the method");
        }
        KernelImage image;
        try {
            image = SmpKernelImage.builder().workload(UserWorkload.of(workloadClass, args[1], tasks)).build();
        } catch (WorkloadException e) {
            fail(e.getMessage());
            return;
        }
        Path out = Path.of(args[3]);
        image.writeTo(out);
        System.out.print("workload image " + out + " (" + args[0] + "." + args[1] + " x " + tasks + ")\n"
                + image.sizeReport());
    }

    private static void fail(String message) {
        System.err.println(message);
        System.exit(2);
    }
}
