import Foundation
import Testing

@testable import KMTalkEngine

/// The engine against the PyTorch model (training/kmtalk_train/model.py), on goldens that
/// training/make_torch_goldens.py writes: every intermediate within 1e-4 (motion 1e-3) and
/// identical key frames, for the tiny test models and for the shipped default model.
@Suite struct PyTorchParityTests {
    static let basePath = Fixtures.repositoryRoot.appendingPathComponent("models/kmtalk-base.safetensors").path

    /// Runs `model` on the golden's samples and compares every intermediate it has.
    func expectParity(modelPath: String, golden name: String) throws {
        let model = try KMTalkModel(path: modelPath)
        let golden = try Fixtures.golden(name)
        let features = model.features(try golden.tensor("samples").data)
        expectClose(features, try golden.tensor("features"), "\(name): features")
        // From the engine's own features, as at inference (not the golden's).
        let output = try model.run(features: features)
        expectClose(output.encoded, try golden.tensor("encoded"), "\(name): encoder output")
        expectClose(output.motion, try golden.tensor("motion"), tolerance: 1e-3, "\(name): motion")
        if golden.tensors["loudness"] != nil {
            let loudness = try golden.tensor("loudness")
            expectClose(Tensor(shape: loudness.shape, data: output.loudness), loudness, "\(name): loudness")
        } else {
            #expect(output.loudness.isEmpty)
        }
        guard golden.tensors["key_frames"] != nil else {
            #expect(output.keyFrames.isEmpty && output.phonePosteriors == nil)
            return
        }
        expectClose(try #require(output.phonePosteriors), try golden.tensor("phone_post"), "\(name): phone posteriors")
        expectClose(try #require(output.featureProbabilities), try golden.tensor("feature_prob"), "\(name): feature probabilities")
        let boundary = try golden.tensor("boundary")
        expectClose(Tensor(shape: boundary.shape, data: output.boundaryScores), boundary, "\(name): boundary scores")
        // The goldens record how far the closest locator decision was from flipping; the
        // engine's rounding (measured above) stays well below it, so keys must match exactly.
        #expect(try golden.tensor("locator_margin").data[0] > 1e-4)
        #expect(output.keyFrames == (try golden.tensor("key_frames")).data.map { Int($0) }, "\(name): key frames")
        expectClose(try #require(output.keyPoses), try golden.tensor("key_poses"), "\(name): key poses")
    }

    @Test func tinyKeyMotionModel() throws {
        try expectParity(modelPath: Fixtures.path("kmtalk-tiny.safetensors"), golden: "kmtalk_torch_golden.safetensors")
    }

    @Test func tinyDirectRegressionModel() throws {
        try expectParity(modelPath: Fixtures.path("kmtalk-nokeys.safetensors"), golden: "nokeys_torch_golden.safetensors")
    }

    @Test func tinyModelWithTheShallowPath() throws {
        try expectParity(modelPath: Fixtures.path("kmtalk-shallow.safetensors"), golden: "shallow_torch_golden.safetensors")
    }

    @Test func tinyModelWithTheLoudnessPath() throws {
        try expectParity(modelPath: Fixtures.path("kmtalk-loudness.safetensors"), golden: "loudness_torch_golden.safetensors")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: basePath), "models/kmtalk-base.safetensors missing"))
    func shippedDefaultModelOnTheExampleClip() throws {
        try expectParity(modelPath: Self.basePath, golden: "base_torch_golden.safetensors")
        // The golden's samples are the committed example clip, decoded as the engine does.
        let golden = try Fixtures.golden("base_torch_golden.safetensors")
        let wav = Fixtures.repositoryRoot.appendingPathComponent("examples/audio/hello.wav").path
        let decoded = try AudioDecoder.decode(path: wav, targetRate: 16_000).samples
        expectClose(Tensor(shape: [decoded.count], data: decoded), try golden.tensor("samples"), tolerance: 1e-6, "hello.wav")
    }
}
