import CSndFile
import Glibc

/// Decodes audio files with libsndfile in fixed-size blocks into a `MonoResamplingSink`.
enum AudioDecoder {
    /// Frames decoded per block.
    static let blockFrames = 16_384

    /// A decoded file: mono samples at `sampleRate`, plus what the file was.
    struct Decoded: Sendable {
        var samples: [Float]
        var sampleRate: Int
        var sourceRate: Int
        var sourceChannels: Int
        var sourceFrames: Int
        /// libsndfile's name for the container and encoding, e.g. "WAV (Microsoft) / Signed 16 bit PCM".
        var formatName: String
    }

    /// Takes model-rate mono samples block by block instead of collecting them.
    typealias SampleConsumer = ([Float]) throws -> Void

    /// Decodes the file at `path`, mixes it to mono and resamples it to `targetRate` (nil:
    /// keep the file's own rate).
    /// `consumer`, when given, is asked once with the file's duration in seconds (from its
    /// header, before decoding); a consumer it returns receives the samples block by block
    /// as they are decoded, and `samples` of the result stays empty (memory bounded by a
    /// block, whatever the file's length). `progress`, when given, receives the share of
    /// the file's frames decoded so far (0...1) after each block; what it throws (a
    /// cancellation) stops the decoding.
    static func decode(
        path: String, targetRate: Int?, nonfinitePolicy: NonFinitePolicy = .reject,
        consumer: ((Double) throws -> SampleConsumer?)? = nil, progress: ((Double) throws -> Void)? = nil
    ) throws -> Decoded {
        guard !path.isEmpty else { throw KMTError.invalidArgument("path is empty") }
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw KMTError(.io, "\(path): \(String(cString: strerror(errno)))")
        }
        if let kind = FileBytes.irregularKind(status.st_mode) {
            throw KMTError(.io, "\(path): is \(kind), not an audio file (only regular files are read)")
        }
        if status.st_size == 0 {
            throw KMTError.invalidAudio("\(path): empty file (0 bytes)")
        }
        var info = SF_INFO()
        guard let file = sf_open(path, Int32(SFM_READ), &info) else {
            throw openError(source: path, hint: containerHint(path))
        }
        defer { sf_close(file) }
        return try decode(
            file: file, info: info, source: path, targetRate: targetRate, nonfinitePolicy: nonfinitePolicy,
            consumer: consumer, progress: progress)
    }

    /// The error for a file (or buffer) libsndfile could not open, named by `source`;
    /// `hint` says what to do with a known container libsndfile does not read.
    static func openError(source: String, hint: String?) -> KMTError {
        let code = sf_error(nil)
        let detail = String(cString: sf_strerror(nil))
        switch Int(code) {
        case Int(SF_ERR_SYSTEM):
            return KMTError(.io, "\(source): \(detail)")
        case Int(SF_ERR_MALFORMED_FILE):
            return KMTError.invalidAudio("\(source): corrupt audio file (\(detail))")
        case Int(SF_ERR_UNSUPPORTED_ENCODING):
            return KMTError(.unsupportedFormat, "\(source): unsupported audio encoding (\(detail))")
        default:
            if let hint { return KMTError(.unsupportedFormat, "\(source): \(hint)") }
            return KMTError(.unsupportedFormat, "\(source): not a supported audio format (\(detail))")
        }
    }

    /// Decodes an opened libsndfile handle (a file or a memory buffer, named by `source` in
    /// messages); the rest as `decode(path:...)`.
    static func decode(
        file: OpaquePointer, info: SF_INFO, source path: String, targetRate requestedRate: Int?,
        nonfinitePolicy: NonFinitePolicy, consumer: ((Double) throws -> SampleConsumer?)?,
        progress: ((Double) throws -> Void)?
    ) throws -> Decoded {
        guard info.frames > 0 else {
            throw KMTError.invalidAudio("\(path): contains no audio frames")
        }
        let targetRate = requestedRate ?? Int(info.samplerate)
        let sink = try MonoResamplingSink(
            inputRate: Int(info.samplerate), channels: Int(info.channels), outputRate: targetRate,
            nonfinitePolicy: nonfinitePolicy, source: path)
        let channels = Int(info.channels)
        let blocks = try consumer?(Double(info.frames) / Double(info.samplerate))
        var block = [Float](repeating: 0, count: blockFrames * channels)
        var framesRead = 0
        while true {
            let count = block.withUnsafeMutableBufferPointer {
                Int(sf_readf_float(file, $0.baseAddress, sf_count_t(blockFrames)))
            }
            if count <= 0 { break }
            try block.withUnsafeBufferPointer { try sink.consume($0.baseAddress!, frameCount: count) }
            if let blocks { try blocks(sink.takeOutput()) }
            framesRead += count
            try progress?(Double(framesRead) / Double(info.frames))
        }
        let readError = sf_error(file)
        if readError != 0 {
            throw KMTError.invalidAudio("\(path): corrupt or truncated audio after \(framesRead) frames (\(String(cString: sf_strerror(file))))")
        }
        if framesRead == 0 {
            throw KMTError.invalidAudio("\(path): no audio frames could be decoded (truncated or corrupt)")
        }
        if let declared = declaredFrames(file, framesRead: framesRead), declared > framesRead {
            throw KMTError.invalidAudio("\(path): truncated: the header declares \(declared) frames, the file holds \(framesRead)")
        }
        var samples = try sink.finish()
        if let blocks {
            try blocks(samples)
            samples = []
        }
        return Decoded(
            samples: samples, sampleRate: targetRate, sourceRate: Int(info.samplerate),
            sourceChannels: channels, sourceFrames: framesRead, formatName: formatName(info.format))
    }

    /// What to do with a common file libsndfile cannot read (MP4/AAC audio, video, a
    /// glTF or model given as audio), or nil.
    static func containerHint(_ path: String) -> String? {
        let head = (try? FileBytes.OpenFile(path).prefix(12)) ?? []
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return containerHint(head: head, name: name)
    }

    /// `containerHint` from the first bytes of the data and its file name (nil for data
    /// without one: the extension is then unknown).
    static func containerHint(head: [UInt8], name: String?) -> String? {
        let ext = name.flatMap { $0.split(separator: ".").last.map { $0.lowercased() } } ?? ""
        let name = name ?? "input"
        let isMP4 = head.count >= 8 && Array(head[4..<8]) == Array("ftyp".utf8)
        let isMatroska = head.starts(with: [0x1A, 0x45, 0xDF, 0xA3])
        if isMP4 || isMatroska || ["mp4", "m4a", "m4b", "aac", "mov", "mkv", "webm", "avi", "wma", "3gp"].contains(ext) {
            return "MP4/AAC audio and video containers are not decoded here (libsndfile reads WAV, FLAC, Ogg, MP3, AIFF, ...); "
                + "extract the speech first, e.g. `ffmpeg -i \(name) -vn -ac 1 -ar 16000 speech.wav`"
        }
        if head.starts(with: Array("glTF".utf8)) { return "a GLB (glTF) file, not audio" }
        return nil
    }

    /// Converts interleaved float PCM to mono at `targetRate`; with `consumer`, the
    /// samples go to it block by block and the result is empty. `progress` as for
    /// `decode`.
    static func convert(
        samples: UnsafePointer<Float>, frameCount: Int, sampleRate: Int, channels: Int,
        targetRate: Int, nonfinitePolicy: NonFinitePolicy = .reject, consumer: SampleConsumer? = nil,
        progress: ((Double) throws -> Void)? = nil
    ) throws -> [Float] {
        guard frameCount > 0 else { throw KMTError.invalidAudio("PCM input: no frames (frame_count is 0)") }
        let sink = try MonoResamplingSink(
            inputRate: sampleRate, channels: channels, outputRate: targetRate,
            nonfinitePolicy: nonfinitePolicy, source: "PCM input")
        var offset = 0
        while offset < frameCount {
            let count = min(blockFrames, frameCount - offset)
            try sink.consume(samples + offset * channels, frameCount: count)
            if let consumer { try consumer(sink.takeOutput()) }
            offset += count
            try progress?(Double(offset) / Double(frameCount))
        }
        guard let consumer else { return try sink.finish() }
        try consumer(sink.finish())
        return []
    }

    /// The frame count a WAV or AIFF header declares when its data chunk claims more bytes
    /// than the file holds, or nil. libsndfile clamps `frames` to the bytes present and
    /// notes the mismatch in its log as "data : DECLARED (should be PRESENT)". Streaming
    /// writers that leave the size unknown (0 or 0xFFFFFFFF) are not truncated.
    static func declaredFrames(_ file: OpaquePointer, framesRead: Int) -> Int? {
        var log = [CChar](repeating: 0, count: 8192)
        _ = sf_command(file, Int32(SFC_GET_LOG_INFO), &log, Int32(log.count))
        let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for line in text.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("data ") || trimmed.hasPrefix("SSND "), trimmed.contains("(should be ") else { continue }
            let numbers = trimmed.split { !$0.isNumber }.compactMap { Int($0) }
            guard numbers.count >= 2, numbers[1] > 0, numbers[0] > numbers[1], numbers[0] < 0xFFFF_FFF0 else { return nil }
            return Int(Double(framesRead) * Double(numbers[0]) / Double(numbers[1]))
        }
        return nil
    }

    /// libsndfile's descriptive names of a format's container and encoding.
    static func formatName(_ format: Int32) -> String {
        func name(_ value: Int32, command: Int32) -> String {
            var info = SF_FORMAT_INFO()
            info.format = value
            guard sf_command(nil, command, &info, Int32(MemoryLayout<SF_FORMAT_INFO>.size)) == 0,
                let text = info.name
            else { return "unknown" }
            return String(cString: text)
        }
        let major = name(format & Int32(SF_FORMAT_TYPEMASK), command: Int32(SFC_GET_FORMAT_INFO))
        let minor = name(format & Int32(SF_FORMAT_SUBMASK), command: Int32(SFC_GET_FORMAT_INFO))
        return "\(major) / \(minor)"
    }
}
