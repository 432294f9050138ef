package org.maejvm.spark

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.booleans.shouldBeTrue
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.time.Duration.Companion.minutes
import org.apache.spark.SparkConf
import org.apache.spark.SparkContext
import org.maejvm.io.Safetensors
import org.maejvm.model.MaeConfig
import org.maejvm.train.PretrainConfig
import org.maejvm.train.Pretrainer
import org.maejvm.train.TrainingEvent

/** 8x8 gray images, 2x2 patches, one block of width 8 each side: seconds per run on the reference backend. */
private fun tinyConfig(out: Path): PretrainConfig = PretrainConfig.builder()
    .model(MaeConfig(8, 2, 1, 8, 1, 2, 8, 1, 2, 2.0, false)).modelName("tiny-spark")
    .epochs(2).batchSize(4).blr(1e-2).warmupEpochs(1.0).minLr(1e-6).seed(5)
    .outputDir(out).saveEverySteps(2).keepLast(2).logFreq(1).build()

/** Settings every barrier-stage test needs, or a missing slot makes the scheduler retry for minutes. */
fun testConf(master: String): SparkConf = SparkConf().setMaster(master).setAppName("mae-spark-test")
    .set("spark.ui.enabled", "false")
    .set("spark.driver.host", "127.0.0.1")
    .set("spark.driver.bindAddress", "127.0.0.1")
    .set("spark.dynamicAllocation.enabled", "false")
    .set("spark.scheduler.barrier.maxConcurrentTasksCheck.interval", "1s")
    .set("spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures", "60")

/** Every float tensor of a checkpoint: weights and optimizer moments. */
private fun tensors(file: Path): Map<String, FloatArray> =
    Safetensors.read(file).filterValues { it.data != null }.mapValues { it.value.data }

private fun <T> withSpark(conf: SparkConf, body: (SparkContext) -> T): T {
    val sc = SparkContext(conf)
    try {
        return body(sc)
    } finally {
        sc.stop()
    }
}

class SparkPretrainingTest : FunSpec({
    test("local[2]: 2 barrier tasks train, the driver gets the events, rank 0 writes checkpoints; a failed rank is retried from the last checkpoint").config(timeout = 8.minutes) {
        val whole = tempdir().toPath()
        val broken = tempdir().toPath()
        // local[2, 4]: 2 slots, a task may fail up to 4 times (plain local[N] never retries)
        withSpark(testConf("local[2,4]")) { sc ->
            val events = CopyOnWriteArrayList<TrainingEvent>()
            val f = SparkPretraining.builder(tinyConfig(whole), "synthetic:40").workers(2).backend("reference")
                .threads(1).listener { events.add(it) }.run(sc)
            // 40 images over 2 ranks = 20 each, batch 4: 5 steps per epoch on every rank, 2 epochs
            f.globalStep shouldBe 10L
            f.stopped shouldBe false
            f.lastLoss.isFinite().shouldBeTrue()
            val started = events.filterIsInstance<TrainingEvent.Started>().single()
            started.stepsPerEpoch shouldBe 5
            started.config.worldSize shouldBe 2
            started.config.effectiveBatchSize() shouldBe 8
            events.filterIsInstance<TrainingEvent.Step>().map { it.globalStep } shouldContainExactly (1L..10L).toList()
            events.filterIsInstance<TrainingEvent.EpochEnd>().map { it.epoch } shouldContainExactly listOf(0, 1)
            events.filterIsInstance<TrainingEvent.CheckpointSaved>().isNotEmpty().shouldBeTrue()
            Files.exists(whole.resolve(Pretrainer.LAST)).shouldBeTrue()
            Safetensors.readMetadata(whole.resolve(Pretrainer.LAST))["global_step"] shouldBe "10"

            // Rank 1 dies after step 5 on the first attempt: Spark retries the barrier stage, every rank resumes
            // from the checkpoint at step 4, and the run ends exactly where the unbroken one did.
            val retried = CopyOnWriteArrayList<TrainingEvent>()
            val g = SparkPretraining.builder(tinyConfig(broken), "synthetic:40").workers(2).backend("reference")
                .threads(1).listener { retried.add(it) }.failOnce(1, 5).run(sc)
            g.globalStep shouldBe 10L
            val resumed = retried.filterIsInstance<TrainingEvent.Started>().firstOrNull { it.resumedFrom != null }
            resumed.shouldNotBeNull()
            resumed.globalStep shouldBe 4L
            val a = tensors(whole.resolve(Pretrainer.LAST))
            val b = tensors(broken.resolve(Pretrainer.LAST))
            a.keys shouldBe b.keys
            for ((k, v) in a) withClue(k) { v.contentEquals(b.getValue(k)).shouldBeTrue() }
        }
    }

    // Separate executor JVMs (a Spark master, two workers and their executors, all started by this test): about
    // 15 s on an idle 2-core machine, minutes on a loaded one; -Dmaejvm.spark.localCluster=false skips it.
    test("local-cluster[2,1,1024]: ranks in separate executor processes train over TCP")
        .config(enabled = System.getProperty("maejvm.spark.localCluster") != "false", timeout = 8.minutes) {
        val out = tempdir().toPath()
        Files.createDirectories(Path.of(System.getenv("SPARK_HOME") ?: error("SPARK_HOME is not set (surefire sets it)"), "jars"))
        val cp = System.getProperty("surefire.test.class.path") ?: System.getProperty("java.class.path")
        val conf = testConf("local-cluster[2,1,1024]")
            .set("spark.executor.memory", "512m")
            .set("spark.executor.extraClassPath", cp)
            .set("spark.executor.extraJavaOptions", "--add-modules=jdk.incubator.vector " + (System.getProperty("maejvm.spark.opens") ?: ""))
        withSpark(conf) { sc ->
            val events = CopyOnWriteArrayList<TrainingEvent>()
            val f = SparkPretraining.builder(tinyConfig(out), "synthetic:40").workers(2).backend("reference")
                .threads(1).listener { events.add(it) }.run(sc)
            f.globalStep shouldBe 10L
            events.filterIsInstance<TrainingEvent.Step>().size shouldBe 10
            Files.exists(out.resolve(Pretrainer.LAST)).shouldBeTrue()
            // the executors were other processes: their JVMs are not this one
            sc.statusTracker().executorInfos.size shouldNotBe 1
        }
    }
})
