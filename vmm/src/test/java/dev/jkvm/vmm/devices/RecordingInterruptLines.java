package dev.jkvm.vmm.devices;

import java.util.ArrayList;
import java.util.List;

/** Records every level change a device drives, as "gsi:high" / "gsi:low", and the current levels. */
final class RecordingInterruptLines implements InterruptLines {
    private final List<String> events = new ArrayList<>();
    private final boolean[] levels = new boolean[24];

    @Override
    public void setLevel(int gsi, boolean high) {
        events.add(gsi + (high ? ":high" : ":low"));
        levels[gsi] = high;
    }

    boolean isHigh(int gsi) {
        return levels[gsi];
    }

    /** The events since the last call. */
    List<String> drain() {
        List<String> copy = List.copyOf(events);
        events.clear();
        return copy;
    }
}
