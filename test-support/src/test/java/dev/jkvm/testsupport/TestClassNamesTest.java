package dev.jkvm.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No test source file of any module has the simple name of a main class of any module: a test
 * helper named like the class it stands beside (vmm's test GuestRam next to memory.GuestRam) makes
 * a reader, and an import, pick the wrong one. Scans the project's source trees (this module's
 * parent directory), not class files, so it needs no other module built.
 */
class TestClassNamesTest {
    private static final Path PROJECT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void noTestClassShadowsAMainClass() throws IOException {
        assertTrue(Files.isDirectory(PROJECT.resolve("vmm/src/main/java")), "project sources expected at " + PROJECT);
        List<String> shadows = shadows(PROJECT);
        assertEquals(List.of(), shadows, "rename these test classes");
    }

    @Test
    void theCheckFindsAShadow(@TempDir Path project) throws IOException {
        write(project, "a/src/main/java/x/GuestRam.java");
        write(project, "b/src/test/java/y/GuestRam.java");
        write(project, "b/src/test/java/y/GuestRamTest.java");
        write(project, "a/src/main/java/x/package-info.java");
        write(project, "b/src/test/java/y/package-info.java");
        assertEquals(List.of("test b/src/test/java/y/GuestRam.java shadows main a/src/main/java/x/GuestRam.java"),
                shadows(project));
    }

    /** One line per test source whose simple name is a main class's. */
    static List<String> shadows(Path project) throws IOException {
        Map<String, Path> main = sources(project, "/src/main/java/");
        Map<String, List<Path>> tests = new TreeMap<>();
        for (Path p : list(project, "/src/test/java/")) {
            tests.computeIfAbsent(simpleName(p), k -> new ArrayList<>()).add(p);
        }
        List<String> shadows = new ArrayList<>();
        for (Map.Entry<String, List<Path>> e : tests.entrySet()) {
            Path shadowed = main.get(e.getKey());
            if (shadowed == null) continue;
            for (Path t : e.getValue()) {
                shadows.add("test " + project.relativize(t) + " shadows main " + project.relativize(shadowed));
            }
        }
        return shadows;
    }

    private static Map<String, Path> sources(Path project, String tree) throws IOException {
        Map<String, Path> byName = new TreeMap<>();
        for (Path p : list(project, tree)) byName.putIfAbsent(simpleName(p), p);
        return byName;
    }

    /** The .java files under MODULE/src/{main,test}/java of every module directory. */
    private static List<Path> list(Path project, String tree) throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> modules = Files.list(project)) {
            for (Path module : modules.filter(Files::isDirectory).sorted().toList()) {
                Path root = module.resolve(tree.substring(1));
                if (!Files.isDirectory(root)) continue;
                try (Stream<Path> s = Files.walk(root)) {
                    s.filter(p -> p.toString().endsWith(".java") && !p.getFileName().toString().equals("package-info.java"))
                            .sorted().forEach(files::add);
                }
            }
        }
        return files;
    }

    private static String simpleName(Path p) {
        String name = p.getFileName().toString();
        return name.substring(0, name.length() - ".java".length());
    }

    private static void write(Path project, String file) throws IOException {
        Path p = project.resolve(file);
        Files.createDirectories(p.getParent());
        Files.writeString(p, "");
    }
}
