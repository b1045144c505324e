/// 16-bit PCM WAV bytes, the audio format every browser plays: the web page embeds the
/// input's audio this way, as the library decoded it (mono, `kmt_audio_load_file`).
enum WAVEncoder {
    /// A mono 16-bit WAV of `samples` (float, nominally -1...1; clipped) at `sampleRate` Hz.
    static func encode(_ samples: UnsafeBufferPointer<Float>, sampleRate: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(44 + 2 * samples.count)
        func append(_ text: String) { bytes += Array(text.utf8) }
        func append32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        func append16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        let dataSize = UInt32(2 * samples.count)
        append("RIFF")
        append32(36 + dataSize)
        append("WAVEfmt ")
        append32(16)
        append16(1)  // PCM
        append16(1)  // mono
        append32(UInt32(sampleRate))
        append32(UInt32(2 * sampleRate))  // bytes per second
        append16(2)  // block align
        append16(16)  // bits per sample
        append("data")
        append32(dataSize)
        for sample in samples {
            let clipped = sample.isFinite ? max(-1, min(1, sample)) : 0
            append16(UInt16(bitPattern: Int16((clipped * 32767).rounded())))
        }
        return bytes
    }
}
