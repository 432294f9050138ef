package uk.ac.manchester.tornado.api;

import java.util.List;

/** Emulation: a frozen task graph. */
public class ImmutableTaskGraph {
    final String name;
    final List<TaskGraph.Task> tasks;
    final List<TaskGraph.Transfer> toDevice;
    final List<TaskGraph.Transfer> toHost;

    ImmutableTaskGraph(TaskGraph graph) {
        this.name = graph.getTaskGraphName();
        this.tasks = List.copyOf(graph.tasks);
        this.toDevice = List.copyOf(graph.toDevice);
        this.toHost = List.copyOf(graph.toHost);
    }
}
