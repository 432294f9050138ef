package org.maejvm.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.maejvm.train.TrainingEvent;

/** Training events as one JSON line each, for the progress stream from rank 0 to the driver. */
final class EventCodec {
    private static final ObjectMapper JSON = new ObjectMapper();

    private EventCodec() {}

    static String encode(TrainingEvent e) {
        ObjectNode n = JSON.createObjectNode();
        n.put("type", e.getClass().getSimpleName());
        n.set("event", JSON.valueToTree(e));
        return n.toString();
    }

    static TrainingEvent decode(String line) {
        try {
            JsonNode n = JSON.readTree(line);
            String type = n.path("type").asText();
            for (Class<?> c : TrainingEvent.class.getPermittedSubclasses()) {
                if (c.getSimpleName().equals(type)) return (TrainingEvent) JSON.treeToValue(n.get("event"), c);
            }
            throw new IllegalArgumentException("unknown training event type '" + type + "'");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("not a training event: " + line + " (" + e.getOriginalMessage() + ")", e);
        }
    }
}
