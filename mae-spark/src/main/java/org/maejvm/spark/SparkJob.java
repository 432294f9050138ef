package org.maejvm.spark;

import java.io.Serializable;

/**
 * What every barrier task needs to run its rank, as plain serializable values (the config travels as JSON).
 * {@code failRank}/{@code failAtStep} inject one failure on the first stage attempt (tests of the retry path;
 * -1 = none).
 */
record SparkJob(String configJson, String data, Integer limit, String backend, int threads, int workers,
                long timeoutMillis, String progressHost, int progressPort, String resume, int failRank,
                long failAtStep) implements Serializable {}
