package dev.jkvm.klib.workload;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;

/**
 * A workload written by a user of kernel-lib: the method {@code static long NAME(long index)} of
 * a class, run in the guest as {@code tasks} ring-3 tasks with index 0 .. tasks-1, scheduled over
 * every CPU. The kernel adds the tasks' results (Java long addition, wrapping on overflow) and
 * compares the sum with {@link #hostResult()}, the same method run here on the host JVM for every
 * index when the image is built.
 *
 * The method and everything it calls must be in the Java subset of
 * {@link dev.jkvm.klib.compiler.JavaSubsetCompiler} (the JDK's static integer helpers such as
 * Math.floorMod or Long.bitCount compile too; the README lists them), and more narrowly what ring 3 offers: static
 * fields only with values their class initialiser leaves (the initialiser runs on the host at
 * build time; no {@code @PerCpu} fields), {@code Console.print} of string literals, and the system
 * calls of {@link dev.jkvm.klib.kernel.user.Sys} (yield, sleep, cpuId, taskId). Tasks run
 * concurrently and in no fixed order, so a task's result must depend on its index alone.
 */
public final class UserWorkload {
    /** More tasks than this would spend longer creating tasks in (emulated) ring 0 than running them. */
    public static final int MAX_TASKS = 10_000;
    private static final int MAX_DESCRIPTION = 200;

    private final Class<?> workloadClass;
    private final Method method;
    private final int tasks;
    private final String description;

    private UserWorkload(Class<?> workloadClass, Method method, int tasks, String description) {
        this.workloadClass = workloadClass;
        this.method = method;
        this.tasks = tasks;
        this.description = description;
    }

    /**
     * The method {@code static long methodName(long index)} of workloadClass, run as tasks ring-3
     * tasks. Throws WorkloadException when there is no such method or tasks is out of range.
     */
    public static UserWorkload of(Class<?> workloadClass, String methodName, int tasks) {
        String where = workloadClass.getName() + "." + methodName;
        Method found = null;
        Method misfit = null;
        for (Method m : workloadClass.getDeclaredMethods()) {
            if (m.getName().equals(methodName) && !m.isSynthetic()) {
                if (Modifier.isStatic(m.getModifiers()) && m.getReturnType() == long.class
                        && m.getParameterCount() == 1 && m.getParameterTypes()[0] == long.class) {
                    found = m;
                } else {
                    misfit = m;
                }
            }
        }
        if (found == null && misfit != null) {
            throw new WorkloadException("workload " + where + " has the wrong signature " + signature(misfit)
                    + ": declare it static long " + methodName + "(long index)");
        }
        if (found == null) {
            throw new WorkloadException("workload " + where + " does not exist: declare static long " + methodName
                    + "(long index) in " + workloadClass.getName());
        }
        if (tasks < 1 || tasks > MAX_TASKS) {
            throw new WorkloadException("workload " + where + " with " + tasks + " tasks: choose 1 to " + MAX_TASKS
                    + " tasks");
        }
        found.setAccessible(true);
        return new UserWorkload(workloadClass, found, tasks,
                "sum of " + workloadClass.getSimpleName() + "." + methodName + "(0.." + (tasks - 1) + ")");
    }

    /** The same workload, described on the guest's report line by description (printable ASCII). */
    public UserWorkload named(String description) {
        if (description.isEmpty() || description.length() > MAX_DESCRIPTION
                || !description.chars().allMatch(c -> c >= 0x20 && c < 0x7F)) {
            throw new WorkloadException("workload description \"" + description + "\": use 1 to " + MAX_DESCRIPTION
                    + " printable ASCII characters");
        }
        return new UserWorkload(workloadClass, method, tasks, description);
    }

    public Class<?> workloadClass() {
        return workloadClass;
    }

    public String methodName() {
        return method.getName();
    }

    public int tasks() {
        return tasks;
    }

    /** What the guest's report line calls the result: "sum of Class.method(0..N-1)" unless named. */
    public String description() {
        return description;
    }

    /**
     * The sum of the method's results for index 0 .. tasks-1, computed on this JVM: the answer the
     * guest must reproduce. System calls get host stand-ins (cpuId 0, yield and sleep return at
     * once); Console.print writes to System.out.
     */
    public long hostResult() {
        long sum = 0;
        for (long index = 0; index < tasks; index++) {
            sum += hostResult(index);
        }
        return sum;
    }

    /** The method's result for one index, computed on this JVM. */
    public long hostResult(long index) {
        HostSystemCalls.install();
        long previous = HostSystemCalls.enter(index);
        try {
            return (long) method.invoke(null, index);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            throw new WorkloadException("workload " + workloadClass.getName() + "." + methodName() + " threw "
                    + cause.getClass().getSimpleName() + " on the host for index " + index + ": " + cause.getMessage()
                    + "; it must return a value for every index 0.." + (tasks - 1), cause);
        } catch (IllegalAccessException e) {
            throw new WorkloadException("workload " + workloadClass.getName() + "." + methodName()
                    + " cannot be called from kernel-lib (" + e.getMessage() + "): make it public", e);
        } finally {
            HostSystemCalls.leave(previous);
        }
    }

    private static String signature(Method m) {
        StringBuilder s = new StringBuilder(Modifier.isStatic(m.getModifiers()) ? "static " : "");
        s.append(m.getReturnType().getSimpleName()).append(' ').append(m.getName()).append('(');
        Class<?>[] parameters = m.getParameterTypes();
        for (int i = 0; i < parameters.length; i++) {
            s.append(i == 0 ? "" : ", ").append(parameters[i].getSimpleName());
        }
        return s.append(')').toString();
    }

    @Override
    public String toString() {
        return workloadClass.getName() + "." + methodName() + " x " + tasks;
    }
}
