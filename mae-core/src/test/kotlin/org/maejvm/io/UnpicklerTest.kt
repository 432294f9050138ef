package org.maejvm.io

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import java.io.IOException
import java.lang.foreign.MemorySegment
import java.math.BigInteger
import java.nio.ByteOrder
import java.nio.file.Path
import kotlin.random.Random

private val FILE: Path = Path.of("test.pkl")

private fun unpickle(bytes: ByteArray): Any? =
    Unpickler(FILE, MemorySegment.ofArray(bytes), 0, PthReader.MAX_PICKLE_BYTES, TorchPickleRules(FILE, ByteOrder.LITTLE_ENDIAN)).load()

private fun hex(s: String) = ByteArray(s.length / 2) { s.substring(2 * it, 2 * it + 2).toInt(16).toByte() }

/**
 * pickle.dumps(obj, protocol=p) from CPython 3 for
 * {'a': [1, 2.5, 'xé中', (True, None, False)], 'b': -123456789012345678901234567890, 'c': b'\x00\xffab',
 *  'd': {1, 2}, 'e': frozenset([3]), 'f': -1, 'g': 2**31, 'h': -2**63, 'i': float('inf'),
 *  'j': 'quote\'s "and" \\ \n', 'k': bytearray(b'xy'), (1, 'k'): 0.1}
 */
private val PYTHON_PICKLES = mapOf(
    0 to "286470300a56610a70310a286c70320a49310a6146322e350a615678e95c75346532640a70330a61284930310a4e4930300a7470340a617356620a70350a4c2d3132333435363738393031323334353637383930313233343536373839304c0a7356630a70360a635f636f646563730a656e636f64650a70370a28565c7530303030ff61620a70380a566c6174696e310a70390a747031300a527031310a7356640a7031320a635f5f6275696c74696e5f5f0a7365740a7031330a28286c7031340a49310a6149320a61747031350a527031360a7356650a7031370a635f5f6275696c74696e5f5f0a66726f7a656e7365740a7031380a28286c7031390a49330a61747032300a527032310a7356660a7032320a492d310a7356670a7032330a4c323134373438333634384c0a7356680a7032340a4c2d393232333337323033363835343737353830384c0a7356690a7032350a46696e660a73566a0a7032360a5671756f746527732022616e6422205c7530303563205c75303030610a7032370a73566b0a7032380a635f5f6275696c74696e5f5f0a6279746561727261790a7032390a2867370a285678790a7033300a67390a747033310a527033320a747033330a527033340a732849310a6732380a747033350a46302e310a732e",
    1 to "7d71002858010000006171015d7102284b01474004000000000000580600000078c3a9e4b8ad7103284930310a4e4930300a7471046558010000006271054c2d3132333435363738393031323334353637383930313233343536373839304c0a5801000000637106635f636f646563730a656e636f64650a710728580500000000c3bf6162710858060000006c6174696e31710974710a52710b580100000064710c635f5f6275696c74696e5f5f0a7365740a710d285d710e284b014b026574710f5271105801000000657111635f5f6275696c74696e5f5f0a66726f7a656e7365740a7112285d71134b036174711452711558010000006671164affffffff58010000006771174c323134373438333634384c0a58010000006871184c2d393232333337323033363835343737353830384c0a5801000000697119477ff000000000000058010000006a711a581100000071756f746527732022616e6422205c200a711b58010000006b711c635f5f6275696c74696e5f5f0a6279746561727261790a711d2868072858020000007879711e680974711f527120747121527122284b01681c747123473fb999999999999a752e",
    2 to "80027d71002858010000006171015d7102284b01474004000000000000580600000078c3a9e4b8ad7103884e898771046558010000006271058a0d2ef5c0b1111f8c3c09f01671fe5801000000637106635f636f646563730a656e636f64650a7107580500000000c3bf6162710858060000006c6174696e31710986710a52710b580100000064710c635f5f6275696c74696e5f5f0a7365740a710d5d710e284b014b026585710f5271105801000000657111635f5f6275696c74696e5f5f0a66726f7a656e7365740a71125d71134b036185711452711558010000006671164affffffff58010000006771178a05000000800058010000006871188a0800000000000000805801000000697119477ff000000000000058010000006a711a581100000071756f746527732022616e6422205c200a711b58010000006b711c635f5f6275696c74696e5f5f0a6279746561727261790a711d680758020000007879711e680986711f5271208571215271224b01681c867123473fb999999999999a752e",
    3 to "80037d71002858010000006171015d7102284b01474004000000000000580600000078c3a9e4b8ad7103884e898771046558010000006271058a0d2ef5c0b1111f8c3c09f01671fe5801000000637106430400ff616271075801000000647108636275696c74696e730a7365740a71095d710a284b014b026585710b52710c580100000065710d636275696c74696e730a66726f7a656e7365740a710e5d710f4b036185711052711158010000006671124affffffff58010000006771138a05000000800058010000006871148a0800000000000000805801000000697115477ff000000000000058010000006a7116581100000071756f746527732022616e6422205c200a711758010000006b7118636275696c74696e730a6279746561727261790a711943027879711a85711b52711c4b01681886711d473fb999999999999a752e",
    4 to "800495d5000000000000007d94288c0161945d94284b014740040000000000008c0678c3a9e4b8ad94884e898794658c0162948a0d2ef5c0b1111f8c3c09f01671fe8c016394430400ff6162948c0164948f94284b014b02908c016594284b0391948c0166944affffffff8c0167948a0500000080008c0168948a0800000000000000808c016994477ff00000000000008c016a948c1171756f746527732022616e6422205c200a948c016b948c086275696c74696e73948c096279746561727261799493944302787994859452944b0168128694473fb999999999999a752e",
    5 to "800595bf000000000000007d94288c0161945d94284b014740040000000000008c0678c3a9e4b8ad94884e898794658c0162948a0d2ef5c0b1111f8c3c09f01671fe8c016394430400ff6162948c0164948f94284b014b02908c016594284b0391948c0166944affffffff8c0167948a0500000080008c0168948a0800000000000000808c016994477ff00000000000008c016a948c1171756f746527732022616e6422205c200a948c016b949602000000000000007879944b0168128694473fb999999999999a752e",
)

class UnpicklerTest : FunSpec({
    context("CPython's pickles of protocols 0 to 5 decode to the same values") {
        withData(PYTHON_PICKLES.keys.toList()) { protocol ->
            val m = unpickle(hex(PYTHON_PICKLES.getValue(protocol))).shouldBeInstanceOf<Map<Any?, Any?>>()
            m.keys.toList() shouldBe listOf("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", listOf(1L, "k"))
            m["a"] shouldBe listOf(1L, 2.5, "xé中", listOf(true, null, false))
            m["b"] shouldBe BigInteger("-123456789012345678901234567890")
            (m["c"] as ByteArray).toList() shouldBe listOf<Byte>(0, -1, 'a'.code.toByte(), 'b'.code.toByte())
            m["d"] shouldBe setOf(1L, 2L)
            m["e"] shouldBe setOf(3L)
            m["f"] shouldBe -1L
            m["g"] shouldBe 2147483648L
            m["h"] shouldBe Long.MIN_VALUE
            m["i"] shouldBe Double.POSITIVE_INFINITY
            m["j"] shouldBe "quote's \"and\" \\ \n"
            (m["k"] as ByteArray).toList() shouldBe "xy".toByteArray().toList()
            m[listOf(1L, "k")] shouldBe 0.1
        }
    }

    test("a deeply nested list (100k levels) is built without recursion and refused as a state dict cleanly") {
        val depth = 100_000
        val b = java.io.ByteArrayOutputStream()
        b.write(0x80); b.write(2)
        repeat(depth) { b.write(']'.code) }
        repeat(depth - 1) { b.write('a'.code) }
        b.write('.'.code)
        var v = unpickle(b.toByteArray())
        var levels = 0
        while (v is List<*> && v.isNotEmpty()) { v = v[0]; levels++ }
        levels shouldBe depth - 1
    }

    test("dict keys that are big tuples are refused (hashing stays cheap)") {
        val b = java.io.ByteArrayOutputStream()
        b.write(0x80); b.write(2); b.write('}'.code); b.write('('.code)
        repeat(1000) { b.write('N'.code) }
        b.write('t'.code); b.write('N'.code); b.write('s'.code); b.write('.'.code)
        shouldThrow<MalformedWeightsException> { unpickle(b.toByteArray()) }.message shouldContain "dict key"
    }

    test("memo indices above the cap are refused instead of allocated") {
        // LONG_BINPUT 0xffffffff
        val b = byteArrayOf(0x80.toByte(), 2, 'N'.code.toByte(), 'r'.code.toByte(), -1, -1, -1, -1, '.'.code.toByte())
        shouldThrow<MalformedWeightsException> { unpickle(b) }.message shouldContain "above the limit"
    }

    test("POP at a mark removes the mark, as CPython does") {
        // MARK POP NONE STOP -> None (the mark was popped), then TUPLE would have failed for lack of a mark
        unpickle(byteArrayOf(0x80.toByte(), 2, '('.code.toByte(), '0'.code.toByte(), 'N'.code.toByte(), '.'.code.toByte())) shouldBe null
        shouldThrow<MalformedWeightsException> {
            unpickle(byteArrayOf(0x80.toByte(), 2, '('.code.toByte(), '0'.code.toByte(), 'N'.code.toByte(), 't'.code.toByte(), '.'.code.toByte()))
        }.message shouldContain "MARK"
    }

    test("random opcode streams end in a value or an IOException, never another exception") {
        val alphabet = "().0123FIJKLMNPQRSTUVXabcdeghijlopqrstu}]G".map { it.code } + (0x80..0x98).toList()
        val r = Random(7)
        var clean = 0
        val start = System.nanoTime()
        repeat(20_000) { i ->
            val n = 1 + r.nextInt(48)
            val bytes = ByteArray(n) { k ->
                if (k == 0) 0x80.toByte() else if (r.nextInt(4) == 0) r.nextInt(256).toByte() else alphabet.random(r).toByte()
            }
            try {
                unpickle(bytes)
            } catch (e: IOException) {
                clean++
            } catch (e: Throwable) {
                throw AssertionError("case $i (${bytes.joinToString("") { "%02x".format(it) }}): $e", e)
            }
        }
        clean shouldBeGreaterThan 10_000
        ((System.nanoTime() - start) / 1e9 < 60) shouldBe true
    }
})
