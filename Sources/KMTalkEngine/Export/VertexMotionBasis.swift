/// A vertices-space animation as a few morph targets, for glTF (which animates meshes only
/// by morph target weights): `positions(t) = neutral + sum_k weight[t, k] * target[k]`,
/// every weight in 0...1.
///
/// The targets span the offsets' principal subspace: the frames' mean is removed, then a
/// seeded block subspace iteration (`iterations` rounds of X^T (X Q) with modified
/// Gram-Schmidt in double precision) finds at most `maxComponents` orthonormal directions;
/// directions whose norm collapses (the motion has lower rank) are dropped. A vertices-space
/// KMTalk model whose output layer is a principal-component basis (kmtalk_train's
/// vertex_train) moves in at most that many directions, so its animation comes back
/// exactly (to float rounding); another model's is approximated, and `largestError` says
/// by how much. Each direction's coefficients are mapped onto 0...1 (their minimum goes
/// into the neutral, their range into the target), since importers clamp or hide shape
/// keys outside that range.
struct VertexMotionBasis {
    /// Base positions, V x 3 (template + mean offset + each direction at its minimum).
    let neutral: [Float]
    /// K x V x 3 target deltas.
    let targets: [Float]
    /// Frames x K weights in 0...1.
    let weights: [Float]
    /// K.
    let count: Int
    /// The largest |reconstructed - original| position coordinate, in the template's units.
    let largestError: Float

    /// Fits `offsets` (frames x 3V) around `template` (V x 3).
    static func fit(
        offsets: [Float], frames: Int, template: [Float], maxComponents: Int = 64, iterations: Int = 4
    ) -> VertexMotionBasis {
        let width = template.count
        precondition(frames > 0 && offsets.count == frames * width)
        var mean = [Double](repeating: 0, count: width)
        for frame in 0..<frames {
            for j in 0..<width { mean[j] += Double(offsets[frame * width + j]) }
        }
        for j in 0..<width { mean[j] /= Double(frames) }
        var centred = [Float](repeating: 0, count: frames * width)
        for frame in 0..<frames {
            for j in 0..<width { centred[frame * width + j] = offsets[frame * width + j] - Float(mean[j]) }
        }
        let rank = min(maxComponents, frames, width)
        let directions = subspace(centred, frames: frames, width: width, rank: rank, iterations: iterations)
        let k = directions.count / max(width, 1)
        // Coefficients C = X Q^T: frames x k.
        var coefficients = [Float](repeating: 0, count: frames * k)
        if k > 0 {
            centred.withUnsafeBufferPointer { x in
                directions.withUnsafeBufferPointer { q in
                    coefficients.withUnsafeMutableBufferPointer { c in
                        BLAS.sgemm(transposeA: false, transposeB: true, m: frames, n: k, k: width,
                                   a: x.baseAddress!, lda: width, b: q.baseAddress!, ldb: width, c: c.baseAddress!, ldc: k)
                    }
                }
            }
        }
        // Map each direction's coefficients onto 0...1.
        var neutral = (0..<width).map { Double(template[$0]) + mean[$0] }
        var kept: [Int] = []
        var ranges: [Double] = []
        var lows: [Double] = []
        for component in 0..<k {
            var low = Double.infinity, high = -Double.infinity
            for frame in 0..<frames {
                let value = Double(coefficients[frame * k + component])
                low = min(low, value)
                high = max(high, value)
            }
            guard high - low > 0 else { continue }
            kept.append(component)
            lows.append(low)
            ranges.append(high - low)
        }
        // Directions that barely move anything are float noise of a lower-rank motion.
        let widest = ranges.max() ?? 0
        let significant = ranges.indices.filter { ranges[$0] > 1e-4 * widest }
        kept = significant.map { kept[$0] }
        lows = significant.map { lows[$0] }
        ranges = significant.map { ranges[$0] }
        for (index, component) in kept.enumerated() {
            for j in 0..<width { neutral[j] += lows[index] * Double(directions[component * width + j]) }
        }
        var targets = [Float](repeating: 0, count: kept.count * width)
        for (index, component) in kept.enumerated() {
            for j in 0..<width { targets[index * width + j] = Float(ranges[index] * Double(directions[component * width + j])) }
        }
        var weights = [Float](repeating: 0, count: frames * kept.count)
        for frame in 0..<frames {
            for (index, component) in kept.enumerated() {
                let value = (Double(coefficients[frame * k + component]) - lows[index]) / ranges[index]
                weights[frame * kept.count + index] = Float(min(max(value, 0), 1))
            }
        }
        // The largest error of the reconstruction, 256 frames per product.
        var largest: Float = 0
        let base = neutral.map { Float($0) }
        let count = kept.count
        let block = 256
        var posed = [Float](repeating: 0, count: block * width)
        for start in stride(from: 0, to: frames, by: block) {
            let rows = min(block, frames - start)
            for r in 0..<rows {
                for j in 0..<width { posed[r * width + j] = base[j] }
            }
            if count > 0 {
                weights.withUnsafeBufferPointer { w in
                    targets.withUnsafeBufferPointer { t in
                        posed.withUnsafeMutableBufferPointer { p in
                            BLAS.sgemm(transposeA: false, transposeB: false, m: rows, n: width, k: count,
                                       a: w.baseAddress! + start * count, lda: count, b: t.baseAddress!, ldb: width,
                                       beta: 1, c: p.baseAddress!, ldc: width)
                        }
                    }
                }
            }
            for r in 0..<rows {
                for j in 0..<width {
                    largest = max(largest, abs(posed[r * width + j] - (template[j] + offsets[(start + r) * width + j])))
                }
            }
        }
        return VertexMotionBasis(neutral: base, targets: targets, weights: weights, count: count, largestError: largest)
    }

    /// Up to `rank` orthonormal rows (rank x width, row-major) spanning the dominant row
    /// space of `x` (frames x width), by block subspace iteration from a seeded start.
    static func subspace(_ x: [Float], frames: Int, width: Int, rank: Int, iterations: Int) -> [Float] {
        guard rank > 0 else { return [] }
        // A deterministic start: a linear congruential generator in -1...1.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var q = (0..<(rank * width)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 1_000_000
        }
        var rows = orthonormalized(q, rows: rank, width: width)
        var y = [Float](repeating: 0, count: frames * rank)
        for _ in 0..<iterations {
            let count = rows.count / width
            guard count > 0 else { return [] }
            q = rows
            // Y = X Q^T (frames x count), then Z = Y^T X (count x width).
            x.withUnsafeBufferPointer { xp in
                q.withUnsafeBufferPointer { qp in
                    y.withUnsafeMutableBufferPointer { yp in
                        BLAS.sgemm(transposeA: false, transposeB: true, m: frames, n: count, k: width,
                                   a: xp.baseAddress!, lda: width, b: qp.baseAddress!, ldb: width, c: yp.baseAddress!, ldc: count)
                    }
                }
            }
            var z = [Float](repeating: 0, count: count * width)
            y.withUnsafeBufferPointer { yp in
                x.withUnsafeBufferPointer { xp in
                    z.withUnsafeMutableBufferPointer { zp in
                        BLAS.sgemm(transposeA: true, transposeB: false, m: count, n: width, k: frames,
                                   a: yp.baseAddress!, lda: count, b: xp.baseAddress!, ldb: width, c: zp.baseAddress!, ldc: width)
                    }
                }
            }
            rows = orthonormalized(z, rows: count, width: width)
        }
        return rows
    }

    /// The rows of `matrix` (rows x width) made orthonormal by modified Gram-Schmidt in
    /// double precision (twice, for stability); rows whose remaining norm falls below 1e-6
    /// of the largest row norm are dropped.
    static func orthonormalized(_ matrix: [Float], rows: Int, width: Int) -> [Float] {
        let vectors = (0..<rows).map { r in (0..<width).map { Double(matrix[r * width + $0]) } }
        let largest = vectors.map { v in v.reduce(0) { $0 + $1 * $1 }.squareRoot() }.max() ?? 0
        guard largest > 0 else { return [] }
        var basis: [[Double]] = []
        for var vector in vectors {
            for _ in 0..<2 {
                for b in basis {
                    var dot = 0.0
                    for j in 0..<width { dot += vector[j] * b[j] }
                    for j in 0..<width { vector[j] -= dot * b[j] }
                }
            }
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 1e-10 * largest else { continue }
            basis.append(vector.map { $0 / norm })
        }
        return basis.flatMap { $0.map { Float($0) } }
    }
}
