package org.maejvm.dist;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Ranks in separate processes (or machines) on a TCP ring: rank {@code r} sends to {@code r + 1} and receives from
 * {@code r - 1} (mod world size), over {@code java.nio} channels.
 *
 * <p>All-reduce is the bandwidth-optimal ring algorithm: the range is cut into {@code W} chunks; in {@code W - 1}
 * reduce-scatter steps each rank adds the chunk arriving from its predecessor to its own and passes it on, so each
 * rank ends owning one fully reduced chunk; {@code W - 1} all-gather steps then pass the reduced chunks around.
 * Every rank sends and receives {@code 2 (W - 1) / W} of the buffer, whatever W. Chunks travel in segments
 * ({@link Options#segmentFloats}) and are pipelined: a sender thread forwards segment {@code k} of a step as soon
 * as the receiving (calling) thread has reduced segment {@code k} of the step before, so sending, receiving and
 * adding overlap. Broadcast is a pipelined chain along the ring from the root; barrier is a one-float all-reduce.
 *
 * <p>Each collective starts with a small header (sequence number, kind, length, root) that the successor checks,
 * so ranks that call different collectives fail with a message instead of exchanging garbage. A peer that closes
 * its connection or sends nothing for {@link Options#timeout} fails the collective with a message naming it; the
 * failing rank closes its sockets, so the failure travels around the ring at once instead of by timeouts.
 *
 * <p>Rendezvous: {@link #connect} (every rank knows every address, e.g. from Spark's barrier all-gather; see
 * {@link #bind} to learn a free port first) or {@link #rendezvous} (only rank 0's address is known; it collects
 * and hands out the others').
 */
public final class TcpCommunicator extends Communicator {
    /** Timeouts and the pipelining granularity. */
    public record Options(Duration connectTimeout, Duration timeout, int segmentFloats) {
        public Options {
            Objects.requireNonNull(connectTimeout, "connectTimeout");
            Objects.requireNonNull(timeout, "timeout");
            if (connectTimeout.isNegative() || connectTimeout.isZero()) {
                throw new IllegalArgumentException("connectTimeout must be > 0, got " + connectTimeout);
            }
            if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be > 0, got " + timeout);
            if (segmentFloats < 1) throw new IllegalArgumentException("segmentFloats must be >= 1, got " + segmentFloats);
        }

        /** 2 minutes to find the peers, 10 minutes of silence before a peer counts as gone, 64 Ki-float segments. */
        public static Options defaults() {
            return new Options(Duration.ofMinutes(2), Duration.ofMinutes(10), 1 << 16);
        }

        public Options withTimeout(Duration t) { return new Options(connectTimeout, t, segmentFloats); }

        public Options withConnectTimeout(Duration t) { return new Options(t, timeout, segmentFloats); }

        public Options withSegmentFloats(int n) { return new Options(connectTimeout, timeout, n); }
    }

    private static final int MAGIC = 0x4D41454A; // "MAEJ"
    private static final int HELLO_RING = 1;
    private static final int HELLO_REGISTER = 2;
    private static final int OP_ALL_REDUCE = 1;
    private static final int OP_BROADCAST = 2;
    private static final int HEADER_BYTES = 20;

    private final int rank;
    private final int world;
    private final List<InetSocketAddress> addresses;
    private final Options options;
    private final SocketChannel toNext;
    private final SocketChannel fromPrev;
    private final Selector sendSelector;
    private final Selector recvSelector;
    private final ExecutorService sender;
    private final ByteBuffer sendBuf;
    private final ByteBuffer recvBuf;
    private final float[] scratch;
    private final float[] one = new float[1];
    private long sequence;
    private volatile CommunicatorException broken;
    private volatile boolean closed;

    private TcpCommunicator(int rank, List<InetSocketAddress> addresses, Options options, SocketChannel toNext,
                            SocketChannel fromPrev) throws IOException {
        this.rank = rank;
        this.world = addresses.size();
        this.addresses = List.copyOf(addresses);
        this.options = options;
        this.toNext = toNext;
        this.fromPrev = fromPrev;
        int segBytes = Math.max(HEADER_BYTES, options.segmentFloats() * Float.BYTES);
        this.sendBuf = ByteBuffer.allocateDirect(segBytes).order(ByteOrder.LITTLE_ENDIAN);
        this.recvBuf = ByteBuffer.allocateDirect(segBytes).order(ByteOrder.LITTLE_ENDIAN);
        this.scratch = new float[options.segmentFloats()];
        if (world > 1) {
            toNext.configureBlocking(false);
            fromPrev.configureBlocking(false);
            sendSelector = Selector.open();
            recvSelector = Selector.open();
            toNext.register(sendSelector, SelectionKey.OP_WRITE);
            fromPrev.register(recvSelector, SelectionKey.OP_READ);
            sender = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "mae-ring-sender-rank-" + rank);
                t.setDaemon(true);
                return t;
            });
        } else {
            sendSelector = null;
            recvSelector = null;
            sender = null;
        }
    }

    // ------------------------------------------------------------------ rendezvous

    /**
     * A listening socket on {@code local} (port 0: a free port), to learn this rank's address before the others'
     * are known; then {@link Endpoint#join}.
     */
    public static Endpoint bind(InetSocketAddress local) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(local, 64);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen on " + local + ": " + e.getMessage(), e);
        }
        return new Endpoint(server);
    }

    /** A bound listening socket of one rank; {@link #join} turns it into a communicator, or close it. */
    public static final class Endpoint implements AutoCloseable {
        private final ServerSocketChannel server;

        private Endpoint(ServerSocketChannel server) {
            this.server = server;
        }

        /** The bound address (the real port when bound to port 0). */
        public InetSocketAddress address() {
            try {
                return (InetSocketAddress) server.getLocalAddress();
            } catch (IOException e) {
                throw new IllegalStateException("the endpoint is closed", e);
            }
        }

        /**
         * Joins the ring of {@code addresses} (index = rank; this endpoint must be {@code addresses[rank]}'s
         * listener): connects to the successor, accepts the predecessor. Every rank must call it within the
         * connect timeout. Closes this endpoint.
         */
        public TcpCommunicator join(int rank, List<InetSocketAddress> addresses, Options options) throws IOException {
            try (server) {
                return ring(server, rank, addresses, options);
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /** Joins the ring of {@code addresses}, listening on {@code addresses[rank]}. */
    public static TcpCommunicator connect(int rank, List<InetSocketAddress> addresses, Options options) throws IOException {
        checkRank(rank, addresses.size());
        return bind(addresses.get(rank)).join(rank, addresses, options);
    }

    /**
     * Rank 0 listens on {@code coordinator} and collects the other ranks' addresses; every other rank listens on a
     * free port of the interface that reaches the coordinator, registers there, and gets the full list back; then
     * all join the ring.
     */
    public static TcpCommunicator rendezvous(InetSocketAddress coordinator, int rank, int worldSize, Options options)
            throws IOException {
        checkRank(rank, worldSize);
        Objects.requireNonNull(options, "options");
        long deadline = System.nanoTime() + options.connectTimeout().toNanos();
        if (rank == 0) {
            ServerSocketChannel server = bind(coordinator).server;
            try {
                List<InetSocketAddress> addrs = new ArrayList<>();
                for (int r = 0; r < worldSize; r++) addrs.add(null);
                addrs.set(0, (InetSocketAddress) server.getLocalAddress());
                List<SocketChannel> registered = new ArrayList<>();
                try {
                    for (int got = 1; got < worldSize; ) {
                        SocketChannel ch = accept(server, deadline, "rank 0: waiting for ranks to register at "
                                + coordinator + " (" + got + " of " + worldSize + " so far)");
                        ByteBuffer hello = readFully(ch, 16, deadline, "registration");
                        int magic = hello.getInt(), kind = hello.getInt(), r = hello.getInt(), w = hello.getInt();
                        if (magic != MAGIC || kind != HELLO_REGISTER) { ch.close(); continue; }
                        if (w != worldSize) {
                            ch.close();
                            throw new IOException("rank " + r + " registered for world size " + w + ", rank 0 has " + worldSize);
                        }
                        ByteBuffer a = readFully(ch, 4, deadline, "registration");
                        int port = a.getInt();
                        int len = readFully(ch, 4, deadline, "registration").getInt();
                        byte[] host = new byte[len];
                        readFully(ch, len, deadline, "registration").get(host);
                        if (r <= 0 || r >= worldSize || addrs.get(r) != null) {
                            ch.close();
                            throw new IOException("rank " + r + " registered twice or is out of range [1, " + worldSize + ")");
                        }
                        addrs.set(r, new InetSocketAddress(InetAddress.getByAddress(host), port));
                        registered.add(ch);
                        got++;
                    }
                    ByteBuffer list = ByteBuffer.allocate(4 + worldSize * (4 + 4 + 16));
                    list.putInt(worldSize);
                    for (InetSocketAddress s : addrs) {
                        byte[] host = s.getAddress().getAddress();
                        list.putInt(s.getPort()).putInt(host.length).put(host);
                    }
                    list.flip();
                    for (SocketChannel ch : registered) writeFully(ch, list.duplicate());
                } finally {
                    for (SocketChannel ch : registered) ch.close();
                }
                return ring(server, 0, addrs, options);
            } finally {
                server.close();
            }
        }
        SocketChannel coord = connectWithRetry(coordinator, deadline, "rank " + rank + ": registering with rank 0 at ");
        try {
            InetAddress mine = ((InetSocketAddress) coord.getLocalAddress()).getAddress();
            try (Endpoint ep = bind(new InetSocketAddress(mine, 0))) {
                byte[] host = mine.getAddress();
                ByteBuffer reg = ByteBuffer.allocate(16 + 8 + host.length);
                reg.putInt(MAGIC).putInt(HELLO_REGISTER).putInt(rank).putInt(worldSize)
                        .putInt(ep.address().getPort()).putInt(host.length).put(host).flip();
                writeFully(coord, reg);
                int w = readFully(coord, 4, deadline, "the address list from rank 0 at " + coordinator).getInt();
                if (w != worldSize) throw new IOException("rank 0 has world size " + w + ", rank " + rank + " expected " + worldSize);
                List<InetSocketAddress> addrs = new ArrayList<>();
                for (int r = 0; r < w; r++) {
                    ByteBuffer pl = readFully(coord, 8, deadline, "the address list");
                    int port = pl.getInt();
                    byte[] h = new byte[pl.getInt()];
                    readFully(coord, h.length, deadline, "the address list").get(h);
                    addrs.add(new InetSocketAddress(InetAddress.getByAddress(h), port));
                }
                coord.close();
                return ep.join(rank, addrs, options);
            }
        } finally {
            coord.close();
        }
    }

    private static TcpCommunicator ring(ServerSocketChannel server, int rank, List<InetSocketAddress> addresses,
                                        Options options) throws IOException {
        Objects.requireNonNull(options, "options");
        int world = addresses.size();
        checkRank(rank, world);
        for (int r = 0; r < world; r++) {
            if (addresses.get(r) == null) throw new IllegalArgumentException("address of rank " + r + " is null");
        }
        if (world == 1) return new TcpCommunicator(rank, addresses, options, null, null);
        long deadline = System.nanoTime() + options.connectTimeout().toNanos();
        int next = (rank + 1) % world, prev = (rank + world - 1) % world;
        SocketChannel toNext = connectWithRetry(addresses.get(next), deadline,
                "rank " + rank + ": connecting to rank " + next + " at ");
        SocketChannel fromPrev = null;
        try {
            ByteBuffer hello = ByteBuffer.allocate(16).putInt(MAGIC).putInt(HELLO_RING).putInt(rank).putInt(world).flip();
            writeFully(toNext, hello);
            while (fromPrev == null) {
                SocketChannel ch = accept(server, deadline, "rank " + rank + ": waiting for rank " + prev + " ("
                        + addresses.get(prev) + ") to connect");
                ByteBuffer h = readFully(ch, 16, deadline, "the hello of rank " + prev);
                int magic = h.getInt(), kind = h.getInt(), r = h.getInt(), w = h.getInt();
                if (magic != MAGIC || kind != HELLO_RING || r != prev) {
                    ch.close(); // a stray connection (a port scanner, a late registration): not our predecessor
                    continue;
                }
                if (w != world) {
                    ch.close();
                    throw new IOException("rank " + prev + " joined a ring of " + w + " ranks, rank " + rank + " one of " + world);
                }
                fromPrev = ch;
            }
            for (SocketChannel ch : List.of(toNext, fromPrev)) {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
                ch.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
            }
            return new TcpCommunicator(rank, addresses, options, toNext, fromPrev);
        } catch (IOException | RuntimeException e) {
            toNext.close();
            if (fromPrev != null) fromPrev.close();
            throw e;
        }
    }

    private static SocketChannel connectWithRetry(InetSocketAddress to, long deadline, String what) throws IOException {
        IOException last = null;
        long pause = 10;
        while (System.nanoTime() < deadline) {
            SocketChannel ch = SocketChannel.open();
            try {
                ch.connect(to);
                return ch;
            } catch (IOException e) {
                ch.close();
                last = e; // not listening yet: the peer may still be starting
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(what + to + " was interrupted", e);
            }
            pause = Math.min(500, pause * 2);
        }
        throw new IOException(what + to + " timed out" + (last == null ? "" : " (last error: " + last.getMessage() + ")"), last);
    }

    private static SocketChannel accept(ServerSocketChannel server, long deadline, String what) throws IOException {
        server.configureBlocking(false);
        try (Selector sel = Selector.open()) {
            server.register(sel, SelectionKey.OP_ACCEPT);
            while (true) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) throw new IOException(what + ": timed out");
                sel.select(left);
                SocketChannel ch = server.accept();
                if (ch != null) {
                    ch.configureBlocking(true);
                    return ch;
                }
            }
        }
    }

    /** Reads exactly {@code n} bytes from a blocking channel (handshake only). */
    private static ByteBuffer readFully(SocketChannel ch, int n, long deadline, String what) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        ch.socket().setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        // SO_TIMEOUT applies to the socket's stream, not to channel reads: read through the stream.
        var in = ch.socket().getInputStream();
        while (b.hasRemaining()) {
            int k;
            try {
                k = in.read(b.array(), b.position(), b.remaining());
            } catch (java.net.SocketTimeoutException e) {
                throw new IOException("timed out reading " + what + " from " + ch.getRemoteAddress(), e);
            }
            if (k < 0) throw new IOException("connection closed while reading " + what + " from " + ch.getRemoteAddress());
            b.position(b.position() + k);
        }
        return b.flip();
    }

    private static void writeFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private static void checkRank(int rank, int world) {
        if (world < 1) throw new IllegalArgumentException("world size must be >= 1, got " + world);
        if (rank < 0 || rank >= world) {
            throw new IllegalArgumentException("rank must be in [0, " + world + "), got " + rank);
        }
    }

    // ------------------------------------------------------------------ collectives

    @Override public int rank() { return rank; }

    @Override public int worldSize() { return world; }

    /** Every rank's address, index = rank. */
    public List<InetSocketAddress> addresses() { return addresses; }

    @Override
    public void allReduce(float[] buf, int offset, int length, ReduceOp op) {
        checkRange("allReduce", buf, offset, length);
        Objects.requireNonNull(op, "op");
        if (world == 1) return;
        List<Step> steps = new ArrayList<>(2 * (world - 1));
        // Reduce-scatter: step s sends chunk (r - s), receives and adds chunk (r - s - 1); rank r ends owning (r + 1).
        for (int s = 0; s < world - 1; s++) {
            boolean last = s == world - 2;
            steps.add(new Step(chunk(offset, length, rank - s), chunk(offset, length, rank - s - 1),
                    last ? (op == ReduceOp.AVERAGE ? Mode.ADD_AVERAGE : Mode.ADD) : Mode.ADD, s > 0, true));
        }
        // All-gather: step s sends chunk (r + 1 - s), receives (r - s) and overwrites.
        for (int s = 0; s < world - 1; s++) {
            steps.add(new Step(chunk(offset, length, rank + 1 - s), chunk(offset, length, rank - s), Mode.COPY,
                    true, s < world - 2));
        }
        run(new Header(sequence, OP_ALL_REDUCE, length, 0), "allReduce", buf, steps);
    }

    @Override
    public void broadcast(float[] buf, int offset, int length, int root) {
        checkRange("broadcast", buf, offset, length);
        checkRoot("broadcast", root);
        if (world == 1) return;
        int next = (rank + 1) % world;
        int[] all = {offset, length};
        int[] none = {offset, 0};
        // A chain root -> root+1 -> ...: every rank but the root receives, every rank but the root's predecessor sends.
        boolean sends = next != root;
        boolean receives = rank != root;
        Step step = new Step(sends ? all : none, receives ? all : none, Mode.COPY, receives, receives && sends);
        run(new Header(sequence, OP_BROADCAST, length, root), "broadcast", buf, List.of(step));
    }

    @Override
    public void barrier() {
        one[0] = 0;
        allReduce(one, 0, 1, ReduceOp.SUM);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (world > 1) {
            sender.shutdownNow();
            closeQuietly();
        }
    }

    private enum Mode { ADD, ADD_AVERAGE, COPY }

    /**
     * One ring step: send range {@code send} to the successor, receive range {@code recv} from the predecessor.
     * {@code sendWaits}: the data sent is what the previous step received, so each segment waits for it;
     * {@code recvFeeds}: the next step sends what this one receives, so each received segment releases it.
     */
    private record Step(int[] send, int[] recv, Mode mode, boolean sendWaits, boolean recvFeeds) {}

    private record Header(long sequence, int op, int length, int root) {
        String describe() {
            return (op == OP_ALL_REDUCE ? "allReduce" : op == OP_BROADCAST ? "broadcast from rank " + root : "op " + op)
                    + " #" + sequence + " of " + length + " floats";
        }
    }

    /** {@code [start, length]} of chunk {@code index} (mod world) of the range; sizes differ by at most one. */
    private int[] chunk(int offset, int length, int index) {
        int i = Math.floorMod(index, world);
        int base = length / world, rem = length % world;
        return new int[] {offset + i * base + Math.min(i, rem), base + (i < rem ? 1 : 0)};
    }

    private void run(Header header, String name, float[] buf, List<Step> steps) {
        if (closed) throw new CommunicatorException("rank " + rank + ": " + name + " on a closed communicator");
        CommunicatorException b = broken;
        if (b != null) throw new CommunicatorException("rank " + rank + ": the communicator is broken by an earlier "
                + "failure: " + b.getMessage(), b);
        sequence++;
        Semaphore ready = new Semaphore(0);
        String what = header.describe();
        Future<?> sending = sender.submit(() -> {
            send(header, buf, steps, ready, what);
            return null;
        });
        try {
            receive(header, buf, steps, ready, what);
            sending.get(options.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw fail(e.getCause(), what);
        } catch (TimeoutException e) {
            throw fail(new IOException("sending to rank " + next() + " did not finish within " + options.timeout()), what);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw fail(e, what);
        } catch (Throwable e) {
            sending.cancel(true);
            throw fail(e, what);
        }
    }

    private void send(Header h, float[] buf, List<Step> steps, Semaphore ready, String what)
            throws IOException, InterruptedException {
        sendBuf.clear();
        sendBuf.putLong(h.sequence()).putInt(h.op()).putInt(h.length()).putInt(h.root()).flip();
        write(sendBuf, what);
        int seg = options.segmentFloats();
        for (Step st : steps) {
            int start = st.send()[0], len = st.send()[1];
            for (int k = 0; k < len; k += seg) {
                int n = Math.min(seg, len - k);
                if (st.sendWaits() && !ready.tryAcquire(options.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new IOException("the data to forward to rank " + next() + " was not received within "
                            + options.timeout());
                }
                if (broken != null) throw new IOException("aborted: " + broken.getMessage());
                sendBuf.clear();
                sendBuf.asFloatBuffer().put(buf, start + k, n);
                sendBuf.limit(n * Float.BYTES);
                write(sendBuf, what);
            }
        }
    }

    private void receive(Header mine, float[] buf, List<Step> steps, Semaphore ready, String what) throws IOException {
        recvBuf.clear().limit(HEADER_BYTES);
        read(recvBuf, what);
        recvBuf.flip();
        Header theirs = new Header(recvBuf.getLong(), recvBuf.getInt(), recvBuf.getInt(), recvBuf.getInt());
        if (!theirs.equals(mine)) {
            throw new CommunicatorException("rank " + rank + " called " + mine.describe() + " but rank " + prev()
                    + " called " + theirs.describe() + " (every rank must make the same calls in the same order)");
        }
        int seg = options.segmentFloats();
        float inv = 1f / world;
        for (Step st : steps) {
            int start = st.recv()[0], len = st.recv()[1];
            for (int k = 0; k < len; k += seg) {
                int n = Math.min(seg, len - k);
                recvBuf.clear().limit(n * Float.BYTES);
                read(recvBuf, what);
                recvBuf.flip();
                FloatBuffer in = recvBuf.asFloatBuffer();
                int at = start + k;
                switch (st.mode()) {
                    case COPY -> in.get(buf, at, n);
                    case ADD -> {
                        in.get(scratch, 0, n);
                        for (int i = 0; i < n; i++) buf[at + i] += scratch[i];
                    }
                    case ADD_AVERAGE -> {
                        in.get(scratch, 0, n);
                        for (int i = 0; i < n; i++) buf[at + i] = (buf[at + i] + scratch[i]) * inv;
                    }
                }
                if (st.recvFeeds()) ready.release();
            }
        }
    }

    private void write(ByteBuffer b, String what) throws IOException {
        while (b.hasRemaining()) {
            if (toNext.write(b) > 0) continue;
            if (sendSelector.select(options.timeout().toMillis()) == 0 && !closed) {
                throw new IOException("rank " + next() + " (" + addresses.get(next()) + ") accepted no data for "
                        + options.timeout() + " during " + what + " (stuck, or gone without closing the connection)");
            }
            sendSelector.selectedKeys().clear();
            if (closed) throw new IOException("the communicator was closed");
        }
    }

    private void read(ByteBuffer b, String what) throws IOException {
        while (b.hasRemaining()) {
            int k = fromPrev.read(b);
            if (k < 0) {
                throw new IOException("rank " + prev() + " (" + addresses.get(prev()) + ") closed the connection during "
                        + what + " (its process ended or it failed)");
            }
            if (k > 0) continue;
            if (recvSelector.select(options.timeout().toMillis()) == 0) {
                if (Thread.currentThread().isInterrupted()) throw new IOException("interrupted");
                throw new IOException("no data from rank " + prev() + " (" + addresses.get(prev()) + ") for "
                        + options.timeout() + " during " + what + " (stuck, or gone without closing the connection)");
            }
            recvSelector.selectedKeys().clear();
        }
    }

    /** Marks the communicator broken and closes the sockets, so the peers fail at once too. */
    private CommunicatorException fail(Throwable cause, String what) {
        CommunicatorException e = cause instanceof CommunicatorException ce && ce.getMessage().startsWith("rank " + rank)
                ? ce
                : new CommunicatorException("rank " + rank + ": " + what + " failed: " + cause.getMessage(), cause);
        if (broken == null) broken = e;
        closeQuietly();
        return e;
    }

    private void closeQuietly() {
        for (AutoCloseable c : new AutoCloseable[] {toNext, fromPrev, sendSelector, recvSelector}) {
            try {
                if (c != null) c.close();
            } catch (Exception ignored) {
                // already failing or closing: nothing more to report
            }
        }
    }

    private int next() { return (rank + 1) % world; }

    private int prev() { return (rank + world - 1) % world; }
}
