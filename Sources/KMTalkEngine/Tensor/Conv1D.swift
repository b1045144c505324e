/// Geometry of a 1-D convolution over time.
public struct Conv1DGeometry: Sendable, Equatable {
    public var stride: Int
    public var padding: Int
    public var dilation: Int

    public init(stride: Int = 1, padding: Int = 0, dilation: Int = 1) {
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    /// Output length for an input of `length` frames and a kernel of `kernel` taps
    /// (PyTorch's formula); 0 when the input is too short.
    public func outputLength(inputLength length: Int, kernel: Int) -> Int {
        let span = dilation * (kernel - 1) + 1
        let padded = length + 2 * padding
        return padded < span ? 0 : (padded - span) / stride + 1
    }
}

/// 1-D convolution over time of a time-major input `x` [T, Cin] with a PyTorch-layout
/// weight [Cout, Cin, K] and optional bias [Cout]; returns [Tout, Cout]. Zero padding.
/// Implemented as im2col into [Tout, Cin*K] followed by one sgemm.
public func conv1d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, geometry: Conv1DGeometry = .init()) -> Tensor {
    precondition(x.shape.count == 2 && weight.shape.count == 3, "conv1d: expects x [T, Cin] and weight [Cout, Cin, K]")
    let length = x.shape[0], inChannels = x.shape[1]
    let outChannels = weight.shape[0], kernel = weight.shape[2]
    precondition(weight.shape[1] == inChannels, "conv1d: input has \(inChannels) channels, weight expects \(weight.shape[1])")
    let outLength = geometry.outputLength(inputLength: length, kernel: kernel)
    let patch = inChannels * kernel
    var columns = [Float](repeating: 0, count: outLength * patch)
    columns.withUnsafeMutableBufferPointer { cols in
        x.data.withUnsafeBufferPointer { input in
            for t in 0..<outLength {
                let row = cols.baseAddress! + t * patch
                for k in 0..<kernel {
                    let source = t * geometry.stride - geometry.padding + k * geometry.dilation
                    guard source >= 0, source < length else { continue }
                    let frame = input.baseAddress! + source * inChannels
                    for c in 0..<inChannels {
                        row[c * kernel + k] = frame[c]
                    }
                }
            }
        }
    }
    let flatWeight = weight.reshaped([outChannels, patch])
    return linear(Tensor(shape: [outLength, patch], data: columns), weight: flatWeight, bias: bias)
}
