import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// The shipped default model on the shipped example speech: the mouth opens during speech
/// and stays nearly at rest in the silence after "Hello!".
@Suite struct ShippedModelTests {
    static let modelPath = Fixtures.repositoryRoot.appendingPathComponent("models/kmtalk-base.safetensors").path
    static let audioPath = Fixtures.repositoryRoot.appendingPathComponent("examples/audio/hello.wav").path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: modelPath), "models/kmtalk-base.safetensors not shipped yet"))
    func mouthFollowsTheSpeech() throws {
        let model = try KMTalkModel(path: Self.modelPath)
        #expect(model.config.architecture == .kmtalk)
        #expect(model.parameterCount < 8_000_000)
        let animation = try Session(model: model, options: SessionOptions(outputFps: 60)).animate(path: Self.audioPath)
        let jaw = ARKitChannels.names.firstIndex(of: "jawOpen")!
        func meanJaw(_ from: Double, _ to: Double) -> Float {
            let frames = Int(from * 60)..<Int(to * 60)
            return frames.map { animation.values.data[$0 * animation.channelCount + jaw] }.reduce(0, +) / Float(frames.count)
        }
        // hello.wav: "Hello!" 0.05-0.5 s, silence 0.55-0.85 s, then continuous speech.
        let speech = meanJaw(1.0, 4.5), silence = meanJaw(0.6, 0.8)
        #expect(speech > 0.08, "mean jawOpen during speech \(speech)")
        #expect(speech > 2 * silence, "speech \(speech) vs silence \(silence)")
    }
}
