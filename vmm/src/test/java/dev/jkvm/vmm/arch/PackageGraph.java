package dev.jkvm.vmm.arch;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;

/** Package dependencies as jdeps reports them, and the cycles among them. */
record PackageGraph(Map<String, Set<String>> edges) {

    /** Runs {@code jdeps -verbose:package} on {@code classes} and keeps edges between packages under {@code prefix}. */
    static PackageGraph ofClasses(Path classes, String prefix) {
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new IllegalStateException("this JDK has no jdeps"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = jdeps.run(new PrintWriter(out), new PrintWriter(err), "-verbose:package", classes.toString());
        if (status != 0) throw new IllegalStateException("jdeps failed (" + status + "): " + err);
        return parse(out.toString(), prefix);
    }

    /** Parses jdeps lines of the form {@code   a.b.c   -> a.b.d   classes}. */
    static PackageGraph parse(String jdepsOutput, String prefix) {
        Map<String, Set<String>> edges = new TreeMap<>();
        for (String line : jdepsOutput.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 3 || !f[1].equals("->")) continue;
            if (!f[0].startsWith(prefix) || !f[2].startsWith(prefix) || f[0].equals(f[2])) continue;
            edges.computeIfAbsent(f[0], k -> new TreeSet<>()).add(f[2]);
        }
        return new PackageGraph(edges);
    }

    /** Strongly connected components of more than one package (Tarjan's algorithm): each is a cycle. */
    List<Set<String>> cycles() {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new java.util.HashSet<>();
        List<Set<String>> out = new ArrayList<>();
        Set<String> nodes = new TreeSet<>(edges.keySet());
        edges.values().forEach(nodes::addAll);
        int[] counter = {0};
        for (String n : nodes) if (!index.containsKey(n)) strongConnect(n, index, low, stack, onStack, out, counter);
        return out;
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
            if (component.size() > 1) out.add(component);
        }
    }
}
