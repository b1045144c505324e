import Foundation

/// Where rendered frames go.
protocol FrameSink {
    /// Takes frame `index` as 8-bit RGB rows.
    mutating func write(rgb: [UInt8], index: Int) throws
    /// Completes the output (flushes, waits for an encoder).
    mutating func finish() throws
    /// What was written, for the summary line.
    var summary: String { get }
}

/// Writes `frame_00000.png`, `frame_00001.png`, ... into a folder (created if missing).
struct PNGDirectorySink: FrameSink {
    let directory: String
    let width: Int
    let height: Int
    private(set) var written = 0

    init(directory: String, width: Int, height: Int) throws {
        self.directory = directory
        self.width = width
        self.height = height
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CLIError("\(directory): cannot create the folder (\(error.localizedDescription))")
        }
    }

    /// The file name of frame `index`.
    static func fileName(_ index: Int) -> String { String(format: "frame_%05d.png", index) }

    mutating func write(rgb: [UInt8], index: Int) throws {
        guard let png = PNGEncoder.encode(rgb: rgb, width: width, height: height) else {
            throw CLIError("PNG encoding failed for frame \(index)")
        }
        let path = (directory as NSString).appendingPathComponent(Self.fileName(index))
        do {
            try Data(png).write(to: URL(fileURLWithPath: path))
        } catch {
            throw CLIError("\(path): cannot write (\(error.localizedDescription))")
        }
        written += 1
    }

    mutating func finish() throws {}

    var summary: String { "\(written) PNG frames in \(directory)/" }
}

/// Pipes raw RGB frames into ffmpeg, which muxes them with the audio into an H.264/AAC MP4.
final class FFmpegSink: FrameSink {
    let output: String
    private let process = Process()
    private let input = Pipe()
    private let errors = Pipe()
    private var written = 0

    /// The ffmpeg executable on PATH, or nil.
    static func locate() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/ffmpeg"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Starts `ffmpeg` reading `width` x `height` RGB frames at `fps` from stdin and the audio
    /// from `audio`, writing `output`.
    init(ffmpeg: String, output: String, audio: String, width: Int, height: Int, fps: Double) throws {
        self.output = output
        process.executableURL = URL(fileURLWithPath: ffmpeg)
        process.arguments = [
            "-y", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)", "-r", String(fps), "-i", "-",
            "-i", audio,
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", output,
        ]
        signal(SIGPIPE, SIG_IGN)  // a dying ffmpeg must surface as a write error, not kill us
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw CLIError("cannot start \(ffmpeg): \(error.localizedDescription)")
        }
    }

    func write(rgb: [UInt8], index: Int) throws {
        do {
            try input.fileHandleForWriting.write(contentsOf: Data(rgb))
        } catch {
            throw CLIError("ffmpeg stopped reading frames: \(error.localizedDescription)")
        }
        written += 1
    }

    func finish() throws {
        try? input.fileHandleForWriting.close()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError("ffmpeg failed (exit \(process.terminationStatus)): \(String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    var summary: String { "\(written) frames encoded by ffmpeg into \(output)" }
}
