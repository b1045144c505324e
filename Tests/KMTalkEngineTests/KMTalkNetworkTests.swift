import CKMTalk
import Testing

@testable import KMTalkEngine

/// The `kmtalk` architecture (docs/model.md) against the NumPy reference
/// (training/kmtalk_ref/kmtalk_model.py): every intermediate, and exact key frames.
@Suite struct KMTalkNetworkTests {
    @Test func matchesReferenceWithKeyMotions() throws {
        let model = try KMTalkModel(path: Fixtures.path("kmtalk-tiny.safetensors"))
        let golden = try Fixtures.golden("kmtalk_golden.safetensors")
        #expect(model.config.architecture == .kmtalk)
        #expect(model.config.lkma?.phones.count == 91)
        expectClose(model.features(try golden.tensor("samples").data), try golden.tensor("features"), "features")
        let output = try model.run(features: try golden.tensor("features"))
        expectClose(output.encoded, try golden.tensor("encoded"), "encoder output")
        expectClose(try #require(output.phonePosteriors), try golden.tensor("phone_post"), "phone posteriors")
        expectClose(try #require(output.featureProbabilities), try golden.tensor("feature_prob"), "feature probabilities")
        let boundary = try golden.tensor("boundary")
        expectClose(Tensor(shape: boundary.shape, data: output.boundaryScores), boundary, "boundary scores")
        #expect(output.keyFrames == (try golden.tensor("key_frames")).data.map { Int($0) })
        #expect(output.keyFrames.count >= 5)
        expectClose(try #require(output.keyPoses), try golden.tensor("key_poses"), "key poses")
        expectClose(output.motion, try golden.tensor("motion"), tolerance: 1e-3, "motion")
    }

    @Test func matchesReferenceWithoutKeyMotions() throws {
        let model = try KMTalkModel(path: Fixtures.path("kmtalk-nokeys.safetensors"))
        let golden = try Fixtures.golden("nokeys_golden.safetensors")
        #expect(model.config.cmc?.useKeys == false && model.config.lkma == nil)
        let output = try model.run(features: try golden.tensor("features"))
        expectClose(output.encoded, try golden.tensor("encoded"), "encoder output")
        #expect(output.keyFrames.isEmpty && output.phonePosteriors == nil)
        expectClose(output.motion, try golden.tensor("motion"), tolerance: 1e-3, "motion")
    }

    @Test func matchesReferenceWithTheShallowPath() throws {
        let model = try KMTalkModel(path: Fixtures.path("kmtalk-shallow.safetensors"))
        let golden = try Fixtures.golden("shallow_golden.safetensors")
        #expect(model.config.cmc?.shallow == true)
        guard case let .kmtalk(network) = model.network else { Issue.record("not a kmtalk network"); return }
        #expect(network.shallow?.shape == [52, model.config.encoder.width])
        let output = try model.run(features: try golden.tensor("features"))
        #expect(output.keyFrames == (try golden.tensor("key_frames")).data.map { Int($0) })
        expectClose(output.motion, try golden.tensor("motion"), tolerance: 1e-3, "motion")
        // The path is live: its logits are large enough that the golden (which has them)
        // could not be matched without them.
        let (_, convolved) = model.encoder.encode(try golden.tensor("features"))
        let shallowLogits = linear(convolved, weight: try #require(network.shallow))
        #expect((shallowLogits.data.map { abs($0) }.max() ?? 0) > 0.3)
    }

    @Test func matchesReferenceWithTheLoudnessPath() throws {
        let model = try KMTalkModel(path: Fixtures.path("kmtalk-loudness.safetensors"))
        let golden = try Fixtures.golden("loudness_golden.safetensors")
        let settings = try #require(model.config.cmc?.loudness)
        #expect(settings == LoudnessConfig(window: 12, rangeDecibels: 30, floor: 7.5))
        let output = try model.run(features: try golden.tensor("features"))
        let expected = try golden.tensor("loudness")
        expectClose(Tensor(shape: expected.shape, data: output.loudness), expected, "loudness")
        #expect(output.keyFrames == (try golden.tensor("key_frames")).data.map { Int($0) })
        expectClose(output.motion, try golden.tensor("motion"), tolerance: 1e-3, "motion")
        // The fixture's signal swings through the range, and the floor decides some frames.
        #expect(output.loudness.min()! < 0.6 && output.loudness.max()! == 1)
    }

    @Test func loudnessTrackerGivesTheSameFramesInAnyChunking() throws {
        let golden = try Fixtures.golden("loudness_golden.safetensors")
        let features = try golden.tensor("features")
        let rows = features.shape[0], width = features.shape[1]
        let settings = LoudnessConfig(window: 12, rangeDecibels: 30, floor: 7.5)
        let frames = (rows - 1) / 2 + 1
        var whole = LoudnessTracker(settings: settings, stride: 2)
        whole.push(features)
        let expected = whole.advance(ended: true, frames: frames)
        #expect(expected == (try golden.tensor("loudness")).data.enumerated().map { expected[$0.offset] })
        for chunk in [1, 2, 3, 7, 50] {
            var tracker = LoudnessTracker(settings: settings, stride: 2)
            var got: [Float] = []
            var start = 0
            while start < rows {
                let end = min(rows, start + chunk)
                tracker.push(Tensor(shape: [end - start, width], data: Array(features.data[(start * width)..<(end * width)])))
                let new = tracker.advance(ended: false)
                // A frame comes out once its last mel row (2t + 1) has arrived, never before.
                #expect(tracker.produced <= max(0, (end - 2) / 2 + 1))
                got += new
                start = end
            }
            got += tracker.advance(ended: true, frames: frames)
            #expect(got == expected, "chunk \(chunk)")
        }
    }

    @Test func locatorFollowsTheSpec() {
        let locator = KeyFrameLocator(threshold: 0.5, minimumGap: 2, maximumGap: 5)
        // Peaks at 2 and 3 (too close: only 2), 6 below threshold, forced key at 7 (gap 5).
        #expect(locator.keyFrames([0, 0.2, 0.9, 0.8, 0.1, 0.1, 0.4, 0.1, 0.1, 0.7, 0.2]) == [0, 2, 7, 9])
        // A plateau counts once, at its last frame (b[t] >= b[t-1] and b[t] > b[t+1]).
        #expect(locator.keyFrames([0, 0.6, 0.6, 0.6, 0.1]) == [0, 3])
        #expect(locator.keyFrames([]) == [])
        let posteriors = Tensor(shape: [3, 2], data: [1, 0, 1, 0, 0, 1])
        #expect(locator.boundaryScores(posteriors) == [0, 0, 1])
    }

    @Test func sessionRunsTheKeyMotionModelEndToEnd() throws {
        let model = try KMTalkModel(path: Fixtures.path("kmtalk-tiny.safetensors"))
        let golden = try Fixtures.golden("kmtalk_golden.safetensors")
        let samples = try golden.tensor("samples").data
        let animation = try samples.withUnsafeBufferPointer {
            try Session(model: model, options: SessionOptions(outputFps: 60)).animate(
                pcm: $0.baseAddress!, frameCount: samples.count, sampleRate: 16_000, channels: 1)
        }
        #expect(animation.fps == 60 && animation.channelCount == 52)
        #expect(animation.values.data.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func rejectsInconsistentConfigs() throws {
        let original = try SafeTensorsFile(path: Fixtures.path("kmtalk-tiny.safetensors"))
        let config = try #require(original.metadataValue("config"))
        for (broken, fragment) in [
            (config.replacingOccurrences(of: "\"min_gap\":2", with: "\"min_gap\":0"), "gaps"),
            (config.replacingOccurrences(of: "\"use_keys\":true", with: "\"use_keys\":1"), "use_keys must be a boolean"),
            (config.replacingOccurrences(of: "\"use_keys\":true", with: "\"use_keys\":true,\"shallow\":\"yes\""),
             "shallow must be a boolean"),
            // The shallow path's weight is missing from the file.
            (config.replacingOccurrences(of: "\"use_keys\":true", with: "\"use_keys\":true,\"shallow\":true"),
             "cmc.shallow.weight"),
            (config.replacingOccurrences(of: "\"use_keys\":true", with: "\"use_keys\":true,\"loudness\":3"),
             "loudness must be an object"),
            (config.replacingOccurrences(of: "\"use_keys\":true", with: "\"use_keys\":true,\"loudness\":{\"window\":10,\"range_db\":30}"),
             "cmc.loudness.floor"),
            (config.replacingOccurrences(
                of: "\"use_keys\":true", with: "\"use_keys\":true,\"loudness\":{\"window\":0,\"range_db\":30,\"floor\":0}"),
             "window"),
            // The loudness path's weights are missing from the file.
            (config.replacingOccurrences(
                of: "\"use_keys\":true", with: "\"use_keys\":true,\"loudness\":{\"window\":10,\"range_db\":30,\"floor\":0}"),
             "cmc.loudness_proj.weight"),
        ] {
            let metadata = original.metadata.map { $0.key == "config" ? (key: "config", value: broken) : $0 }
            let bytes = SafeTensorsWriter.encode(tensors: original.names.map { ($0, original.tensors[$0]!) }, metadata: metadata)
            do {
                _ = try bytes.withUnsafeBytes { try KMTalkModel(bytes: $0, source: "broken.safetensors") }
                Issue.record("loaded a broken config (\(fragment))")
            } catch let error as KMTError {
                #expect(error.status == KMT_ERR_CORRUPT_MODEL)
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
    }
}
