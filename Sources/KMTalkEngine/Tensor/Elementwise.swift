/// Element-wise sum of two tensors of equal shape.
func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
    var output = a.data
    output.withUnsafeMutableBufferPointer { o in
        b.data.withUnsafeBufferPointer { bp in
            for i in o.indices { o[i] += bp[i] }
        }
    }
    return Tensor(shape: a.shape, data: output)
}
