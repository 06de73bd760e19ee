package dev.jkvm.klib.nativecode;

import org.junit.jupiter.api.Tag;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test class that runs machine code on host cores (compiled kernel code, assembled
 * routines) in addition to or instead of kernel code on the JVM. HostAddressSpace cannot check
 * what native code touches, so a wrong address there is a SIGSEGV, which no Java code in the
 * same process can catch. Such classes do not run in the test JVM: NativeCodeHarnessTest runs
 * each in a JVM of its own and reports a crash as a failed test with the faulting address.
 */
@Tag(NativeCode.TAG)
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface NativeCode {
    String TAG = "native-code";
}
