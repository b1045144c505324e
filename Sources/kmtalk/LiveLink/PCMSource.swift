import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One chunk of interleaved PCM for the streaming session.
enum PCMChunk {
    case int16([Int16])
    case float([Float])

    var sampleCount: Int {
        switch self {
        case .int16(let samples): return samples.count
        case .float(let samples): return samples.count
        }
    }
}

/// Where `kmtalk stream` reads its audio, chunk by chunk: a WAV file (read whole), raw
/// s16le PCM from standard input (`-`, at --rate, mono), or another container decoded by
/// ffmpeg into raw 16 kHz mono PCM through a pipe.
final class PCMSource {
    let sampleRate: Int32
    let channels: Int32
    /// What the input is, for messages ("speech.wav", "stdin (s16le mono 16000 Hz)").
    let label: String
    private let wav: WAVFile?
    private var position = 0
    private let descriptor: Int32
    private let process: Process?

    /// Opens `argument` (a path or `-`); `rawRate` is the rate of raw PCM on stdin.
    init(_ argument: String, rawRate: Int32) throws {
        if argument == "-" {
            (sampleRate, channels, wav, descriptor, process) = (rawRate, 1, nil, STDIN_FILENO, nil)
            label = "stdin (s16le mono \(rawRate) Hz)"
            return
        }
        guard let data = FileManager.default.contents(atPath: argument) else {
            throw CLIError("\(argument): cannot read the file (\(FileManager.default.fileExists(atPath: argument) ? "permission denied" : "no such file"))")
        }
        label = argument
        if WAVFile.looksLikeWAV(data) {
            let file = try WAVFile(data, label: argument)
            (sampleRate, channels, wav, descriptor, process) = (file.sampleRate, file.channels, file, -1, nil)
            return
        }
        guard let ffmpeg = AudioInput.ffmpeg() else {
            throw CLIError("\(argument): kmtalk stream reads WAV files (and raw PCM from stdin); install ffmpeg for other formats, or convert it first")
        }
        let pipe = Pipe()
        let decoder = Process()
        decoder.executableURL = URL(fileURLWithPath: ffmpeg)
        decoder.arguments = ["-nostdin", "-loglevel", "error", "-i", argument, "-vn", "-ac", "1", "-ar", "16000", "-f", "s16le", "-"]
        decoder.standardOutput = pipe
        try decoder.run()
        (sampleRate, channels, wav, descriptor, process) = (16000, 1, nil, pipe.fileHandleForReading.fileDescriptor, decoder)
    }

    deinit {
        if let process, process.isRunning { process.terminate() }
    }

    /// The next chunk of up to `frames` frames; nil at the end. Blocks on a pipe until the
    /// chunk is full or the input ends, waking every 100 ms to see whether `stop()` is
    /// true (then returns nil).
    func read(frames: Int, stop: () -> Bool) throws -> PCMChunk? {
        let wanted = frames * Int(channels)
        if let wav {
            let total = wav.int16.isEmpty ? wav.float.count : wav.int16.count
            guard position < total else { return nil }
            let end = min(total, position + wanted)
            defer { position = end }
            return wav.int16.isEmpty ? .float(Array(wav.float[position..<end])) : .int16(Array(wav.int16[position..<end]))
        }
        var bytes = [UInt8](repeating: 0, count: wanted * 2)
        var filled = 0
        while filled < bytes.count {
            if stop() { return nil }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready < 0, errno == EINTR { continue }
            guard ready >= 0 else { throw CLIError("\(label): \(String(cString: strerror(errno)))") }
            if ready == 0 { continue }
            let count = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw CLIError("\(label): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            filled += count
        }
        if let process, filled < bytes.count {
            process.waitUntilExit()
            if process.terminationStatus != 0 { throw CLIError("\(label): ffmpeg could not decode it (exit \(process.terminationStatus))") }
        }
        let samples = filled / 2
        guard samples > 0 else { return nil }
        return .int16((0..<samples).map { Int16(bitPattern: UInt16(bytes[2 * $0]) | UInt16(bytes[2 * $0 + 1]) << 8) })
    }
}
