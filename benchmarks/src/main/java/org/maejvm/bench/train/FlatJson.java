package org.maejvm.bench.train;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Map;

/** The one-line JSON objects the benchmark processes print: field name to text, numbers read on demand. */
final class FlatJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private FlatJson() {}

    static Map<String, String> parse(String line) {
        try {
            Map<String, Object> raw = MAPPER.readValue(line, new TypeReference<>() { });
            Map<String, String> out = new LinkedHashMap<>();
            raw.forEach((k, v) -> out.put(k, v == null ? null : v.toString()));
            return out;
        } catch (Exception e) {
            throw new IllegalStateException("not a benchmark result line (one JSON object expected): " + line, e);
        }
    }

    static double number(Map<String, String> f, String key) {
        String v = f.get(key);
        if (v == null) throw new IllegalStateException("benchmark result lacks '" + key + "': " + f);
        return Double.parseDouble(v);
    }

    static int integer(Map<String, String> f, String key) {
        return (int) number(f, key);
    }
}
