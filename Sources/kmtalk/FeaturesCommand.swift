import ArgumentParser
import Foundation
import KMTalkEngine

/// `kmtalk features AUDIO [--npy OUT.npy]`
struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the audio front-end: decode, mono 16 kHz, log-mel; print a summary.")

    @Argument(help: "Audio file.")
    var audio: String

    @Option(help: "Model whose front-end parameters to use (default: the shipped model).")
    var model: String?

    @Option(help: "Write the log-mel matrix [frames, n_mels] as float32 .npy.")
    var npy: String?

    @Option(help: "Write the decoded mono 16 kHz samples as float32 .npy.")
    var samplesNpy: String?

    func run() throws {
        let modelPath = try ModelLocator.resolve(model)
        do {
            let loaded = try KMTalkModel(path: modelPath)
            let start = Date()
            let decoded = try AudioDecoder.decode(path: audio, targetRate: loaded.config.frontend.sampleRate)
            let decodeTime = Date().timeIntervalSince(start)
            let features = loaded.features(decoded.samples)
            let featureTime = Date().timeIntervalSince(start) - decodeTime
            let peak = decoded.samples.reduce(Float(0)) { max($0, abs($1)) }
            let rms = (decoded.samples.reduce(Float(0)) { $0 + $1 * $1 } / Float(decoded.samples.count)).squareRoot()
            print("file:       \(audio)")
            print("format:     \(decoded.formatName)")
            print("source:     \(decoded.sourceRate) Hz, \(decoded.sourceChannels) channel(s), \(decoded.sourceFrames) frames (\(String(format: "%.3f", Double(decoded.sourceFrames) / Double(decoded.sourceRate))) s)")
            print("decoded:    \(decoded.samples.count) mono samples at \(decoded.sampleRate) Hz, peak \(String(format: "%.4f", peak)), rms \(String(format: "%.4f", rms)) (\(String(format: "%.1f", decodeTime * 1000)) ms)")
            let values = features.data
            let mean = values.reduce(0, +) / Float(values.count)
            print("log-mel:    \(features.shape[0]) frames x \(features.shape[1]) bands, min \(String(format: "%.3f", values.min()!)), max \(String(format: "%.3f", values.max()!)), mean \(String(format: "%.3f", mean)) (\(String(format: "%.1f", featureTime * 1000)) ms)")
            if let npy {
                try NPYWriter.write(features.data, shape: features.shape, to: npy)
                print("wrote \(npy)")
            }
            if let samplesNpy {
                try NPYWriter.write(decoded.samples, shape: [decoded.samples.count], to: samplesNpy)
                print("wrote \(samplesNpy)")
            }
        } catch let error as KMTError {
            throw CLIError(error.message)
        }
    }
}

/// Writes NumPy `.npy` files (format 1.0, little-endian float32, C order).
enum NPYWriter {
    static func write(_ values: [Float], shape: [Int], to path: String) throws {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw CLIError("\(path): cannot write (\(error.localizedDescription))")
        }
    }
}
