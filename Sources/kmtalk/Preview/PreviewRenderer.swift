import Foundation
import KMTalkEngine

/// Poses a rig for every frame of an animation and renders the frames into a sink.
struct PreviewRenderer {
    let rig: Rig
    let renderer: MeshRenderer
    /// Frames posed per sgemm.
    var chunk = 32

    /// A renderer for `rig` at `size` x `size` pixels.
    init(rig: Rig, size: Int, crop: PreviewCrop, cavity: Bool = true) {
        self.rig = rig
        let camera = PreviewFraming.camera(rig: rig, crop: crop, width: size, height: size)
        var renderer = MeshRenderer(faces: rig.faces, camera: camera)
        renderer.cavity = cavity ? CavityShading(radius: PreviewFraming.cavityRadius(rig: rig)) : nil
        if let albedos = PreviewColors.albedos(for: rig), albedos.count == rig.vertexCount * 3 { renderer.albedos = albedos }
        self.renderer = renderer
    }

    /// Time spent, in seconds.
    struct Timings {
        var posing = 0.0
        var rendering = 0.0
        var output = 0.0
        var frames = 0
    }

    /// Renders frames `frames` of `animation` (all by default) into `sink`, each under its
    /// frame index. Errors: the sink's.
    ///
    /// `progress`, when given, is called after each frame with the share of the frames
    /// done (0...1); what it throws (Ctrl-C) stops the rendering.
    func render(
        _ animation: AnimationResult, frames: Range<Int>? = nil, into sink: inout some FrameSink,
        progress: ((Double) throws -> Void)? = nil
    ) throws -> Timings {
        let solver = VertexSolver(rig: rig, channelNames: animation.channels)
        let range = frames ?? 0..<animation.frameCount
        let width = solver.floatsPerFrame
        let channelCount = animation.channels.count
        var timings = Timings()
        var posed = [Float](repeating: 0, count: chunk * width)
        var start = range.lowerBound
        while start < range.upperBound {
            let count = min(chunk, range.upperBound - start)
            let began = Date()
            animation.values.withUnsafeBufferPointer { values in
                posed.withUnsafeMutableBufferPointer { output in
                    solver.solve(weights: channelCount == 0 ? nil : values.baseAddress! + start * channelCount,
                                 frameCount: count, mode: .absolute, into: output.baseAddress!)
                }
            }
            timings.posing += Date().timeIntervalSince(began)
            for offset in 0..<count {
                let renderStart = Date()
                let rgb = renderer.render(vertices: Array(posed[(offset * width)..<((offset + 1) * width)]))
                let renderEnd = Date()
                try sink.write(rgb: rgb, index: start + offset)
                timings.rendering += renderEnd.timeIntervalSince(renderStart)
                timings.output += Date().timeIntervalSince(renderEnd)
                timings.frames += 1
                try progress?(Double(timings.frames) / Double(range.count))
            }
            start += count
        }
        return timings
    }
}
