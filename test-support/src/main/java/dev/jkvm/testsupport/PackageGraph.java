package dev.jkvm.testsupport;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;

/**
 * Package dependencies of compiled classes as jdeps reports them (class by class, so that every
 * package edge can be named by the classes that make it), and the cycles among them. Constants
 * count: javac keeps a class entry for the owner of every constant it inlines, and jdeps reads it.
 *
 * @param edges   package -> packages it depends on (only packages under the prefix, no self edges)
 * @param reasons "from -> to" -> the class dependencies that make that package edge
 */
public record PackageGraph(Map<String, Set<String>> edges, Map<String, Set<String>> reasons) {

    /** Runs {@code jdeps -verbose:class} on {@code classes} and keeps dependencies between packages under {@code prefix}. */
    public static PackageGraph ofClasses(Path classes, String prefix) {
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new IllegalStateException("this JDK has no jdeps"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = jdeps.run(new PrintWriter(out), new PrintWriter(err), "-verbose:class", classes.toString());
        if (status != 0) {
            throw new IllegalStateException("jdeps failed (" + status + "): " + err);
        }
        return parse(out.toString(), prefix);
    }

    /**
     * Parses jdeps lines of the form {@code   a.b.C   -> a.d.E   classes} (-verbose:class) or
     * {@code   a.b   -> a.d   classes} (-verbose:package, with isClass false in effect: a name
     * whose last part starts lower-case is taken as a package).
     */
    public static PackageGraph parse(String jdepsOutput, String prefix) {
        Map<String, Set<String>> edges = new TreeMap<>();
        Map<String, Set<String>> reasons = new TreeMap<>();
        for (String line : jdepsOutput.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 3 || !f[1].equals("->")) {
                continue;
            }
            if (!under(f[0], prefix) || !under(f[2], prefix)) {
                continue;
            }
            String from = packageOf(f[0]);
            String to = packageOf(f[2]);
            if (from.equals(to)) {
                continue;
            }
            edges.computeIfAbsent(from, k -> new TreeSet<>()).add(to);
            reasons.computeIfAbsent(from + " -> " + to, k -> new TreeSet<>()).add(f[0] + " -> " + f[2]);
        }
        return new PackageGraph(edges, reasons);
    }

    private static boolean under(String name, String prefix) {
        return name.equals(prefix) || name.startsWith(prefix + ".");
    }

    /** a.b.C -> a.b; a.b.c (a package, as -verbose:package prints it) stays a.b.c. */
    private static String packageOf(String name) {
        int dot = name.lastIndexOf('.');
        if (dot < 0 || !Character.isUpperCase(name.charAt(dot + 1))) {
            return name;
        }
        return name.substring(0, dot);
    }

    /** Every package that appears, as a source or a target. */
    public Set<String> packages() {
        Set<String> nodes = new TreeSet<>(edges.keySet());
        edges.values().forEach(nodes::addAll);
        return nodes;
    }

    /** Strongly connected components of more than one package (Tarjan's algorithm): each is a cycle. */
    public List<Set<String>> cycles() {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new HashSet<>();
        List<Set<String>> out = new ArrayList<>();
        int[] counter = {0};
        for (String n : packages()) {
            if (!index.containsKey(n)) {
                strongConnect(n, index, low, stack, onStack, out, counter);
            }
        }
        return out;
    }

    /** The edges inside each cycle, each with the class dependencies that make it: what a failing test prints. */
    public String describeCycles() {
        StringBuilder b = new StringBuilder();
        for (Set<String> cycle : cycles()) {
            b.append("cycle among ").append(cycle).append(":\n");
            for (String from : cycle) {
                for (String to : edges.getOrDefault(from, Set.of())) {
                    if (cycle.contains(to)) {
                        b.append("  ").append(from).append(" -> ").append(to).append(" because ")
                                .append(reasons.getOrDefault(from + " -> " + to, Set.of())).append('\n');
                    }
                }
            }
        }
        return b.toString();
    }

    private void strongConnect(String v, Map<String, Integer> index, Map<String, Integer> low, Deque<String> stack,
                               Set<String> onStack, List<Set<String>> out, int[] counter) {
        index.put(v, counter[0]);
        low.put(v, counter[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : edges.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                strongConnect(w, index, low, stack, onStack, out, counter);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> component = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(w);
            } while (!w.equals(v));
            if (component.size() > 1) {
                out.add(component);
            }
        }
    }
}
