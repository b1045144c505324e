/// Vectorised transcendental functions for the activations and the softmax, eight lanes
/// at a time (`SIMD8<Float>`, which LLVM lowers to two SSE or one AVX register), so the
/// hot loops stop calling scalar `erff` and `expf` once per element.
///
/// Both are accurate to a few units in the last place over the range the network uses:
/// `exp` has a relative error below 3e-7 for `x` in [-87.3, 88.37] (Cephes' `expf`
/// polynomial after a Cody-Waite reduction), `erf` an absolute error below 5e-7
/// (a [13/8] rational approximation on [-4, 4], where erf is 1 within float precision
/// outside). `Tests/KMTalkEngineTests/VectorMathTests.swift` checks both against Glibc.
///
/// This module is compiled optimised in every configuration (Package.swift), and the
/// engine calls its closure-free kernels (`geluInPlace`, `softmaxInPlace`, ...), so they
/// run at full speed from a debug build too.
public enum VectorMath {
    public typealias Lanes = SIMD8<Float>

    /// e^x per lane. Lanes below -87.3 (including -infinity) give 0, lanes above 88.37
    /// give +infinity (a little early: e^88.37 is 2.5e38, e^88.72 the largest float);
    /// NaN stays NaN.
    @inline(__always)
    public static func exp(_ x: Lanes) -> Lanes {
        let log2e: Float = 1.44269504088896341
        // Round x * log2(e) to the nearest integer with the 1.5 * 2^23 trick: after the
        // add, the float's low mantissa bits hold n (valid for |n| < 2^22).
        let magic: Float = 12_582_912
        let clamped = clamp(x, -87.3, 88.37)
        let shifted = clamped * log2e + magic
        let n = shifted - magic
        // Cody-Waite: r = x - n ln 2, with ln 2 split in a part exact in float and the rest.
        var r = clamped - n * 0.693359375
        r = r - n * -2.12194440e-4
        var p = Lanes(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * (r * r) + r + 1
        // 2^n: n + 127 in the exponent field. The bits of `shifted` are 0x4B400000 + n.
        let bits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((bits &+ 127) &<< 23, to: Lanes.self)
        var result = p * scale
        result.replace(with: 0, where: x .< -87.3)
        result.replace(with: .infinity, where: x .> 88.37)
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// `x` limited to [lower, upper] per lane (NaN stays NaN). Written with compares and
    /// selects: the standard library's `clamped` and `pointwiseMin/Max` loop over the
    /// lanes one at a time and do not inline (4-5 % of a streaming profile).
    @inline(__always)
    public static func clamp(_ x: Lanes, _ lower: Float, _ upper: Float) -> Lanes {
        var result = x
        result.replace(with: lower, where: x .< lower)
        result.replace(with: upper, where: x .> upper)
        return result
    }

    /// erf(x) per lane.
    @inline(__always)
    public static func erf(_ x: Lanes) -> Lanes {
        let clamped = clamp(x, -4, 4)
        let x2 = clamped * clamped
        var p = Lanes(repeating: -2.72614225801306e-10)
        p = p * x2 + 2.77068142495902e-08
        p = p * x2 + -2.10102402082508e-06
        p = p * x2 + -5.69250639462346e-05
        p = p * x2 + -7.34990630326855e-04
        p = p * x2 + -2.95459980854025e-03
        p = p * x2 + -1.60960333262415e-02
        var q = Lanes(repeating: -1.45660718464996e-05)
        q = q * x2 + -2.13374055278905e-04
        q = q * x2 + -1.68282697438203e-03
        q = q * x2 + -7.37332916720468e-03
        q = q * x2 + -1.42647390514189e-02
        var result = clamped * p / q
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// Applies `lanes` to `count` floats in place, eight at a time; the last partial block
    /// is copied into a register filled with `padding`, mapped, and only its real lanes
    /// written back (so odd lengths stay in bounds and a reduction inside `lanes` sees
    /// `lanes(padding)` in the extra lanes).
    @inline(__always)
    static func map(
        _ values: UnsafeMutablePointer<Float>, count: Int, padding: Float = 0, lanes: (Lanes) -> Lanes
    ) {
        var i = 0
        let raw = UnsafeMutableRawPointer(values)
        while i + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: Lanes.self)
            raw.storeBytes(of: lanes(v), toByteOffset: i * 4, as: Lanes.self)
            i += 8
        }
        if i < count {
            var tail = Lanes(repeating: padding)
            for j in 0..<(count - i) { tail[j] = values[i + j] }
            let mapped = lanes(tail)
            for j in 0..<(count - i) { values[i + j] = mapped[j] }
        }
    }

    /// The largest of `count` floats (-infinity for none).
    @inline(__always)
    public static func maximum(_ values: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = Lanes(repeating: -.infinity)
        var i = 0
        let raw = UnsafeRawPointer(values)
        while i + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: Lanes.self)
            lanes.replace(with: v, where: v .> lanes)
            i += 8
        }
        var result = lanes.max()
        while i < count {
            result = max(result, values[i])
            i += 1
        }
        return result
    }

    // MARK: - Kernels the engine calls (closure-free, so they run optimised from a debug
    // build of the engine too).

    /// The exact GELU, `0.5 x (1 + erf(x / sqrt 2))`, of `count` floats in place.
    public static func geluInPlace(_ values: UnsafeMutablePointer<Float>, count: Int) {
        map(values, count: count) { x in 0.5 * x * (1 + erf(x * 0.70710678118654752)) }
    }

    /// SiLU, `x / (1 + e^-x)`, of `count` floats in place.
    public static func siluInPlace(_ values: UnsafeMutablePointer<Float>, count: Int) {
        map(values, count: count) { x in x / (1 + exp(-x)) }
    }

    /// The logistic sigmoid of `count` floats in place.
    public static func sigmoidInPlace(_ values: UnsafeMutablePointer<Float>, count: Int) {
        map(values, count: count) { x in 1 / (1 + exp(-x)) }
    }

    /// Numerically stable softmax of `count` values in place. Entries equal to -infinity
    /// get probability 0; a row that is entirely -infinity becomes all zeros.
    public static func softmaxInPlace(_ values: UnsafeMutablePointer<Float>, count: Int) {
        let top = maximum(values, count: count)
        guard top > -Float.infinity else {
            values.update(repeating: 0, count: count)
            return
        }
        // Padding the last partial block with -infinity makes its extra lanes e^-inf = 0,
        // so they add nothing to the sum.
        var sums = Lanes(repeating: 0)
        map(values, count: count, padding: -.infinity) { x in
            let e = exp(x - top)
            sums += e
            return e
        }
        let scale = 1 / sums.sum()
        map(values, count: count) { x in x * scale }
    }

    /// One row of `width` (a multiple of 8) floats layer-normalised in place:
    /// `(x - mean) / sqrt(var + epsilon) * gamma + beta`, biased variance, eight-lane sums.
    public static func layerNormRow(
        _ values: UnsafeMutablePointer<Float>, width: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        epsilon: Float
    ) {
        precondition(width % 8 == 0, "layerNormRow: width \(width) is not a multiple of 8")
        let raw = UnsafeMutableRawPointer(values)
        let gammaRaw = UnsafeRawPointer(gamma), betaRaw = UnsafeRawPointer(beta)
        var sums = Lanes(repeating: 0)
        for i in stride(from: 0, to: width, by: 8) { sums += raw.loadUnaligned(fromByteOffset: i * 4, as: Lanes.self) }
        let mean = sums.sum() / Float(width)
        var squares = Lanes(repeating: 0)
        for i in stride(from: 0, to: width, by: 8) {
            let d = raw.loadUnaligned(fromByteOffset: i * 4, as: Lanes.self) - mean
            squares += d * d
        }
        let scale = 1 / (squares.sum() / Float(width) + epsilon).squareRoot()
        for i in stride(from: 0, to: width, by: 8) {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: Lanes.self)
            let g = gammaRaw.loadUnaligned(fromByteOffset: i * 4, as: Lanes.self)
            let b = betaRaw.loadUnaligned(fromByteOffset: i * 4, as: Lanes.self)
            raw.storeBytes(of: (v - mean) * scale * g + b, toByteOffset: i * 4, as: Lanes.self)
        }
    }
}
