package dev.jkvm.testsupport;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test (or every test of a class) that needs a usable /dev/kvm: it boots a guest on jkvm, or
 * QEMU with -accel kvm. Tagged "kvm"; disabled with the reason on a host without KVM.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("kvm")
@ExtendWith(KvmCondition.class)
public @interface KvmTest {
}
