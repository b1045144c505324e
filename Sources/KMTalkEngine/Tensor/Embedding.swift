/// Looks up rows of `table` [vocabulary, D] for `ids`; returns [ids.count, D].
/// Throws an invalid-argument error for an id outside the table.
func embedding(_ ids: [Int], table: Tensor) throws -> Tensor {
    let vocabulary = table.shape[0], width = table.shape[1]
    var output = [Float](repeating: 0, count: ids.count * width)
    for (row, id) in ids.enumerated() {
        guard id >= 0, id < vocabulary else {
            throw KMTError.invalidArgument("embedding: id \(id) outside the table of \(vocabulary) rows")
        }
        for c in 0..<width { output[row * width + c] = table.data[id * width + c] }
    }
    return Tensor(shape: [ids.count, width], data: output)
}
