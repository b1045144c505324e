import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// Mouth cues for 2D characters: the per-frame classifier, the run merging, the Rhubarb TSV
/// and JSON writers read back by independent parsers, the C API, and the shipped model on
/// hello.wav.
@Suite struct MouthCuesTests {
    /// An animation over the 52 ARKit channels at `fps`: each segment holds `frames`
    /// frames of the given weights (all other channels 0).
    static func animation(
        _ segments: [(frames: Int, weights: [String: Float])], fps: Double = 50, names: [String] = ARKitChannels.names,
        source: String? = "speech \"1\".wav"
    ) -> Animation {
        var values: [Float] = []
        for segment in segments {
            var row = [Float](repeating: 0, count: names.count)
            for (name, weight) in segment.weights {
                if let index = names.firstIndex(of: name) { row[index] = weight }
            }
            for _ in 0..<segment.frames { values += row }
        }
        let frames = segments.reduce(0) { $0 + $1.frames }
        return Animation(values: Tensor(shape: [frames, names.count], data: values), fps: fps, channelNames: names, source: source)
    }

    static let silence: [String: Float] = [:]
    static let closure: [String: Float] = ["jawOpen": 0.1, "mouthClose": 0.1, "mouthPressLeft": 0.3, "mouthPressRight": 0.3]
    static let openVowel: [String: Float] = ["jawOpen": 0.6, "mouthLowerDownLeft": 0.3, "mouthLowerDownRight": 0.3, "mouthUpperUpLeft": 0.1, "mouthUpperUpRight": 0.1]
    static let pucker: [String: Float] = ["jawOpen": 0.1, "mouthPucker": 0.6, "mouthFunnel": 0.2]

    /// The shape the classifier gives one frame of `weights`.
    func shape(_ weights: [String: Float], names: [String] = ARKitChannels.names) throws -> MouthShape {
        let animation = Self.animation([(1, weights)], names: names)
        let classifier = try MouthShapeClassifier(channelNames: names)
        return animation.values.data.withUnsafeBufferPointer { classifier.shape($0) }
    }

    /// The (seconds, shape) rows of a TSV.
    func tsvRows(_ bytes: [UInt8]) throws -> [(Double, String)] {
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasSuffix("\n"))
        return try text.split(separator: "\n").map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            try #require(fields.count == 2, "line '\(line)'")
            #expect(fields[0].split(separator: ".").last?.count == 2, "two decimals: \(line)")
            return (try need(Double(fields[0])), String(fields[1]))
        }
    }

    /// The metadata and (start, end, value) cues of a cue JSON.
    func jsonCues(_ bytes: [UInt8]) throws -> (metadata: [String: Any], cues: [(Double, Double, String)]) {
        let object = try need(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(Set(object.keys) == ["metadata", "mouthCues"])
        let metadata = try need(object["metadata"] as? [String: Any])
        let cues = try need(object["mouthCues"] as? [[String: Any]]).map { cue in
            (try need((cue["start"] as? NSNumber)?.doubleValue), try need((cue["end"] as? NSNumber)?.doubleValue),
             try need(cue["value"] as? String))
        }
        return (metadata, cues)
    }

    @Test func classifierRules() throws {
        #expect(try shape(Self.silence) == .x)
        #expect(try shape(["jawOpen": 0.08, "mouthPucker": 0.1, "mouthSmileLeft": 0.05]) == .x, "every weight <= 0.1")
        #expect(try shape(Self.closure) == .a)
        #expect(try shape(["jawOpen": 0.02, "mouthPressLeft": 0.2]) == .a, "pressed lips")
        #expect(try shape(["mouthRollLower": 0.4, "mouthRollUpper": 0.4]) == .a, "both lips rolled in")
        #expect(try shape(["jawOpen": 0.3, "mouthClose": 0.1, "mouthPressLeft": 0.3]) != .a, "pressing over an open jaw")
        #expect(try shape(["jawOpen": 0.08, "mouthRollLower": 0.45, "mouthUpperUpLeft": 0.1]) == .g, "lower lip tucked")
        #expect(try shape(["jawOpen": 0.3, "tongueOut": 0.5]) == .h)
        #expect(try shape(Self.pucker) == .f)
        #expect(try shape(["jawOpen": 0.4, "mouthPucker": 0.15, "mouthFunnel": 0.25]) == .e, "rounded over an open jaw")
        #expect(try shape(["jawOpen": 0.1, "mouthFunnel": 0.25]) == .e)
        #expect(try shape(Self.openVowel) == .d)
        #expect(try shape(["jawOpen": 0.3]) == .c)
        #expect(try shape(["jawOpen": 0.15, "mouthLowerDownLeft": 0.1, "mouthLowerDownRight": 0.1]) == .c)
        #expect(try shape(["jawOpen": 0.12]) == .b, "slightly open")
        #expect(try shape(["jawOpen": 0.05, "mouthStretchLeft": 0.2, "mouthStretchRight": 0.2]) == .b, "EE: spread lips")
        #expect(try shape(["jawOpen": 0.05, "mouthPucker": 0.15]) == .x, "nearly closed and unshaped: rest")
        // Non-finite weights read as 0 rather than poisoning the rules.
        #expect(try shape(["jawOpen": .nan, "mouthPucker": 0.6]) == .f)
    }

    @Test func classifierReadsOtherNamingStyles() throws {
        let live = ["JawOpen", "MouthClose", "MouthPressLeft", "MouthPressRight", "MouthPucker"]
        #expect(try shape(["JawOpen": 0.1, "MouthClose": 0.1, "MouthPressLeft": 0.3], names: live) == .a)
        let snake = ["jaw_open", "mouth_pucker", "mouth_funnel"]
        #expect(try shape(["jaw_open": 0.1, "mouth_pucker": 0.7], names: snake) == .f)
        #expect(try shape(["jaw_open": 0.7], names: snake) == .d)
    }

    /// The thresholds an animation carries (its model's `config.cues`) decide its cues: an
    /// open vowel of opening 0.9 is D by the standard numbers, C when D starts at 1.0, and
    /// a closure is X when rest reaches up to 0.5.
    @Test func animationThresholdsDecideTheCues() throws {
        func shapes(_ thresholds: MouthCueThresholds) throws -> [MouthShape] {
            let standard = Self.animation([(5, Self.openVowel), (5, Self.closure)])
            let animation = Animation(
                values: standard.values, fps: standard.fps, channelNames: standard.channelNames,
                mouthCueThresholds: thresholds)
            return try MouthCues.track(for: animation).cues.map(\.shape)
        }
        #expect(try shapes(.standard) == [.d, .a])
        #expect(try shapes(MouthCueThresholds(overrides: [("wide_open_min", 1.0)])) == [.c, .a])
        #expect(try shapes(MouthCueThresholds(overrides: [("rest_max", 0.5)])) == [.d, .x])
    }

    @Test func cueThresholdsAreValidated() throws {
        let custom = try MouthCueThresholds(overrides: [("open_min", 0.3), ("pucker_jaw_ratio", 1.5)])
        #expect(custom.openMin == 0.3 && custom.puckerJawRatio == 1.5 && custom.restMax == MouthCueThresholds.standard.restMax)
        for key in MouthCueThresholds.keys { #expect(MouthCueThresholds.standard[key] != nil, "\(key)") }
        #expect(MouthCueThresholds.standard["nope"] == nil)
        func message(_ overrides: [(key: String, value: Double)]) -> String {
            do { _ = try MouthCueThresholds(overrides: overrides); return "" } catch { return "\(error)" }
        }
        #expect(message([("rest", 0.1)]).contains("unknown key 'rest'"))
        #expect(message([("rest_max", -0.1)]).contains("'rest_max' must be a number in 0...4, got -0.1"))
        #expect(message([("open_min", .nan)]).contains("'open_min' must be a number in 0...4"))
        #expect(message([("parted_min", 0.5)]).contains("parted_min <= open_min <= wide_open_min"))
    }

    @Test func refusesAnimationsWithoutJawOpen() throws {
        let animation = Self.animation([(3, [:])], names: ["v0.x", "v0.y", "v0.z"])
        #expect(throws: KMTError.self) { try MouthCues.track(for: animation) }
        do {
            _ = try AnimationExporter.encode(animation, rig: nil, format: .mouthCuesTSV)
            Issue.record("no error")
        } catch let error as KMTError {
            #expect(error.status == KMT_ERR_INVALID_ARGUMENT)
            #expect(error.message.contains("jawOpen") && error.message.contains("v0.x"), "\(error.message)")
        }
        #expect(throws: KMTError.self) { try MouthCues.track(for: Self.animation([(3, [:])]), minimumDuration: -1) }
        // A vertices-space model's animation: refused before any classifying.
        let template = try VertexTemplate(vertices: [0, 0, 0, 1, 0, 0, 0, 1, 0], faces: [0, 1, 2])
        let offsets = try Animation(values: Tensor(shape: [2, 9], data: [Float](repeating: 0, count: 18)), fps: 50, template: template)
        for format in [ExportFormat.mouthCuesTSV, .mouthCuesJSON] {
            do {
                _ = try AnimationExporter.encode(offsets, rig: nil, format: format)
                Issue.record("\(format) of vertex offsets: no error")
            } catch let error as KMTError {
                #expect(error.status == KMT_ERR_INVALID_ARGUMENT && error.message.contains("vertices-space"), "\(error.message)")
            }
        }
    }

    @Test func syntheticTrackHasTheRightShapesAndTimes() throws {
        // 50 fps: 0.02 s per frame.
        let animation = Self.animation([
            (10, Self.silence), (10, Self.closure), (15, Self.openVowel), (10, Self.pucker), (10, Self.silence),
        ])
        let track = try MouthCues.track(for: animation)
        #expect(track.cues.map(\.shape) == [.x, .a, .d, .f, .x])
        #expect(track.cues.map(\.start) == [0, 0.2, 0.4, 0.7, 0.9])
        #expect(track.cues.map(\.end) == [0.2, 0.4, 0.7, 0.9, 1.1])
        #expect(track.cues.map(\.startFrame) == [0, 10, 20, 35, 45])
        #expect(track.duration == 1.1 && track.source == "speech \"1\".wav")

        let tsv = try tsvRows(try AnimationExporter.encode(animation, rig: nil, format: .mouthCuesTSV))
        #expect(tsv.map(\.0) == [0, 0.2, 0.4, 0.7, 0.9, 1.1])
        #expect(tsv.map(\.1) == ["X", "A", "D", "F", "X", "X"], "the last line: the end of the track, X")
        let bytes = try AnimationExporter.encode(animation, rig: nil, format: .mouthCuesJSON)
        let (metadata, cues) = try jsonCues(bytes)
        #expect(metadata["soundFile"] as? String == "speech \"1\".wav", "a file that does not exist stays as given")
        // A file that exists is written with its absolute path, as Rhubarb writes it.
        #expect(MouthCuesJSONExporter.absolutePath("Package.swift").hasPrefix("/") || !FileManager.default.fileExists(atPath: "Package.swift"))
        #expect(MouthCuesJSONExporter.absolutePath("/tmp/../tmp") == "/tmp")
        #expect((metadata["duration"] as? NSNumber)?.doubleValue == 1.1)
        #expect(cues.map(\.0) == [0, 0.2, 0.4, 0.7, 0.9])
        #expect(cues.map(\.1) == [0.2, 0.4, 0.7, 0.9, 1.1])
        #expect(cues.map(\.2) == ["X", "A", "D", "F", "X"])
        // Rhubarb's layout, line for line.
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("{\n  \"metadata\": {\n    \"soundFile\": \"speech \\\"1\\\".wav\",\n    \"duration\": 1.10\n  },\n  \"mouthCues\": [\n    { \"start\": 0.00, \"end\": 0.20, \"value\": \"X\" },\n"))
        #expect(text.hasSuffix("    { \"start\": 0.90, \"end\": 1.10, \"value\": \"X\" }\n  ]\n}\n"))
    }

    @Test func rhubarbXMLAndMohoDAT() throws {
        let animation = Self.animation([
            (10, Self.silence), (10, Self.closure), (15, Self.openVowel), (10, Self.pucker), (10, Self.silence),
        ])
        let xml = String(decoding: try AnimationExporter.encode(animation, rig: nil, format: .mouthCuesXML), as: UTF8.self)
        #expect(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rhubarbResult>\n  <metadata>\n    <soundFile>speech &quot;1&quot;.wav</soundFile>\n    <duration>1.10</duration>\n  </metadata>\n  <mouthCues>\n"))
        #expect(xml.contains("    <mouthCue start=\"0.20\" end=\"0.40\">A</mouthCue>\n"))
        #expect(xml.hasSuffix("    <mouthCue start=\"0.90\" end=\"1.10\">X</mouthCue>\n  </mouthCues>\n</rhubarbResult>\n"))
        // Five cue elements, the shapes in order, the document closed.
        let shapes = xml.split(separator: "\n").filter { $0.contains("<mouthCue ") }.map { $0.split(separator: ">")[1].prefix(1) }
        #expect(shapes == ["X", "A", "D", "F", "X"])

        // DAT: cue starts 0, 0.2, 0.4, 0.7, 0.9 s and the end 1.1 s at 24 fps, from frame 1.
        let dat = String(decoding: try AnimationExporter.encode(animation, rig: nil, format: .mouthCuesDAT), as: UTF8.self)
        #expect(dat == "MohoSwitch1\n1 X\n5 A\n10 D\n17 F\n22 X\n27 X\n")
        #expect(MouthCuesDATExporter.frameNumber(centiseconds: 0) == 1 && MouthCuesDATExporter.frameNumber(centiseconds: 4) == 1)
        #expect(MouthCuesDATExporter.frameNumber(centiseconds: 5) == 2)
    }

    @Test func openVowelOfModerateWidthIsC() throws {
        let animation = Self.animation([(5, Self.silence), (5, ["jawOpen": 0.3]), (5, Self.silence)])
        #expect(try MouthCues.track(for: animation).cues.map(\.shape) == [.x, .c, .x])
    }

    @Test func shortRunsMergeIntoANeighbour() throws {
        // One-frame blips (20 ms < 40 ms) vanish into the longer neighbour.
        let blip = Self.animation([(10, Self.openVowel), (1, ["jawOpen": 0.3]), (4, Self.pucker), (10, Self.silence)])
        let cues = try MouthCues.track(for: blip).cues
        #expect(cues.map(\.shape) == [.d, .f, .x])
        #expect(cues.map(\.startFrame) == [0, 11, 15], "the C frame joined the longer D run")
        // Two frames are 40 ms at 50 fps (kept) but 33 ms at 60 fps (merged).
        let segments: [(frames: Int, weights: [String: Float])] = [(10, Self.openVowel), (2, ["jawOpen": 0.3]), (10, Self.pucker)]
        #expect(try MouthCues.track(for: Self.animation(segments, fps: 50)).cues.map(\.shape) == [.d, .c, .f])
        #expect(try MouthCues.track(for: Self.animation(segments, fps: 60)).cues.map(\.shape) == [.d, .f])
        // A blip between two runs of one shape disappears entirely.
        let between = Self.animation([(6, Self.openVowel), (1, Self.pucker), (6, Self.openVowel)])
        #expect(try MouthCues.track(for: between).cues.map(\.shape) == [.d])
        // With no minimum every run stays.
        #expect(try MouthCues.track(for: between, minimumDuration: 0).cues.map(\.shape) == [.d, .f, .d])
    }

    @Test func closuresAreNeverDropped() throws {
        // A one-frame closure between open vowels stays, and nothing merges into it when
        // another neighbour is there.
        let animation = Self.animation([
            (10, Self.openVowel), (1, Self.closure), (1, ["jawOpen": 0.3]), (10, Self.openVowel), (10, Self.silence),
        ])
        let cues = try MouthCues.track(for: animation).cues
        #expect(cues.map(\.shape) == [.d, .a, .d, .x])
        #expect(cues[1].startFrame == 10 && cues[1].endFrame == 11)
        #expect(cues[1].start == 0.2 && cues[1].end == 0.22)
        // At 240 fps a one-frame closure (4.2 ms) would round to no time: it keeps 0.01 s.
        let fast = Self.animation([(48, Self.openVowel), (1, Self.closure), (48, Self.openVowel)], fps: 240)
        let fastCues = try MouthCues.track(for: fast).cues
        #expect(fastCues.map(\.shape) == [.d, .a, .d])
        #expect(fastCues[1].endCentiseconds - fastCues[1].startCentiseconds == 1)
        #expect(fastCues[0].endCentiseconds == fastCues[1].startCentiseconds && fastCues[1].endCentiseconds == fastCues[2].startCentiseconds)
        let rows = try tsvRows(try AnimationExporter.encode(fast, rig: nil, format: .mouthCuesTSV))
        #expect(rows.map(\.1) == ["D", "A", "D", "X"])
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.0 < $1.0 }, "times strictly increase: \(rows)")
    }

    @Test func mergeOrderAndNeighbourChoice() {
        typealias Run = MouthCues.Run
        func merged(_ runs: [(MouthShape, Int)]) -> [Run] {
            var start = 0
            let input = runs.map { shape, length in
                defer { start += length }
                return Run(shape: shape, start: start, end: start + length)
            }
            return MouthCues.mergeShortRuns(input, minimumFrames: 2)
        }
        // The non-closure neighbour wins even when the closure is longer.
        #expect(merged([(.a, 5), (.b, 1), (.c, 3)]) == [Run(shape: .a, start: 0, end: 5), Run(shape: .c, start: 5, end: 9)])
        // Between two closures the blip joins them into one.
        #expect(merged([(.a, 2), (.b, 1), (.a, 3)]) == [Run(shape: .a, start: 0, end: 6)])
        // Equal neighbours: the earlier one.
        #expect(merged([(.c, 3), (.b, 1), (.d, 3)]).map(\.shape) == [.c, .d])
        #expect(merged([(.c, 3), (.b, 1), (.d, 3)])[0].end == 4)
        // Runs of short blips at the edges and a lone run.
        #expect(merged([(.x, 1), (.b, 1), (.c, 1), (.d, 4)]).map(\.shape) == [.b, .d], "X grows B to the minimum, C joins D")
        #expect(merged([(.e, 1)]) == [Run(shape: .e, start: 0, end: 1)])
        #expect(merged([]) == [])
        // Alternating one-frame shapes: linear passes, no trap, a covering result.
        let alternating = (0..<20_000).map { ($0 % 2 == 0 ? MouthShape.b : .c, 1) }
        let result = merged(alternating)
        #expect(result.first?.start == 0 && result.last?.end == 20_000)
        #expect(zip(result, result.dropFirst()).allSatisfy { $0.end == $1.start && $0.shape != $1.shape })
        #expect(result.allSatisfy { $0.length >= 2 })
    }

    @Test func emptyAnimationGivesARestCue() throws {
        let empty = Self.animation([], source: nil)
        let rows = try tsvRows(try AnimationExporter.encode(empty, rig: nil, format: .mouthCuesTSV))
        #expect(rows.count == 1 && rows[0].0 == 0 && rows[0].1 == "X")
        let (metadata, cues) = try jsonCues(try AnimationExporter.encode(empty, rig: nil, format: .mouthCuesJSON))
        #expect(metadata["soundFile"] as? String == "")
        #expect(cues.count == 1 && cues[0].0 == 0 && cues[0].1 == 0 && cues[0].2 == "X")
    }

    @Test func secondsText() {
        #expect(MouthCues.secondsText(0) == "0.00")
        #expect(MouthCues.secondsText(5) == "0.05")
        #expect(MouthCues.secondsText(110) == "1.10")
        #expect(MouthCues.secondsText(123_456) == "1234.56")
    }

    @Test func formatNamesAndExtensions() {
        #expect(ExportFormat(path: "out/cues.tsv") == .mouthCuesTSV)
        #expect(ExportFormat(path: "CUES.TSV") == .mouthCuesTSV)
        #expect(ExportFormat(path: "cues.json") == .json, "a .json path stays the weights JSON")
        #expect(ExportFormat(rawValue: "cues-json") == .mouthCuesJSON)
        #expect(!ExportFormat.mouthCuesTSV.needsRig && !ExportFormat.mouthCuesJSON.isSequence)
    }

    @Test func cAPISavesAndEncodesCues() throws {
        let animation = Self.animation([(10, Self.silence), (10, Self.closure), (10, Self.pucker)])
        let handle = Handle.retain(animation)
        defer { kmt_animation_free(handle) }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tsvPath = directory.appendingPathComponent("cues.tsv").path
        let jsonPath = directory.appendingPathComponent("cues.json").path
        #expect(kmt_animation_save(handle, nil, tsvPath, KMT_EXPORT_AUTO) == KMT_OK, "\(String(cString: kmt_last_error()))")
        #expect(kmt_animation_save(handle, nil, jsonPath, KMT_EXPORT_MOUTH_CUES_JSON) == KMT_OK)
        let tsv = try [UInt8](Data(contentsOf: URL(fileURLWithPath: tsvPath)))
        let json = try [UInt8](Data(contentsOf: URL(fileURLWithPath: jsonPath)))
        #expect(String(decoding: tsv, as: UTF8.self) == "0.00\tX\n0.20\tA\n0.40\tF\n0.60\tX\n")
        #expect(try jsonCues(json).cues.map(\.2) == ["X", "A", "F"])
        for (format, expected) in [(KMT_EXPORT_MOUTH_CUES_TSV, tsv), (KMT_EXPORT_MOUTH_CUES_JSON, json)] {
            var size = 0
            #expect(kmt_animation_save_to_memory(handle, nil, format, nil, 0, &size) == KMT_ERR_BUFFER_TOO_SMALL)
            #expect(size == expected.count)
            var buffer = [UInt8](repeating: 0, count: size)
            #expect(kmt_animation_save_to_memory(handle, nil, format, &buffer, size, &size) == KMT_OK)
            #expect(buffer == expected)
        }
        // Without ARKit weights: a status and a message, never a crash.
        let offsets = Handle.retain(Self.animation([(2, [:])], names: ["v0.x", "v0.y", "v0.z"]))
        defer { kmt_animation_free(offsets) }
        #expect(kmt_animation_save(offsets, nil, tsvPath, KMT_EXPORT_AUTO) == KMT_ERR_INVALID_ARGUMENT)
        #expect(String(cString: kmt_last_error()).contains("jawOpen"))
        #expect(String(decoding: try [UInt8](Data(contentsOf: URL(fileURLWithPath: tsvPath))), as: UTF8.self).hasPrefix("0.00\tX\n0.20\tA"), "the earlier file is untouched")
    }

    static let modelPath = ShippedModelTests.modelPath
    static let audioPath = ShippedModelTests.audioPath

    /// The shipped model on hello.wav ("Hello! This is KMTalk, turning your speech into
    /// facial animation."). Times checked against the audio's energy (silent 0.50-0.86 s,
    /// 2.06-2.26 s and from 4.50 s) and the model's own phone head (/m/ of "KMTalk"
    /// 1.56-1.70 s, /p/ of "speech" 2.88 s, /f/ of "facial" 3.42-3.48 s, /m/ of
    /// "animation" 4.02-4.08 s, the /oʊ/ of "Hello" 0.24-0.48 s).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: modelPath), "models/kmtalk-base.safetensors not shipped"))
    func shippedModelOnHello() throws {
        let model = try KMTalkModel(path: Self.modelPath)
        let animation = try Session(model: model, options: SessionOptions()).animate(path: Self.audioPath)
        let track = try MouthCues.track(for: animation)
        let cues = track.cues
        func shapes(at time: Double) -> MouthShape? { cues.first { $0.start <= time && time < $0.end }?.shape }
        #expect(cues.first?.startCentiseconds == 0)
        let last = try need(cues.last)
        #expect(last.shape == .x && last.start <= 4.6, "rest after the last word: \(last)")
        #expect(track.duration == Double(animation.frameCount) / animation.fps)
        #expect(Set(cues.map(\.shape)).count >= 5, "\(Set(cues.map(\.shape)))")
        #expect(shapes(at: 0.75) == .x, "the pause after \"Hello!\"")
        #expect(shapes(at: 2.2) == .x, "the pause after \"KMTalk,\"")
        #expect(shapes(at: 1.62) == .a, "/m/ of KMTalk")
        #expect(shapes(at: 2.88) == .a, "/p/ of speech")
        #expect(shapes(at: 4.05) == .a, "/m/ of animation")
        #expect(shapes(at: 3.45) == .g, "/f/ of facial")
        #expect(shapes(at: 0.35) == .f, "/oʊ/ of Hello")
        #expect(cues.allSatisfy { $0.shape == .a || $0.end - $0.start >= 0.04 - 1e-9 })
        let rows = try tsvRows(MouthCuesTSVExporter.encode(track))
        #expect(rows.last?.1 == "X" && rows.last?.0 == track.duration)
    }
}
