import ArgumentParser
import CKMTalk
import CKMTalkHost
import Foundation

/// `kmtalk info MODEL`: a host of include/kmtalk.h like any other. The model is loaded
/// and described through the C API (its metadata, including the `config` JSON, through
/// `kmt_model_metadata`); the tensor table comes from the file's safetensors header,
/// which is a documented file format, not the engine.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Describe a model file: metadata, tensors, parameters.")

    @Argument(help: "Model file (default: $KMTALK_MODEL or the shipped model).")
    var model: String?

    @Flag(help: "List every tensor with its shape and stored dtype.")
    var tensors = false

    func run() throws {
        let path = try ModelLocator.resolve(model)
        let start = Date()
        let loaded = try ModelHandle(path: path)
        let elapsed = Date().timeIntervalSince(start)
        let header = try SafeTensorsHeader(path: path)
        let config = (try? JSONSerialization.jsonObject(with: Data(loaded.metadata("config")?.utf8 ?? "{}".utf8))) as? [String: Any] ?? [:]
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        var dtypeCounts: [String: Int] = [:]
        for tensor in header.tensors { dtypeCounts[tensor.dtype, default: 0] += 1 }
        let architecture = loaded.architecture
        print("model:        \(path)")
        // Which library this CLI loaded (a host of include/kmtalk.h: $KMTALK_LIBRARY picks another).
        let library = kmtalk_host_library_path().map { String(cString: $0) } ?? "linked into this program"
        print("library:      \(library) (\(String(cString: kmt_version())))")
        print("size:         \(fileSize) bytes, loaded in \(String(format: "%.1f", elapsed * 1000)) ms")
        print("architecture: \(architecture)")
        print("tensors:      \(header.tensors.count) (\(dtypeCounts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")))")
        print("parameters:   \(loaded.parameterCount)")
        if let f = config["frontend"] as? [String: Any] {
            print("front-end:    \(loaded.sampleRate) Hz, log-mel \(int(f["n_mels"])) bands \(int(f["f_min"]))-\(int(f["f_max"])) Hz, n_fft \(int(f["n_fft"])), window \(int(f["win_length"])), hop \(int(f["hop_length"]))")
        }
        if let e = config["encoder"] as? [String: Any] {
            let convs = e["conv"] as? [[String: Any]] ?? []
            let stride = convs.reduce(1) { $0 * int($1["stride"]) }
            let band = e["band_back"] is NSNull || e["band_back"] == nil
                ? "full attention" : "band \(int(e["band_back"])) back / \(int(e["band_ahead"])) ahead"
            print("encoder:      \(convs.count) conv (stride \(stride)), \(int(e["layers"])) layers x width \(int(e["width"])), \(int(e["heads"])) heads, ffn \(int(e["ffn_width"])), \(e["positions"] as? String ?? "?") positions, \(band)")
        }
        let motion = config["motion"] as? [String: Any] ?? [:]
        let space = loaded.motionSpace
        let channels = loaded.channelNames.count
        print("motion:       \(space), \(channels) channels at \(loaded.fps) fps (\(motion["activation"] as? String ?? "?"))")
        if let latencies = try loaded.streamingLatencies() {
            print(String(format: "streaming:    exact at %.0f ms (the look-ahead), default latency %.0f ms", latencies.exact, latencies.default))
        } else {
            print("streaming:    no (full attention)")
        }
        if space == "vertices" {
            let faces = header.tensors.first { $0.name == "motion.faces" }?.shape.first ?? 0
            print("template:     \(channels / 3) vertices, \(faces) faces, units \(motion["units"] as? String ?? "m") (offsets v<i>.x/y/z)")
        }
        print("metadata:")
        for (key, value) in header.metadata where key != "config" {
            print("  \(key): \(value)")
        }
        if tensors {
            print("tensor list:")
            for tensor in header.tensors {
                print("  \(tensor.name) \(tensor.shape) \(tensor.dtype)")
            }
        }
    }

    /// A JSON number as an Int (0 when absent).
    private func int(_ value: Any?) -> Int { (value as? NSNumber)?.intValue ?? 0 }
}

/// The JSON header of a safetensors file (format: an 8-byte little-endian length, then
/// that many bytes of JSON: `__metadata__` strings and one entry per tensor), in file order.
struct SafeTensorsHeader {
    struct TensorEntry {
        let name: String
        let dtype: String
        let shape: [Int]
    }

    let tensors: [TensorEntry]
    /// `__metadata__`, sorted by key.
    let metadata: [(key: String, value: String)]

    init(path: String) throws {
        guard let file = FileHandle(forReadingAtPath: path) else { throw CLIError("\(path): cannot open") }
        defer { try? file.close() }
        let prefix = file.readData(ofLength: 8)
        guard prefix.count == 8 else { throw CLIError("\(path): not a safetensors file (shorter than 8 bytes)") }
        let length = prefix.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= 100_000_000 else { throw CLIError("\(path): safetensors header of \(length) bytes is implausible") }
        let json = file.readData(ofLength: Int(length))
        guard json.count == Int(length),
              let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any]
        else { throw CLIError("\(path): unreadable safetensors header") }
        var entries: [(offset: Int, entry: TensorEntry)] = []
        for (name, value) in object where name != "__metadata__" {
            guard let tensor = value as? [String: Any] else { continue }
            let offsets = tensor["data_offsets"] as? [NSNumber] ?? []
            entries.append((offsets.first?.intValue ?? 0, TensorEntry(
                name: name, dtype: tensor["dtype"] as? String ?? "?",
                shape: (tensor["shape"] as? [NSNumber] ?? []).map(\.intValue))))
        }
        tensors = entries.sorted { ($0.offset, $0.entry.name) < ($1.offset, $1.entry.name) }.map(\.entry)
        metadata = ((object["__metadata__"] as? [String: String]) ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
