package dev.jkvm.vmm.emulated.cpu;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Translated regions of one machine, shared by its vCPUs: every vCPU runs the same kernel code,
 * and a translation depends only on the decoded bytes (keyed by physical start, code size and
 * page version; the generated code takes the vCPU's executor as an argument), so the second vCPU
 * reuses the first one's class instead of generating and JIT-compiling its own. Entries of
 * rewritten pages are never hit again (their version moved on); the map starts over when it
 * holds {@link #MAX} entries.
 */
final class SharedTranslations {
    static final int MAX = 2 * BlockTranslator.MAX_TRANSLATED;

    private record Key(long physical, int mode, int version) {}

    private final ConcurrentHashMap<Key, TranslatedBlock> map = new ConcurrentHashMap<>();

    TranslatedBlock get(DecodedBlock b) {
        return map.get(new Key(b.physical, b.mode, b.version));
    }

    void put(DecodedBlock b, TranslatedBlock t) {
        if (map.size() >= MAX) map.clear();
        map.putIfAbsent(new Key(b.physical, b.mode, b.version), t);
    }
}
