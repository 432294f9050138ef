package uk.ac.manchester.tornado.api.exceptions;

/** Emulation: checked, as TornadoVM's (thrown by TornadoExecutionPlan.close). */
public class TornadoExecutionPlanException extends Exception {
    public TornadoExecutionPlanException(String message) { super(message); }
}
