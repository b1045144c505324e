import CKMTalk

/// The default audio options, struct_size filled in: the file's own rate, reject
/// non-finite samples, no progress.
nonisolated(unsafe) private let audioDefaults = kmt_audio_params(
    struct_size: MemoryLayout<kmt_audio_params>.size, sample_rate: 0, nonfinite_policy: KMT_NONFINITE_REJECT,
    progress: nil, progress_user_data: nil)

/// The offsets of kmt_audio_params' pointer fields (a struct_size may not split one).
private let audioPointerFields = [
    MemoryLayout<kmt_audio_params>.offset(of: \.progress)!,
    MemoryLayout<kmt_audio_params>.offset(of: \.progress_user_data)!,
]

/// Implements `kmt_audio_params_init` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_audio_params_init(_ params: UnsafeMutablePointer<kmt_audio_params>?, _ structSize: Int) -> kmt_status {
    apiCall {
        try initParams(
            params, structSize: structSize, defaults: audioDefaults, name: "kmt_audio_params",
            pointerFields: audioPointerFields)
    }
}

/// The validated options of one load call.
private struct AudioLoadOptions {
    /// nil: the file's own rate.
    var sampleRate: Int?
    var nonfinitePolicy: NonFinitePolicy
    var reporter: ProgressReporter?
}

/// Reads and validates the caller's audio params (NULL: defaults).
private func audioOptions(_ params: UnsafePointer<kmt_audio_params>?) throws -> AudioLoadOptions {
    let p = try readParams(params, defaults: audioDefaults, name: "kmt_audio_params", pointerFields: audioPointerFields)
    guard p.sample_rate == 0 || MonoResamplingSink.supportedRates.contains(Int(p.sample_rate)) else {
        throw KMTError.invalidArgument("kmt_audio_params.sample_rate must be 0 (the file's own) or 8000..192000 Hz, got \(p.sample_rate)")
    }
    guard p.nonfinite_policy == KMT_NONFINITE_REJECT || p.nonfinite_policy == KMT_NONFINITE_ZERO else {
        throw KMTError.invalidArgument("nonfinite_policy \(p.nonfinite_policy.rawValue) is not a kmt_nonfinite_policy value")
    }
    return AudioLoadOptions(
        sampleRate: p.sample_rate == 0 ? nil : Int(p.sample_rate),
        nonfinitePolicy: p.nonfinite_policy == KMT_NONFINITE_ZERO ? .zero : .reject,
        reporter: progressCallback(p.progress, p.progress_user_data).map(ProgressReporter.init))
}

/// Runs one load: reports "decode" from 0 to the end around `decode`, which receives the
/// options and a progress function, and hands out the clip.
private func loadAudio(
    _ params: UnsafePointer<kmt_audio_params>?, into out: UnsafeMutablePointer<OpaquePointer?>,
    _ decode: (AudioLoadOptions, ((Double) throws -> Void)?) throws -> AudioDecoder.Decoded
) throws {
    let options = try audioOptions(params)
    try options.reporter.report(0, stage: "decode")
    let clip = AudioClip(try decode(options, options.reporter.part(0...1, stage: "decode")))
    try options.reporter.finish(stage: "decode")
    out.pointee = Handle.retain(clip)
}

/// Implements `kmt_audio_load_file` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_audio_load_file(
    _ path: UnsafePointer<CChar>?, _ params: UnsafePointer<kmt_audio_params>?,
    _ outAudio: UnsafeMutablePointer<OpaquePointer?>?
) -> kmt_status {
    outAudio?.pointee = nil
    return apiCall {
        let out = try requireOut(outAudio, "out_audio")
        let path = try requireString(path, "path")
        guard !path.isEmpty else { throw KMTError.invalidArgument("path is empty") }
        try loadAudio(params, into: out) { options, progress in
            try AudioDecoder.decode(
                path: path, targetRate: options.sampleRate, nonfinitePolicy: options.nonfinitePolicy, progress: progress)
        }
    }
}

/// Implements `kmt_audio_load_memory` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_audio_load_memory(
    _ data: UnsafeRawPointer?, _ size: Int, _ params: UnsafePointer<kmt_audio_params>?,
    _ outAudio: UnsafeMutablePointer<OpaquePointer?>?
) -> kmt_status {
    outAudio?.pointee = nil
    return apiCall {
        let out = try requireOut(outAudio, "out_audio")
        guard let data else { throw KMTError.invalidArgument("data is NULL") }
        // size_t arrives as Int: sizes above Int.max show up negative.
        guard size >= 0 else { throw KMTError.invalidArgument("size \(UInt(bitPattern: size)) is not a plausible buffer size") }
        try loadAudio(params, into: out) { options, progress in
            try AudioDecoder.decode(
                bytes: UnsafeRawBufferPointer(start: data, count: size), targetRate: options.sampleRate,
                nonfinitePolicy: options.nonfinitePolicy, progress: progress)
        }
    }
}

/// Implements `kmt_audio_free` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_audio_free(_ audio: OpaquePointer?) {
    Handle.release(audio, as: AudioClip.self)
}

/// The clip behind a handle, or KMT_ERR_INVALID_ARGUMENT for NULL.
private func requireClip(_ handle: OpaquePointer?) throws -> AudioClip {
    guard let handle else { throw KMTError.invalidArgument("audio is NULL") }
    return Handle.borrow(handle, as: AudioClip.self)
}

/// Implements `kmt_audio_sample_rate` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_audio_sample_rate(_ handle: OpaquePointer?, _ outRate: UnsafeMutablePointer<Int32>?) -> kmt_status {
    outRate?.pointee = 0
    return apiCall {
        let clip = try requireClip(handle)
        try requireOut(outRate, "out_rate").pointee = Int32(clip.sampleRate)
    }
}

/// Implements `kmt_audio_sample_count` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_audio_sample_count(_ handle: OpaquePointer?, _ outCount: UnsafeMutablePointer<Int>?) -> kmt_status {
    outCount?.pointee = 0
    return apiCall {
        let clip = try requireClip(handle)
        try requireOut(outCount, "out_count").pointee = clip.samples.count
    }
}

/// Implements `kmt_audio_samples` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_audio_samples(_ handle: OpaquePointer?, _ outSamples: UnsafeMutablePointer<UnsafePointer<Float>?>?) -> kmt_status {
    outSamples?.pointee = nil
    return apiCall {
        let clip = try requireClip(handle)
        try requireOut(outSamples, "out_samples").pointee = clip.samples.baseAddress
    }
}

/// Implements `kmt_audio_source_rate` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_audio_source_rate(_ handle: OpaquePointer?, _ outRate: UnsafeMutablePointer<Int32>?) -> kmt_status {
    outRate?.pointee = 0
    return apiCall {
        let clip = try requireClip(handle)
        try requireOut(outRate, "out_rate").pointee = Int32(clip.sourceRate)
    }
}

/// Implements `kmt_audio_source_channels` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_audio_source_channels(_ handle: OpaquePointer?, _ outChannels: UnsafeMutablePointer<Int32>?) -> kmt_status {
    outChannels?.pointee = 0
    return apiCall {
        let clip = try requireClip(handle)
        try requireOut(outChannels, "out_channels").pointee = Int32(clip.sourceChannels)
    }
}

/// Implements `kmt_audio_format_name` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_audio_format_name(_ handle: OpaquePointer?, _ outName: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> kmt_status {
    outName?.pointee = nil
    return apiCall {
        let clip = try requireClip(handle)
        try requireOut(outName, "out_name").pointee = try indexedCString(clip.formatNameTable, at: 0, item: "format name")
    }
}
