package dev.jkvm.klib.kernel.acpi;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jkvm.klib.compiler.CompiledUnit;
import dev.jkvm.klib.compiler.JavaSubsetCompiler;
import org.junit.jupiter.api.Test;

/** The discovery code stays inside the Java subset, so it can go into the kernel image. */
class AcpiCompilesToKernelCodeTest {

    @Test
    void everyPublicEntryPointCompiles() {
        CompiledUnit unit = new JavaSubsetCompiler(getClass().getClassLoader())
                .addClass(Acpi.class)
                .addClass(Topology.class)
                .addClass(Signature.class)
                .addClass(RootTable.class)
                .addClass(Rsdp.class)
                .addClass(Madt.class)
                .compile();
        assertTrue(unit.methods().size() > 20, "methods compiled: " + unit.methods().size());
        unit.method(Acpi.class.getName(), "discover", "(JJIJ)I");
        unit.method(Topology.class.getName(), "format", "(JIIII)V");
        // Messages go through the kernel console, the only output compiled code has.
        assertFalse(unit.externals().isEmpty());
    }
}
