package dev.jkvm.klib.compiler;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Puts the calls that led to a method in front of its compile error, starting from the method
 * the user asked for: "my.Work.task (Work.java:5) → java.lang.Math.addExact(JJ)J (bci 19, line
 * 935): allocates (new): ...". An error deep in the JDK thereby names the user's line first.
 */
final class CallChain {
    private CallChain() {
    }

    static CompileException prefix(Map<MethodRef, UnitBuilder.CallSite> callers, MethodRef failed, CompileException e) {
        List<String> frames = new ArrayList<>();
        Set<MethodRef> seen = new HashSet<>();
        MethodRef at = failed;
        while (callers.containsKey(at) && seen.add(at)) {
            UnitBuilder.CallSite site = callers.get(at);
            frames.addFirst(site.caller().owner().replace('/', '.') + "." + site.caller().name() + " "
                    + site.position());
            at = site.caller();
        }
        if (frames.isEmpty()) {
            return e;
        }
        String message = String.join(" → ", frames) + " → " + e.getMessage();
        return e instanceof SubsetViolation v ? new SubsetViolation(message, v) : new CompileException(message, e);
    }
}
