package dev.jkvm.vmm.cli;

import dev.jkvm.vmm.vcpu.Accelerator;
import picocli.CommandLine;

/** Parses --accel kvm|emulated|auto; picocli reports a bad value with the accepted names. */
final class AcceleratorConverter implements CommandLine.ITypeConverter<Accelerator> {
    @Override
    public Accelerator convert(String value) {
        try {
            return Accelerator.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
