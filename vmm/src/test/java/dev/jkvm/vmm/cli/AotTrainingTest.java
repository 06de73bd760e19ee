package dev.jkvm.vmm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

class AotTrainingTest {
    @Test
    void commandLinesAreSplitAtNext() {
        assertEquals(List.of(List.of("--cpus", "2"), List.of("--accel", "emulated", "--timeout", "10s")),
                AotTraining.runs(new String[] {"--cpus", "2", "--next", "--accel", "emulated", "--timeout", "10s"}));
    }

    @Test
    void thePlaceholderBecomesTheImageFile() {
        assertEquals(List.of("--kernel", "/tmp/k.elf", "--quiet"),
                AotTraining.withImageFile(List.of("--kernel", AotTraining.DEFAULT_IMAGE_FILE, "--quiet"), Path.of("/tmp/k.elf")));
    }

    @Test
    void noArgumentsIsOneRunWithTheDefaults() {
        assertEquals(List.of(List.of()), AotTraining.runs(new String[0]));
    }
}
