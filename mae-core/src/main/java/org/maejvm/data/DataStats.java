package org.maejvm.data;

import java.util.List;

/**
 * What one epoch of a loader delivered on one rank: how many images went into batches, how many were skipped as
 * unreadable, and the first few skipped items with the reason.
 */
public record DataStats(int epoch, int rank, int batches, int delivered, int skipped, List<SkippedSample> firstSkipped) {
    /** How many skipped items are kept by name; the count covers all of them. */
    public static final int MAX_REPORTED = 10;

    public DataStats {
        firstSkipped = List.copyOf(firstSkipped);
    }

    /** A one-line summary for logs. */
    public String summary() {
        StringBuilder sb = new StringBuilder("epoch ").append(epoch).append(" rank ").append(rank).append(": ")
                .append(delivered).append(" images in ").append(batches).append(" batches, ")
                .append(skipped).append(" skipped");
        if (!firstSkipped.isEmpty()) {
            sb.append(" (first: ");
            for (int i = 0; i < firstSkipped.size(); i++) {
                if (i > 0) sb.append("; ");
                sb.append(firstSkipped.get(i));
            }
            sb.append(skipped > firstSkipped.size() ? "; ...)" : ")");
        }
        return sb.toString();
    }
}
