/**
 * Your own workload in the SMP kernel: a class with a method {@code static long task(long index)}
 * written in the Java subset (see {@link dev.jkvm.klib.compiler.JavaSubsetCompiler}) runs as N
 * ring-3 tasks spread over every CPU; the kernel sums their results and checks the sum against
 * the one the host JVM computed from the same method when the image was built.
 *
 * <pre>{@code
 * KernelImage image = SmpKernelImage.builder()
 *         .workload(UserWorkload.of(MyWork.class, "task", 64))
 *         .build();
 * image.writeTo(Path.of("my.elf"));
 * }</pre>
 *
 * See {@link dev.jkvm.klib.workload.UserWorkload} and
 * {@link dev.jkvm.klib.kernel.build.SmpKernelBuilder}.
 */
package dev.jkvm.klib.workload;
