package org.maejvm.data

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import java.io.IOException
import java.util.Collections
import java.util.SplittableRandom
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking

/** Gray images whose pixels encode their index; indices in [broken] fail to read. */
class SyntheticDataset(val n: Int, val side: Int = 12, val broken: Set<Int> = emptySet()) : Dataset {
    val reads: MutableList<Int> = Collections.synchronizedList(ArrayList())
    override fun size() = n
    override fun classNames() = (0 until 10).map { "c$it" }
    override fun channels() = 1
    override fun read(index: Int): Sample {
        reads.add(index)
        if (index in broken) throw IOException("synthetic damage in item $index")
        val rng = SplittableRandom(index.toLong())
        val data = FloatArray(side * side) { rng.nextFloat() }
        return Sample(FloatImage(data, 1, side, side), index % 10)
    }
    override fun describe(index: Int) = "item-$index"
}

class DataLoaderTest : FunSpec({
    val transform = TrainTransform.mae(8, Normalization.FASHION_MNIST)

    fun collect(loader: DataLoader, epoch: Int): List<Batch> = runBlocking { loader.epoch(epoch).toList() }

    fun sameBatches(a: List<Batch>, b: List<Batch>) {
        a.size shouldBe b.size
        for (i in a.indices) {
            a[i].indices().toList() shouldBe b[i].indices().toList()
            a[i].labels().toList() shouldBe b[i].labels().toList()
            a[i].images().toList() shouldBe b[i].images().toList()
        }
    }

    test("1 worker and 4 workers give the same batches for the same seed") {
        val ds = SyntheticDataset(103)
        val one = collect(DataLoader(ds, transform, 16, seed = 42, workers = 1, prefetch = 0), 3)
        val four = collect(DataLoader(ds, transform, 16, seed = 42, workers = 4, prefetch = 3), 3)
        one.size shouldBe 6 // drop-last: 103 / 16
        sameBatches(one, four)
        one[0].shape().toList() shouldBe listOf(16, 1, 8, 8)
    }

    test("labels follow the indices; another seed or epoch reorders and re-augments") {
        val ds = SyntheticDataset(64)
        val loader = DataLoader(ds, transform, 8, seed = 1, workers = 2)
        val e0 = collect(loader, 0)
        for (b in e0) b.labels().toList() shouldBe b.indices().map { it % 10 }
        val e1 = collect(loader, 1)
        e1.flatMap { it.indices().toList() } shouldNotBe e0.flatMap { it.indices().toList() }
        val otherSeed = collect(DataLoader(ds, transform, 8, seed = 2, workers = 2), 0)
        otherSeed.flatMap { it.indices().toList() } shouldNotBe e0.flatMap { it.indices().toList() }
        // Each epoch is a permutation of all items.
        e0.flatMap { it.indices().toList() }.sorted() shouldBe (0 until 64).toList()
        // Collecting the same epoch again gives the same batches (the flow is cold and pure).
        sameBatches(collect(loader, 0), e0)
    }

    test("the batch image is the transform of the item with its (seed, epoch, index) generator") {
        val ds = SyntheticDataset(20)
        val b = collect(DataLoader(ds, transform, 5, seed = 9, workers = 3), 2)[1]
        for (k in 0 until b.size()) {
            val idx = b.indices()[k]
            val expected = transform.apply(ds.read(idx).image(), Seeds.forSample(9, 2, idx))
            b.image(k).data().toList() shouldBe expected.data().toList()
        }
    }

    test("shards are disjoint and together cover the epoch") {
        val n = 101
        for (world in listOf(1, 2, 3, 4, 7)) {
            val seen = mutableListOf<Int>()
            for (rank in 0 until world) {
                val loader = DataLoader(SyntheticDataset(n), transform, 4, seed = 5, rank = rank,
                    worldSize = world, dropLast = false, workers = 2)
                val mine = collect(loader, 1).flatMap { it.indices().toList() }
                loader.batchesPerEpoch() shouldBe collect(loader, 1).size
                seen.addAll(mine)
            }
            seen.size shouldBe n
            seen.toSet() shouldBe (0 until n).toSet()
        }
    }

    test("with drop-last every rank runs the same number of full batches") {
        val counts = (0 until 3).map { rank ->
            val loader = DataLoader(SyntheticDataset(100), transform, 11, rank = rank, worldSize = 3, workers = 1)
            collect(loader, 0).also { batches -> batches.forEach { it.size() shouldBe 11 } }.size
        }
        counts shouldBe listOf(3, 3, 3) // floor(floor(100 / 3) / 11)
    }

    test("without drop-last the last batch is short") {
        val loader = DataLoader(SyntheticDataset(10), transform, 4, dropLast = false, shuffle = false, workers = 1)
        collect(loader, 0).map { it.size() } shouldBe listOf(4, 4, 2)
        collect(loader, 0).flatMap { it.indices().toList() } shouldBe (0 until 10).toList()
    }

    test("unreadable items are skipped, counted per epoch, and do not change the other items") {
        val broken = setOf(3, 17, 18, 40)
        val clean = collect(DataLoader(SyntheticDataset(48), transform, 8, seed = 3, workers = 2), 0)
        val reports = mutableListOf<DataStats>()
        val loader = DataLoader(SyntheticDataset(48, broken = broken), transform, 8, seed = 3, workers = 2,
            statsListener = { reports.add(it) })
        val damaged = collect(loader, 0)
        damaged.sumOf { it.size() } shouldBe 44
        for ((c, d) in clean.zip(damaged)) {
            d.indices().toList() shouldBe c.indices().filter { it !in broken }
            for (k in 0 until d.size()) {
                val ck = c.indices().indexOf(d.indices()[k])
                d.image(k).data().toList() shouldBe c.image(ck).data().toList()
            }
        }
        val s = reports.single()
        s.skipped() shouldBe 4
        s.delivered() shouldBe 44
        s.firstSkipped().map { it.index() }.toSet() shouldBe broken
        s.firstSkipped()[0].reason() shouldContain "synthetic damage"
        s.summary() shouldContain "4 skipped"
    }

    test("the blocking iterator gives the flow's batches, and closing it early stops the epoch") {
        val ds = SyntheticDataset(60)
        val loader = DataLoader.builder(ds, transform).batchSize(7).seed(11).workers(3).build()
        val viaIterator = loader.iterator(4).use { it.asSequence().toList() }
        sameBatches(viaIterator, collect(loader, 4))
        val viaCallback = mutableListOf<Batch>()
        loader.forEachBatch(4) { viaCallback.add(it) }
        sameBatches(viaCallback, viaIterator)

        val it = loader.iterator(0)
        it.next().size() shouldBe 7
        it.close()
        it.hasNext() shouldBe false
    }

    test("a cancelled collector stops reading soon after (bounded prefetch)") {
        val ds = SyntheticDataset(1000)
        val loader = DataLoader(ds, transform, 10, workers = 2, prefetch = 2)
        val got = runBlocking { loader.epoch(0).take(2).toList() }
        got.size shouldBe 2
        // At most the 2 taken + prefetch + 1 in flight batches were ever started.
        (ds.reads.size <= 10 * 5) shouldBe true
        ds.reads.size shouldBeGreaterThan 19
    }

    test("errors of the pipeline itself reach the consumer") {
        val ds = SyntheticDataset(10)
        val badTransform = object : Transform {
            override fun outputHeight() = 4
            override fun outputWidth() = 4
            override fun apply(image: FloatImage, rng: java.util.random.RandomGenerator, dst: FloatArray, offset: Int) {
                throw IllegalStateException("transform bug")
            }
        }
        val loader = DataLoader(ds, badTransform, 5, workers = 2)
        shouldThrow<IllegalStateException> { collect(loader, 0) }.message shouldBe "transform bug"
        shouldThrow<IllegalStateException> { loader.iterator(0).use { it.hasNext() } }.message shouldBe "transform bug"
    }

    test("the pretraining and evaluation presets") {
        val ds = SyntheticDataset(30)
        val pre = DataLoader.forPretraining(ds, 8, 4, seed = 3)
        pre.shuffle shouldBe true
        pre.dropLast shouldBe true
        collect(pre, 0).size shouldBe 7
        val eval = DataLoader.forEvaluation(ds, 8, 4)
        val batches = collect(eval, 0)
        batches.flatMap { it.indices().toList() } shouldBe (0 until 30).toList()
        // Deterministic: the same pixels whatever the epoch.
        sameBatches(collect(eval, 5), batches)
    }

    test("bad settings are refused with the value") {
        val ds = SyntheticDataset(10)
        shouldThrow<IllegalArgumentException> { DataLoader(ds, transform, 0) }.message shouldBe
            "batch size must be >= 1, got 0"
        shouldThrow<IllegalArgumentException> { DataLoader(ds, transform, 2, rank = 2, worldSize = 2) }.message shouldBe
            "shard needs worldSize >= 1 and 0 <= rank < worldSize, got rank=2 worldSize=2"
        shouldThrow<IllegalArgumentException> { DataLoader(ds, TrainTransform.mae(8, Normalization.IMAGENET), 2) }
    }

    test("in-memory data: float arrays and BufferedImages") {
        val arr = FloatArray(3 * 2 * 2 * 2) { it / 24f }
        val ds = InMemoryDataset.fromArray(arr, 3, 2, 2, 2, intArrayOf(0, 1, 1))
        ds.size() shouldBe 3
        ds.read(2).image().get(1, 1, 1) shouldBe 23 / 24f
        ds.read(2).label() shouldBe 1
        val bi = InMemoryDataset.fromBufferedImages(listOf(TestImages.rgb(4, 3)), null, 1, null)
        bi.channels() shouldBe 1
        bi.read(0).label() shouldBe -1
        bi.normalization() shouldBe Normalization.HALF
        val batch = collect(DataLoader(ds, EvalTransform(2, null), 3, shuffle = false, workers = 1), 0).single()
        // int(2 / 0.875) = 2: resizing 2 -> 2 and cropping 2 is the identity, so the batch is the array itself.
        batch.images().toList() shouldBe arr.toList()
    }
})
