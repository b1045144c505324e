import ArgumentParser
import CKMTalk
import Foundation

/// `kmtalk preview AUDIO -o out.mp4|DIR [--rig RIG] [--size 512] [--fps 30] [--model M]`
struct PreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Animate an audio file on a rig and render it (MP4 via ffmpeg, or PNG frames).",
        discussion: """
            The rig is found from --rig, then $KMTALK_RIG, then \(Animate.defaultRigName) in the \
            models/ folder beside the binary or the checkout; a vertices-space model renders its \
            own template mesh (no rig). Frames are rendered in software \
            (front orthographic camera, Lambert shading, darkened cavities). An output ending in \
            .mp4 is encoded by ffmpeg with the audio when ffmpeg is on PATH, into a temporary \
            file renamed over the target once ffmpeg succeeded (atomic, like every export); \
            otherwise numbered PNGs are written into the folder (for name.mp4: the folder name/), \
            each one whole. On a terminal a progress bar shows on stderr (not with --quiet); \
            Ctrl-C stops cleanly with exit status 130, leaving no partial MP4.
            """)

    @Argument(help: "Audio file.")
    var audio: String

    @Option(name: .shortAndLong, help: "Output: a .mp4 file, or a folder for PNG frames.")
    var output: String

    @Option(help: "Rig file (default: $KMTALK_RIG or models/\(Animate.defaultRigName)).")
    var rig: String?

    @Option(help: "Image width and height in pixels (even, 16-4096).")
    var size: Int = 512

    @Option(help: "Frames per second, 1-240.")
    var fps: Double = 30

    @Option(help: "Framing: full (the whole mesh) or mouth (the lower face).")
    var crop: String = "full"

    @Option(help: "Only frames FIRST-LAST (inclusive, 0-based), as PNGs: for stills.")
    var frames: String?

    @OptionGroup var engine: EngineOptions


    @Flag(name: .shortAndLong, help: "No progress bar or summary on stderr (errors still show).")
    var quiet = false

    func validate() throws {
        guard size >= 16, size <= 4096, size % 2 == 0 else { throw ValidationError("--size must be even and within 16-4096") }
        guard fps >= 1, fps <= 240 else { throw ValidationError("--fps must be within 1-240") }
        guard PreviewCrop(rawValue: crop) != nil else {
            throw ValidationError("--crop must be one of: \(PreviewCrop.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if frames != nil {
            guard try frameRange() != nil else { throw ValidationError("--frames must be FIRST-LAST or N (0-based)") }
            guard !output.lowercased().hasSuffix(".mp4") else { throw ValidationError("--frames writes PNG stills; give a folder as -o") }
        }
    }

    /// The --frames range, or nil when malformed.
    func frameRange() throws -> ClosedRange<Int>? {
        guard let frames else { return nil }
        let parts = frames.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard let first = parts.first ?? nil, first >= 0 else { return nil }
        if parts.count == 1 { return first...first }
        guard parts.count == 2, let last = parts[1], last >= first else { return nil }
        return first...last
    }

    func run() throws {
        try Interrupt.withProgress(quiet: quiet, stopped: "no partial MP4 was left") { try preview(progress: $0) }
    }

    /// The command's work: animate, pose, render, encode.
    private func preview(progress bar: ProgressBar) throws {
        let modelPath = try ModelLocator.resolve(engine.model)
        let started = Date()
        let modelHandle = try ModelHandle(path: modelPath)
        // A vertices-space model poses its own template: no rig.
        let ownMesh = modelHandle.motionSpace == "vertices"
        if ownMesh, let rig {
            throw CLIError("\(modelPath) is a vertices-space model: it poses its own template mesh, drop --rig \(rig)")
        }
        let rigPath = ownMesh ? nil : try Animate.resolveRig(rig)
        let loadedRig = try rigPath.map { try RigHandle(path: $0) }
        let session = try SessionHandle(model: modelHandle, threads: engine.threads, fps: fps, progress: bar)
        bar.task = "animate"
        let animation = try session.animateHandle(path: audio)
        bar.clear()
        let animateSeconds = Date().timeIntervalSince(started)

        let mesh: PreviewMesh
        if let loadedRig, let rigPath {
            mesh = try PreviewMesh.rig(loadedRig)
            if !quiet {
                RigFileOutput.standardError("\(rigPath): \(loadedRig.vertexCount) vertices, \(loadedRig.drivenShapes(by: animation)) of \(loadedRig.shapeCount) shapes driven by the model's \(animation.channelCount) channels")
            }
        } else {
            mesh = try PreviewMesh.template(of: animation)
            if !quiet {
                RigFileOutput.standardError("\(modelPath): its own template, \(mesh.vertexCount) vertices, \(mesh.faces.count / 3) triangles")
            }
        }

        var sink: any FrameSink
        if output.lowercased().hasSuffix(".mp4") {
            if let ffmpeg = FFmpegSink.locate() {
                sink = try FFmpegSink(ffmpeg: ffmpeg, output: output, audio: audio, width: size, height: size, fps: animation.fps)
            } else {
                let folder = String(output.dropLast(4))
                RigFileOutput.standardError("note: ffmpeg is not on PATH; writing PNG frames into \(folder)/ instead of \(output)")
                sink = try PNGDirectorySink(directory: folder, width: size, height: size)
            }
        } else {
            sink = try PNGDirectorySink(directory: output, width: size, height: size)
        }
        let renderer = try PreviewRenderer(mesh: mesh, size: size, crop: PreviewCrop(rawValue: crop)!)
        var range: Range<Int>?
        if let selected = try frameRange() {
            guard selected.lowerBound < animation.frameCount else {
                throw CLIError("--frames \(frames ?? ""): the animation has \(animation.frameCount) frames")
            }
            range = selected.lowerBound..<min(selected.upperBound + 1, animation.frameCount)
        }
        bar.task = "render"
        let timings: PreviewRenderer.Timings
        do {
            timings = try renderer.render(animation, frames: range, into: &sink) { fraction in
                guard !Interrupt.requested else { throw CLIError("interrupted", status: KMT_ERR_CANCELLED) }
                bar.update(fraction, stage: "frames")
            }
            bar.update(1, stage: "encoding")
            try sink.finish()
        } catch {
            sink.discard()
            throw error
        }
        bar.clear()
        guard !quiet else { return }
        let frames = max(1, timings.frames)
        RigFileOutput.standardError(String(
            format: "%@: %d frames at %g fps; model %.2f s, posing %.2f ms/frame, rendering %.1f ms/frame (%dx%d), output %.1f ms/frame -> %@",
            audio, timings.frames, animation.fps, animateSeconds, timings.posing * 1000 / Double(frames),
            timings.rendering * 1000 / Double(frames), size, size, timings.output * 1000 / Double(frames), sink.summary))
    }
}
