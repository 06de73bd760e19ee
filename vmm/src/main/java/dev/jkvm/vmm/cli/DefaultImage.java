package dev.jkvm.vmm.cli;

import java.io.IOException;
import java.io.InputStream;

/** The kernel booted when no {@code --kernel} is given: built by the images module from kernel-lib. */
final class DefaultImage {
    static final String RESOURCE = "/dev/jkvm/images/default.elf";

    private DefaultImage() {}

    static byte[] bytes() {
        try (InputStream in = DefaultImage.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new UserError("this build has no built-in kernel image (" + RESOURCE + "); rebuild with scripts/run or pass --kernel FILE");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UserError("the built-in kernel image cannot be read (" + e.getMessage() + "); rebuild the launcher");
        }
    }
}
