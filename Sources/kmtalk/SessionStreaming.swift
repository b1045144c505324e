import CKMTalk

/// The C API's streaming calls (kmt_session_push_*, _pull, _flush) on a session.
extension SessionHandle {
    /// The latency in milliseconds a frame becomes final after its time.
    func latencyMs() throws -> Double { try libraryValue(0) { kmt_session_latency_ms(pointer, $0) } }

    /// Chooses the streaming latency (>= 20 ms; at or above the model's look-ahead the
    /// frames equal the offline result), before the first push.
    func setLatency(ms: Double) throws {
        let status = kmt_session_set_latency_ms(pointer, ms)
        guard status == KMT_OK else { throw libraryError(status) }
    }

    /// Pushes a chunk of interleaved PCM.
    func push(_ chunk: PCMChunk, sampleRate: Int32, channels: Int32) throws {
        let frames = chunk.sampleCount / Int(channels)
        let status: kmt_status
        switch chunk {
        case .int16(let samples):
            status = samples.withUnsafeBufferPointer { kmt_session_push_s16(pointer, $0.baseAddress, frames, sampleRate, channels) }
        case .float(let samples):
            status = samples.withUnsafeBufferPointer { kmt_session_push_f32(pointer, $0.baseAddress, frames, sampleRate, channels) }
        }
        guard status == KMT_OK else { throw libraryError(status) }
    }

    /// The frames that became final, row-major (`channels` floats each).
    func pull(channels: Int) throws -> [Float] {
        var pending = 0
        var status = kmt_session_pending_frames(pointer, &pending)
        guard status == KMT_OK else { throw libraryError(status) }
        guard pending > 0 else { return [] }
        var frames = [Float](repeating: 0, count: pending * channels)
        var pulled = 0
        status = frames.withUnsafeMutableBufferPointer {
            kmt_session_pull(pointer, $0.baseAddress, $0.count, &pulled, nil)
        }
        guard status == KMT_OK else { throw libraryError(status) }
        return Array(frames.prefix(pulled * channels))
    }

    /// Ends the utterance: the remaining frames become final.
    func flush() throws {
        let status = kmt_session_flush(pointer)
        guard status == KMT_OK else { throw libraryError(status) }
    }
}
