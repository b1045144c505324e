import CKMTalk
import Foundation

/// Poses a mesh for every frame of an animation (`kmt_animation_vertices`: a rig by the
/// animation's weights, or a vertices-space animation's own template) and renders the
/// frames into a sink.
struct PreviewRenderer {
    let mesh: PreviewMesh
    let renderer: MeshRenderer
    /// Frames posed per call.
    var chunk = 32

    /// A renderer for `rig` at `size` x `size` pixels.
    init(rig: RigHandle, size: Int, crop: PreviewCrop, cavity: Bool = true) throws {
        try self.init(mesh: PreviewMesh.rig(rig), size: size, crop: crop, cavity: cavity)
    }

    /// A renderer for `mesh` at `size` x `size` pixels.
    init(mesh: PreviewMesh, size: Int, crop: PreviewCrop, cavity: Bool = true) throws {
        self.mesh = mesh
        let camera = try PreviewFraming.camera(mesh: mesh, crop: crop, width: size, height: size)
        var renderer = MeshRenderer(faces: mesh.faces, camera: camera)
        renderer.cavity = cavity ? CavityShading(radius: PreviewFraming.cavityRadius(vertices: mesh.neutral)) : nil
        if let albedos = mesh.albedos { renderer.albedos = albedos }
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
    /// frame index. Errors: the library's and the sink's.
    ///
    /// `progress`, when given, is called after each frame with the share of the frames
    /// done (0...1); what it throws (Ctrl-C) stops the rendering.
    func render(
        _ animation: AnimationHandle, frames: Range<Int>? = nil, into sink: inout some FrameSink,
        progress: ((Double) throws -> Void)? = nil
    ) throws -> Timings {
        let range = frames ?? 0..<animation.frameCount
        let width = mesh.vertexCount * 3
        var timings = Timings()
        var posed = [Float](repeating: 0, count: chunk * width)
        var start = range.lowerBound
        while start < range.upperBound {
            let count = min(chunk, range.upperBound - start)
            let began = Date()
            let status = kmt_animation_vertices(
                animation.pointer, mesh.rig?.pointer, start, count, KMT_VERTICES_ABSOLUTE, &posed, posed.count, nil)
            guard status == KMT_OK else { throw libraryError(status) }
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
