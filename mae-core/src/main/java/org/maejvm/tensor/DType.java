package org.maejvm.tensor;

/** Element types a backend stores. Indices (ids_keep, ids_restore, labels) are I32; everything else is F32. */
public enum DType {
    F32, I32
}
