import Foundation

/// A RIFF/WAVE file read whole for `kmtalk stream`: integer PCM (8, 16, 24, 32 bit), IEEE
/// float (32, 64 bit), WAVE_FORMAT_EXTENSIBLE with either; any rate and channel count.
/// 16-bit PCM stays int16 (pushed with kmt_session_push_s16, scaled by 1/32768 as
/// libsndfile scales it for kmt_animate_file); the others become float in -1..1.
struct WAVFile {
    let sampleRate: Int32
    let channels: Int32
    /// Interleaved samples: exactly one of the two is non-empty (both for an empty file).
    let int16: [Int16]
    let float: [Float]

    var frameCount: Int { (int16.isEmpty ? float.count : int16.count) / Int(channels) }

    /// Whether `bytes` start like a WAV file.
    static func looksLikeWAV(_ bytes: Data) -> Bool {
        bytes.count >= 12 && bytes.prefix(4) == Data("RIFF".utf8) && bytes[bytes.startIndex + 8..<bytes.startIndex + 12] == Data("WAVE".utf8)
    }

    /// Parses `data` (the whole file). Errors name `label` and what is wrong.
    init(_ data: Data, label: String) throws {
        let bytes = [UInt8](data)
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        guard Self.looksLikeWAV(data) else { throw CLIError("\(label): not a WAV file") }
        var offset = 12
        var format: (code: Int, channels: Int, rate: Int, bits: Int)?
        var body: Range<Int>?
        while offset + 8 <= bytes.count {
            let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            let size = u32(offset + 4)
            let start = offset + 8
            let end = min(bytes.count, start + size)  // a truncated data chunk keeps what is there
            if id == "fmt ", end - start >= 16 {
                var code = u16(start)
                if code == 0xFFFE, end - start >= 26 { code = u16(start + 24) }  // EXTENSIBLE: the subformat GUID
                format = (code, u16(start + 2), u32(start + 4), u16(start + 14))
            } else if id == "data" {
                body = start..<end
                break
            }
            offset = start + size + (size & 1)
        }
        guard let format, let body else { throw CLIError("\(label): WAV file without a fmt or data chunk") }
        guard format.channels > 0, format.rate > 0 else { throw CLIError("\(label): WAV header with \(format.channels) channels at \(format.rate) Hz") }
        let width = format.bits / 8
        let count = (body.count / max(1, width * format.channels)) * format.channels
        var int16: [Int16] = []
        var float: [Float] = []
        switch (format.code, format.bits) {
        case (1, 16):
            int16 = (0..<count).map { Int16(bitPattern: UInt16(u16(body.lowerBound + 2 * $0))) }
        case (1, 8):
            float = (0..<count).map { (Float(bytes[body.lowerBound + $0]) - 128) / 128 }
        case (1, 24):
            float = (0..<count).map {
                let at = body.lowerBound + 3 * $0
                let value = Int32(bitPattern: UInt32(bytes[at]) << 8 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 24) >> 8
                return Float(value) / 8_388_608
            }
        case (1, 32):
            float = (0..<count).map { Float(Int32(bitPattern: UInt32(u32(body.lowerBound + 4 * $0)))) / 2_147_483_648 }
        case (3, 32):
            float = (0..<count).map { Float(bitPattern: UInt32(u32(body.lowerBound + 4 * $0))) }
        case (3, 64):
            float = (0..<count).map {
                let at = body.lowerBound + 8 * $0
                return Float(Double(bitPattern: UInt64(u32(at)) | UInt64(u32(at + 4)) << 32))
            }
        default:
            throw CLIError("\(label): WAV encoding \(format.code) at \(format.bits) bits is not read by kmtalk stream (PCM 8/16/24/32 bit and float 32/64 are); convert it, or install ffmpeg")
        }
        sampleRate = Int32(format.rate)
        channels = Int32(format.channels)
        self.int16 = int16
        self.float = float
    }
}
