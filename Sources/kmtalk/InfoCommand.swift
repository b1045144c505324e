import ArgumentParser
import Foundation
import KMTalkEngine

/// `kmtalk info MODEL`
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Describe a model file: metadata, tensors, parameters.")

    @Argument(help: "Model file (default: $KMTALK_MODEL or the shipped model).")
    var model: String?

    @Flag(help: "List every tensor with its shape and stored dtype.")
    var tensors = false

    func run() throws {
        let path = try ModelLocator.resolve(model)
        let start = Date()
        let file: SafeTensorsFile
        let loaded: KMTalkModel
        do {
            file = try SafeTensorsFile(path: path)
            loaded = try KMTalkModel(file: file, source: path)
        } catch let error as KMTError {
            throw CLIError(error.message)
        }
        let elapsed = Date().timeIntervalSince(start)
        let config = loaded.config
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        var dtypeCounts: [String: Int] = [:]
        for name in file.names { dtypeCounts[file.storedTypes[name]!.rawValue, default: 0] += 1 }
        print("model:        \(path)")
        print("size:         \(fileSize) bytes, loaded in \(String(format: "%.1f", elapsed * 1000)) ms")
        print("architecture: \(config.architecture)")
        print("tensors:      \(file.names.count) (\(dtypeCounts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")))")
        print("parameters:   \(file.parameterCount)")
        let f = config.frontend
        print("front-end:    \(f.sampleRate) Hz, log-mel \(f.melCount) bands \(Int(f.minFrequency))-\(Int(f.maxFrequency)) Hz, n_fft \(f.fftSize), window \(f.windowLength), hop \(f.hopLength)")
        let e = config.encoder
        let band = e.band.map { "band \($0.back) back / \($0.ahead) ahead" } ?? "full attention"
        print("encoder:      \(e.convolutions.count) conv (stride \(e.totalStride)), \(e.layers) layers x width \(e.width), \(e.heads) heads, ffn \(e.feedForwardWidth), \(e.positions) positions, \(band)")
        print("motion:       \(config.motion.space), \(config.motion.channels.count) channels at \(config.motion.fps) fps (\(config.motion.activation.rawValue))")
        if let stream = try? StreamingSession(model: loaded, options: SessionOptions(threads: 1)) {
            print(String(format: "streaming:    exact at %.0f ms (the look-ahead), default latency %.0f ms", stream.fullLatencyMs, stream.latencyMs))
        } else {
            print("streaming:    no (full attention)")
        }
        if let template = loaded.template {
            print("template:     \(template.vertexCount) vertices, \(template.faceCount) faces, units \(template.units.rawValue) (offsets v<i>.x/y/z)")
        }
        print("metadata:")
        for (key, value) in file.metadata where key != "config" {
            print("  \(key): \(value)")
        }
        if tensors {
            print("tensor list:")
            for name in file.names {
                print("  \(name) \(file.shape(of: name) ?? []) \(file.storedTypes[name]?.rawValue ?? "?")")
            }
        }
    }
}
