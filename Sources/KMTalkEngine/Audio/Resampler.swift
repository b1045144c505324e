import CSoxr

/// Streaming mono sample-rate conversion with libsoxr at its high-quality recipe
/// (20-bit, linear phase). Feed blocks with `process`, then call `flush` once to drain
/// the filter's delay line; the total output length is `round(input * ratio)`.
final class Resampler {
    private let handle: soxr_t
    /// Input rate over output rate.
    let inputRate: Double
    let outputRate: Double

    init(inputRate: Double, outputRate: Double) throws {
        var error: soxr_error_t?
        var quality = soxr_quality_spec(4 /* SOXR_HQ */, 0)
        var io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        guard let handle = soxr_create(inputRate, outputRate, 1, &error, &io, &quality, nil), error == nil else {
            let detail = error.map { String(cString: $0) } ?? "unknown error"
            throw KMTError(.internal, "resampler \(inputRate) Hz -> \(outputRate) Hz: \(detail)")
        }
        self.handle = handle
        self.inputRate = inputRate
        self.outputRate = outputRate
    }

    deinit { soxr_delete(handle) }

    /// Resamples `input` and appends the produced samples to `output`.
    func process(_ input: UnsafeBufferPointer<Float>, into output: inout [Float]) throws {
        try run(input.baseAddress, count: input.count, into: &output)
    }

    /// Drains the remaining samples at the end of the stream.
    func flush(into output: inout [Float]) throws {
        try run(nil, count: 0, into: &output)
    }

    private func run(_ input: UnsafePointer<Float>?, count: Int, into output: inout [Float]) throws {
        let ratio = outputRate / inputRate
        var consumed = 0
        var flushing = input == nil
        repeat {
            let room = max(256, Int(Double(count - consumed) * ratio) + 64)
            let start = output.count
            output.append(contentsOf: repeatElement(0, count: room))
            var inputDone = 0
            var outputDone = 0
            let error = output.withUnsafeMutableBufferPointer { out in
                soxr_process(
                    handle, input.map { $0 + consumed }, count - consumed, &inputDone,
                    out.baseAddress! + start, room, &outputDone)
            }
            output.removeLast(room - outputDone)
            if let error {
                throw KMTError(.internal, "resampler: \(String(cString: error))")
            }
            consumed += inputDone
            // When flushing, keep pulling until soxr has nothing left.
            if flushing && outputDone == 0 { flushing = false }
            if !flushing && consumed >= count && outputDone < room { break }
        } while true
    }
}
