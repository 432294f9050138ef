package org.maejvm.spark;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.maejvm.train.TrainingEvent;
import org.maejvm.train.TrainingListener;

/**
 * The driver's end of the progress stream: rank 0 connects (again after a stage retry) and sends one JSON line per
 * training event, which goes to the user's listener on this server's thread.
 */
final class ProgressServer implements AutoCloseable {
    private final ServerSocket server;
    private final Thread thread;
    private volatile TrainingEvent.Finished finished;

    ProgressServer(String host, TrainingListener listener) throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(host, 0));
        thread = new Thread(() -> serve(listener), "mae-spark-progress");
        thread.setDaemon(true);
        thread.start();
    }

    String host() { return server.getInetAddress().getHostAddress(); }

    int port() { return server.getLocalPort(); }

    /** The last Finished event seen, or null. */
    TrainingEvent.Finished finished() { return finished; }

    private void serve(TrainingListener listener) {
        while (!server.isClosed()) {
            try (Socket s = server.accept();
                 BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    TrainingEvent e = EventCodec.decode(line);
                    if (e instanceof TrainingEvent.Finished f) finished = f;
                    try {
                        listener.onEvent(e);
                    } catch (RuntimeException err) {
                        // a failing listener must not stop the stream (training goes on on the executors)
                        System.getLogger(ProgressServer.class.getName()).log(System.Logger.Level.WARNING,
                                "progress listener failed on " + e, err);
                    }
                }
            } catch (IOException e) {
                // closed, or rank 0's task died (the stage is then retried and reconnects)
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
