package dev.jkvm.klib.rt;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a primitive static field as per-CPU: compiled code reaches it through the GS segment
 * (each CPU points GS.base at its own copy of the per-CPU area, Intel SDM Vol. 3A 3.4.4), so
 * every CPU sees its own value. On the host JVM the field is an ordinary static (one CPU).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface PerCpu {
}
