package org.maejvm.data;

import java.io.IOException;
import java.util.List;

/**
 * A random-access source of labelled images, the JVM counterpart of a map-style PyTorch dataset.
 * Implementations must allow concurrent {@link #read} calls: the loader decodes on several threads.
 */
public interface Dataset {
    /** Number of items; valid indices are {@code 0 .. size()-1}. */
    int size();

    /** Class names by label id (may be empty for unlabelled data). */
    List<String> classNames();

    default int numClasses() {
        return classNames().size();
    }

    /** Channels of every image {@link #read} returns (1 or 3 for the built-in sources). */
    int channels();

    /**
     * Decodes item {@code index}.
     *
     * @throws IOException when the item cannot be read or decoded; the loader skips and counts such items
     */
    Sample read(int index) throws IOException;

    /** A short name of item {@code index} for error reports, such as its file name. */
    default String describe(int index) {
        return "#" + index;
    }

    /** The normalisation this data wants by default: its own statistics when known, else {@link Normalization#defaultFor}. */
    default Normalization normalization() {
        return Normalization.defaultFor(channels());
    }

    /** Checks an index with an error that names the valid range. */
    static void checkIndex(int index, int size) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("index " + index + " is outside the dataset's 0.." + (size - 1));
        }
    }
}
