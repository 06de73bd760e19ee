package dev.jkvm.images;

import dev.jkvm.klib.image.KernelImage;
import dev.jkvm.klib.kernel.build.SmpKernelImage;
import dev.jkvm.klib.kernel.selftest.SelfTestSuite;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The SMP kernel with its self-test suite switched on (kernel-lib's SelfTestSuite): boots every
 * CPU, prints TAP results and measurements on COM1 and exits through isa-debug-exit with 0 when
 * every test passed (QEMU and jkvm report status 1), 0x11 otherwise. {@code main} writes it to
 * the path given.
 */
public final class SmpSelfTestKernel {
    private SmpSelfTestKernel() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: SmpSelfTestKernel <output.elf>");
            System.exit(2);
        }
        SelfTestSuite.enableInImage(true);
        KernelImage image;
        try {
            image = SmpKernelImage.build();
        } finally {
            SelfTestSuite.enableInImage(false);
        }
        Path out = Path.of(args[0]);
        image.writeTo(out);
        System.out.print("smp self-test kernel image " + out + "\n" + image.sizeReport());
    }
}
