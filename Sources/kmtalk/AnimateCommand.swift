import ArgumentParser
import Foundation

/// `kmtalk animate AUDIO -o OUT.json|.csv`
struct Animate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Animate an audio file and write ARKit blendshape weights (JSON or CSV).")

    @Argument(help: "Audio file (WAV, FLAC, OGG/Opus, MP3, AIFF, ...; any rate 8-192 kHz, any channels).")
    var audio: String

    @Option(name: .shortAndLong, help: "Output file (.json or .csv), or '-' for stdout.")
    var output: String

    @Option(help: "Output format when the extension does not say: json or csv.")
    var format: String?

    @Option(help: "Model file (default: $KMTALK_MODEL or the shipped model).")
    var model: String?

    @Option(help: "Output frames per second, 1-240 (default: the model's native rate).")
    var fps: Double?

    @Option(help: "OpenBLAS threads (0 = all cores).")
    var threads: Int = 0

    func run() throws {
        let chosen: AnimationFormat
        if let format {
            guard let parsed = AnimationFormat(rawValue: format.lowercased()) else {
                throw ValidationError("--format must be one of: \(AnimationFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            chosen = parsed
        } else if output == "-" {
            chosen = .json
        } else if let inferred = AnimationFormat(path: output) {
            chosen = inferred
        } else {
            throw ValidationError("cannot tell the format from '\(output)'; use a .json or .csv name or --format")
        }
        let modelPath = try ModelLocator.resolve(model)
        let start = Date()
        let modelHandle = try ModelHandle(path: modelPath)
        let session = try SessionHandle(model: modelHandle, threads: threads, fps: fps)
        let animation = try session.animate(path: audio)
        let text = chosen == .json
            ? AnimationWriter.json(animation, source: audio, model: modelPath)
            : AnimationWriter.csv(animation)
        if output == "-" {
            FileHandle.standardOutput.write(Data(text.utf8))
        } else {
            do {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                throw CLIError("\(output): cannot write (\(error.localizedDescription))")
            }
        }
        let seconds = Double(animation.frameCount - 1) / animation.fps
        let elapsed = Date().timeIntervalSince(start)
        FileHandle.standardError.write(Data(String(
            format: "%@: %d frames x %d channels at %g fps (%.2f s of audio) in %.3f s -> %@\n",
            audio, animation.frameCount, animation.channels.count, animation.fps, seconds, elapsed,
            output == "-" ? "stdout" : output).utf8))
    }
}
