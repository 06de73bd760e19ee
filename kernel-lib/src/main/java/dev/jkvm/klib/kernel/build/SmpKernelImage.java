package dev.jkvm.klib.kernel.build;

import static dev.jkvm.klib.asm.Reg.*;

import dev.jkvm.klib.asm.Assembler;
import dev.jkvm.klib.asm.Label;
import dev.jkvm.klib.asm.Section;
import dev.jkvm.klib.compiler.CompiledUnit;
import dev.jkvm.klib.compiler.JavaSubsetCompiler;
import dev.jkvm.klib.compiler.SymbolNames;
import dev.jkvm.klib.image.ImageBuilder;
import dev.jkvm.klib.image.KernelImage;
import dev.jkvm.klib.image.PlacedSection;
import dev.jkvm.klib.kernel.Kernel;
import dev.jkvm.klib.kernel.console.Log;
import dev.jkvm.klib.kernel.cpu.PerCpuArea;
import dev.jkvm.klib.kernel.mm.KernelLayout;
import dev.jkvm.klib.kernel.smp.CallFunctionDispatch;
import dev.jkvm.klib.kernel.selftest.CrossCalls;
import dev.jkvm.klib.kernel.smp.IpiSend;
import dev.jkvm.klib.kernel.smp.LapicIpiSender;
import dev.jkvm.klib.kernel.smp.TlbInstructions;
import dev.jkvm.klib.kernel.smp.TlbInvalidate;
import dev.jkvm.klib.kernel.sync.SyncPanic;
import dev.jkvm.klib.kernel.proc.TaskBodies;
import dev.jkvm.klib.kernel.proc.TaskEntry;
import dev.jkvm.klib.kernel.trap.Panic;
import dev.jkvm.klib.kernel.TaskBodyTable;
import dev.jkvm.klib.kernel.Traps;
import dev.jkvm.klib.workload.UserWorkload;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The SMP kernel image: build() gives the built-in one, builder() an SmpKernelBuilder for an image
 * with a workload of one's own. Building compiles the kernel's Java-subset classes (Kernel.main, the AP
 * entry, the trap handler and the routines the runtime symbols stand for), adds the assembler
 * parts (multiboot entry, trap stubs, low-level routines, AP trampoline), binds every external
 * symbol the compiled code calls, and writes the layout and symbol tables the kernel reads. The
 * user-mode part holds the image's workload (SmpKernelBuilder, workload.UserWorkload).
 */
public final class SmpKernelImage {
    private SmpKernelImage() {
    }

    private record Alias(String symbol, Class<?> owner, String method, String descriptor) {
    }

    /** Runtime symbols that are compiled methods under another name. */
    private static final Alias[] ALIASES = {
        new Alias(SymbolNames.CONSOLE_PRINT_HEX, Log.class, "hex16", "(J)V"),
        new Alias(SymbolNames.PANIC_DIVIDE_BY_ZERO, Panic.class, "divideByZero", "(J)V"),
        new Alias(SymbolNames.PANIC_ARRAY_INDEX, Panic.class, "arrayIndex", "(JII)V"),
        new Alias(SyncPanic.SYMBOL, Panic.class, "syncCheckFailed", "()V"),
        new Alias(CallFunctionDispatch.SYMBOL, CrossCalls.class, "run", "(IJI)V"),
        new Alias(TaskBodies.SYMBOL, TaskBodyTable.class, "run", "(IJ)J"),
        new Alias(IpiSend.SYMBOL, LapicIpiSender.class, "send", "(II)V"),
        new Alias(IpiSend.ALL_OTHERS_SYMBOL, LapicIpiSender.class, "sendToAllOthers", "(I)V"),
        new Alias(TlbInvalidate.PAGE_SYMBOL, TlbInstructions.class, "invalidatePage", "(J)V"),
        new Alias(TlbInvalidate.ADDRESS_SPACE_SYMBOL, TlbInstructions.class, "flushAddressSpace", "()V"),
        new Alias(TlbInvalidate.ALL_SYMBOL, TlbInstructions.class, "flushAll", "()V"),
    };

    /** The built-in image: the prime-count workload with the scheduler checks. */
    public static KernelImage build() {
        return builder().schedulerChecks(true).build();
    }

    /** An image with a workload of one's own (SmpKernelBuilder). */
    public static SmpKernelBuilder builder() {
        return new SmpKernelBuilder();
    }

    static KernelImage build(UserWorkload workload, boolean schedulerChecks, long watchdogMs) {
        JavaSubsetCompiler compiler = new JavaSubsetCompiler(SmpKernelImage.class.getClassLoader())
                .perCpuBaseOffset(PerCpuArea.RESERVED)
                .addMethod(Kernel.class.getName(), "main")
                .addMethod(Kernel.class.getName(), "apMain")
                .addMethod(Traps.class.getName(), "handle")
                .addMethod(TaskEntry.class.getName(), "begin");
        for (Alias alias : ALIASES) {
            compiler.addMethod(alias.owner.getName(), alias.method);
        }
        CompiledUnit unit = compiler.compile();
        Assembler a = unit.assembler();
        Map<String, Label> named = new HashMap<>(unit.externals());
        java.util.function.Function<String, Label> symbol = name -> named.computeIfAbsent(name, Label::new);

        byte[] template = unit.perCpuTemplate().bytes();
        int perCpuBytes = (int) ((Math.max(template.length, PerCpuArea.RESERVED) + 63) & ~63L);
        Label perCpuTemplate = new Label("kernel_percpu_template");
        a.section("rodata", Section.Kind.RODATA);
        a.align(64).bind(perCpuTemplate).db(template).db(new byte[perCpuBytes - template.length]);

        BootEntry.Labels boot = BootEntry.emit(a, unit.method(Kernel.class.getName(), "main", "(J)V"),
                perCpuTemplate, perCpuBytes);
        Label stubs = TrapStubs.emit(a, unit.method(Traps.class.getName(), "handle", "(J)V"),
                symbol.apply(TrapStubs.COMMON_ENTRY));
        Label layout = new Label(KernelLayout.SYMBOL + "_table");
        LowLevelRoutines.emit(a, symbol, layout);
        SchedRoutines.emit(a, symbol, unit.method(TaskEntry.class.getName(), "begin", "(JJJ)V"));
        Label syscallEntry = UserRoutines.emit(a, symbol, symbol.apply("kernel_put_byte"));
        UserSpaceBuild.Labels user = UserSpaceBuild.build(workload, unit);
        WorkloadDescriptorBuild.emit(a, symbol, workload, schedulerChecks, watchdogMs);
        for (Alias alias : ALIASES) {
            Label target = unit.method(alias.owner.getName(), alias.method, alias.descriptor);
            Label external = symbol.apply(alias.symbol);
            if (!external.isBound()) {
                LowLevelRoutines.alias(a, external, target);
            }
        }
        Label apEntry = LowLevelRoutines.routine(a, symbol, "kernel_ap_entry");
        Label park = new Label();
        a.call(unit.method(Kernel.class.getName(), "apMain", "(I)V"));
        a.bind(park).cli().hlt().jmp(park);
        for (Map.Entry<String, Label> e : named.entrySet()) {
            if (!e.getValue().isBound()) {
                throw new IllegalStateException("kernel code calls " + e.getKey() + ", which no routine defines");
            }
        }
        Label textEnd = new Label("kernel_text_end");
        a.section("text", Section.Kind.CODE);
        a.bind(textEnd);

        a.section("rodata", Section.Kind.RODATA);
        byte[] trampoline = ApTrampoline.build();
        Label trampolineBytes = new Label("kernel_trampoline");
        a.align(16).bind(trampolineBytes).db(trampoline);
        Label symbols = symbolTable(a, user.assembler());
        Label sourceLines = SourceLineTable.emit(a, unit.sourceLines(), user.sourceLines());
        Label userEntries = new Label("kernel_user_entries");
        a.align(8).bind(userEntries);
        for (Label entry : user.entries()) {
            a.dq(entry);
        }
        Label dataEnd = new Label("kernel_data_end");
        a.section("data", Section.Kind.DATA);
        a.bind(dataEnd);

        Label consoleLock = new Label("kernel_console_lock");
        Label imageEnd = new Label("kernel_image_end");
        a.section("bss", Section.Kind.BSS);
        a.align(64).bind(consoleLock).reserve(64);

        a.section("rodata", Section.Kind.RODATA);
        long textStart = ImageBuilder.DEFAULT_LOAD_ADDRESS + 4096;
        a.align(8).bind(layout);
        Label[] entries = new Label[KernelLayout.ENTRIES];
        long[] constants = new long[KernelLayout.ENTRIES];
        constants[KernelLayout.IMAGE_START] = ImageBuilder.DEFAULT_LOAD_ADDRESS;
        constants[KernelLayout.TEXT_START] = textStart;
        entries[KernelLayout.TEXT_END] = textEnd;
        Label rodataEnd = new Label("kernel_rodata_end");
        entries[KernelLayout.RODATA_END] = rodataEnd;
        entries[KernelLayout.IMAGE_END] = imageEnd;
        entries[KernelLayout.PER_CPU_TEMPLATE] = perCpuTemplate;
        constants[KernelLayout.PER_CPU_TEMPLATE_SIZE] = perCpuBytes;
        entries[KernelLayout.BSP_PER_CPU] = boot.bspPerCpu();
        entries[KernelLayout.BSP_STACK_GUARD] = boot.stackGuard();
        entries[KernelLayout.BSP_STACK_TOP] = boot.stackTop();
        entries[KernelLayout.TRAP_STUBS] = stubs;
        entries[KernelLayout.TRAMPOLINE] = trampolineBytes;
        constants[KernelLayout.TRAMPOLINE_SIZE] = trampoline.length;
        entries[KernelLayout.AP_ENTRY] = apEntry;
        entries[KernelLayout.SYMBOLS] = symbols;
        entries[KernelLayout.MULTIBOOT_INFO] = boot.multibootInfo();
        entries[KernelLayout.CONSOLE_LOCK] = consoleLock;
        entries[KernelLayout.DATA_END] = dataEnd;
        entries[KernelLayout.USER_TEXT_END] = user.textEnd();
        entries[KernelLayout.USER_RODATA_END] = user.rodataEnd();
        entries[KernelLayout.USER_DATA_END] = user.dataEnd();
        entries[KernelLayout.USER_ENTRIES] = userEntries;
        entries[KernelLayout.SYSCALL_ENTRY] = syscallEntry;
        entries[KernelLayout.SOURCE_LINES] = sourceLines;
        entries[KernelLayout.USER_DIVIDE_BY_ZERO] = user.divideByZero();
        entries[KernelLayout.USER_ARRAY_INDEX] = user.arrayIndex();
        for (int i = 0; i < KernelLayout.ENTRIES; i++) {
            if (entries[i] != null) {
                a.dq(entries[i]);
            } else {
                a.dq(constants[i]);
            }
        }
        a.bind(rodataEnd);
        a.section("bss", Section.Kind.BSS);
        a.bind(imageEnd);

        KernelImage image = new ImageBuilder().add(a).add(user.assembler()).entry(boot.entry()).build();
        PlacedSection first = image.sections().getFirst();
        if (first.kind() != Section.Kind.CODE || first.address() != textStart) {
            throw new IllegalStateException("text was placed at 0x" + Long.toHexString(first.address())
                    + ", not where the kernel's page tables expect it (0x" + Long.toHexString(textStart) + ")");
        }
        return image;
    }

    /** count, then (address, name) pairs for every named code label, kernel and user, for in-guest reports. */
    private static Label symbolTable(Assembler a, Assembler user) {
        Map<String, Label> code = new LinkedHashMap<>();
        for (Assembler from : new Assembler[] {a, user}) {
            for (Section s : from.sections()) {
                if (s.name().equals("text")) {
                    code.putAll(s.symbols());
                }
            }
        }
        code.keySet().removeIf(n -> n.startsWith("trap_stub_"));
        Map<String, Label> names = new LinkedHashMap<>();
        for (String n : code.keySet()) {
            Label l = new Label();
            a.bind(l).asciz(n);
            names.put(n, l);
        }
        Label table = new Label("kernel_symbols");
        a.align(8).bind(table).dq(code.size());
        for (Map.Entry<String, Label> e : code.entrySet()) {
            a.dq(e.getValue());
            a.dq(names.get(e.getKey()));
        }
        return table;
    }
}
