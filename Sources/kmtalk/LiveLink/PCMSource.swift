import CKMTalk
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

/// Where `kmtalk stream` reads its audio, chunk by chunk: a file decoded whole by the
/// library (`kmt_audio_load_file`: WAV, FLAC, Ogg, MP3, AIFF, ... mixed to mono at the
/// model's rate, exactly the samples `kmtalk animate` feeds the network), raw s16le PCM
/// from standard input (`-`, at --rate, mono), or a container libsndfile does not read
/// (MP4/M4A/AAC, video) decoded by ffmpeg into raw mono PCM through a pipe.
final class PCMSource {
    let sampleRate: Int32
    let channels: Int32
    /// What the input is, for messages ("speech.wav", "stdin (s16le mono 16000 Hz)").
    let label: String
    private let decoded: AudioHandle?
    private var position = 0
    private let descriptor: Int32
    private let process: Process?

    /// Opens `argument` (a path or `-`); `rawRate` is the rate of raw PCM on stdin,
    /// `decodeRate` the rate files are decoded to (the model's).
    init(_ argument: String, rawRate: Int32, decodeRate: Int32) throws {
        if argument == "-" {
            (sampleRate, channels, decoded, descriptor, process) = (rawRate, 1, nil, STDIN_FILENO, nil)
            label = "stdin (s16le mono \(rawRate) Hz)"
            return
        }
        label = argument
        do {
            let audio = try AudioHandle(path: argument, sampleRate: decodeRate)
            (sampleRate, channels, decoded, descriptor, process) = (audio.sampleRate, 1, audio, -1, nil)
            return
        } catch let error as CLIError where error.status == KMT_ERR_UNSUPPORTED_FORMAT {
            // As `kmtalk animate` (AudioInput): ffmpeg only when libsndfile cannot read it.
            guard let ffmpeg = AudioInput.ffmpeg() else { throw error }
            FileHandle.standardError.write(Data("note: \(argument): decoded with ffmpeg (libsndfile does not read this container)\n".utf8))
            let pipe = Pipe()
            let decoder = Process()
            decoder.executableURL = URL(fileURLWithPath: ffmpeg)
            decoder.arguments = ["-nostdin", "-loglevel", "error", "-i", argument, "-vn", "-ac", "1", "-ar", "\(decodeRate)", "-f", "s16le", "-"]
            decoder.standardOutput = pipe
            try decoder.run()
            (sampleRate, channels, decoded, descriptor, process) = (decodeRate, 1, nil, pipe.fileHandleForReading.fileDescriptor, decoder)
        }
    }

    deinit {
        if let process, process.isRunning { process.terminate() }
    }

    /// The next chunk of up to `frames` frames; nil at the end. Blocks on a pipe until the
    /// chunk is full or the input ends, waking every 100 ms to see whether `stop()` is
    /// true (then returns nil).
    func read(frames: Int, stop: () -> Bool) throws -> PCMChunk? {
        let wanted = frames * Int(channels)
        if let decoded {
            let samples = decoded.samples
            guard position < samples.count else { return nil }
            let end = min(samples.count, position + wanted)
            defer { position = end }
            return .float(Array(samples[position..<end]))
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
