import KMTalkVector

/// Element-wise activation functions.
enum Activation: String, Sendable {
    /// The exact GELU, `0.5 x (1 + erf(x / sqrt 2))` (PyTorch's default).
    case gelu
    /// SiLU (swish), `x * sigmoid(x)`.
    case silu
    /// Rectified linear unit.
    case relu
    /// Logistic sigmoid.
    case sigmoid
    /// Identity.
    case identity

    /// Applies the function to every element in place (GELU, SiLU and sigmoid through
    /// `VectorMath`, eight elements at a time, within 1e-6 of the Glibc formulas).
    func apply(_ values: inout [Float]) {
        values.withUnsafeMutableBufferPointer { v in
            guard let base = v.baseAddress else { return }
            switch self {
            case .gelu:
                VectorMath.geluInPlace(base, count: v.count)
            case .silu:
                VectorMath.siluInPlace(base, count: v.count)
            case .relu:
                for i in v.indices { v[i] = max(v[i], 0) }
            case .sigmoid:
                VectorMath.sigmoidInPlace(base, count: v.count)
            case .identity:
                break
            }
        }
    }

    /// Returns `x` with the function applied to every element.
    func callAsFunction(_ x: Tensor) -> Tensor {
        var result = x
        apply(&result.data)
        return result
    }
}

/// GELU (exact, erf-based) of every element.
func gelu(_ x: Tensor) -> Tensor { Activation.gelu(x) }
/// SiLU of every element.
func silu(_ x: Tensor) -> Tensor { Activation.silu(x) }
/// Logistic sigmoid of every element.
func sigmoid(_ x: Tensor) -> Tensor { Activation.sigmoid(x) }
