/// A dense row-major float32 tensor.
///
/// The engine's ops take and return tensors; the last dimension is contiguous. Shapes
/// are small arrays (1 to 3 dimensions in practice).
struct Tensor: Sendable {
    /// The size of each dimension, outermost first.
    var shape: [Int]
    /// The elements in row-major order; `data.count == shape.reduce(1, *)`.
    var data: [Float]

    /// Wraps `data` with `shape`; the element counts must agree.
    init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not match \(data.count) elements")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// Number of elements.
    var count: Int { data.count }

    /// Number of rows when viewed as a matrix [rows, lastDimension].
    var rows: Int { shape.count <= 1 ? 1 : shape.dropLast().reduce(1, *) }

    /// Size of the last dimension.
    var lastDimension: Int { shape.last ?? 1 }

    /// The same elements with another shape of equal element count.
    func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }
}
