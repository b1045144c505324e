import CKMTalk
import Glibc

/// The default model options, struct_size filled in.
private let modelDefaults = kmt_model_params(struct_size: MemoryLayout<kmt_model_params>.size, flags: 0, reserved: 0)

/// Implements `kmt_model_params_init` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_model_params_init(_ params: UnsafeMutablePointer<kmt_model_params>?, _ structSize: Int) -> kmt_status {
    apiCall {
        try initParams(params, structSize: structSize, defaults: modelDefaults, name: "kmt_model_params")
    }
}

/// Validates model params and returns them with defaults for missing fields.
private func modelParams(_ params: UnsafePointer<kmt_model_params>?) throws -> kmt_model_params {
    let resolved = try readParams(params, defaults: modelDefaults, name: "kmt_model_params")
    guard resolved.flags == 0, resolved.reserved == 0 else {
        throw KMTError.invalidArgument("kmt_model_params.flags and .reserved must be 0 (got \(resolved.flags), \(resolved.reserved))")
    }
    return resolved
}

/// Implements `kmt_model_load_file` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_model_load_file(
    _ path: UnsafePointer<CChar>?, _ params: UnsafePointer<kmt_model_params>?,
    _ outModel: UnsafeMutablePointer<OpaquePointer?>?
) -> kmt_status {
    outModel?.pointee = nil
    return apiCall {
        let out = try requireOut(outModel, "out_model")
        let path = try requireString(path, "path")
        _ = try modelParams(params)
        let start = StageClock.now()
        let model = try KMTalkModel(path: path)
        Log.info("loaded \(path): \(model.config.architecture), \(model.tensorCount) tensors, \(model.parameterCount) parameters in \(Int((StageClock.now() - start) * 1000)) ms")
        out.pointee = Handle.retain(model)
    }
}

/// Implements `kmt_model_load_memory` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_model_load_memory(
    _ data: UnsafeRawPointer?, _ size: Int, _ params: UnsafePointer<kmt_model_params>?,
    _ outModel: UnsafeMutablePointer<OpaquePointer?>?
) -> kmt_status {
    outModel?.pointee = nil
    return apiCall {
        let out = try requireOut(outModel, "out_model")
        guard let data else { throw KMTError.invalidArgument("data is NULL") }
        // size_t arrives as Int: sizes above Int.max show up negative.
        guard size >= 0 else { throw KMTError.invalidArgument("size \(UInt(bitPattern: size)) is not a plausible buffer size") }
        _ = try modelParams(params)
        let model = try KMTalkModel(bytes: UnsafeRawBufferPointer(start: data, count: size))
        out.pointee = Handle.retain(model)
    }
}

/// Implements `kmt_model_free` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_model_free(_ model: OpaquePointer?) {
    Handle.release(model, as: KMTalkModel.self)
}

/// The model behind a handle, or nil for NULL.
private func model(_ handle: OpaquePointer?) -> KMTalkModel? {
    handle.map { Handle.borrow($0, as: KMTalkModel.self) }
}

/// The model behind a handle, or KMT_ERR_INVALID_ARGUMENT for NULL.
private func requireModel(_ handle: OpaquePointer?) throws -> KMTalkModel {
    guard let model = model(handle) else { throw KMTError.invalidArgument("model is NULL") }
    return model
}

/// Implements `kmt_model_architecture` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_model_architecture(_ handle: OpaquePointer?, _ outName: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> kmt_status {
    outName?.pointee = nil
    return apiCall {
        let model = try requireModel(handle)
        try requireOut(outName, "out_name").pointee = try indexedCString(model.architectureName, at: 0, item: "architecture")
    }
}

/// Implements `kmt_model_motion_space` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_model_motion_space(_ handle: OpaquePointer?, _ outSpace: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> kmt_status {
    outSpace?.pointee = nil
    return apiCall {
        let model = try requireModel(handle)
        try requireOut(outSpace, "out_space").pointee = try indexedCString(model.motionSpaceName, at: 0, item: "motion space")
    }
}

/// Implements `kmt_model_sample_rate` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_model_sample_rate(_ handle: OpaquePointer?, _ outRate: UnsafeMutablePointer<Int32>?) -> kmt_status {
    outRate?.pointee = 0
    return apiCall {
        let model = try requireModel(handle)
        try requireOut(outRate, "out_rate").pointee = Int32(model.config.frontend.sampleRate)
    }
}

/// Implements `kmt_model_fps` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_model_fps(_ handle: OpaquePointer?, _ outFps: UnsafeMutablePointer<Double>?) -> kmt_status {
    outFps?.pointee = 0
    return apiCall {
        let model = try requireModel(handle)
        try requireOut(outFps, "out_fps").pointee = model.config.motion.fps
    }
}

/// Implements `kmt_model_channel_count` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_model_channel_count(_ handle: OpaquePointer?, _ outCount: UnsafeMutablePointer<Int>?) -> kmt_status {
    outCount?.pointee = 0
    return apiCall {
        let model = try requireModel(handle)
        try requireOut(outCount, "out_count").pointee = model.channelNames.count
    }
}

/// Implements `kmt_model_channel_name` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_model_channel_name(
    _ handle: OpaquePointer?, _ index: Int, _ outName: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> kmt_status {
    outName?.pointee = nil
    return apiCall {
        let model = try requireModel(handle)
        let out = try requireOut(outName, "out_name")
        out.pointee = try indexedCString(model.channelNames, at: index, item: "channel")
    }
}

/// Implements `kmt_model_parameter_count` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_model_parameter_count(_ handle: OpaquePointer?, _ outCount: UnsafeMutablePointer<UInt64>?) -> kmt_status {
    outCount?.pointee = 0
    return apiCall {
        let model = try requireModel(handle)
        try requireOut(outCount, "out_count").pointee = UInt64(model.parameterCount)
    }
}

/// Implements `kmt_model_metadata` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_model_metadata(
    _ handle: OpaquePointer?, _ key: UnsafePointer<CChar>?, _ buffer: UnsafeMutablePointer<CChar>?,
    _ bufferSize: Int, _ outLength: UnsafeMutablePointer<Int>?
) -> kmt_status {
    outLength?.pointee = 0
    return apiCall {
        let model = try requireModel(handle)
        let key = try requireString(key, "key")
        guard let value = model.metadata.first(where: { $0.key == key })?.value else {
            throw KMTError.invalidArgument("model metadata has no key '\(key)'")
        }
        try copyToCallerBuffer(value, buffer, capacity: bufferSize, outLength: outLength, what: "metadata '\(key)'")
    }
}

/// Implements `kmt_model_log_mel` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_model_log_mel(
    _ handle: OpaquePointer?, _ samples: UnsafePointer<Float>?, _ sampleCount: Int, _ buffer: UnsafeMutablePointer<Float>?,
    _ bufferLength: Int, _ outWritten: UnsafeMutablePointer<Int>?, _ outBands: UnsafeMutablePointer<Int>?
) -> kmt_status {
    outWritten?.pointee = 0
    outBands?.pointee = 0
    return apiCall {
        let loaded = try requireModel(handle)
        // size_t arrives as Int: above Int.max it is negative.
        guard sampleCount >= 0, sampleCount <= Int.max / 8 else {
            throw KMTError(KMT_ERR_OUT_OF_MEMORY, "sample_count \(UInt(bitPattern: sampleCount)) is too large")
        }
        guard sampleCount == 0 || samples != nil else { throw KMTError.invalidArgument("samples is NULL") }
        let input = sampleCount == 0 ? [] : Array(UnsafeBufferPointer(start: samples!, count: sampleCount))
        if let bad = input.firstIndex(where: { !$0.isFinite }) {
            throw KMTError.invalidAudio("sample \(bad) is \(input[bad])")
        }
        outBands?.pointee = loaded.config.frontend.melCount
        let features = input.isEmpty ? [] : loaded.features(input).data
        try copyToCallerBuffer(features, buffer, capacity: bufferLength, outCount: outWritten, unit: "floats")
    }
}
