import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// Rig files (docs/rig.md): loading, every validation rule, and posing with `VertexSolver`.
@Suite struct RigTests {
    static let names = ["jawOpen", "eyeBlink_L", "eyeBlink_R", "browInnerUp_L", "browInnerUp_R"]

    /// Expects `builder`'s file to be refused as a corrupt rig with a message containing `fragment`.
    func expectRejected(_ builder: RigBuilder, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        expectRejected(builder, KMT_ERR_CORRUPT_RIG, fragment, sourceLocation: sourceLocation)
    }

    /// Expects `builder`'s file to be refused with `status` and a message containing `fragment`.
    func expectRejected(
        _ builder: RigBuilder, _ status: kmt_status, _ fragment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            _ = try builder.load()
            Issue.record("loaded an invalid rig (expected '\(fragment)')", sourceLocation: sourceLocation)
        } catch let error as KMTError {
            #expect(error.status == status, "status \(error.status) for '\(error.message)'", sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", sourceLocation: sourceLocation)
            #expect(error.message.hasPrefix("test.rig.safetensors: "), "\(error.message)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    /// `RigBuilder` for `names`, changed by `edit`.
    func builder(_ edit: (inout RigBuilder) -> Void = { _ in }) -> RigBuilder {
        var builder = RigBuilder(shapeNames: Self.names)
        edit(&builder)
        return builder
    }

    // MARK: Loading

    @Test func loadsAValidRig() throws {
        let builder = builder()
        let rig = try builder.load()
        #expect(rig.vertexCount == 7)
        #expect(rig.faceCount == 5)
        #expect(rig.shapeCount == 5)
        #expect(rig.shapeNames == Self.names)
        #expect(rig.vertices == builder.vertices)
        #expect(rig.faces == builder.faces)
        #expect(rig.deltas.shape == [5, 21])
        #expect(rig.deltas.data == builder.deltas)
        #expect(rig.uvs == builder.uvs)
        #expect(rig.normals == builder.normals)
        #expect(rig.units == .centimeters)
        #expect(rig.metadataValue("description") == "test rig")
        #expect(rig.names.pointer(at: 1).map { String(cString: $0) } == "eyeBlink_L")
    }

    @Test func loadsFromAFileAndWithoutOptionalTensors() throws {
        var builder = builder()
        builder.uvs = nil
        builder.normals = nil
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("head.rig.safetensors").path
        try Data(builder.encode()).write(to: URL(fileURLWithPath: path))
        let rig = try Rig(path: path)
        #expect(rig.uvs == nil)
        #expect(rig.normals == nil)
        #expect(rig.deltas.data == builder.deltas)
        do {
            _ = try Rig(path: directory.appendingPathComponent("missing.rig.safetensors").path)
            Issue.record("loaded a missing file")
        } catch let error as KMTError {
            #expect(error.status == KMT_ERR_IO)
            #expect(error.message.contains("missing.rig.safetensors"))
        }
    }

    @Test func readsHalfPrecisionDeltas() throws {
        let builder = builder { $0.deltasAsF16 = true }
        let rig = try builder.load()
        let rounded = builder.deltas.map { Float(Float16($0)) }
        #expect(rig.deltas.data == rounded)
        #expect(maxAbsDifference(rig.deltas.data, builder.deltas) < 1e-3)
    }

    @Test func rigWithoutShapesPosesTheTemplate() throws {
        let builder = RigBuilder(shapeNames: [])
        let rig = try builder.load()
        #expect(rig.shapeCount == 0)
        let animation = Animation(values: Tensor(shape: [2, 1], data: [1, 0.5]), fps: 30, channelNames: ["jawOpen"])
        let solver = VertexSolver(rig: rig, channelNames: animation.channelNames)
        #expect(try solver.vertices(of: animation, frames: 0..<2, mode: .absolute) == builder.vertices + builder.vertices)
        #expect(try solver.vertices(of: animation, frames: 0..<2, mode: .offsets).allSatisfy { $0 == 0 })
    }

    // MARK: Validation

    @Test func rejectsFilesThatAreNotRigs() throws {
        expectRejected(builder { $0.setMetadata("format", nil) }, KMT_ERR_UNSUPPORTED_FORMAT, "not a KMTalk rig (no metadata 'format'")
        expectRejected(builder { $0.setMetadata("format", "kmtalk") }, KMT_ERR_UNSUPPORTED_FORMAT, "metadata format is 'kmtalk', a rig has 'kmtalk-rig'")
        expectRejected(builder { $0.setMetadata("format_version", "2") }, KMT_ERR_UNSUPPORTED_FORMAT, "rig format_version '2' is not supported")
        expectRejected(builder { $0.setMetadata("format_version", nil) }, "missing metadata 'format_version'")
        // A model file is not a rig.
        let model = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.tinyModelPath)))
        #expect(throws: KMTError.self) { try Rig(bytes: model) }
        do { _ = try Rig(bytes: model) } catch let error as KMTError {
            #expect(error.status == KMT_ERR_UNSUPPORTED_FORMAT)
            #expect(error.message.contains("not a KMTalk rig"))
        }
    }

    @Test func rejectsBadMetadata() {
        expectRejected(builder { $0.setMetadata("units", nil) }, "missing metadata 'units'")
        expectRejected(builder { $0.setMetadata("units", "inch") }, "metadata units 'inch' is not one of m, cm, mm")
        expectRejected(builder { $0.setMetadata("up_axis", "+z") }, "metadata up_axis '+z' is not supported (version 1 requires +y)")
        expectRejected(builder { $0.setMetadata("up_axis", nil) }, "missing metadata 'up_axis'")
        expectRejected(builder { $0.setMetadata("forward_axis", "-z") }, "metadata forward_axis '-z' is not supported")
        expectRejected(builder { $0.setMetadata("forward_axis", nil) }, "missing metadata 'forward_axis'")
        expectRejected(builder { $0.metadata.append(("units", "m")) }, "metadata key 'units' appears more than once")
    }

    @Test func rejectsBadChannelNames() {
        func channels(_ value: String?) -> RigBuilder { builder { $0.setMetadata("channels", value) } }
        expectRejected(channels(nil), "missing metadata 'channels'")
        expectRejected(channels("[\"jawOpen\","), "metadata channels is not valid JSON")
        expectRejected(channels("{\"a\":1}"), "metadata channels is not a JSON array")
        expectRejected(channels(#"["jawOpen", 3, "a", "b", "c"]"#), "channels[1] is not a string")
        expectRejected(channels(#"["jawOpen", "", "a", "b", "c"]"#), "channels[1] is an empty name")
        expectRejected(channels(#"["jawOpen", "a\u0000b", "a", "b", "c"]"#), "channels[1] contains a NUL character")
        expectRejected(channels(#"["jawOpen", "a", "b", "a", "c"]"#), "channel name 'a' appears twice (channels[1] and channels[3])")
        expectRejected(channels(#"["jawOpen", "a", "b", "c"]"#), "tensor 'deltas' holds 5 shapes but metadata channels names 4")
    }

    @Test func rejectsBadVertices() {
        expectRejected(builder { $0.editEntries = { $0.removeAll { $0.name == "vertices" } } }, "missing tensor 'vertices'")
        expectRejected(builder { b in b.editEntries = { [vertices = b.vertices] in $0[0] = .float16("vertices", Tensor(shape: [7, 3], data: vertices)) } },
                       "tensor 'vertices' is F16, a rig stores it as F32")
        expectRejected(builder { b in b.editEntries = { $0[0].shape = [21] } }, "tensor 'vertices' has shape [21], expected [V, 3]")
        expectRejected(builder { b in b.editEntries = { $0[0].shape = [3, 7] } }, "tensor 'vertices' has shape [3, 7], expected [V, 3]")
        expectRejected(builder { $0.vertices[4] = .nan }, "tensor 'vertices' holds a non-finite value (nan) at element 4")
        expectRejected(builder { $0.vertices[0] = .infinity }, "non-finite value (inf)")
        // Two vertices: too few for a triangle (faces within range, deltas to match).
        var tiny = RigBuilder(shapeNames: ["jawOpen"], vertexCount: 3)
        tiny.vertexCount = 2
        tiny.vertices.removeLast(3)
        tiny.deltas.removeLast(3)
        tiny.uvs = nil
        tiny.normals = nil
        tiny.faces = [0, 1, 1]
        expectRejected(tiny, "the rig has 2 vertices, at least 3 are needed")
    }

    @Test func rejectsBadFaces() {
        expectRejected(builder { $0.editEntries = { $0.removeAll { $0.name == "faces" } } }, "missing tensor 'faces'")
        expectRejected(builder { b in b.editEntries = { [faces = b.faces] in $0[1] = .float32("faces", Tensor(shape: [5, 3], data: faces.map(Float.init))) } },
                       "tensor 'faces' is F32, a rig stores it as I32")
        expectRejected(builder { b in b.editEntries = { [faces = b.faces] in $0[1] = .int64("faces", shape: [5, 3], faces.map(Int64.init)) } },
                       "tensor 'faces' is I64, a rig stores it as I32")
        expectRejected(builder { b in b.editEntries = { $0[1].shape = [3, 5] } }, "tensor 'faces' has shape [3, 5], expected [F, 3]")
        expectRejected(builder { $0.faces = [] }, "the rig has no faces, at least 1 is needed")
        expectRejected(builder { $0.faces[7] = 7 }, "face 2 refers to vertex 7, outside 0..<7")
        expectRejected(builder { $0.faces[14] = -1 }, "face 4 refers to vertex -1, outside 0..<7")
    }

    @Test func rejectsBadDeltas() {
        expectRejected(builder { $0.editEntries = { $0.removeAll { $0.name == "deltas" } } }, "missing tensor 'deltas'")
        expectRejected(builder { b in b.editEntries = { $0[2].dtype = "BF16"; $0[2].bytes.removeLast($0[2].bytes.count / 2) } },
                       "tensor 'deltas' is BF16, a rig stores it as F32 or F16")
        expectRejected(builder { b in b.editEntries = { $0[2].shape = [5, 21] } }, "tensor 'deltas' has shape [5, 21], expected [S, 7, 3]")
        expectRejected(builder { b in b.editEntries = { $0[2].shape = [15, 7, 1] } }, "tensor 'deltas' has shape [15, 7, 1], expected [S, 7, 3]")
        expectRejected(builder { $0.deltas[30] = -.infinity }, "tensor 'deltas' holds a non-finite value (-inf) at element 30")
        // 70000 overflows half precision to infinity.
        expectRejected(builder { $0.deltasAsF16 = true; $0.deltas[2] = 70000 }, "tensor 'deltas' holds a non-finite value (inf)")
    }

    @Test func rejectsBadOptionalTensors() {
        expectRejected(builder { b in b.editEntries = { $0[3].shape = [14] } }, "tensor 'uvs' has shape [14], expected [7, 2]")
        expectRejected(builder { b in b.editEntries = { $0[4].shape = [3, 7] } }, "tensor 'normals' has shape [3, 7], expected [7, 3]")
        expectRejected(builder { $0.normals?[5] = .nan }, "tensor 'normals' holds a non-finite value")
        expectRejected(builder { b in b.editEntries = { $0[3] = .int32("uvs", shape: [7, 2], [Int32](repeating: 0, count: 14)) } },
                       "tensor 'uvs' is I32, a rig stores it as F32")
    }

    @Test func rejectsUnknownTensorsAndInconsistentSizes() throws {
        expectRejected(builder { $0.editEntries = { $0.append(.float32("colors", Tensor(zeros: [7, 3]))) } },
                       "unknown tensor 'colors'")
        expectRejected(builder { $0.trailingBytes = [0, 0, 0, 0] }, "4 bytes of the data section belong to no tensor")
        // Container errors are the rig's, not a model's.
        var truncated = builder().encode()
        truncated.removeLast(10)
        do {
            _ = try Rig(bytes: truncated, source: "test.rig.safetensors")
            Issue.record("loaded a truncated rig")
        } catch let error as KMTError {
            #expect(error.status == KMT_ERR_CORRUPT_RIG)
            #expect(error.message.contains("outside the"), "\(error.message)")
        }
    }

    @Test func randomCorruptionNeverCrashes() {
        let original = builder().encode()
        var generator = SeededGenerator(seed: 77)
        var refused = 0
        for trial in 0..<300 {
            var bytes = original
            for _ in 0..<(1 + trial % 6) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if trial % 13 == 0 { bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator))) }
            do {
                _ = try Rig(bytes: bytes)
            } catch let error as KMTError {
                #expect(!error.message.isEmpty)
                refused += 1
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        #expect(refused > 50)
    }

    // MARK: Posing

    /// Random weights for `frames` x `names.count`.
    func randomAnimation(_ names: [String], frames: Int, seed: UInt64 = 3) -> Animation {
        var generator = SeededGenerator(seed: seed)
        let values = (0..<(frames * names.count)).map { _ in Float.random(in: -0.2...1.2, using: &generator) }
        return Animation(values: Tensor(shape: [frames, names.count], data: values), fps: 60, channelNames: names)
    }

    @Test func posedVerticesEqualTheNaiveSum() throws {
        let builder = RigBuilder(shapeNames: Self.names, vertexCount: 40, seed: 9)
        let rig = try builder.load()
        // ARKit-style channels in another order, one the rig lacks, one split over halves.
        let channels = ["eyeBlinkRight", "tongueOut", "browInnerUp", "jawOpen", "eyeBlinkLeft"]
        let animation = randomAnimation(channels, frames: 12)
        let solver = VertexSolver(rig: rig, channelNames: channels)
        #expect(solver.mapping.targets == [[2], [], [3, 4], [0], [1]])
        let absolute = try solver.vertices(of: animation, frames: 0..<12, mode: .absolute)
        let offsets = try solver.vertices(of: animation, frames: 0..<12, mode: .offsets)
        #expect(absolute.count == 12 * 40 * 3)
        for frame in 0..<12 {
            let w = Array(animation.values.data[(frame * 5)..<(frame * 5 + 5)])
            let shapeWeights: [Float] = [w[3], w[4], w[0], w[2], w[2]]
            let rows = (frame * 120)..<(frame * 120 + 120)
            #expect(maxAbsDifference(Array(absolute[rows]), builder.naivePose(shapeWeights: shapeWeights, absolute: true)) < 1e-5)
            #expect(maxAbsDifference(Array(offsets[rows]), builder.naivePose(shapeWeights: shapeWeights, absolute: false)) < 1e-5)
        }
    }

    @Test func frameRangesPoseTheSameFrames() throws {
        let rig = try RigBuilder(shapeNames: Self.names, vertexCount: 10).load()
        let animation = randomAnimation(ARKitChannels.names, frames: 9)
        let solver = VertexSolver(rig: rig, channelNames: ARKitChannels.names)
        let all = try solver.vertices(of: animation, frames: 0..<9, mode: .absolute)
        let width = 30
        for range in [0..<1, 3..<7, 8..<9, 0..<9] {
            let part = try solver.vertices(of: animation, frames: range, mode: .absolute)
            #expect(part == Array(all[(range.lowerBound * width)..<(range.upperBound * width)]), "\(range)")
        }
        #expect(try solver.vertices(of: animation, frames: 4..<4, mode: .absolute).isEmpty)

        func expectFailure(_ status: kmt_status, _ fragment: String, _ body: () throws -> Void) {
            do {
                try body()
                Issue.record("expected '\(fragment)'")
            } catch let error as KMTError {
                #expect(error.status == status)
                #expect(error.message.contains(fragment), "\(error.message)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        expectFailure(KMT_ERR_INVALID_ARGUMENT, "lie outside the animation's 9 frames") {
            _ = try solver.vertices(of: animation, frames: 5..<10, mode: .absolute)
        }
        var short = [Float](repeating: 0, count: 59)
        expectFailure(KMT_ERR_BUFFER_TOO_SMALL, "buffer holds 59 floats, 60 needed") {
            try short.withUnsafeMutableBufferPointer { try solver.vertices(of: animation, frames: 0..<2, mode: .offsets, into: $0) }
        }
        let other = randomAnimation(["jawOpen"], frames: 9)
        expectFailure(KMT_ERR_INVALID_ARGUMENT, "not the 52 this solver was matched for") {
            _ = try solver.vertices(of: other, frames: 0..<1, mode: .offsets)
        }
    }

    @Test func unmatchedShapesStayNeutral() throws {
        let builder = RigBuilder(shapeNames: Self.names, vertexCount: 5)
        let rig = try builder.load()
        let animation = randomAnimation(["noseSneerLeft", "cheekPuff"], frames: 3)
        let solver = VertexSolver(rig: rig, channelNames: animation.channelNames)
        #expect(solver.mapping.unmatchedSources == [0, 1])
        #expect(try solver.vertices(of: animation, frames: 0..<3, mode: .absolute) == builder.vertices + builder.vertices + builder.vertices)
    }

    // MARK: The shipped rig

    static let shippedRigPath = Fixtures.repositoryRoot.appendingPathComponent("models/kmtalk-head.rig.safetensors").path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: RigTests.shippedRigPath)))
    func shippedRigHasTheARKitShapesAndOpensTheJaw() throws {
        let rig = try Rig(path: Self.shippedRigPath)
        let mapping = rig.matcher.match(ARKitChannels.names)
        #expect(mapping.unmatchedSources.isEmpty, "unmatched: \(mapping.unmatchedSources.map { ARKitChannels.names[$0] })")
        #expect(mapping.targets.allSatisfy { $0.count == 1 }, "every ARKit channel drives exactly one shape")
        #expect(Set(mapping.targets.flatMap { $0 }).count == 52)
        var values = [Float](repeating: 0, count: 52)
        values[ARKitChannels.names.firstIndex(of: "jawOpen")!] = 1
        let animation = Animation(values: Tensor(shape: [1, 52], data: values), fps: 60, channelNames: ARKitChannels.names)
        let offsets = try VertexSolver(rig: rig, channelNames: ARKitChannels.names).vertices(of: animation, frames: 0..<1, mode: .offsets)
        let largest = offsets.reduce(0) { max($0, abs($1)) }
        #expect(largest > 0, "jawOpen = 1 moves no vertex")
    }
}
