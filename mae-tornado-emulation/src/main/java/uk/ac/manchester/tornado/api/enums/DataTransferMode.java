package uk.ac.manchester.tornado.api.enums;

/** Emulation: when a task graph copies an object between host and device (TornadoVM's constants). */
public class DataTransferMode {
    public static final int FIRST_EXECUTION = 0;
    public static final int EVERY_EXECUTION = 1;
    public static final int UNDER_DEMAND = 2;
}
