package org.maejvm.nn;

import java.util.List;

/**
 * What loading named weights into a model did: keys the model has but the file lacks, keys the file has but the
 * model lacks, and keys present in both whose shapes differ (left unloaded).
 */
public record LoadReport(List<String> loaded, List<String> missing, List<String> unexpected, List<String> mismatched) {
    public boolean clean() {
        return missing.isEmpty() && unexpected.isEmpty() && mismatched.isEmpty();
    }

    @Override
    public String toString() {
        return "loaded " + loaded.size() + " tensors; missing " + missing + "; unexpected " + unexpected
                + "; shape mismatches " + mismatched;
    }
}
