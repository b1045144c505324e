import CKMTalk
import Foundation

/// The audio the CLI hands the library: a file as given, standard input (`-`) saved to a
/// temporary file, and containers libsndfile does not read (MP4/M4A/AAC, video) decoded
/// through ffmpeg when it is installed. The temporary files go when this is released.
final class AudioInput {
    /// The path to animate.
    let path: String
    /// The file the library read in the last `animate`: `path`, or ffmpeg's WAV of it
    /// (for hosts that decode the same audio again, e.g. `kmt_audio_load_file`).
    private(set) var decodablePath: String
    /// What the input was, for messages ("speech.m4a via ffmpeg", "stdin").
    let label: String
    private var temporary: [URL] = []

    /// Prepares `argument` (a path or `-`).
    init(_ argument: String) throws {
        guard argument == "-" else {
            path = argument
            label = argument
            decodablePath = argument
            return
        }
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard !data.isEmpty else { throw CLIError("stdin: no audio (0 bytes); pipe a file in, e.g. `kmtalk animate - -o out.json < speech.wav`") }
        let url = Self.temporaryURL(suffix: "stdin")
        try data.write(to: url)
        temporary.append(url)
        path = url.path
        label = "stdin"
        decodablePath = url.path
    }

    deinit {
        for url in temporary { try? FileManager.default.removeItem(at: url) }
    }

    /// Animates the input with `session`; a file libsndfile cannot read is converted with
    /// ffmpeg (16 kHz mono WAV) and animated again when ffmpeg is on PATH.
    func animate(with session: SessionHandle) throws -> AnimationHandle {
        do {
            return try session.animateHandle(path: path)
        } catch let error as CLIError {
            guard error.status == KMT_ERR_UNSUPPORTED_FORMAT, let ffmpeg = Self.ffmpeg() else { throw error }
            let wav = Self.temporaryURL(suffix: "ffmpeg.wav")
            temporary.append(wav)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ffmpeg)
            process.arguments = ["-nostdin", "-loglevel", "error", "-y", "-i", path, "-vn", "-ac", "1", "-ar", "16000", wav.path]
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw CLIError("\(error.description) (ffmpeg could not decode it either: exit \(process.terminationStatus))")
            }
            session.progress?.clear()
            FileHandle.standardError.write(Data("note: \(label): decoded with ffmpeg (libsndfile does not read this container)\n".utf8))
            decodablePath = wav.path
            return try session.animateHandle(path: wav.path)
        }
    }

    /// ffmpeg on PATH, or nil.
    static func ffmpeg() -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/ffmpeg" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func temporaryURL(suffix: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("kmtalk-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)-\(suffix)")
    }
}
