package org.maejvm.simd

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.IOException
import java.util.concurrent.CountDownLatch
import java.util.concurrent.atomic.AtomicIntegerArray
import kotlin.concurrent.thread

class ThreadPoolTest : FunSpec({
    val pool = ThreadPool(3)
    afterSpec { pool.close() }

    fun counts(tasks: Int, run: (Int, (Int) -> Unit) -> Unit): List<Int> {
        val seen = AtomicIntegerArray(tasks)
        run(tasks) { seen.incrementAndGet(it) }
        return List(tasks) { seen.get(it) }
    }

    test("every index runs exactly once, for task counts around the thread count") {
        for (tasks in listOf(0, 1, 2, 3, 4, 7, 64, 1000)) {
            counts(tasks) { n, body -> pool.parallelFor(n) { body(it) } } shouldBe List(tasks) { 1 }
        }
    }

    test("back-to-back loops see each other's writes (the pool is a barrier)") {
        val data = IntArray(4096)
        repeat(200) { round ->
            pool.parallelFor(64) { t -> for (i in t * 64 until (t + 1) * 64) data[i] += 1 }
            data.all { it == round + 1 } shouldBe true
        }
    }

    test("tasks run on more than one thread") {
        val names = java.util.concurrent.ConcurrentHashMap.newKeySet<String>()
        val latch = CountDownLatch(2)
        // Two tasks that each wait for the other can only finish if two threads run them.
        pool.parallelFor(2) {
            names.add(Thread.currentThread().name)
            latch.countDown()
            latch.await()
        }
        names.size shouldBe 2
    }

    test("a runtime exception in a task propagates to the caller, and the pool stays usable") {
        val e = shouldThrow<IllegalStateException> {
            pool.parallelFor(50) { if (it == 17) throw IllegalStateException("task 17 failed") }
        }
        e.message shouldContain "task 17"
        counts(50) { n, body -> pool.parallelFor(n) { body(it) } } shouldBe List(50) { 1 }
    }

    test("errors propagate as themselves, checked exceptions wrapped") {
        shouldThrow<AssertionError> { pool.parallelFor(10) { if (it == 3) throw AssertionError("boom") } }
        val wrapped = shouldThrow<RuntimeException> {
            pool.parallelFor(10) { if (it == 9) throw IOException("disk") }
        }
        (wrapped.cause is IOException) shouldBe true
    }

    test("nested parallelFor runs inline and still covers every inner index once") {
        val outer = 6
        val inner = 37
        val seen = AtomicIntegerArray(outer * inner)
        pool.parallelFor(outer) { o -> pool.parallelFor(inner) { i -> seen.incrementAndGet(o * inner + i) } }
        List(outer * inner) { seen.get(it) } shouldBe List(outer * inner) { 1 }
    }

    test("concurrent callers from several threads each get all their indices") {
        val results = arrayOfNulls<List<Int>>(4)
        val callers = (0 until 4).map { c ->
            thread {
                var ok = true
                repeat(50) {
                    val got = counts(33) { n, body -> pool.parallelFor(n) { body(it) } }
                    if (got != List(33) { 1 }) ok = false
                }
                results[c] = if (ok) listOf(1) else listOf(0)
            }
        }
        callers.forEach { it.join() }
        results.toList() shouldBe List(4) { listOf(1) }
    }

    test("a single-thread pool runs everything on the caller") {
        ThreadPool(1).use { single ->
            val caller = Thread.currentThread()
            var others = 0
            single.parallelFor(20) { if (Thread.currentThread() !== caller) others++ }
            others shouldBe 0
        }
    }

    test("a closed pool refuses work and a bad size is rejected by name") {
        val p = ThreadPool(2)
        p.close()
        shouldThrow<IllegalStateException> { p.parallelFor(4) { } }.message shouldContain "closed"
        shouldThrow<IllegalArgumentException> { ThreadPool(0) }.message shouldContain "thread count"
    }
})
