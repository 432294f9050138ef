package org.maejvm.io

import com.fasterxml.jackson.core.json.JsonReadFeature
import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import io.kotest.assertions.withClue
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import java.nio.file.Path
import java.nio.file.Paths
import org.maejvm.tensor.HostTensor

/** The fixtures written by tools/fixtures/make_io_fixtures.py, and the expected values it recorded. */
object Fixtures {
    fun path(name: String): Path {
        val url = Fixtures::class.java.getResource("/io/$name") ?: error("missing test resource io/$name")
        return Paths.get(url.toURI())
    }

    // Python's json writes float32 overflow of F64 values as -Infinity, hence non-numeric numbers.
    val expected: JsonNode by lazy {
        ObjectMapper().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS.mappedFeature())
            .readTree(path("expected.json").toFile())
    }

    /** Every tensor of [section] in expected.json must be in [actual], with the same shape and exactly equal values. */
    fun assertMatches(section: String, actual: Map<String, HostTensor>, exactKeys: Boolean = true) {
        val want = expected.get(section) ?: error("expected.json has no section $section")
        val names = want.fieldNames().asSequence().toList()
        if (exactKeys) actual.keys.toList() shouldBe names
        for (name in names) {
            withClue("$section / $name") {
                val e = want.get(name)
                val t = actual[name]
                t shouldNotBe null
                t!!.shape().toList() shouldBe e.get("shape").map { it.asInt() }
                val floating = e.get("dtype").asText() in setOf("F64", "F32", "F16", "BF16")
                if (floating) {
                    t.data shouldNotBe null
                    // bit patterns, so -0.0 vs 0.0 or a NaN would show
                    t.data!!.map { it.toRawBits() } shouldBe e.get("values").map { it.asDouble().toFloat().toRawBits() }
                } else {
                    t.ints shouldNotBe null
                    t.ints!!.toList() shouldBe e.get("values").map { it.asLong().toInt() }
                }
            }
        }
    }
}
