import CKMTalk
import Testing

@testable import KMTalkEngine

@Suite struct RigWriterTests {
    static func content(deltaScale: Float = 0.01, units: RigUnits = .meters) -> RigContent {
        let builder = RigBuilder(shapeNames: ["jawOpen", "eyeBlink_L", "mouthSmile_R"], vertexCount: 9, seed: 3)
        return RigContent(
            vertices: builder.vertices, faces: builder.faces, shapeNames: builder.shapeNames,
            deltas: builder.deltas.map { $0 * deltaScale }, uvs: builder.uvs, normals: builder.normals,
            units: units, extraMetadata: [("description", "writer test"), ("format", "ignored"), ("generator", "tests")])
    }

    @Test func float32RigsRoundTripExactly() throws {
        let content = Self.content()
        let encoded = try RigWriter.encode(content)
        #expect(encoded.deltaRoundingError == 0)
        let rig = try Rig(bytes: encoded.bytes, source: "written")
        #expect(rig.vertices == content.vertices)
        #expect(rig.faces == content.faces)
        #expect(rig.deltas.data == content.deltas)
        #expect(rig.uvs == content.uvs && rig.normals == content.normals)
        #expect(rig.shapeNames == content.shapeNames)
        #expect(rig.units == .meters)
        #expect(rig.metadataValue("format") == "kmtalk-rig", "reserved keys are not overridden")
        #expect(rig.metadataValue("description") == "writer test")
        #expect(rig.metadataValue("generator") == "tests")
    }

    @Test func float16DeltasWithinATenthOfAMillimetre() throws {
        let content = Self.content(deltaScale: 0.02)
        let encoded = try RigWriter.encode(content, deltas: .float16)
        let file = try SafeTensorsFile(bytes: encoded.bytes, source: "half")
        #expect(file.storedTypes["deltas"] == .f16)
        let rig = try Rig(bytes: encoded.bytes, source: "half")
        let error = maxAbsDifference(rig.deltas.data, content.deltas)
        #expect(error == encoded.deltaRoundingError)
        #expect(error > 0 && error < 1e-4)
        #expect(encoded.bytes.count < (try RigWriter.encode(content)).bytes.count)
    }

    @Test func float16IsRefusedBeyondTheTolerance() {
        // Metres, deltas up to 3 m: float16 steps of 2^-9 m there.
        #expect(throws: KMTError.self) { try RigWriter.encode(Self.content(deltaScale: 3), deltas: .float16) }
        // The same numbers in millimetres are fine (0.1 mm allowed, steps of 2^-9 mm).
        #expect(throws: Never.self) { try RigWriter.encode(Self.content(deltaScale: 3, units: .millimeters), deltas: .float16) }
        // Overflow.
        var huge = Self.content(units: .millimeters)
        huge.deltas[0] = 70_000
        #expect(throws: KMTError.self) { try RigWriter.encode(huge, deltas: .float16) }
    }

    @Test func refusesContentThatBreaksTheRules() {
        func refuses(_ change: (inout RigContent) -> Void, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            var content = Self.content()
            change(&content)
            do {
                _ = try RigWriter.encode(content)
                Issue.record("wrote a bad rig (\(fragment))", sourceLocation: sourceLocation)
            } catch let error as KMTError {
                #expect(error.status == KMT_ERR_INVALID_ARGUMENT, sourceLocation: sourceLocation)
                #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(error)", sourceLocation: sourceLocation)
            }
        }
        refuses({ $0.faces[4] = 9 }, "refers to vertex 9")
        refuses({ $0.shapeNames[2] = "jawOpen" }, "appears twice")
        refuses({ $0.shapeNames[0] = "" }, "empty")
        refuses({ $0.deltas[5] = .nan }, "non-finite")
        refuses({ $0.deltas.removeLast() }, "delta floats")
        refuses({ $0.uvs?.removeLast() }, "uv floats")
        refuses({ $0.faces = [] }, "no faces")
        refuses({ $0.vertices = [0, 0, 0, 1, 1, 1] }, "2 vertices")
    }

    @Test func encoderWritesWhatTheReaderReads() throws {
        let encoder = SafeTensorsEncoder(
            entries: [
                .float32("a", shape: [2, 2], [1, -2, 3.5, 0]),
                .int32("b", shape: [3], [7, -1, 2_000_000_000]),
                .float16("c", shape: [1], [0.5]),
            ],
            metadata: [("k", "v \"quoted\"\n")])
        let file = try SafeTensorsFile(bytes: try encoder.encode(), source: "enc")
        #expect(file.tensors["a"]?.data == [1, -2, 3.5, 0])
        #expect(file.integerTensors["b"]?.data == [7, -1, 2_000_000_000])
        #expect(file.tensors["c"]?.data == [0.5])
        #expect(file.metadataValue("k") == "v \"quoted\"\n")
        #expect(file.unclaimedDataBytes == 0)
        #expect(throws: KMTError.self) {
            try SafeTensorsEncoder(entries: [.float32("a", shape: [3], [1, 2])], metadata: []).encode()
        }
        #expect(throws: KMTError.self) {
            try SafeTensorsEncoder(entries: [.float32("a", shape: [1], [1]), .float32("a", shape: [1], [1])], metadata: []).encode()
        }
    }
}
