package org.maejvm.data;

/** A dataset item the loader could not use: its index, a name (usually the file) and why. */
public record SkippedSample(int index, String name, String reason) {
    @Override
    public String toString() {
        return name + " (index " + index + "): " + reason;
    }
}
