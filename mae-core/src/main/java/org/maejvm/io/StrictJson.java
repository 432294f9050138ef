package org.maejvm.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * JSON for configs people write by hand: unknown keys, duplicate keys, trailing garbage, {@code null} for a number,
 * a string or a fraction where an integer belongs are all refused (Jackson would otherwise guess), and
 * {@link #describe} turns Jackson's complaint into one line naming the field path and what it should hold.
 */
public final class StrictJson {
    private StrictJson() {}

    /** The mapper: fails on unknown properties, duplicates, coercions and trailing tokens. */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    /**
     * Strict UTF-8 text of a JSON file or header. Jackson given bytes would guess the encoding (UTF-16, UTF-32) from
     * the first bytes and fail outside its own exception types; JSON files are UTF-8.
     */
    public static String utf8(java.nio.file.Path file, byte[] bytes, String what) throws MalformedFileException {
        try {
            return java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new MalformedFileException(file, what + " is not UTF-8 text; JSON must be UTF-8", e);
        }
    }

    /**
     * Refuses an explicit {@code null} in {@code object} (and, one level down, in the objects named by
     * {@code nested}) for every field not in {@code nullable}: Jackson would read it as 0 or false. A missing field
     * is fine (it takes its default); returns the message, or null when there is no such null.
     */
    public static String explicitNull(com.fasterxml.jackson.databind.JsonNode object, java.util.Set<String> nullable,
                                      java.util.Set<String> nested) {
        if (object == null || !object.isObject()) return null;
        for (var it = object.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getValue().isNull() && !nullable.contains(e.getKey())) {
                return "field '" + e.getKey() + "' must not be null (leave it out to get its default)";
            }
            if (nested.contains(e.getKey())) {
                String inner = explicitNull(e.getValue(), java.util.Set.of(), java.util.Set.of());
                if (inner != null) return inner.replaceFirst("field '", "field '" + e.getKey() + ".");
            }
        }
        return null;
    }

    /** One line for a parse failure: the field path ("model.embed_dim"), what was wrong, what is valid. */
    public static String describe(JsonProcessingException e) {
        String where = e instanceof JsonMappingException m ? path(m.getPath()) : "";
        if (e instanceof UnrecognizedPropertyException u) {
            return "unknown field '" + where + "'; valid fields here: " + known(u.getKnownPropertyIds());
        }
        String original = firstLine(e.getOriginalMessage());
        if (e instanceof MismatchedInputException m && m.getTargetType() != null && !where.isEmpty()) {
            return "field '" + where + "' must be " + typeName(m.getTargetType()) + " (" + original + ")";
        }
        String at = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + " column "
                + e.getLocation().getColumnNr();
        return (where.isEmpty() ? "" : "field '" + where + "': ") + original + at;
    }

    private static String path(List<JsonMappingException.Reference> refs) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : refs) {
            if (r.getFieldName() != null) {
                if (!sb.isEmpty()) sb.append('.');
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    private static String known(Collection<Object> ids) {
        if (ids == null || ids.isEmpty()) return "(none)";
        return new TreeSet<>(ids.stream().map(String::valueOf).toList()).stream().collect(Collectors.joining(", "));
    }

    private static String typeName(Class<?> t) {
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class) return "an integer";
        if (t == double.class || t == Double.class || t == float.class || t == Float.class) return "a number";
        if (t == boolean.class || t == Boolean.class) return "true or false";
        if (t == String.class) return "a string";
        return "an object of " + t.getSimpleName() + " fields";
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
