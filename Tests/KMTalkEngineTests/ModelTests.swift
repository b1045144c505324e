import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// The `kmtalk-direct` network against the NumPy reference forward pass
/// (training/kmtalk_ref/direct_model.py): features, encoder output and motion.
@Suite struct ModelTests {
    @Test(arguments: [
        (Fixtures.tinyModelPath, "model_golden.safetensors"),
        (Fixtures.path("learned-direct.safetensors"), "learned_golden.safetensors"),
    ])
    func matchesReferenceForwardPass(modelPath: String, goldenName: String) throws {
        let model = try KMTalkModel(path: modelPath)
        let golden = try Fixtures.golden(goldenName)
        let samples = try golden.tensor("samples").data
        let features = model.features(samples)
        expectClose(features, try golden.tensor("features"), "features")
        // The network from the reference features isolates it from front-end rounding.
        let referenceFeatures = try golden.tensor("features")
        let encoded = model.encoder(referenceFeatures)
        expectClose(encoded, try golden.tensor("encoded"), "encoder output")
        expectClose(try model.motion(features: referenceFeatures), try golden.tensor("motion"), "motion")
        // End to end through a session, at the native rate and at 60 fps.
        let native = try samples.withUnsafeBufferPointer {
            try Session(model: model, options: SessionOptions()).animate(
                pcm: $0.baseAddress!, frameCount: samples.count, sampleRate: 16_000, channels: 1)
        }
        expectClose(native.values, try golden.tensor("motion"), "session motion")
        #expect(native.fps == 50)
        let sixty = try samples.withUnsafeBufferPointer {
            try Session(model: model, options: SessionOptions(outputFps: 60)).animate(
                pcm: $0.baseAddress!, frameCount: samples.count, sampleRate: 16_000, channels: 1)
        }
        expectClose(sixty.values, try golden.tensor("motion_60fps"), tolerance: 1e-3, "motion at 60 fps")
        #expect(sixty.channelNames == ARKitChannels.names)
    }

    @Test func tinyModelDescribesItself() throws {
        let model = try KMTalkModel(path: Fixtures.tinyModelPath)
        #expect(model.config.architecture == .direct)
        #expect(model.config.motion.fps == 50)
        #expect(model.config.motion.channels.count == 52)
        #expect(model.config.encoder.band == AttentionBand(back: 16, ahead: 3))
        #expect(model.parameterCount > 10_000)
    }

    @Test func veryShortAudioStillYieldsAFrame() throws {
        let model = try KMTalkModel(path: Fixtures.tinyModelPath)
        let samples: [Float] = [0.1, -0.1, 0.2]
        let animation = try samples.withUnsafeBufferPointer {
            try Session(model: model, options: SessionOptions()).animate(
                pcm: $0.baseAddress!, frameCount: 3, sampleRate: 16_000, channels: 1)
        }
        #expect(animation.frameCount == 1)
        #expect(animation.values.data.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
    }

    /// Rewrites the tiny model's tensors and metadata, then expects a load error.
    func expectLoadFailure(
        _ status: kmt_status, _ fragment: String,
        editTensors: (inout [(String, Tensor)]) -> Void = { _ in },
        editMetadata: (inout [(key: String, value: String)]) -> Void = { _ in },
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let original = try SafeTensorsFile(path: Fixtures.tinyModelPath)
        var tensors = original.names.map { ($0, original.tensors[$0]!) }
        var metadata = original.metadata
        editTensors(&tensors)
        editMetadata(&metadata)
        let bytes = SafeTensorsWriter.encode(tensors: tensors, metadata: metadata)
        do {
            _ = try bytes.withUnsafeBytes { try KMTalkModel(bytes: $0, source: "edited.safetensors") }
            Issue.record("loaded an invalid model", sourceLocation: sourceLocation)
        } catch let error as KMTError {
            #expect(error.status == status, "\(error.message)", sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", sourceLocation: sourceLocation)
        }
    }

    @Test func rejectsMissingAndMisshapenTensors() throws {
        try expectLoadFailure(KMT_ERR_CORRUPT_MODEL, "missing tensor 'encoder.layers.1.attn.v.weight' required by architecture 'kmtalk-direct'") {
            $0.removeAll { $0.0 == "encoder.layers.1.attn.v.weight" }
        }
        try expectLoadFailure(KMT_ERR_CORRUPT_MODEL, "tensor 'head.bias' has shape [51]") { tensors in
            let index = tensors.firstIndex { $0.0 == "head.bias" }!
            tensors[index].1 = Tensor(zeros: [51])
        }
        try expectLoadFailure(KMT_ERR_CORRUPT_MODEL, "not used by architecture") { $0.append(("extra.weight", Tensor(zeros: [2]))) }
        try expectLoadFailure(KMT_ERR_CORRUPT_MODEL, "non-finite") { tensors in
            let index = tensors.firstIndex { $0.0 == "head.bias" }!
            tensors[index].1.data[3] = .nan
        }
    }

    @Test func rejectsDataBytesThatBelongToNoTensor() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.tinyModelPath)))
        _ = try bytes.withUnsafeBytes { try KMTalkModel(bytes: $0, source: "intact.safetensors") }
        let padded = bytes + [0, 0, 0, 0]
        #expect {
            _ = try padded.withUnsafeBytes { try KMTalkModel(bytes: $0, source: "padded.safetensors") }
        } throws: { error in
            guard let error = error as? KMTError else { return false }
            return error.status == KMT_ERR_CORRUPT_MODEL && error.message.contains("4 bytes of the data section belong to no tensor")
        }
    }

    @Test func rejectsBadMetadata() throws {
        func replace(_ key: String, _ value: String?) -> (inout [(key: String, value: String)]) -> Void {
            { metadata in
                metadata.removeAll { $0.key == key }
                if let value { metadata.append((key, value)) }
            }
        }
        try expectLoadFailure(KMT_ERR_UNSUPPORTED_FORMAT, "not a KMTalk model", editMetadata: replace("format", nil))
        try expectLoadFailure(KMT_ERR_INCOMPATIBLE_MODEL, "format_version 2", editMetadata: replace("format_version", "2"))
        try expectLoadFailure(KMT_ERR_INCOMPATIBLE_MODEL, "architecture 'kmtalk-v9'", editMetadata: replace("architecture", "kmtalk-v9"))
        try expectLoadFailure(KMT_ERR_CORRUPT_MODEL, "config is not valid JSON", editMetadata: replace("config", "{oops"))
        let config = try #require(try SafeTensorsFile(path: Fixtures.tinyModelPath).metadataValue("config"))
        try expectLoadFailure(KMT_ERR_CORRUPT_MODEL, "config.frontend.n_fft is missing",
                              editMetadata: replace("config", config.replacingOccurrences(of: "\"n_fft\"", with: "\"nfft\"")))
        try expectLoadFailure(KMT_ERR_CORRUPT_MODEL, "motion.fps 60",
                              editMetadata: replace("config", config.replacingOccurrences(of: "\"fps\":50.0", with: "\"fps\":60.0")))
        try expectLoadFailure(KMT_ERR_CORRUPT_MODEL, "must divide by heads",
                              editMetadata: replace("config", config.replacingOccurrences(of: "\"heads\":4", with: "\"heads\":5")))
        try expectLoadFailure(KMT_ERR_CORRUPT_MODEL, "config.streaming.default_latency_ms must be 20..10000 ms, got 5",
                              editMetadata: replace("config", String(config.dropLast()) + ",\"streaming\":{\"default_latency_ms\":5}}"))
        try expectLoadFailure(KMT_ERR_CORRUPT_MODEL, "config.streaming.default_latency_ms must be a number",
                              editMetadata: replace("config", String(config.dropLast()) + ",\"streaming\":{\"default_latency_ms\":\"fast\"}}"))
        func cues(_ object: String) -> (inout [(key: String, value: String)]) -> Void {
            replace("config", String(config.dropLast()) + ",\"cues\":\(object)}")
        }
        try expectLoadFailure(KMT_ERR_CORRUPT_MODEL, "config.cues: unknown key 'rest'", editMetadata: cues("{\"rest\":0.1}"))
        try expectLoadFailure(KMT_ERR_CORRUPT_MODEL, "config.cues: 'open_min' must be a number in 0...4, got 9",
                              editMetadata: cues("{\"open_min\":9}"))
        try expectLoadFailure(KMT_ERR_CORRUPT_MODEL, "config.cues.open_min must be a number", editMetadata: cues("{\"open_min\":\"x\"}"))
        try expectLoadFailure(KMT_ERR_CORRUPT_MODEL, "config.cues must be an object", editMetadata: cues("[0.1]"))
    }

    /// The tiny model with its config metadata replaced by `configText`.
    static func tinyModel(config configText: String, source: String) throws -> KMTalkModel {
        let original = try SafeTensorsFile(path: Fixtures.tinyModelPath)
        var metadata = original.metadata
        metadata.removeAll { $0.key == "config" }
        metadata.append(("config", configText))
        let bytes = SafeTensorsWriter.encode(tensors: original.names.map { ($0, original.tensors[$0]!) }, metadata: metadata)
        return try bytes.withUnsafeBytes { try KMTalkModel(bytes: $0, source: source) }
    }

    /// The mouth-cue thresholds come from the model file when it names them and reach the
    /// animations the model makes.
    @Test func cueThresholdsComeFromTheModelFile() throws {
        let config = try #require(try SafeTensorsFile(path: Fixtures.tinyModelPath).metadataValue("config"))
        func model(_ configText: String) throws -> KMTalkModel {
            try Self.tinyModel(config: configText, source: "cues.safetensors")
        }
        #expect(try model(config).config.mouthCueThresholds == .standard)
        let named = try model(String(config.dropLast()) + ",\"cues\":{\"rest_max\":0.2,\"open_min\":0.25}}")
        var expected = MouthCueThresholds.standard
        expected.restMax = 0.2
        expected.openMin = 0.25
        #expect(named.config.mouthCueThresholds == expected)
        let pcm = [Float](repeating: 0, count: 16_000)
        let animation = try pcm.withUnsafeBufferPointer {
            try Session(model: named, options: SessionOptions(threads: 1))
                .animate(pcm: $0.baseAddress!, frameCount: $0.count, sampleRate: 16_000, channels: 1)
        }
        #expect(animation.mouthCueThresholds == expected)
    }

    /// The streaming default latency comes from the model file when it names one.
    @Test func streamingDefaultLatencyComesFromTheModelFile() throws {
        let config = try #require(try SafeTensorsFile(path: Fixtures.tinyModelPath).metadataValue("config"))
        func session(_ configText: String) throws -> StreamingSession {
            try StreamingSession(
                model: Self.tinyModel(config: configText, source: "latency.safetensors"), options: SessionOptions(threads: 1))
        }
        let plain = try session(config)
        #expect(plain.latencyMs == min(StreamingSession.defaultLatencyMs, plain.fullLatencyMs))
        let named = try session(String(config.dropLast()) + ",\"streaming\":{\"default_latency_ms\":40}}")
        #expect(named.fullLatencyMs > 40)
        #expect(named.latencyMs == 40 && named.requestedLatencyMs == 40)
    }
}

/// Encodes safetensors files in tests (F32 only).
enum SafeTensorsWriter {
    static func encode(tensors: [(String, Tensor)], metadata: [(key: String, value: String)]) -> [UInt8] {
        let quoted = JSONText.quoted
        var entries: [String] = []
        if !metadata.isEmpty {
            entries.append("\"__metadata__\":{" + metadata.map { "\(quoted($0.key)):\(quoted($0.value))" }.joined(separator: ",") + "}")
        }
        var data: [UInt8] = []
        for (name, tensor) in tensors {
            let begin = data.count
            data += tensor.data.withUnsafeBytes { Array($0) }
            entries.append("\(quoted(name)):{\"dtype\":\"F32\",\"shape\":\(tensor.shape),\"data_offsets\":[\(begin),\(data.count)]}")
        }
        return SafeTensorsBuilder.file(header: "{" + entries.joined(separator: ",") + "}", data: data)
    }
}
