
/// What posed vertices are relative to.
enum VertexMode: Sendable {
    /// Positions: the neutral vertices plus the weighted deltas.
    case absolute
    /// Offsets from the neutral vertices: the weighted deltas alone.
    case offsets
}

/// Turns per-frame channel weights (an `Animation`'s values, [frames, C]) into rig vertex
/// positions: the channels are mapped onto the rig's shapes by name (`ChannelMatcher`),
/// giving shape weights [frames, S], then one sgemm [frames, S] x [S, V * 3] poses every
/// frame of the range at once. Immutable; any thread may use it.
struct VertexSolver: Sendable {
    /// The rig being posed.
    let rig: Rig
    /// How the source channels drive the rig's shapes.
    let mapping: ChannelMapping
    /// The nonzero entries of the mapping matrix.
    private let routes: [(source: Int, shape: Int)]

    /// Matches `channelNames` (the columns of the weights to come) onto `rig`'s shapes.
    init(rig: Rig, channelNames: [String]) {
        self.rig = rig
        self.mapping = rig.matcher.match(channelNames)
        self.routes = mapping.pairs
    }

    /// Floats one frame of vertices takes: V * 3.
    var floatsPerFrame: Int { rig.vertexCount * 3 }

    /// Poses `frameCount` frames whose channel weights are the rows of `weights`
    /// ([frameCount, channel count] row-major; nil only when there are no channels),
    /// writing frameCount x V x 3 floats to `output`. The caller guarantees both sizes.
    func solve(
        weights: UnsafePointer<Float>?, frameCount: Int, mode: VertexMode, into output: UnsafeMutablePointer<Float>
    ) {
        let shapeCount = rig.shapeCount
        let channelCount = mapping.sourceNames.count
        let width = floatsPerFrame
        guard frameCount > 0 else { return }
        switch mode {
        case .absolute:
            rig.vertices.withUnsafeBufferPointer { template in
                for frame in 0..<frameCount {
                    (output + frame * width).update(from: template.baseAddress!, count: width)
                }
            }
        case .offsets:
            output.update(repeating: 0, count: frameCount * width)
        }
        guard shapeCount > 0, !routes.isEmpty, let weights else { return }
        var shapeWeights = [Float](repeating: 0, count: frameCount * shapeCount)
        shapeWeights.withUnsafeMutableBufferPointer { shapeRows in
            for frame in 0..<frameCount {
                let row = weights + frame * channelCount
                let shapeRow = frame * shapeCount
                for route in routes { shapeRows[shapeRow + route.shape] = row[route.source] }
            }
        }
        shapeWeights.withUnsafeBufferPointer { a in
            rig.deltas.data.withUnsafeBufferPointer { b in
                BLAS.sgemm(
                    transposeA: false, transposeB: false, m: frameCount, n: width, k: shapeCount,
                    a: a.baseAddress!, lda: shapeCount, b: b.baseAddress!, ldb: width,
                    beta: 1, c: output, ldc: width)
            }
        }
    }

    /// Poses frames `frames` of `animation` into `output`, which must hold
    /// `frames.count * floatsPerFrame` floats. Errors: KMT_ERR_INVALID_ARGUMENT for an
    /// animation whose channels are not the ones this solver was built for, or a range
    /// outside it; KMT_ERR_BUFFER_TOO_SMALL for a short `output`.
    func vertices(
        of animation: Animation, frames: Range<Int>, mode: VertexMode, into output: UnsafeMutableBufferPointer<Float>
    ) throws {
        guard animation.channelNames == mapping.sourceNames else {
            throw KMTError.invalidArgument("the animation's \(animation.channelCount) channels are not the \(mapping.sourceNames.count) this solver was matched for")
        }
        guard frames.lowerBound >= 0, frames.upperBound <= animation.frameCount else {
            throw KMTError.invalidArgument("frames \(frames) lie outside the animation's \(animation.frameCount) frames")
        }
        guard frames.count <= Int(Int32.max) else {
            throw KMTError.invalidArgument("\(frames.count) frames at once exceed the \(Int32.max)-frame limit")
        }
        let (needed, overflow) = frames.count.multipliedReportingOverflow(by: floatsPerFrame)
        guard !overflow else { throw KMTError(.outOfMemory, "\(frames.count) frames of \(rig.vertexCount) vertices overflow a size") }
        guard output.count >= needed else {
            throw KMTError(.bufferTooSmall, "buffer holds \(output.count) floats, \(needed) needed")
        }
        guard needed > 0, let destination = output.baseAddress else { return }
        animation.values.data.withUnsafeBufferPointer { values in
            solve(weights: values.baseAddress.map { $0 + frames.lowerBound * animation.channelCount },
                  frameCount: frames.count, mode: mode, into: destination)
        }
    }

    /// Poses frames `frames` of `animation` into a new array of frames.count x V x 3 floats.
    func vertices(of animation: Animation, frames: Range<Int>, mode: VertexMode) throws -> [Float] {
        let (needed, overflow) = frames.count.multipliedReportingOverflow(by: floatsPerFrame)
        guard !overflow else { throw KMTError(.outOfMemory, "\(frames.count) frames of \(rig.vertexCount) vertices overflow a size") }
        var result = [Float](repeating: 0, count: needed)
        try result.withUnsafeMutableBufferPointer { try vertices(of: animation, frames: frames, mode: mode, into: $0) }
        return result
    }
}
