package dev.jkvm.images;

import dev.jkvm.testsupport.PackageGraph;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The images' packages (the image mains and the README's example) have no cycle among them (jdeps over the compiled classes). */
class PackageCyclesTest {
    @Test
    void imagesPackagesHaveNoCycle() {
        Path classes = Path.of("target/classes");
        assertTrue(Files.isDirectory(classes.resolve("dev/jkvm/images")), "compiled classes expected at " + classes.toAbsolutePath());
        PackageGraph graph = PackageGraph.ofClasses(classes, "dev.jkvm.images");
        assertEquals("", graph.describeCycles(), "package cycles in images; dependencies: " + graph.edges());
    }
}
