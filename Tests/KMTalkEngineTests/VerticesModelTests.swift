import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// Vertices-space models (docs/model.md, "Vertices space"): the tiny fixture
/// (training/make_fixtures.py) against its NumPy golden, its template, and the loader's
/// validation of the template, faces, channel names and units.
@Suite struct VerticesModelTests {
    static let modelName = "kmtalk-vertices.safetensors"

    /// The fixture's tensors as entries (floats as F32, integers as I32) and metadata.
    static func fixtureEntries() throws -> (entries: [SafeTensorsWriter.Entry], metadata: [(key: String, value: String)]) {
        let file = try SafeTensorsFile(path: Fixtures.path(modelName))
        let entries = file.names.map { name -> SafeTensorsWriter.Entry in
            if let integers = file.integerTensors[name] {
                return .int32(name, shape: integers.shape, integers.data.map { Int32($0) })
            }
            return .float32(name, file.tensors[name]!)
        }
        return (entries, file.metadata)
    }

    /// Loads the fixture after `edit` changed its entries and config text; returns the
    /// error, or nil when it loaded.
    static func loadEdited(
        entries edit: (inout [SafeTensorsWriter.Entry]) -> Void = { _ in }, config: (String) -> String = { $0 }
    ) throws -> KMTError? {
        var (entries, metadata) = try fixtureEntries()
        edit(&entries)
        metadata = metadata.map { $0.key == "config" ? (key: "config", value: config($0.value)) : $0 }
        let bytes = SafeTensorsWriter.encode(entries: entries, metadata: metadata)
        do {
            _ = try bytes.withUnsafeBytes { try KMTalkModel(bytes: $0, source: "edited.safetensors") }
            return nil
        } catch let error as KMTError {
            return error
        }
    }

    @Test func matchesTheReferenceAndCarriesItsTemplate() throws {
        let model = try KMTalkModel(path: Fixtures.path(Self.modelName))
        let golden = try Fixtures.golden("vertices_golden.safetensors")
        #expect(model.config.motion.space == .vertices && model.config.motion.units == .centimeters)
        #expect(model.config.motion.vertexCount == 48 && model.config.motion.channels.prefix(4) == ["v0.x", "v0.y", "v0.z", "v1.x"])
        let template = try #require(model.template)
        #expect(template.vertexCount == 48 && template.faceCount == 70 && template.units == .centimeters)
        let output = try model.run(features: try golden.tensor("features"))
        #expect(output.keyFrames == (try golden.tensor("key_frames")).data.map { Int($0) })
        expectClose(output.motion, try golden.tensor("motion"), tolerance: 1e-3, "motion")
        // The golden vertices are template + offsets: the template is what the file holds.
        let vertices = try golden.tensor("vertices"), motion = try golden.tensor("motion")
        let width = template.vertexCount * 3
        for frame in [0, 17, motion.shape[0] - 1] {
            for index in 0..<width {
                let expected = vertices.data[frame * width + index] - motion.data[frame * width + index]
                #expect(abs(template.vertices[index] - expected) < 1e-5)
            }
        }
        // Arkit models carry no template.
        #expect(try KMTalkModel(path: Fixtures.path("kmtalk-tiny.safetensors")).template == nil)
    }

    @Test func sessionAnimationsCarryTheTemplate() throws {
        let model = try KMTalkModel(path: Fixtures.path(Self.modelName))
        let golden = try Fixtures.golden("vertices_golden.safetensors")
        let samples = try golden.tensor("samples").data
        let animation = try samples.withUnsafeBufferPointer {
            try Session(model: model, options: SessionOptions()).animate(
                pcm: $0.baseAddress!, frameCount: samples.count, sampleRate: 16_000, channels: 1)
        }
        let template = try #require(animation.template)
        #expect(template.vertexCount == 48 && template.faces == model.template?.faces)
        #expect(animation.channelNames == model.config.motion.channels)
        expectClose(animation.values, try golden.tensor("motion"), tolerance: 1e-3, "motion through the session")
        // Resampled to 60 fps the template stays.
        let resampled = try samples.withUnsafeBufferPointer {
            try Session(model: model, options: SessionOptions(outputFps: 60)).animate(
                pcm: $0.baseAddress!, frameCount: samples.count, sampleRate: 16_000, channels: 1)
        }
        #expect(resampled.fps == 60 && resampled.template?.vertexCount == 48 && resampled.channelCount == 144)
    }

    @Test func animationsCheckTheirTemplate() throws {
        let template = try VertexTemplate(vertices: [0, 0, 0, 1, 0, 0, 0, 1, 0], faces: [0, 1, 2])
        #expect(throws: KMTError.self) {
            try Animation(values: Tensor(shape: [2, 8], data: [Float](repeating: 0, count: 16)), fps: 30, template: template)
        }
        let animation = try Animation(values: Tensor(shape: [2, 9], data: [Float](repeating: 0, count: 18)), fps: 30, template: template)
        #expect(animation.channelNames == ["v0.x", "v0.y", "v0.z", "v1.x", "v1.y", "v1.z", "v2.x", "v2.y", "v2.z"])
        #expect(throws: KMTError.self) { try VertexTemplate(vertices: [0, 0]) }
        #expect(throws: KMTError.self) { try VertexTemplate(vertices: [0, 0, .nan]) }
        #expect(throws: KMTError.self) { try VertexTemplate(vertices: [0, 0, 0], faces: [0, 0, 1]) }
        #expect(throws: KMTError.self) { try VertexTemplate(vertices: [0, 0, 0], faces: [0, 0]) }
    }

    @Test func theFixtureReencodedLoads() throws {
        #expect(try Self.loadEdited() == nil)
        // Faces are optional: the template is then a point set.
        #expect(try Self.loadEdited(entries: { $0.removeAll { $0.name == "motion.faces" } }) == nil)
        let pointsBytes: [UInt8] = try {
            var (entries, metadata) = try Self.fixtureEntries()
            entries.removeAll { $0.name == "motion.faces" }
            return SafeTensorsWriter.encode(entries: entries, metadata: metadata)
        }()
        let points = try pointsBytes.withUnsafeBytes { try KMTalkModel(bytes: $0) }
        #expect(points.template?.faceCount == 0 && points.template?.vertexCount == 48)
        // Units default to metres.
        let metres = try {
            var (entries, metadata) = try Self.fixtureEntries()
            metadata = metadata.map { $0.key == "config" ? (key: "config", value: $0.value.replacingOccurrences(of: ",\"units\":\"cm\"", with: "")) : $0 }
            let bytes = SafeTensorsWriter.encode(entries: entries, metadata: metadata)
            return try bytes.withUnsafeBytes { try KMTalkModel(bytes: $0) }
        }()
        #expect(metres.config.motion.units == .meters && metres.template?.units == .meters)
    }

    @Test func brokenTemplatesAreRefused() throws {
        let template = try #require(try Self.fixtureEntries().entries.first { $0.name == "motion.template" })
        func replacing(_ name: String, with entry: SafeTensorsWriter.Entry?) -> (inout [SafeTensorsWriter.Entry]) -> Void {
            { entries in
                entries.removeAll { $0.name == name }
                if let entry { entries.append(entry) }
            }
        }
        var nonFinite = template
        nonFinite.bytes.replaceSubrange(4..<8, with: SafeTensorsBuilder.floats([.infinity]))
        let cases: [(String, (inout [SafeTensorsWriter.Entry]) -> Void, String)] = [
            ("missing", replacing("motion.template", with: nil), "missing tensor 'motion.template'"),
            ("shape", replacing("motion.template", with: .float32("motion.template", Tensor(shape: [47, 3], data: [Float](repeating: 0, count: 141)))), "motion.template"),
            ("f16", replacing("motion.template", with: .float16("motion.template", Tensor(shape: [48, 3], data: [Float](repeating: 0, count: 144)))), "is F16, expected F32"),
            ("non-finite", replacing("motion.template", with: nonFinite), "non-finite"),
            ("face range", replacing("motion.faces", with: .int32("motion.faces", shape: [1, 3], [0, 1, 48])), "outside 0..<48"),
            ("negative face", replacing("motion.faces", with: .int32("motion.faces", shape: [1, 3], [0, -1, 2])), "outside 0..<48"),
            ("face shape", replacing("motion.faces", with: .int32("motion.faces", shape: [2, 2], [0, 1, 2, 3])), "expected [F, 3]"),
            ("no faces", replacing("motion.faces", with: .int32("motion.faces", shape: [0, 3], [])), "expected [F, 3]"),
            ("face dtype", replacing("motion.faces", with: .int64("motion.faces", shape: [1, 3], [0, 1, 2])), "is I64, expected I32"),
            ("float faces", replacing("motion.faces", with: .float32("motion.faces", Tensor(shape: [1, 3], data: [0, 1, 2]))), "is F32, expected I32"),
        ]
        for (label, edit, fragment) in cases {
            let error = try Self.loadEdited(entries: edit)
            #expect(error?.status == KMT_ERR_CORRUPT_MODEL, "\(label)")
            #expect(error?.message.contains(fragment) == true, "\(label): \(error?.message ?? "loaded")")
        }
    }

    @Test func brokenVertexConfigsAreRefused() throws {
        let cases: [(String, (String) -> String, String)] = [
            ("renamed channel", { $0.replacingOccurrences(of: "\"v1.y\"", with: "\"v1.Y\"") }, "channel 4 is 'v1.Y', expected 'v1.y'"),
            ("swapped channels", { $0.replacingOccurrences(of: "\"v0.x\",\"v0.y\"", with: "\"v0.y\",\"v0.x\"") }, "channel 0 is 'v0.y'"),
            ("not 3 per vertex", { $0.replacingOccurrences(of: ",\"v47.z\"", with: "") }, "3 channels per vertex, got 143"),
            ("units", { $0.replacingOccurrences(of: "\"units\":\"cm\"", with: "\"units\":\"inch\"") }, "motion.units must be"),
            ("units type", { $0.replacingOccurrences(of: "\"units\":\"cm\"", with: "\"units\":1") }, "motion.units must be"),
        ]
        for (label, edit, fragment) in cases {
            let error = try Self.loadEdited(config: edit)
            #expect(error?.status == KMT_ERR_CORRUPT_MODEL, "\(label)")
            #expect(error?.message.contains(fragment) == true, "\(label): \(error?.message ?? "loaded")")
        }
        // A vertices-space template in a weights model, and units outside vertices space.
        let arkit = try SafeTensorsFile(path: Fixtures.path("kmtalk-tiny.safetensors"))
        let config = try #require(arkit.metadataValue("config"))
        var entries = arkit.names.map { SafeTensorsWriter.Entry.float32($0, arkit.tensors[$0]!) }
        entries.append(.float32("motion.template", Tensor(shape: [2, 3], data: [0, 0, 0, 1, 1, 1])))
        for (metadata, fragment) in [
            (arkit.metadata, "'motion.template' belongs to motion.space 'vertices'"),
            (arkit.metadata.map { $0.key == "config" ? (key: "config", value: config.replacingOccurrences(of: "\"activation\":\"sigmoid\"", with: "\"activation\":\"sigmoid\",\"units\":\"cm\"")) : $0 },
             "motion.units belongs to motion.space 'vertices' only"),
        ] {
            let bytes = SafeTensorsWriter.encode(entries: fragment.contains("units") ? Array(entries.dropLast()) : entries, metadata: metadata)
            do {
                _ = try bytes.withUnsafeBytes { try KMTalkModel(bytes: $0, source: "arkit.safetensors") }
                Issue.record("loaded: \(fragment)")
            } catch let error as KMTError {
                #expect(error.status == KMT_ERR_CORRUPT_MODEL && error.message.contains(fragment), "\(error.message)")
            }
        }
    }
}
