package dev.jkvm.vmm.emulated.irq;

import dev.jkvm.vmm.emulated.cpu.CpuEvents;
import dev.jkvm.vmm.emulated.time.GuestClock;

import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The machine's local APICs by APIC ID and the messages between them: IPIs from ICR writes and
 * interrupt messages from the I/O APIC (SDM Vol. 3 §10.6), plus the EOI broadcast back to the
 * I/O APIC (§10.8.5) and the platform timer the LAPIC timers arm.
 *
 * <p>Use: {@code bus = new ApicBus(clock)}; {@link #add} one LAPIC per vCPU before the vCPUs start
 * (the first added, or the one added with {@code bsp = true}, is the BSP); optionally
 * {@link #usePlatformTimer} so timers fire without the vCPUs polling; {@link #onEoi} for the I/O
 * APIC. Then any thread may route: {@link #deliver} (I/O APIC / MSI-style messages).
 *
 * <p>Routing (SDM §10.6.2, §10.12.9, and KVM's kvm_apic_match_dest): physical destinations by
 * xAPIC ID (8 bits, 0xFF broadcast) or x2APIC ID (32 bits, 0xFFFFFFFF broadcast) depending on the
 * receiver's mode; logical by LDR with the DFR flat or cluster model, or the x2APIC cluster
 * format; shorthands self / all including self / all excluding self. Lowest priority goes to
 * the one matching LAPIC with the lowest processor priority (ties: the first by APIC ID).
 * Physical unicast is an array lookup by initial APIC ID unless the guest rewrote an xAPIC ID,
 * then every LAPIC is checked; other destinations scan the LAPICs (no allocation either way).
 * An xAPIC-mode LAPIC whose initial ID is above 255 is not reachable by xAPIC physical unicast
 * (it has no 8-bit ID of its own); guests with that many CPUs use x2APIC.
 */
public final class ApicBus {
    private final GuestClock clock;
    private volatile LocalApic[] apics = new LocalApic[0];
    private volatile LocalApic[] byId = new LocalApic[0];
    private volatile boolean idsRewritten;
    private volatile IntConsumer eoiListener = v -> { };
    private volatile PlatformTimer timer;

    public ApicBus(GuestClock clock) {
        this.clock = clock;
    }

    /**
     * Creates the LAPIC with initial APIC ID {@code apicId} for the vCPU whose events are
     * {@code events}. Call before the vCPUs run (not thread-safe against routing).
     */
    public synchronized LocalApic add(int apicId, boolean bsp, CpuEvents events) {
        if (apicId < 0) throw new IllegalArgumentException("APIC ID " + apicId + " is negative");
        if (apicId < byId.length && byId[apicId] != null) {
            throw new IllegalArgumentException("APIC ID " + apicId + " is already on the bus");
        }
        LocalApic apic = new LocalApic(this, apicId, bsp, events, clock);
        if (apicId >= byId.length) byId = Arrays.copyOf(byId, Math.max(apicId + 1, byId.length * 2));
        byId[apicId] = apic;
        LocalApic[] next = Arrays.copyOf(apics, apics.length + 1);
        next[apics.length] = apic;
        Arrays.sort(next, (a, b) -> Integer.compare(a.apicId(), b.apicId()));
        apics = next;
        return apic;
    }

    /** The LAPIC with initial APIC ID {@code apicId}, or null. */
    public LocalApic apic(int apicId) {
        LocalApic[] table = byId;
        return apicId >= 0 && apicId < table.length ? table[apicId] : null;
    }

    public List<LocalApic> apics() { return List.of(apics); }

    /** The I/O APIC's EOI input: called with the vector of every level-triggered interrupt a LAPIC EOIs. */
    public void onEoi(IntConsumer listener) { this.eoiListener = listener; }

    /** LAPIC timers arm this thread from now on; without one the vCPUs must call {@code tick}. */
    public void usePlatformTimer(PlatformTimer platformTimer) { this.timer = platformTimer; }

    void scheduleTimer(LocalApic apic, long deadline) {
        PlatformTimer t = timer;
        if (t != null) t.schedule(apic, deadline);
    }

    void eoi(int vector) { eoiListener.accept(vector); }

    void apicChanged(LocalApic apic) {
        if (!apic.x2apicMode() && apic.hardwareEnabled() && apic.xapicId() != (apic.apicId() & 0xFF)) idsRewritten = true;
    }

    /**
     * An IPI from {@code source}'s ICR (already validated for illegal vectors): {@code high} is the
     * destination field (xAPIC: bits 31:24; x2APIC: the 32-bit destination).
     */
    void sendIpi(LocalApic source, int low, int high, boolean x2Sender) {
        int mode = ApicMessage.deliveryMode(low);
        // INIT level de-assert (ICR level-triggered with level 0) is ignored, as on every
        // processor since the Pentium 4 and in KVM (SDM §10.6.1).
        if (mode == ApicMessage.INIT && ApicMessage.levelTriggered(low) && !ApicMessage.assertLevel(low)) return;
        int vector = ApicMessage.vector(low);
        boolean level = ApicMessage.levelTriggered(low);
        switch (ApicMessage.shorthand(low)) {
            case ApicMessage.SELF -> deliverTo(source, mode, vector, level);
            case ApicMessage.ALL_INCLUDING_SELF -> broadcast(null, mode, vector, level);
            case ApicMessage.ALL_EXCLUDING_SELF -> broadcast(source, mode, vector, level);
            default -> {
                int dest = x2Sender ? high : high >>> 24;
                route(dest, ApicMessage.logical(low), mode, vector, level, x2Sender);
            }
        }
    }

    /**
     * An interrupt message from the I/O APIC (or an MSI): 8-bit destination, physical or logical,
     * delivery mode as in {@link ApicMessage}, trigger mode recorded in the target's TMR so its EOI
     * comes back through {@link #onEoi}. Returns whether some LAPIC accepted it.
     */
    public boolean deliver(int dest, boolean logical, int mode, int vector, boolean levelTriggered) {
        return route(dest, logical, mode, vector, levelTriggered, false);
    }

    private boolean broadcast(LocalApic except, int mode, int vector, boolean level) {
        LocalApic[] all = apics;
        if (mode == ApicMessage.LOWEST_PRIORITY) {
            LocalApic best = null;
            int bestPriority = Integer.MAX_VALUE;
            for (LocalApic a : all) {
                if (a == except || !a.hardwareEnabled()) continue;
                int p = a.arbitrationPriority();
                if (p < bestPriority) {
                    best = a;
                    bestPriority = p;
                }
            }
            return best != null && deliverTo(best, mode, vector, level);
        }
        boolean any = false;
        for (LocalApic a : all) {
            if (a != except) any |= deliverTo(a, mode, vector, level);
        }
        return any;
    }

    private boolean route(int dest, boolean logical, int mode, int vector, boolean level, boolean x2Sender) {
        boolean broadcastDest = x2Sender ? dest == ApicMessage.X2APIC_BROADCAST : (dest & 0xFF) == ApicMessage.XAPIC_BROADCAST;
        if (!logical && !broadcastDest && !idsRewritten) {
            LocalApic target = apic(dest);
            return target != null && target.matchesPhysical(dest, x2Sender) && deliverTo(target, mode, vector, level);
        }
        LocalApic[] all = apics;
        LocalApic best = null;
        int bestPriority = Integer.MAX_VALUE;
        boolean any = false;
        for (LocalApic a : all) {
            if (!a.hardwareEnabled()) continue;
            boolean match = logical ? a.matchesLogical(dest, x2Sender) : a.matchesPhysical(dest, x2Sender);
            if (!match) continue;
            if (mode == ApicMessage.LOWEST_PRIORITY) {
                int p = a.arbitrationPriority();
                if (p < bestPriority) {
                    best = a;
                    bestPriority = p;
                }
            } else {
                any |= deliverTo(a, mode, vector, level);
            }
        }
        if (best != null) any |= deliverTo(best, mode, vector, level);
        return any;
    }

    private static boolean deliverTo(LocalApic target, int mode, int vector, boolean level) {
        return switch (mode) {
            case ApicMessage.FIXED, ApicMessage.LOWEST_PRIORITY -> target.acceptFixed(vector, level);
            case ApicMessage.NMI -> target.acceptNmi();
            case ApicMessage.INIT -> target.acceptInit();
            case ApicMessage.STARTUP -> target.acceptStartup(vector);
            default -> false;  // SMI (no SMM here), ExtINT over the bus, reserved modes: dropped
        };
    }
}
