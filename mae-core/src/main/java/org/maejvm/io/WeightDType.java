package org.maejvm.io;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Element types found in weight files. Floating types are read into float32, integer and bool types into int32
 * (the two {@link org.maejvm.tensor.DType}s a {@link org.maejvm.tensor.HostTensor} holds).
 */
public enum WeightDType {
    F64(8, true), F32(4, true), F16(2, true), BF16(2, true),
    I64(8, false), I32(4, false), I16(2, false), I8(1, false), U8(1, false), BOOL(1, false);

    /** Bytes per element. */
    public final int size;
    /** True when the values are read into float32, false for int32. */
    public final boolean floating;

    WeightDType(int size, boolean floating) {
        this.size = size;
        this.floating = floating;
    }

    /** The safetensors dtype string ("F32", "BF16", ...), which is also the enum constant's name. */
    public String safetensorsName() {
        return name();
    }

    /** The type for a safetensors dtype string, or null when it is not one this reader decodes. */
    public static WeightDType fromSafetensors(String s) {
        for (WeightDType t : values()) {
            if (t.name().equals(s)) return t;
        }
        return null;
    }

    /** "F64, F32, ..." for error messages. */
    public static String supportedList() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }
}
