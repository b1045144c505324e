/// Geometry of a 1-D convolution over time.
struct Conv1DGeometry: Sendable, Equatable {
    var stride: Int
    var padding: Int
    var dilation: Int

    init(stride: Int = 1, padding: Int = 0, dilation: Int = 1) {
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    /// Output length for an input of `length` frames and a kernel of `kernel` taps
    /// (PyTorch's formula); 0 when the input is too short.
    func outputLength(inputLength length: Int, kernel: Int) -> Int {
        let span = dilation * (kernel - 1) + 1
        let padded = length + 2 * padding
        return padded < span ? 0 : (padded - span) / stride + 1
    }
}

/// 1-D convolution over time of a time-major input `x` [T, Cin] with a PyTorch-layout
/// weight [Cout, Cin, K] and optional bias [Cout]; returns [Tout, Cout]. Zero padding.
/// Implemented as im2col into [Tout, Cin*K] followed by one sgemm.
func conv1d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, geometry: Conv1DGeometry = .init()) -> Tensor {
    let length = x.shape[0]
    let outLength = geometry.outputLength(inputLength: length, kernel: weight.shape[2])
    return conv1d(x, inputStart: 0, inputLength: length, weight: weight, bias: bias, geometry: geometry, outputs: 0..<outLength)
}

/// The outputs `outputs` (absolute indices) of the convolution of a sequence of
/// `inputLength` frames of which `x` [n, Cin] holds the rows from absolute index
/// `inputStart` on: exactly the rows the whole-sequence `conv1d` computes, zero padding
/// outside `0..<inputLength`. The streaming driver calls it with the rows it keeps; a
/// frame the window needs that `x` does not hold reads as zero.
func conv1d(
    _ x: Tensor, inputStart: Int, inputLength: Int, weight: Tensor, bias: Tensor?, geometry: Conv1DGeometry,
    outputs: Range<Int>
) -> Tensor {
    precondition(x.shape.count == 2 && weight.shape.count == 3, "conv1d: expects x [T, Cin] and weight [Cout, Cin, K]")
    let outChannels = weight.shape[0], kernel = weight.shape[2]
    precondition(weight.shape[1] == x.shape[1], "conv1d: input has \(x.shape[1]) channels, weight expects \(weight.shape[1])")
    let columns = im2col(x, inputStart: inputStart, inputLength: inputLength, kernel: kernel, geometry: geometry, outputs: outputs)
    return linear(columns, weight: weight.reshaped([outChannels, x.shape[1] * kernel]), bias: bias)
}

/// The same rows as `conv1d(_:inputStart:inputLength:weight:...)` with the weight already
/// flattened to [Cout, Cin*K] and packed (`PackedLinear`), so streaming's few-row calls
/// pack nothing.
func conv1d(
    _ x: Tensor, inputStart: Int, inputLength: Int, kernel: Int, projection: PackedLinear, geometry: Conv1DGeometry,
    outputs: Range<Int>
) -> Tensor {
    precondition(x.shape.count == 2 && projection.inFeatures == x.shape[1] * kernel,
                 "conv1d: input has \(x.shape) rows and channels, the packed weight expects \(projection.inFeatures) = Cin * \(kernel)")
    return projection(im2col(x, inputStart: inputStart, inputLength: inputLength, kernel: kernel, geometry: geometry, outputs: outputs))
}

/// The im2col matrix [outputs.count, Cin*K] of `conv1d`: row r holds, channel-major, the K
/// input frames output `outputs.lowerBound + r` reads (zero outside the held rows and the
/// sequence).
func im2col(
    _ x: Tensor, inputStart: Int, inputLength: Int, kernel: Int, geometry: Conv1DGeometry, outputs: Range<Int>
) -> Tensor {
    let held = x.shape[0], inChannels = x.shape[1]
    let patch = inChannels * kernel
    var columns = [Float](repeating: 0, count: outputs.count * patch)
    columns.withUnsafeMutableBufferPointer { cols in
        x.data.withUnsafeBufferPointer { input in
            for (r, t) in outputs.enumerated() {
                let row = cols.baseAddress! + r * patch
                for k in 0..<kernel {
                    let source = t * geometry.stride - geometry.padding + k * geometry.dilation
                    guard source >= 0, source < inputLength else { continue }
                    let local = source - inputStart
                    guard local >= 0, local < held else { continue }
                    let frame = input.baseAddress! + local * inChannels
                    for c in 0..<inChannels {
                        row[c * kernel + k] = frame[c]
                    }
                }
            }
        }
    }
    return Tensor(shape: [outputs.count, patch], data: columns)
}
