package org.maejvm.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** The project version, written into {@code version.properties} by Maven resource filtering. */
public final class Version implements IVersionProvider {
    private static final String RESOURCE = "version.properties";

    /** The version string, e.g. "0.1.0-SNAPSHOT". */
    public static String project() {
        try (InputStream in = Version.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing next to " + Version.class.getName()
                        + ": the samples module was not built by Maven");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    @Override
    public String[] getVersion() {
        return new String[] {
            "mae-jvm " + project(),
            "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ", "
                    + System.getProperty("os.arch") + ")"
        };
    }
}
