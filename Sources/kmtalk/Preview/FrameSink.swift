import Foundation

/// Where rendered frames go.
protocol FrameSink {
    /// Takes frame `index` as 8-bit RGB rows.
    mutating func write(rgb: [UInt8], index: Int) throws
    /// Completes the output (flushes, waits for an encoder).
    mutating func finish() throws
    /// Gives up (after an error or Ctrl-C): removes what is not complete.
    mutating func discard()
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
            // Atomically: a frame is whole or absent, whenever the command stops.
            try Data(png).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CLIError("\(path): cannot write (\(error.localizedDescription))")
        }
        written += 1
    }

    mutating func finish() throws {}

    /// Every frame written is whole (see `write`); they stay.
    mutating func discard() {}

    var summary: String { "\(written) PNG frames in \(directory)/" }
}

/// Pipes raw RGB frames into ffmpeg, which muxes them with the audio into an H.264/AAC MP4,
/// written atomically like every export of the library: ffmpeg writes a temporary file
/// beside the target (`.NAME.kmtalk-PID-RANDOM.tmp`, the library's pattern, so an export
/// into the folder cleans up after a killed preview), which is flushed to disk and renamed
/// over the target only when ffmpeg succeeded; on failure or Ctrl-C it is removed and an
/// existing target is left as it was.
final class FFmpegSink: FrameSink {
    let output: String
    /// Where ffmpeg writes until `finish` renames it to `output`.
    let temporary: String
    private let process = Process()
    private let input = Pipe()
    private let errors = Pipe()
    private var written = 0
    /// ffmpeg was started / its input closed / its file renamed into place.
    private var launched = false
    private var inputClosed = false
    private var finished = false

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
        temporary = Self.temporaryPath(beside: output)
        process.executableURL = URL(fileURLWithPath: ffmpeg)
        process.arguments = [
            "-y", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)", "-r", String(fps), "-i", "-",
            "-i", audio,
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-f", "mp4", temporary,
        ]
        signal(SIGPIPE, SIG_IGN)  // a dying ffmpeg must surface as a write error, not kill us
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        do {
            try process.run()
            launched = true
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

    /// `.NAME.kmtalk-PID-RANDOM.tmp` in the folder of `path`.
    static func temporaryPath(beside path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let name = ".\(url.lastPathComponent).kmtalk-\(ProcessInfo.processInfo.processIdentifier)-\(random).tmp"
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? name : (folder as NSString).appendingPathComponent(name)
    }

    /// Waits for ffmpeg, then flushes its file to disk and renames it over `output`.
    func finish() throws {
        closeInput()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, !Interrupt.requested else {
            discard()
            throw CLIError("ffmpeg failed (exit \(process.terminationStatus)): \(String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            try handle.synchronize()
            try handle.close()
        } catch {
            discard()
            throw CLIError("\(output): cannot write (\(error.localizedDescription))")
        }
        guard rename(temporary, output) == 0 else {
            let detail = String(cString: strerror(errno))
            discard()
            throw CLIError("\(output): cannot write (\(detail))")
        }
        finished = true
        Self.syncDirectory(of: output)
    }

    /// Stops ffmpeg if it still runs and removes its temporary file.
    func discard() {
        guard launched, !finished else { return }
        closeInput()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        unlink(temporary)
    }

    /// Ends ffmpeg's input (once).
    private func closeInput() {
        guard !inputClosed else { return }
        inputClosed = true
        try? input.fileHandleForWriting.close()
    }

    /// Flushes the renaming to disk (best effort).
    static func syncDirectory(of path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let descriptor = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    deinit { discard() }

    var summary: String { "\(written) frames encoded by ffmpeg into \(output)" }
}
