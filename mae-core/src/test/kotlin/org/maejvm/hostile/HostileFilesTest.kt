package org.maejvm.hostile

import io.kotest.assertions.fail
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.util.concurrent.ExecutionException
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException
import kotlin.io.path.listDirectoryEntries
import kotlin.io.path.name
import org.maejvm.io.MalformedFileException
import org.maejvm.io.RefusedPickleException

/**
 * Every file of the hostile corpus (test resources `hostile/`) is refused by its reader within seconds, with a
 * MalformedFileException (RefusedPickleException for pickles that would run code) whose message names the file and
 * the problem; nothing else (no OutOfMemoryError, no other exception, no hang) is acceptable.
 */
class HostileFilesTest : FunSpec({
    val target = System.getProperty("mae.hostile.write")
    val dir: Path = if (target != null) {
        Paths.get(target).also { HostileCorpus.writeAll(it) }
    } else {
        Paths.get(HostileFilesTest::class.java.getResource("/hostile")!!.toURI())
    }
    val pool = Executors.newSingleThreadExecutor { r -> Thread(r, "hostile-reader").apply { isDaemon = true } }
    afterSpec { pool.shutdownNow() }

    test("the corpus folder holds exactly the files the builder describes") {
        dir.listDirectoryEntries().map { it.name }.filter { it != "README.md" }.sorted() shouldBe
            HostileCorpus.all.map { it.name }.sorted()
    }

    for (h in HostileCorpus.all) {
        test("${h.name} is refused by ${h.reader}: ${h.expected}") {
            val file = dir.resolve(h.name)
            val future = pool.submit<Any?> { h.reader.read(file) }
            val error = try {
                future.get(20, TimeUnit.SECONDS)
                fail("${h.name} was read without an error")
            } catch (e: TimeoutException) {
                future.cancel(true)
                fail("${h.name}: still reading after 20 s")
            } catch (e: ExecutionException) {
                e.cause!!
            }
            withClue("${error.javaClass.name}: ${error.message}") {
                error.shouldBeInstanceOf<MalformedFileException>()
                if (h.refusedPickle) error.shouldBeInstanceOf<RefusedPickleException>()
                error.file() shouldBe file
                error.message!! shouldContain file.toString()
                error.message!! shouldContain h.expected
                error.message!!.lines().size shouldBe 1
            }
        }
    }
})
