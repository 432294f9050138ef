package org.maejvm.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.RandomAccess;
import java.util.Set;

/**
 * A pickle reader that never runs code: a stack machine over the opcodes of protocols 0 to 5 whose only way to
 * turn a name into behaviour goes through {@link Rules}, which decides what each global is and what "calling" it
 * produces (an inert Java value). Python values map to Java as: None → null, bool → Boolean, int → Long (BigInteger
 * beyond 64 bits), float → Double, str → String, bytes/bytearray → byte[], tuple → unmodifiable List, list →
 * ArrayList, dict → LinkedHashMap, set/frozenset → LinkedHashSet / unmodifiable Set.
 *
 * <p>Hostile input is bounded: every length is checked against the bytes left before anything is allocated, dict
 * keys must be small hashable values (so hashing cannot recurse or blow up), and every opcode consumes input, so a
 * pickle of n bytes runs in O(n) opcodes.
 */
final class Unpickler {

    /** The policy: which globals exist, and what calls, persistent ids and BUILD mean. */
    interface Rules {
        /** The value GLOBAL / STACK_GLOBAL pushes; throws {@link RefusedPickleException} for a name not allowed. */
        Object global(String module, String name) throws IOException;

        /** REDUCE, NEWOBJ, NEWOBJ_EX, INST and OBJ: {@code callable} is whatever the pickle put on the stack. */
        Object call(Object callable, List<Object> args, String opcode) throws IOException;

        /** BINPERSID / PERSID. */
        Object persistentLoad(Object pid) throws IOException;

        /** BUILD: returns the object left on the stack (normally {@code target}). */
        Object build(Object target, Object state) throws IOException;
    }

    /** A Python tuple: an unmodifiable list. */
    static final class Tuple extends AbstractList<Object> implements RandomAccess {
        private final Object[] items;

        Tuple(Object... items) {
            this.items = items;
        }

        @Override
        public Object get(int index) {
            return items[index];
        }

        @Override
        public int size() {
            return items.length;
        }
    }

    /** Longest text line (protocol 0 opcodes) and longest decimal integer accepted; Python's own limit is 4300 digits. */
    private static final int MAX_LINE = 1 << 16;
    private static final int MAX_DIGITS = 4300;
    /** Budget of scalars a dict key or set element may contain (tuples of scalars), keeping hashing cheap. */
    private static final int KEY_BUDGET = 256;

    private final Path file;
    private final MemorySegment in;
    private long end;
    private final long maxBytes;
    private long pos;
    private final Rules rules;
    private final ArrayList<Object> stack = new ArrayList<>();
    private int[] marks = new int[16];
    private int markCount;
    /** Memo slots by index; torch numbers them densely from 0, so a list with a hard cap is enough. */
    private final ArrayList<Object> memo = new ArrayList<>();
    private static final Object UNSET = new Object();
    /** Memo indices accepted: far more than any checkpoint uses (about 15 per tensor), small enough to bound memory. */
    static final int MAX_MEMO = 1 << 22;

    /**
     * Reads pickles from {@code in} starting at {@code start}; each must reach its STOP within {@code maxBytes}
     * (so memory stays proportional to a bounded input, whatever the file's size).
     */
    Unpickler(Path file, MemorySegment in, long start, long maxBytes, Rules rules) {
        this.file = file;
        this.in = in;
        this.pos = start;
        this.end = Math.min(in.byteSize(), start + maxBytes);
        this.maxBytes = maxBytes;
        this.rules = rules;
    }

    /** Where the next pickle starts once {@link #load()} has returned (files can hold several in a row). */
    long position() {
        return pos;
    }

    /** Runs the pickle up to STOP and returns its value. */
    Object load() throws IOException {
        stack.clear();
        markCount = 0;
        memo.clear();
        end = Math.min(in.byteSize(), pos + maxBytes);
        while (true) {
            long at = pos;
            int op = u8("an opcode");
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = u8("the protocol number");
                    if (proto > 5) throw malformed(at, "pickle protocol " + proto + " is not supported (0 to 5 are)");
                }
                case 0x95 -> u64("the FRAME length"); // framing only groups opcodes; the content reads the same
                case '.' -> { // STOP
                    Object result = pop(at, "STOP");
                    return result;
                }
                case '(' -> pushMark();
                case '0' -> { // POP: an empty stack means the top item is a mark
                    if (stack.size() > (markCount > 0 ? marks[markCount - 1] : 0)) stack.removeLast();
                    else popMark(at, "POP");
                }
                case '1' -> popToMark(at, "POP_MARK");
                case '2' -> push(peek(at, "DUP"));
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) i32le("BININT"));
                case 'K' -> push((long) u8("BININT1"));
                case 'M' -> push((long) u16le("BININT2"));
                case 0x8a -> push(longBytes(at, u8("LONG1 length"))); // LONG1
                case 0x8b -> push(longBytes(at, length(at, i32le("LONG4 length") & 0xffffffffL, "LONG4"))); // LONG4
                case 'I' -> push(textInt(at, line(at, "INT"), false));
                case 'L' -> push(textInt(at, line(at, "LONG"), true));
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(u64("BINFLOAT")))); // big-endian
                case 'F' -> push(textFloat(at, line(at, "FLOAT")));
                case 'X' -> push(utf8(at, length(at, u32("BINUNICODE length"), "BINUNICODE")));
                case 0x8c -> push(utf8(at, u8("SHORT_BINUNICODE length"))); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(at, length(at, u64("BINUNICODE8 length"), "BINUNICODE8")));
                case 'V' -> push(rawUnicodeEscape(at, line(at, "UNICODE")));
                case 'T' -> push(utf8(at, length(at, i32le("BINSTRING length"), "BINSTRING")));
                case 'U' -> push(utf8(at, u8("SHORT_BINSTRING length")));
                case 'S' -> push(pythonStringLiteral(at, line(at, "STRING")));
                case 'B' -> push(bytes(length(at, u32("BINBYTES length"), "BINBYTES")));
                case 'C' -> push(bytes(u8("SHORT_BINBYTES length")));
                case 0x8e -> push(bytes(length(at, u64("BINBYTES8 length"), "BINBYTES8")));
                case 0x96 -> push(bytes(length(at, u64("BYTEARRAY8 length"), "BYTEARRAY8")));
                case 0x97 -> throw refused("it uses an out-of-band buffer (NEXT_BUFFER), which weights files never need");
                case 0x98 -> peek(at, "READONLY_BUFFER"); // a read-only view of a buffer is the buffer here
                case ')' -> push(new Tuple());
                case 0x85 -> push(new Tuple(pop(at, "TUPLE1")));
                case 0x86 -> {
                    Object b = pop(at, "TUPLE2");
                    Object a = pop(at, "TUPLE2");
                    push(new Tuple(a, b));
                }
                case 0x87 -> {
                    Object c = pop(at, "TUPLE3");
                    Object b = pop(at, "TUPLE3");
                    Object a = pop(at, "TUPLE3");
                    push(new Tuple(a, b, c));
                }
                case 't' -> push(new Tuple(popToMark(at, "TUPLE").toArray()));
                case ']' -> push(new ArrayList<>());
                case 'l' -> push(new ArrayList<>(popToMark(at, "LIST")));
                case '}' -> push(new LinkedHashMap<>());
                case 'd' -> {
                    List<Object> items = popToMark(at, "DICT");
                    Map<Object, Object> m = new LinkedHashMap<>();
                    putPairs(at, "DICT", m, items);
                    push(m);
                }
                case 0x8f -> push(new LinkedHashSet<>()); // EMPTY_SET
                case 0x91 -> { // FROZENSET
                    List<Object> items = popToMark(at, "FROZENSET");
                    Set<Object> s = new LinkedHashSet<>();
                    for (Object o : items) s.add(hashable(at, "FROZENSET", o));
                    push(Collections.unmodifiableSet(s));
                }
                case 0x90 -> { // ADDITEMS
                    List<Object> items = popToMark(at, "ADDITEMS");
                    Object target = peek(at, "ADDITEMS");
                    if (!(target instanceof LinkedHashSet<?>)) throw wrongTarget(at, "ADDITEMS", "a set", target);
                    @SuppressWarnings("unchecked") Set<Object> s = (Set<Object>) target;
                    for (Object o : items) s.add(hashable(at, "ADDITEMS", o));
                }
                case 'a' -> { // APPEND
                    Object v = pop(at, "APPEND");
                    list(at, "APPEND", peek(at, "APPEND")).add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popToMark(at, "APPENDS");
                    list(at, "APPENDS", peek(at, "APPENDS")).addAll(items);
                }
                case 's' -> { // SETITEM
                    Object v = pop(at, "SETITEM");
                    Object k = pop(at, "SETITEM");
                    map(at, "SETITEM", peek(at, "SETITEM")).put(hashable(at, "SETITEM", k), v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popToMark(at, "SETITEMS");
                    putPairs(at, "SETITEMS", map(at, "SETITEMS", peek(at, "SETITEMS")), items);
                }
                case 'q' -> memoPut(at, u8("BINPUT index"), peek(at, "BINPUT"));
                case 'r' -> memoPut(at, u32("LONG_BINPUT index"), peek(at, "LONG_BINPUT"));
                case 'p' -> memoPut(at, textIndex(at, line(at, "PUT")), peek(at, "PUT"));
                case 0x94 -> memoPut(at, memo.size(), peek(at, "MEMOIZE"));
                case 'h' -> push(memoGet(at, u8("BINGET index")));
                case 'j' -> push(memoGet(at, u32("LONG_BINGET index")));
                case 'g' -> push(memoGet(at, textIndex(at, line(at, "GET"))));
                case 'c' -> { // GLOBAL: "module\nname\n"
                    String module = latin1(line(at, "GLOBAL module"));
                    String name = latin1(line(at, "GLOBAL name"));
                    push(rules.global(module, name));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(at, "STACK_GLOBAL");
                    Object module = pop(at, "STACK_GLOBAL");
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw malformed(at, "STACK_GLOBAL needs two strings (module, name), found "
                                + describe(module) + " and " + describe(name));
                    }
                    push(rules.global(m, n));
                }
                case 0x82, 0x83, 0x84 -> throw refused(
                        "it uses the copyreg extension registry (EXT1/EXT2/EXT4), which names code indirectly");
                case 'R' -> { // REDUCE
                    Object args = pop(at, "REDUCE");
                    Object fn = pop(at, "REDUCE");
                    push(rules.call(fn, tupleArgs(at, "REDUCE", args), "REDUCE"));
                }
                case 0x81 -> { // NEWOBJ
                    Object args = pop(at, "NEWOBJ");
                    Object cls = pop(at, "NEWOBJ");
                    push(rules.call(cls, tupleArgs(at, "NEWOBJ", args), "NEWOBJ"));
                }
                case 0x92 -> { // NEWOBJ_EX
                    Object kwargs = pop(at, "NEWOBJ_EX");
                    Object args = pop(at, "NEWOBJ_EX");
                    Object cls = pop(at, "NEWOBJ_EX");
                    if (!(kwargs instanceof Map<?, ?> kw) || !kw.isEmpty()) {
                        throw malformed(at, "NEWOBJ_EX with keyword arguments is not supported, found "
                                + describe(kwargs));
                    }
                    push(rules.call(cls, tupleArgs(at, "NEWOBJ_EX", args), "NEWOBJ_EX"));
                }
                case 'i' -> { // INST: "module\nname\n", arguments since the mark
                    String module = latin1(line(at, "INST module"));
                    String name = latin1(line(at, "INST name"));
                    List<Object> args = popToMark(at, "INST");
                    Object cls = rules.global(module, name);
                    push(rules.call(cls, new Tuple(args.toArray()), "INST"));
                }
                case 'o' -> { // OBJ: class and arguments since the mark
                    List<Object> items = popToMark(at, "OBJ");
                    if (items.isEmpty()) throw malformed(at, "OBJ needs a class after the mark, found nothing");
                    push(rules.call(items.getFirst(), new Tuple(items.subList(1, items.size()).toArray()), "OBJ"));
                }
                case 'b' -> { // BUILD
                    Object state = pop(at, "BUILD");
                    Object target = pop(at, "BUILD");
                    push(rules.build(target, state));
                }
                case 'Q' -> push(rules.persistentLoad(pop(at, "BINPERSID")));
                case 'P' -> push(rules.persistentLoad(latin1(line(at, "PERSID"))));
                default -> throw malformed(at, "unknown pickle opcode 0x" + Integer.toHexString(op)
                        + "; this is not a pickle, or a damaged one");
            }
        }
    }

    // ------------------------------------------------------------------ stack

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop(long at, String op) throws MalformedWeightsException {
        if (stack.size() <= (markCount > 0 ? marks[markCount - 1] : 0)) {
            throw malformed(at, op + " needs a value on the stack, but there is none (above the last mark)");
        }
        return stack.removeLast();
    }

    private Object peek(long at, String op) throws MalformedWeightsException {
        if (stack.size() <= (markCount > 0 ? marks[markCount - 1] : 0)) {
            throw malformed(at, op + " needs a value on the stack, but there is none (above the last mark)");
        }
        return stack.getLast();
    }

    private void pushMark() {
        if (markCount == marks.length) marks = Arrays.copyOf(marks, marks.length * 2);
        marks[markCount++] = stack.size();
    }

    private int popMark(long at, String op) throws MalformedWeightsException {
        if (markCount == 0) throw malformed(at, op + " needs a MARK on the stack, but there is none");
        return marks[--markCount];
    }

    /** Removes and returns the items above the last mark, and the mark. */
    private List<Object> popToMark(long at, String op) throws MalformedWeightsException {
        int m = popMark(at, op);
        List<Object> tail = stack.subList(m, stack.size());
        List<Object> items = new ArrayList<>(tail);
        tail.clear();
        return items;
    }

    private void memoPut(long at, long index, Object v) throws MalformedWeightsException {
        if (index >= MAX_MEMO) {
            throw malformed(at, "memo index " + index + " is above the limit of " + MAX_MEMO + " entries");
        }
        while (memo.size() <= index) memo.add(UNSET);
        memo.set((int) index, v);
    }

    private Object memoGet(long at, long index) throws MalformedWeightsException {
        Object v = index < memo.size() ? memo.get((int) index) : UNSET;
        if (v == UNSET) throw malformed(at, "memo entry " + index + " is read before it was stored");
        return v;
    }

    // ------------------------------------------------------------------ containers

    private void putPairs(long at, String op, Map<Object, Object> m, List<Object> items)
            throws MalformedWeightsException {
        if (items.size() % 2 != 0) throw malformed(at, op + " needs key/value pairs, found an odd number of items");
        for (int i = 0; i < items.size(); i += 2) m.put(hashable(at, op, items.get(i)), items.get(i + 1));
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(long at, String op, Object target) throws MalformedWeightsException {
        if (target instanceof ArrayList<?> l) return (List<Object>) l;
        throw wrongTarget(at, op, "a list", target);
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> map(long at, String op, Object target) throws MalformedWeightsException {
        if (target instanceof LinkedHashMap<?, ?> m) return (Map<Object, Object>) m;
        throw wrongTarget(at, op, "a dict", target);
    }

    private Tuple tupleArgs(long at, String op, Object args) throws MalformedWeightsException {
        if (args instanceof Tuple t) return t;
        throw malformed(at, op + " needs a tuple of arguments, found " + describe(args));
    }

    /** A dict key or set element must be a small immutable value, as in Python (lists and dicts are unhashable). */
    private Object hashable(long at, String op, Object key) throws MalformedWeightsException {
        if (!isSmallHashable(key)) {
            throw malformed(at, op + " uses " + describe(key) + " as a dict key or set element; only strings, numbers,"
                    + " booleans, None and small tuples of them are accepted");
        }
        return key;
    }

    /** Strings, numbers, booleans, None, and tuples of them with at most {@value #KEY_BUDGET} items in all. */
    static boolean isSmallHashable(Object o) {
        return isSmallHashable(o, new int[] {KEY_BUDGET});
    }

    private static boolean isSmallHashable(Object o, int[] budget) {
        if (--budget[0] < 0) return false;
        if (o == null || o instanceof String || o instanceof Long || o instanceof Double || o instanceof Boolean
                || o instanceof BigInteger) {
            return true;
        }
        if (o instanceof Tuple t) {
            for (Object e : t.items) {
                if (!isSmallHashable(e, budget)) return false;
            }
            return true;
        }
        return false;
    }

    // ------------------------------------------------------------------ reading bytes

    private int u8(String what) throws MalformedWeightsException {
        need(1, what);
        return in.get(ValueLayout.JAVA_BYTE, pos++) & 0xff;
    }

    private int u16le(String what) throws MalformedWeightsException {
        need(2, what);
        int v = in.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos) & 0xffff;
        pos += 2;
        return v;
    }

    private int i32le(String what) throws MalformedWeightsException {
        need(4, what);
        int v = in.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos);
        pos += 4;
        return v;
    }

    private long u32(String what) throws MalformedWeightsException {
        return i32le(what) & 0xffffffffL;
    }

    private long u64(String what) throws MalformedWeightsException {
        need(8, what);
        long v = in.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), pos);
        pos += 8;
        return v;
    }

    private void need(long n, String what) throws MalformedWeightsException {
        if (end - pos < n) {
            throw malformed(pos, "the pickle ends while reading " + what + " (" + n + " bytes needed, "
                    + (end - pos) + " left)");
        }
    }

    /** A declared length, checked against the bytes that are left (negative means it was over 2^63). */
    private int length(long at, long declared, String op) throws MalformedWeightsException {
        if (declared < 0 || declared > end - pos || declared > Integer.MAX_VALUE - 8) {
            throw malformed(at, op + " declares " + Long.toUnsignedString(declared) + " bytes, but only "
                    + (end - pos) + " are left in the pickle");
        }
        return (int) declared;
    }

    private byte[] bytes(int n) throws MalformedWeightsException {
        need(n, "bytes");
        byte[] b = in.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
        pos += n;
        return b;
    }

    private String utf8(long at, int n) throws MalformedWeightsException {
        byte[] b = bytes(n);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw malformed(at, "a string of " + n + " bytes is not valid UTF-8");
        }
    }

    /** The bytes up to the next newline (protocol 0 opcodes), without it. */
    private byte[] line(long at, String op) throws MalformedWeightsException {
        long start = pos;
        long limit = Math.min(end, pos + MAX_LINE);
        for (long p = pos; p < limit; p++) {
            if (in.get(ValueLayout.JAVA_BYTE, p) == '\n') {
                byte[] b = in.asSlice(start, p - start).toArray(ValueLayout.JAVA_BYTE);
                pos = p + 1;
                return b;
            }
        }
        throw malformed(at, op + " expects a line ending in a newline within " + MAX_LINE + " bytes, found none");
    }

    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private Object longBytes(long at, int n) throws MalformedWeightsException {
        if (n == 0) return 0L;
        byte[] le = bytes(n);
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) be[i] = le[n - 1 - i];
        return normalize(new BigInteger(be)); // two's complement, as LONG1/LONG4 store it
    }

    private static Object normalize(BigInteger v) {
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private Object textInt(long at, byte[] line, boolean isLong) throws MalformedWeightsException {
        String s = latin1(line).strip();
        if (!isLong && s.equals("00")) return Boolean.FALSE;
        if (!isLong && s.equals("01")) return Boolean.TRUE;
        if (s.endsWith("L")) s = s.substring(0, s.length() - 1);
        if (s.length() > MAX_DIGITS || !s.matches("[+-]?[0-9]+")) {
            throw malformed(at, (isLong ? "LONG" : "INT") + " expects a decimal integer of at most " + MAX_DIGITS
                    + " digits, found " + abbreviate(s));
        }
        return normalize(new BigInteger(s));
    }

    private long textIndex(long at, byte[] line) throws MalformedWeightsException {
        String s = latin1(line);
        if (s.isEmpty() || s.length() > 18 || !s.matches("[0-9]+")) {
            throw malformed(at, "a memo index must be a decimal number, found " + abbreviate(s));
        }
        return Long.parseLong(s);
    }

    private Double textFloat(long at, byte[] line) throws MalformedWeightsException {
        String s = latin1(line).strip();
        switch (s) {
            case "inf": return Double.POSITIVE_INFINITY;
            case "-inf": return Double.NEGATIVE_INFINITY;
            case "nan": return Double.NaN;
            default:
        }
        if (!s.matches("[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?")) {
            throw malformed(at, "FLOAT expects a decimal number, found " + abbreviate(s));
        }
        return Double.parseDouble(s);
    }

    /** The UNICODE opcode's "raw-unicode-escape": only backslash-u and backslash-U escapes, bytes are Latin-1. */
    private String rawUnicodeEscape(long at, byte[] b) throws MalformedWeightsException {
        StringBuilder sb = new StringBuilder(b.length);
        for (int i = 0; i < b.length; i++) {
            int c = b[i] & 0xff;
            if (c == '\\' && i + 1 < b.length && (b[i + 1] == 'u' || b[i + 1] == 'U')) {
                int digits = b[i + 1] == 'u' ? 4 : 8;
                if (i + 2 + digits > b.length) throw malformed(at, "UNICODE has a truncated \\u escape");
                int cp = parseHex(at, b, i + 2, digits);
                if (!Character.isValidCodePoint(cp)) throw malformed(at, "UNICODE escapes an invalid code point " + cp);
                sb.appendCodePoint(cp);
                i += 1 + digits;
            } else {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }

    /** The STRING opcode: a quoted Python 2 str literal with backslash escapes, decoded as UTF-8. */
    private String pythonStringLiteral(long at, byte[] b) throws MalformedWeightsException {
        if (b.length < 2 || b[0] != b[b.length - 1] || (b[0] != '\'' && b[0] != '"')) {
            throw malformed(at, "STRING expects a quoted literal, found " + abbreviate(latin1(b)));
        }
        ByteBuffer out = ByteBuffer.allocate(b.length);
        for (int i = 1; i < b.length - 1; i++) {
            byte c = b[i];
            if (c != '\\') {
                out.put(c);
                continue;
            }
            if (++i >= b.length - 1) throw malformed(at, "STRING ends in a lone backslash");
            byte e = b[i];
            switch (e) {
                case 'n' -> out.put((byte) '\n');
                case 't' -> out.put((byte) '\t');
                case 'r' -> out.put((byte) '\r');
                case 'a' -> out.put((byte) 7);
                case 'b' -> out.put((byte) 8);
                case 'f' -> out.put((byte) 12);
                case 'v' -> out.put((byte) 11);
                case '\\', '\'', '"' -> out.put(e);
                case 'x' -> {
                    if (i + 2 >= b.length) throw malformed(at, "STRING has a truncated \\x escape");
                    out.put((byte) parseHex(at, b, i + 1, 2));
                    i += 2;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int v = 0;
                        int k = 0;
                        while (k < 3 && i < b.length - 1 && b[i] >= '0' && b[i] <= '7') {
                            v = v * 8 + (b[i++] - '0');
                            k++;
                        }
                        i--;
                        out.put((byte) v);
                    } else {
                        out.put((byte) '\\').put(e);
                    }
                }
            }
        }
        out.flip();
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(out).toString();
        } catch (CharacterCodingException ex) {
            throw malformed(at, "STRING is not valid UTF-8");
        }
    }

    private int parseHex(long at, byte[] b, int from, int digits) throws MalformedWeightsException {
        int v = 0;
        for (int i = from; i < from + digits; i++) {
            int d = Character.digit(b[i], 16);
            if (d < 0) throw malformed(at, "bad hex digit '" + (char) (b[i] & 0xff) + "' in an escape");
            v = v * 16 + d;
        }
        return v;
    }

    // ------------------------------------------------------------------ errors

    private MalformedWeightsException malformed(long at, String detail) {
        return new MalformedWeightsException(file, "pickle byte " + at + ": " + detail);
    }

    private RefusedPickleException refused(String detail) {
        return new RefusedPickleException(file, detail);
    }

    private MalformedWeightsException wrongTarget(long at, String op, String expected, Object found) {
        return malformed(at, op + " needs " + expected + " below its arguments, found " + describe(found));
    }

    /** A short description of a value for error messages, safe on huge or cyclic structures. */
    static String describe(Object o) {
        if (o == null) return "None";
        if (o instanceof String s) return "the string '" + abbreviate(s) + "'";
        if (o instanceof Long || o instanceof Double || o instanceof Boolean) return o.getClass().getSimpleName() + " " + o;
        if (o instanceof BigInteger b) return "an integer of " + b.bitLength() + " bits";
        if (o instanceof Tuple t) return "a tuple of " + t.size();
        if (o instanceof List<?> l) return "a list of " + l.size();
        if (o instanceof Map<?, ?> m) return "a dict of " + m.size();
        if (o instanceof Set<?> s) return "a set of " + s.size();
        if (o instanceof byte[] b) return b.length + " bytes";
        return o.toString();
    }

    static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
