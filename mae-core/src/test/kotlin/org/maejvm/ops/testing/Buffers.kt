package org.maejvm.ops.testing

import org.maejvm.ops.Backend
import org.maejvm.ops.RowView
import org.maejvm.tensor.Tensor

/**
 * Named host float buffers, uploaded to a backend as flat tensors; ops read them through row views. Running the
 * same Buffers on two backends and downloading every buffer afterwards compares everything an op wrote,
 * including what it must have left alone (padding columns, rows outside a view).
 */
class Buffers(private val host: Map<String, FloatArray>) {
    fun on(backend: Backend) = Uploaded(backend, host.mapValues { (_, data) -> backend.fromHost(data.copyOf(), data.size) })

    class Uploaded(val backend: Backend, val tensors: Map<String, Tensor>) {
        operator fun get(name: String): Tensor = tensors.getValue(name)

        fun view(name: String, offset: Int, stride: Int) = RowView(get(name), offset, stride)

        fun download(): Map<String, FloatArray> = tensors.mapValues { (_, t) -> backend.toHost(t) }
    }
}
