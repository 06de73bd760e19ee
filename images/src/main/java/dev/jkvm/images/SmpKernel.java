package dev.jkvm.images;

import dev.jkvm.klib.image.KernelImage;
import dev.jkvm.klib.kernel.build.SmpKernelImage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The SMP kernel (kernel-lib's dev.jkvm.klib.kernel): boots every CPU, runs the IPI and TLB
 * shootdown self-tests, runs the scheduler workload, prints a report and powers off through ACPI
 * S5 on success (status 0; isa-debug-exit where the machine has no S5, status 35 on failure).
 * {@code main} writes it to the path given.
 */
public final class SmpKernel {
    private SmpKernel() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: SmpKernel <output.elf>");
            System.exit(2);
        }
        KernelImage image = SmpKernelImage.build();
        Path out = Path.of(args[0]);
        image.writeTo(out);
        System.out.print("smp kernel image " + out + "\n" + image.sizeReport());
    }
}
