package dev.jkvm.images.example;

import dev.jkvm.klib.image.KernelImage;
import dev.jkvm.klib.kernel.build.SmpKernelImage;
import dev.jkvm.klib.workload.UserWorkload;

import java.io.IOException;
import java.nio.file.Path;

/** Builds the Monte Carlo image with kernel-lib's API and writes it to args[0]. */
public final class PiImage {
    private PiImage() {
    }

    public static void main(String[] args) throws IOException {
        KernelImage image = SmpKernelImage.builder()
                .workload(UserWorkload.of(MonteCarloPi.class, "task", 64))   // .named("...") sets the report's label
                .watchdogMs(60_000)                                          // the per-task watchdog (this is the default)
                .build();
        image.writeTo(Path.of(args[0]));
    }
}
