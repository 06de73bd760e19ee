package dev.jkvm.klib.compiler;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Writes random Java classes inside the kernel subset: static methods over int and long with
 * nested expressions (every arithmetic, logical and shift operator, casts, ternaries, calls to
 * earlier methods), if/else, bounded for and while loops with break, both switch forms, static
 * field updates and constant array reads. Divisors and array indexes are sometimes unguarded,
 * so division by zero and out-of-range indexes (panics) are exercised too. Loops are bounded and
 * methods only call earlier ones, so every program terminates quickly.
 */
final class RandomProgramGenerator {
    private record Var(String name, boolean wide, boolean assignable) {
    }

    private record Signature(String name, List<Boolean> parameterWide, boolean returnWide) {
    }

    private static final String[] INT_LITERALS = {"0", "1", "-1", "2", "3", "5", "7", "31", "32", "33", "63", "64",
            "100", "-100", "255", "65535", "0x7fffffff", "0x80000000", "0x55555555", "123456789", "-2", "16"};
    private static final String[] LONG_LITERALS = {"0L", "1L", "-1L", "2L", "7L", "63L", "64L", "65L",
            "0xffffffffL", "0x100000000L", "0x7fffffffffffffffL", "0x8000000000000000L", "-1000000007L",
            "1234567890123L", "0x7fffffffL", "-0x80000000L"};

    private final Random random;
    private final StringBuilder out = new StringBuilder();
    private final List<Signature> methods = new ArrayList<>();
    private List<Var> vars;
    private int loopDepth;
    private int names;
    private int indent;

    RandomProgramGenerator(long seed) {
        this.random = new Random(seed);
    }

    /** Source of one class; its public static methods are the test entry points. */
    String generate(String packageName, String className, int methodCount) {
        line("package " + packageName + ";");
        line("");
        line("public final class " + className + " {");
        indent++;
        line("static int f0 = " + pick(INT_LITERALS) + ";");
        line("static int f1;");
        line("static long g0 = " + pick(LONG_LITERALS) + ";");
        line("static final int[] TI = {" + join(INT_LITERALS, 8) + "};");
        line("static final long[] TL = {" + join(LONG_LITERALS, 8) + "};");
        line("static final byte[] TB = {-128, -1, 0, 1, 127, 64, -64, 5};");
        line("static final char[] TC = {0, 1, 0xffff, 'a', 0x8000, 7, 9, 11};");
        for (int m = 0; m < methodCount; m++) {
            method("m" + m);
        }
        indent--;
        line("}");
        return out.toString();
    }

    private String join(String[] literals, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ", ").append(literals[(i * 7 + random.nextInt(3)) % literals.length]);
        }
        return sb.toString();
    }

    private void method(String name) {
        int parameters = 1 + random.nextInt(4);
        List<Boolean> wide = new ArrayList<>();
        vars = new ArrayList<>();
        StringBuilder header = new StringBuilder();
        for (int p = 0; p < parameters; p++) {
            boolean w = random.nextBoolean();
            wide.add(w);
            header.append(p == 0 ? "" : ", ").append(w ? "long" : "int").append(" p").append(p);
            vars.add(new Var("p" + p, w, true));
        }
        boolean returnWide = random.nextBoolean();
        line("");
        line("public static " + (returnWide ? "long " : "int ") + name + "(" + header + ") {");
        indent++;
        int locals = 1 + random.nextInt(3);
        for (int i = 0; i < locals; i++) {
            declareLocal();
        }
        int statements = 3 + random.nextInt(6);
        for (int i = 0; i < statements; i++) {
            statement(2);
        }
        line("return " + expression(returnWide, 3) + ";");
        indent--;
        line("}");
        methods.add(new Signature(name, wide, returnWide));
    }

    private void declareLocal() {
        boolean w = random.nextBoolean();
        String n = "v" + names++;
        line((w ? "long " : "int ") + n + " = " + expression(w, 2) + ";");
        vars.add(new Var(n, w, true));
    }

    private void statement(int depth) {
        int choice = random.nextInt(depth <= 0 ? 3 : 9);
        switch (choice) {
            case 0, 1 -> assignment();
            case 2 -> fieldUpdate();
            case 3 -> ifStatement(depth);
            case 4 -> forLoop(depth);
            case 5 -> whileLoop(depth);
            case 6 -> switchStatement(depth);
            case 7 -> arrowSwitch(depth);
            default -> {
                if (loopDepth > 0 && random.nextInt(3) == 0) {
                    line("if (" + condition(2) + ") break;");
                } else {
                    assignment();
                }
            }
        }
    }

    private Var assignableVar() {
        List<Var> candidates = vars.stream().filter(Var::assignable).toList();
        return candidates.get(random.nextInt(candidates.size()));
    }

    private void assignment() {
        Var v = assignableVar();
        switch (random.nextInt(4)) {
            case 0 -> line(v.name + " = " + expression(v.wide, 3) + ";");
            case 1 -> line(v.name + " " + pick(new String[] {"+=", "-=", "*=", "&=", "|=", "^=", "<<=", ">>=", ">>>="})
                    + " " + expression(random.nextBoolean(), 2) + ";");
            case 2 -> line(v.name + (random.nextBoolean() ? "++;" : "--;"));
            default -> line(v.name + " " + pick(new String[] {"/=", "%="}) + " " + divisor(random.nextBoolean()) + ";");
        }
    }

    private void fieldUpdate() {
        switch (random.nextInt(3)) {
            case 0 -> line("f0 += " + expression(false, 2) + ";");
            case 1 -> line("f1 = " + expression(false, 2) + ";");
            default -> line("g0 ^= " + expression(true, 2) + ";");
        }
    }

    private void block(int depth) {
        indent++;
        int n = 1 + random.nextInt(3);
        int before = vars.size();
        for (int i = 0; i < n; i++) {
            statement(depth - 1);
        }
        while (vars.size() > before) {
            vars.removeLast();
        }
        indent--;
    }

    private void ifStatement(int depth) {
        line("if (" + condition(2) + ") {");
        block(depth);
        if (random.nextBoolean()) {
            line("} else {");
            block(depth);
        }
        line("}");
    }

    private void forLoop(int depth) {
        String i = "i" + names++;
        line("for (int " + i + " = 0; " + i + " < (" + expression(false, 1) + " & 7); " + i + "++) {");
        vars.add(new Var(i, false, false));
        loopDepth++;
        block(depth);
        loopDepth--;
        vars.removeLast();
        line("}");
    }

    private void whileLoop(int depth) {
        String w = "w" + names++;
        line("int " + w + " = 0;");
        line("while (" + w + " < 6 && (" + condition(1) + ")) {");
        vars.add(new Var(w, false, false));
        loopDepth++;
        block(depth);
        loopDepth--;
        indent++;
        line(w + "++;");
        indent--;
        vars.removeLast();
        line("}");
    }

    private void switchStatement(int depth) {
        line("switch (" + expression(false, 2) + " & 7) {");
        int[] labels = {0, 1, 3, 4, 6};
        for (int label : labels) {
            if (random.nextInt(3) == 0) {
                continue;
            }
            line("case " + label + ":");
            block(depth);
            if (random.nextInt(4) != 0) {
                indent++;
                line("break;");
                indent--;
            }
        }
        line("default:");
        block(depth);
        line("}");
    }

    private void arrowSwitch(int depth) {
        line("switch ((int) (" + expression(false, 2) + ")) {");
        String[] labels = {"-1", "0", "2", "100", "1000", "0x7fffffff", "-2147483648", "65536"};
        for (String label : labels) {
            if (random.nextInt(2) == 0) {
                continue;
            }
            line("case " + label + " -> {");
            block(depth);
            line("}");
        }
        line("default -> {");
        block(depth);
        line("}");
        line("}");
    }

    private String condition(int depth) {
        int choice = random.nextInt(depth <= 0 ? 1 : 4);
        return switch (choice) {
            case 0 -> {
                boolean w = random.nextBoolean();
                yield expression(w, 2) + " " + pick(new String[] {"==", "!=", "<", "<=", ">", ">="}) + " "
                        + expression(w, 2);
            }
            case 1 -> "(" + condition(depth - 1) + ") && (" + condition(depth - 1) + ")";
            case 2 -> "(" + condition(depth - 1) + ") || (" + condition(depth - 1) + ")";
            default -> "!(" + condition(depth - 1) + ")";
        };
    }

    private String divisor(boolean wide) {
        // Mostly non-zero divisors, sometimes anything (division by zero must panic in both worlds).
        return random.nextInt(4) == 0 ? "(" + expression(wide, 1) + ")" : "(" + expression(wide, 1) + " | 1)";
    }

    private String expression(boolean wide, int depth) {
        if (depth <= 0 || random.nextInt(4) == 0) {
            return leaf(wide);
        }
        int choice = random.nextInt(10);
        return switch (choice) {
            case 0, 1, 2 -> {
                boolean leftWide = wide && random.nextBoolean() ? true : wide;
                boolean rightWide = wide && !leftWide ? true : wide && random.nextBoolean();
                String op = pick(new String[] {"+", "-", "*", "&", "|", "^"});
                yield "(" + expression(leftWide, depth - 1) + " " + op + " " + expression(rightWide, depth - 1) + ")";
            }
            case 3 -> "(" + expression(wide, depth - 1) + " " + pick(new String[] {"/", "%"}) + " "
                    + divisor(wide) + ")";
            case 4 -> "(" + expression(wide, depth - 1) + " " + pick(new String[] {"<<", ">>", ">>>"}) + " "
                    + expression(random.nextBoolean(), depth - 1) + ")";
            case 5 -> pick(new String[] {"-", "~"}) + "(" + expression(wide, depth - 1) + ")";
            case 6 -> wide ? "((long) " + expression(false, depth - 1) + ")"
                    : "((" + pick(new String[] {"int", "byte", "short", "char"}) + ") "
                            + expression(random.nextBoolean(), depth - 1) + ")";
            case 7 -> "(" + condition(1) + " ? " + expression(wide, depth - 1) + " : " + expression(wide, depth - 1) + ")";
            case 8 -> call(wide, depth);
            default -> arrayRead(wide, depth);
        };
    }

    private String call(boolean wide, int depth) {
        if (methods.isEmpty() || loopDepth > 0) {
            return leaf(wide);
        }
        Signature s = methods.get(random.nextInt(methods.size()));
        StringBuilder sb = new StringBuilder(s.name + "(");
        for (int p = 0; p < s.parameterWide.size(); p++) {
            sb.append(p == 0 ? "" : ", ").append(expression(s.parameterWide.get(p), depth - 2));
        }
        sb.append(")");
        String text = sb.toString();
        if (s.returnWide && !wide) {
            return "((int) " + text + ")";
        }
        return text;
    }

    private String arrayRead(boolean wide, int depth) {
        String index = random.nextInt(8) == 0 ? "(" + expression(false, depth - 1) + " % 10)"
                : "(" + expression(false, depth - 1) + " & 7)";
        if (wide) {
            return "TL[" + index + "]";
        }
        return pick(new String[] {"TI", "TB", "TC"}) + "[" + index + "]";
    }

    private String leaf(boolean wide) {
        int choice = random.nextInt(6);
        if (choice <= 2) {
            List<Var> candidates = vars.stream().filter(v -> v.wide == wide).toList();
            if (!candidates.isEmpty()) {
                return candidates.get(random.nextInt(candidates.size())).name;
            }
        }
        if (choice == 3) {
            return wide ? "g0" : (random.nextBoolean() ? "f0" : "f1");
        }
        return wide ? pick(LONG_LITERALS) : pick(INT_LITERALS);
    }

    private String pick(String[] options) {
        return options[random.nextInt(options.length)];
    }

    private void line(String text) {
        out.append("    ".repeat(indent)).append(text).append('\n');
    }
}
