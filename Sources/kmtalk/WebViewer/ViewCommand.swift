import ArgumentParser
import CKMTalk
import Foundation

/// `kmtalk view AUDIO -o talk.html [--rig RIG] [--model M] [--fps N] [--size 512]`
struct ViewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Animate an audio file and write a self-contained web page that plays it on a head.",
        discussion: """
            The page (docs/web-viewer.md) embeds the audio (16-bit mono WAV as the library \
            decodes it), the rig's mesh with one morph target per channel, the weights and \
            its own renderer, so it opens offline from file:// in any current browser: a \
            play/pause button, a scrubber, the mouth channels' curves (click or drag to \
            seek). The animation is offline (no latency), as `kmtalk animate` makes it: the \
            page's weights are the library's, frame for frame. The rig is found from --rig, \
            then $KMTALK_RIG, then \(Animate.defaultRigName) in the models/ folder beside \
            the binary or the checkout. For scripts and tests: talk.html#t=1.25 seeks there \
            and writes the frame and its weights as JSON into <pre id="kmtalk-state">; \
            window.kmtalk has seek(t), weights(), frame(), play(), pause(). \
            The file is written atomically. On a terminal a progress bar shows on stderr (not \
            with --quiet); Ctrl-C stops cleanly with exit status 130, writing nothing.
            """)

    @Argument(help: "Audio file (as for `kmtalk animate`), or '-' for stdin.")
    var audio: String

    @Option(name: .shortAndLong, help: "Output HTML file, or '-' for stdout.")
    var output: String

    @Option(help: "Rig file (default: $KMTALK_RIG or models/\(Animate.defaultRigName)).")
    var rig: String?

    @OptionGroup var engine: EngineOptions

    @Option(help: "Animation frames per second, 1-240 (default: the model's native rate).")
    var fps: Double?

    @Option(help: "Width and height of the head's canvas in pixels (64-2048).")
    var size: Int = 512

    @Option(help: "Highest sample rate of the embedded audio in Hz (8000-48000); a file above it is resampled.")
    var audioRate: Int = 24000


    @Flag(name: .shortAndLong, help: "No progress bar or summary on stderr (errors still show).")
    var quiet = false

    func validate() throws {
        guard size >= 64, size <= 2048 else { throw ValidationError("--size must be within 64-2048") }
        if let fps { guard fps >= 1, fps <= 240 else { throw ValidationError("--fps must be within 1-240") } }
        guard audioRate >= 8000, audioRate <= 48000 else { throw ValidationError("--audio-rate must be within 8000-48000") }
        guard output == "-" || !output.hasSuffix("/") else { throw ValidationError("-o takes a file name, not a folder: \(output)") }
    }

    func run() throws {
        try Interrupt.withProgress(quiet: quiet) { try view(progress: $0) }
    }

    /// The command's work: the model, the rig, the animation, the audio, the page.
    private func view(progress bar: ProgressBar) throws {
        let started = Date()
        let rigPath = try Animate.resolveRig(rig)
        let modelPath = try ModelLocator.resolve(engine.model)
        let modelHandle = try ModelHandle(path: modelPath)
        if modelHandle.motionSpace == "vertices" {
            throw CLIError("\(modelPath) is a vertices-space model (it predicts its own template's vertices, not rig weights); the viewer poses rigs: write OBJ, PLY or NPY with `kmtalk animate` instead")
        }
        let rigHandle = try RigHandle(path: rigPath)
        let session = try SessionHandle(model: modelHandle, threads: engine.threads, fps: fps, progress: bar)
        let input = try AudioInput(audio)
        bar.task = "animate"
        let animation = try input.animate(with: session)
        let animated = Date()

        bar.task = "page"
        bar.update(0, stage: "audio")
        let sound = try Self.decode(input, maxRate: audioRate)
        guard !Interrupt.requested else { throw CLIError("interrupted", status: KMT_ERR_CANCELLED) }
        bar.update(0.3, stage: "mesh")
        let title = input.label == "stdin" ? "stdin" : URL(fileURLWithPath: input.label).lastPathComponent
        var scene = try WebViewerScene(title: title, animation: animation, rig: rigHandle, audio: sound)
        scene.details = [
            "model": URL(fileURLWithPath: modelPath).lastPathComponent, "rig": URL(fileURLWithPath: rigPath).lastPathComponent,
            "audio": "\(scene.audioSampleRate) Hz mono",
        ]
        guard !Interrupt.requested else { throw CLIError("interrupted", status: KMT_ERR_CANCELLED) }
        bar.update(0.7, stage: "html")
        let page = Array(WebViewerPage.html(scene, size: size).utf8)
        guard !Interrupt.requested else { throw CLIError("interrupted", status: KMT_ERR_CANCELLED) }
        bar.update(0.9, stage: "write")
        if output == "-" {
            bar.clear()
            FileHandle.standardOutput.write(Data(page))
        } else {
            try DurableFileWriter.write(page, to: output)
        }
        bar.clear()
        guard !quiet else { return }
        RigFileOutput.standardError(String(
            format: "%@: %d frames x %d channels at %g fps (%.2f s of audio) in %.2f s; %d of %d channels move the rig's %d vertices; %@ (%.2f MiB) written in %.2f s",
            input.label, scene.frameCount, scene.channels.count, scene.fps, scene.audioSeconds, animated.timeIntervalSince(started),
            scene.targets.count, scene.channels.count, scene.vertexCount, output == "-" ? "stdout" : output,
            Double(page.count) / 1_048_576, Date().timeIntervalSince(animated)))
    }

    /// The input decoded by the library at its own rate, or at `maxRate` when higher.
    static func decode(_ input: AudioInput, maxRate: Int) throws -> AudioHandle {
        let own = try AudioHandle(path: input.decodablePath, sampleRate: 0)
        guard Int(own.sampleRate) > maxRate else { return own }
        return try AudioHandle(path: input.decodablePath, sampleRate: Int32(maxRate))
    }
}
