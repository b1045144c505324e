import ArgumentParser
import CKMTalk
import Foundation

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
        let loaded = try ModelHandle(path: modelPath)
        let start = Date()
        let decoded = try AudioHandle(path: audio, sampleRate: loaded.sampleRate)
        let decodeTime = Date().timeIntervalSince(start)
        let samples = Array(decoded.samples)
        let (features, bands) = try Self.logMel(loaded, samples)
        let featureTime = Date().timeIntervalSince(start) - decodeTime
        let peak = samples.reduce(Float(0)) { max($0, abs($1)) }
        let rms = (samples.reduce(Float(0)) { $0 + $1 * $1 } / Float(max(1, samples.count))).squareRoot()
        let frames = bands == 0 ? 0 : features.count / bands
        print("file:       \(audio)")
        print("format:     \(decoded.formatName)")
        print("source:     \(decoded.sourceRate) Hz, \(decoded.sourceChannels) channel(s)")
        print("decoded:    \(samples.count) mono samples at \(decoded.sampleRate) Hz (\(String(format: "%.3f", Double(samples.count) / Double(decoded.sampleRate))) s), peak \(String(format: "%.4f", peak)), rms \(String(format: "%.4f", rms)) (\(String(format: "%.1f", decodeTime * 1000)) ms)")
        if features.isEmpty {
            print("log-mel:    0 frames x \(bands) bands (\(String(format: "%.1f", featureTime * 1000)) ms)")
        } else {
            let mean = features.reduce(0, +) / Float(features.count)
            print("log-mel:    \(frames) frames x \(bands) bands, min \(String(format: "%.3f", features.min()!)), max \(String(format: "%.3f", features.max()!)), mean \(String(format: "%.3f", mean)) (\(String(format: "%.1f", featureTime * 1000)) ms)")
        }
        if let npy {
            try NPYWriter.write(features, shape: [frames, bands], to: npy)
            print("wrote \(npy)")
        }
        if let samplesNpy {
            try NPYWriter.write(samples, shape: [samples.count], to: samplesNpy)
            print("wrote \(samplesNpy)")
        }
    }

    /// The model's log-mel spectrogram of `samples` (`kmt_model_log_mel`): F x B floats and B.
    static func logMel(_ model: ModelHandle, _ samples: [Float]) throws -> (values: [Float], bands: Int) {
        var needed = 0, bands = 0
        var status = kmt_model_log_mel(model.pointer, samples, samples.count, nil, 0, &needed, &bands)
        guard status == KMT_OK || status == KMT_ERR_BUFFER_TOO_SMALL else { throw libraryError(status) }
        var values = [Float](repeating: 0, count: needed)
        status = kmt_model_log_mel(model.pointer, samples, samples.count, &values, values.count, &needed, &bands)
        guard status == KMT_OK else { throw libraryError(status) }
        return (values, bands)
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
