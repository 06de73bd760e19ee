package dev.jkvm.vmm.arch;

import dev.jkvm.testsupport.PackageGraph;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The VMM's packages form layers (api/package-info.java): no package reaches back up to one that uses it. */
class PackageCyclesTest {
    private static final Path CLASSES = Path.of("target/classes");

    @Test
    void vmmPackagesHaveNoCycle() {
        assertTrue(Files.isDirectory(CLASSES.resolve("dev/jkvm/vmm")), "compiled classes expected at " + CLASSES.toAbsolutePath());
        PackageGraph graph = PackageGraph.ofClasses(CLASSES, "dev.jkvm.vmm");
        assertTrue(graph.edges().size() > 5, "jdeps reported too few dependencies to be believed: " + graph.edges());
        assertEquals(List.of(), graph.cycles(), "package cycles in vmm:\n" + graph.describeCycles());
    }

    @Test
    void theCycleFinderSeesTheCyclesTheIssueNamed() {
        String jdeps = """
                   dev.jkvm.vmm.kvm     -> dev.jkvm.vmm.devices     classes
                   dev.jkvm.vmm.devices -> dev.jkvm.vmm.memory      classes
                   dev.jkvm.vmm.memory  -> dev.jkvm.vmm.kvm         classes
                   dev.jkvm.vmm         -> dev.jkvm.vmm.api         classes
                   dev.jkvm.vmm.api     -> dev.jkvm.vmm             classes
                   dev.jkvm.vmm.api     -> dev.jkvm.vmm.acpi        classes
                   dev.jkvm.vmm.acpi    -> java.lang                java.base
                """;
        List<Set<String>> cycles = PackageGraph.parse(jdeps, "dev.jkvm.vmm").cycles();
        assertEquals(2, cycles.size(), cycles.toString());
        assertTrue(cycles.contains(Set.of("dev.jkvm.vmm.kvm", "dev.jkvm.vmm.devices", "dev.jkvm.vmm.memory")), cycles.toString());
        assertTrue(cycles.contains(Set.of("dev.jkvm.vmm", "dev.jkvm.vmm.api")), cycles.toString());
    }
}
