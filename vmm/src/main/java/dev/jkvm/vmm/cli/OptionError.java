package dev.jkvm.vmm.cli;

/**
 * A command line the launcher cannot parse (an unknown option, a missing or malformed value).
 * The launcher prints its message as one line followed by "(see vmm --help)", status 2.
 */
final class OptionError extends RuntimeException {
    OptionError(String message) {
        super(message, null, false, false);
    }
}
