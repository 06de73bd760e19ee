package dev.jkvm.klib;

import dev.jkvm.testsupport.PackageGraph;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kernel-lib's packages form layers without a cycle (kernel/package-info.java writes the order
 * down): measured with jdeps over the compiled classes, so a dependency through a constant or a
 * signature counts as much as a call. A failure names each offending package edge and the classes
 * that make it; the fix is a by-symbol seam (sched.SchedArch, sync.SyncPanic) or moving the code
 * to the layer it belongs to.
 */
class PackageLayersTest {
    private static final Path CLASSES = Path.of("target/classes");
    private static final String PREFIX = "dev.jkvm.klib";

    /**
     * Bottom to top: a package may depend only on packages before it. Packages on one line do not
     * depend on each other.
     */
    static final List<String> LAYERS = List.of(
            "arch", "rt", "asm", "compiler", "image",
            "kernel.sync", "kernel.boot", "kernel.apic", "kernel.time", "kernel.acpi",
            "kernel.mm", "kernel.console", "kernel.cpu", "kernel.trap", "kernel.smp", "kernel.sched",
            "kernel.user", "workload", "kernel.proc", "kernel.selftest",
            "kernel", "kernel.build");

    private static PackageGraph graph() {
        assertTrue(Files.isDirectory(CLASSES.resolve("dev/jkvm/klib/kernel")), "compiled classes expected at " + CLASSES.toAbsolutePath());
        PackageGraph graph = PackageGraph.ofClasses(CLASSES, PREFIX);
        assertTrue(graph.edges().size() > 10, "jdeps reported too few dependencies to be believed: " + graph.edges());
        return graph;
    }

    @Test
    void kernelLibPackagesHaveNoCycle() {
        PackageGraph graph = graph();
        assertEquals("", graph.describeCycles(), "package cycles in kernel-lib");
    }

    @Test
    void everyDependencyPointsDownTheLayers() {
        PackageGraph graph = graph();
        List<String> wrong = new ArrayList<>();
        for (String p : graph.packages()) {
            if (!LAYERS.contains(shortName(p))) {
                wrong.add("package " + p + " is in no layer: add it to PackageLayersTest.LAYERS and to kernel/package-info.java");
            }
        }
        for (Map.Entry<String, Set<String>> e : graph.edges().entrySet()) {
            int from = LAYERS.indexOf(shortName(e.getKey()));
            for (String to : e.getValue()) {
                int target = LAYERS.indexOf(shortName(to));
                if (from >= 0 && target >= 0 && target > from) {
                    wrong.add(e.getKey() + " -> " + to + " points up the layers, because "
                            + graph.reasons().get(e.getKey() + " -> " + to));
                }
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void theCycleFinderSeesTheCycleTheIssueNamedAndTheClassesBehindIt() {
        String jdeps = """
                   dev.jkvm.klib.kernel.mm.BootAllocator  -> dev.jkvm.klib.kernel.trap.Panic      classes
                   dev.jkvm.klib.kernel.trap.Panic        -> dev.jkvm.klib.kernel.smp.SmpState    classes
                   dev.jkvm.klib.kernel.smp.SmpState      -> dev.jkvm.klib.kernel.mm.BootAllocator classes
                   dev.jkvm.klib.kernel.smp.SmpState      -> dev.jkvm.klib.rt.Memory              classes
                   dev.jkvm.klib.kernel.mm.BootAllocator  -> java.lang.Object                     java.base
                """;
        PackageGraph graph = PackageGraph.parse(jdeps, PREFIX);
        assertEquals(List.of(Set.of("dev.jkvm.klib.kernel.mm", "dev.jkvm.klib.kernel.smp", "dev.jkvm.klib.kernel.trap")),
                graph.cycles());
        String described = graph.describeCycles();
        assertTrue(described.contains("dev.jkvm.klib.kernel.mm -> dev.jkvm.klib.kernel.trap because "
                + "[dev.jkvm.klib.kernel.mm.BootAllocator -> dev.jkvm.klib.kernel.trap.Panic]"), described);
        assertTrue(graph.edges().get("dev.jkvm.klib.kernel.smp").contains("dev.jkvm.klib.rt"), graph.edges().toString());
    }

    private static String shortName(String p) {
        return p.equals(PREFIX) ? "" : p.substring(PREFIX.length() + 1);
    }
}
