// libFuzzer targets over the C API and the asset importers (scripts/fuzz.sh builds and
// runs them; fuzz/README.md). Built only with KMTALK_FUZZ=1 and -sanitize=fuzzer.
import CKMTalk
import Glibc

@testable import KMTalkEngine

/// The target this process fuzzes ($KMTALK_FUZZ_TARGET).
nonisolated(unsafe) var target = ""
/// The tiny model, for the audio and streaming targets.
nonisolated(unsafe) var tinyModel: OpaquePointer?
/// The tiny model's bytes and its config JSON's place in them (the config target splices
/// the input in there).
nonisolated(unsafe) var modelBytes: [UInt8] = []

let targets = ["model", "config", "rig", "gltf", "obj", "audio", "stream"]

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    target = getenv("KMTALK_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard targets.contains(target) else {
        print("set KMTALK_FUZZ_TARGET to one of \(targets.joined(separator: ", "))")
        exit(2)
    }
    let modelPath = getenv("KMTALK_FUZZ_MODEL").map { String(cString: $0) } ?? "models/kmtalk-tiny-random.safetensors"
    guard kmt_model_load_file(modelPath, nil, &tinyModel) == KMT_OK, let bytes = try? FileBytes.read(modelPath) else {
        print("cannot load \(modelPath): \(String(cString: kmt_last_error()))")
        exit(2)
    }
    modelBytes = bytes
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    switch target {
    case "model": fuzzModel(input)
    case "config": fuzzConfig(input)
    case "rig": fuzzRig(input)
    case "gltf": _ = try? GLTFImporter.importRig(bytes: input, source: "fuzz.gltf")
    case "obj": _ = try? OBJMesh(bytes: input, source: "fuzz.obj")
    case "audio": fuzzAudio(input)
    case "stream": fuzzStream(input)
    default: break
    }
    return 0
}

/// Loads the input as a model; a model that loads animates a short signal.
func fuzzModel(_ input: [UInt8]) {
    var model: OpaquePointer?
    guard kmt_model_load_memory(input, input.count, nil, &model) == KMT_OK else { return }
    defer { kmt_model_free(model) }
    animateShortSignal(model)
}

/// The tiny model with the input in place of its `config` metadata value (the JSON the
/// engine validates against the weights).
func fuzzConfig(_ input: [UInt8]) {
    guard let file = try? SafeTensorsFile(bytes: modelBytes, source: "tiny") else { return }
    let metadata = file.metadata.map { $0.key == "config" ? ($0.key, String(decoding: input, as: UTF8.self)) : $0 }
    let entries = file.names.compactMap { name in file.tensors[name].map { SafeTensorsEncoder.Entry.float32(name, shape: $0.shape, $0.data) } }
    guard let bytes = try? SafeTensorsEncoder(entries: entries, metadata: metadata).encode() else { return }
    fuzzModel(bytes)
}

/// Loads the input as a rig; a rig that loads poses a frame of the tiny model.
func fuzzRig(_ input: [UInt8]) {
    var rig: OpaquePointer?
    guard kmt_rig_load_memory(input, input.count, &rig) == KMT_OK else { return }
    kmt_rig_free(rig)
}

/// Decodes and animates the input as an audio file (any format libsndfile reads).
func fuzzAudio(_ input: [UInt8]) {
    var template = Array("/dev/shm/kmtalk-fuzz-XXXXXX".utf8CString)
    let descriptor = mkstemp(&template)
    guard descriptor >= 0 else { return }
    let path = String(cString: template)
    defer {
        close(descriptor)
        unlink(path)
    }
    guard input.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) == input.count else { return }
    var session: OpaquePointer?
    guard kmt_session_create(tinyModel, nil, &session) == KMT_OK else { return }
    defer { kmt_session_free(session) }
    var animation: OpaquePointer?
    if kmt_animate_file(session, path, &animation) == KMT_OK {
        kmt_animation_free(animation)
    }
}

/// Streams the input: byte 0 picks the rate, byte 1 the channels and sample type, then
/// each chunk is a length byte and samples; pulls between pushes, flush at the end.
func fuzzStream(_ input: [UInt8]) {
    guard input.count >= 2 else { return }
    let rates: [Int32] = [8_000, 11_025, 16_000, 22_050, 44_100, 48_000, 96_000, 7_999, 0, 192_001]
    let rate = rates[Int(input[0]) % rates.count]
    let channels = Int32(input[1] & 0x07)
    let integer = input[1] & 0x80 != 0
    var session: OpaquePointer?
    guard kmt_session_create(tinyModel, nil, &session) == KMT_OK else { return }
    defer { kmt_session_free(session) }
    var offset = 2
    var buffer = [Float](repeating: 0, count: 52 * 64)
    while offset < input.count {
        let chunkFrames = Int(input[offset]) * 8
        offset += 1
        let bytesPerFrame = max(Int(channels), 1) * (integer ? 2 : 4)
        let available = min(chunkFrames, (input.count - offset) / bytesPerFrame)
        let bytes = Array(input[offset..<(offset + available * bytesPerFrame)])
        offset += available * bytesPerFrame
        if integer {
            let samples = bytes.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
            _ = kmt_session_push_s16(session, samples, available, rate, channels)
        } else {
            let samples = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            _ = kmt_session_push_f32(session, samples, available, rate, channels)
        }
        var frames = 0
        _ = kmt_session_pull(session, &buffer, Int(input[offset - 1]) % 3 == 0 ? 10 : buffer.count, &frames, nil)
        if chunkFrames == 0 { _ = kmt_session_reset(session) }
    }
    _ = kmt_session_flush(session)
    var frames = 0
    while kmt_session_pull(session, &buffer, buffer.count, &frames, nil) == KMT_OK, frames > 0 {}
}

/// Animates 0.2 s of a tone with `model` and saves nothing (exercises the network).
func animateShortSignal(_ model: OpaquePointer?) {
    var session: OpaquePointer?
    guard kmt_session_create(model, nil, &session) == KMT_OK else { return }
    defer { kmt_session_free(session) }
    let samples = (0..<3_200).map { Float(sin(Double($0) * 0.07)) * 0.3 }
    var animation: OpaquePointer?
    if kmt_animate_pcm(session, samples, samples.count, 16_000, 1, &animation) == KMT_OK {
        kmt_animation_free(animation)
    }
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// The entry point SwiftPM names for this executable target (it links `main` to it):
/// hands over to libFuzzer's driver.
@_cdecl("kmtalk_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return withUnsafeMutablePointer(to: &arguments) { argumentsPointer in
        runFuzzerDriver(&count, argumentsPointer) { testOneInput($0, $1) }
    }
}
