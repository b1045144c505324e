import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// Builds safetensors files byte by byte, including broken ones.
enum SafeTensorsBuilder {
    static func file(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> [UInt8] {
        let json = Array(header.utf8)
        var length = declaredLength ?? UInt64(json.count)
        var bytes = withUnsafeBytes(of: &length) { Array($0) }
        bytes += json
        bytes += data
        return bytes
    }

    static func floats(_ values: [Float]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    static func int32s(_ values: [Int32]) -> [UInt8] {
        values.map(\.littleEndian).withUnsafeBytes { Array($0) }
    }

    static func int64s(_ values: [Int64]) -> [UInt8] {
        values.map(\.littleEndian).withUnsafeBytes { Array($0) }
    }
}

@Suite struct SafeTensorsTests {
    func parse(_ bytes: [UInt8]) throws -> SafeTensorsFile {
        try SafeTensorsFile(bytes: bytes, source: "test.safetensors")
    }

    /// Expects parsing to fail with a corrupt-model error whose message contains `fragment`.
    func expectCorrupt(_ bytes: [UInt8], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try parse(bytes)
            Issue.record("parsed a malformed file (expected '\(fragment)')", sourceLocation: sourceLocation)
        } catch let error as KMTError {
            #expect(error.status == KMT_ERR_CORRUPT_MODEL, sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "message '\(error.message)' lacks '\(fragment)'", sourceLocation: sourceLocation)
            #expect(error.message.hasPrefix("test.safetensors: "), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func parsesAValidFile() throws {
        let header = #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[],"data_offsets":[16,20]}}"#
        let file = try parse(SafeTensorsBuilder.file(header: header, data: SafeTensorsBuilder.floats([1, 2, 3, 4, 5])))
        #expect(file.metadataValue("k") == "v")
        #expect(file.tensors["a"]?.shape == [2, 2])
        #expect(file.tensors["a"]?.data == [1, 2, 3, 4])
        #expect(file.tensors["b"]?.data == [5])
        #expect(file.names == ["a", "b"])
        #expect(file.parameterCount == 5)
    }

    @Test func rejectsFilesShorterThanTheLengthField() {
        expectCorrupt([1, 2, 3], "too short")
        expectCorrupt([], "too short")
    }

    @Test func rejectsHeaderLengthBeyondTheFile() {
        expectCorrupt(SafeTensorsBuilder.file(header: "{}", data: [], declaredLength: 1000), "beyond the end of the file")
        expectCorrupt(SafeTensorsBuilder.file(header: "{}", data: [], declaredLength: UInt64.max), "beyond the end of the file")
    }

    @Test(arguments: [#"{"a":"#, #"{"a":{"dtype":"F32",}}"#, "[1,2]x", "\u{01}", #"{"a":tru}"#, ""])
    func rejectsMalformedJSON(header: String) {
        expectCorrupt(SafeTensorsBuilder.file(header: header, data: []), "malformed JSON header")
    }

    @Test func rejectsANonObjectHeader() {
        expectCorrupt(SafeTensorsBuilder.file(header: "[1,2]", data: []), "not an object")
    }

    @Test func readsIntegerTensorsAtAnyAlignment() throws {
        // A 1-element F16 first puts the I32 tensor at data offset 2 and the I64 one at 14:
        // reads must not assume alignment.
        let header = #"{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"#
            + #""faces":{"dtype":"I32","shape":[1,3],"data_offsets":[2,14]},"#
            + #""big":{"dtype":"I64","shape":[2],"data_offsets":[14,30]}}"#
        let data: [UInt8] = [0x00, 0x3C] + SafeTensorsBuilder.int32s([0, -7, Int32.max])
            + SafeTensorsBuilder.int64s([Int64.min, 1 << 40])
        let file = try parse(SafeTensorsBuilder.file(header: header, data: data))
        #expect(file.tensors["h"]?.data == [1])
        #expect(file.integerTensors["faces"] == IntegerTensor(shape: [1, 3], data: [0, -7, Int(Int32.max)]))
        #expect(file.integerTensors["big"] == IntegerTensor(shape: [2], data: [Int(Int64.min), 1 << 40]))
        #expect(file.tensors["faces"] == nil)
        #expect(file.storedTypes["faces"] == .i32)
        #expect(file.storedTypes["big"] == .i64)
        #expect(file.names == ["h", "faces", "big"])
        #expect(file.shape(of: "faces") == [1, 3])
        #expect(file.shape(of: "h") == [1])
        #expect(file.shape(of: "nothing") == nil)
        #expect(file.parameterCount == 6)
        #expect(file.unclaimedDataBytes == 0)
    }

    @Test func rejectsIntegerByteLengthMismatch() {
        let i32 = #"{"w":{"dtype":"I32","shape":[3],"data_offsets":[0,8]}}"#
        expectCorrupt(SafeTensorsBuilder.file(header: i32, data: [UInt8](repeating: 0, count: 8)), "shape [3] of I32 needs 12 bytes but data_offsets span 8")
        let i64 = #"{"w":{"dtype":"I64","shape":[2],"data_offsets":[0,8]}}"#
        expectCorrupt(SafeTensorsBuilder.file(header: i64, data: [UInt8](repeating: 0, count: 8)), "shape [2] of I64 needs 16 bytes")
        let outside = #"{"w":{"dtype":"I32","shape":[2],"data_offsets":[4,12]}}"#
        expectCorrupt(SafeTensorsBuilder.file(header: outside, data: [UInt8](repeating: 0, count: 8)), "outside the 8-byte data section")
    }

    @Test func countsDataBytesNoTensorClaims() throws {
        // A 4-byte gap between the tensors and 3 trailing bytes.
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I32","shape":[1],"data_offsets":[8,12]}}"#
        let file = try parse(SafeTensorsBuilder.file(header: header, data: [UInt8](repeating: 0, count: 15)))
        #expect(file.unclaimedDataBytes == 7)
    }

    @Test func modelsRejectIntegerTensors() throws {
        // head.bias stored as I32: the model must refuse it by name, not convert it.
        let original = try SafeTensorsFile(path: Fixtures.tinyModelPath)
        let entries = original.names.map { name -> SafeTensorsWriter.Entry in
            let tensor = original.tensors[name]!
            return name == "head.bias"
                ? .int32(name, shape: tensor.shape, tensor.data.map { _ in 0 })
                : .float32(name, tensor)
        }
        let bytes = SafeTensorsWriter.encode(entries: entries, metadata: original.metadata)
        do {
            _ = try bytes.withUnsafeBytes { try KMTalkModel(bytes: $0, source: "int.safetensors") }
            Issue.record("loaded a model with an integer weight")
        } catch let error as KMTError {
            #expect(error.status == KMT_ERR_CORRUPT_MODEL)
            #expect(error.message.contains("tensor 'head.bias' is I32"), "\(error.message)")
        }
    }

    @Test(arguments: ["F64", "I8", "I16", "U8", "U32", "BOOL", "float32", "i32", ""])
    func rejectsUnknownDtypes(dtype: String) {
        let header = #"{"w":{"dtype":"\#(dtype)","shape":[1],"data_offsets":[0,8]}}"#
        expectCorrupt(SafeTensorsBuilder.file(header: header, data: [UInt8](repeating: 0, count: 8)), "unsupported dtype '\(dtype)' (F32, F16, BF16, I32 and I64 are supported)")
    }

    @Test func rejectsShapeByteLengthMismatch() {
        let header = #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        expectCorrupt(SafeTensorsBuilder.file(header: header, data: [UInt8](repeating: 0, count: 8)), "needs 12 bytes but data_offsets span 8")
        let f16 = #"{"w":{"dtype":"F16","shape":[2,2],"data_offsets":[0,16]}}"#
        expectCorrupt(SafeTensorsBuilder.file(header: f16, data: [UInt8](repeating: 0, count: 16)), "needs 8 bytes")
    }

    @Test func rejectsOffsetsOutsideTheData() {
        let header = #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#
        expectCorrupt(SafeTensorsBuilder.file(header: header, data: [UInt8](repeating: 0, count: 16)), "outside the 16-byte data section")
        let reversed = #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}"#
        expectCorrupt(SafeTensorsBuilder.file(header: reversed, data: [UInt8](repeating: 0, count: 16)), "not an ascending range")
        let negative = #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#
        expectCorrupt(SafeTensorsBuilder.file(header: negative, data: [UInt8](repeating: 0, count: 16)), "not an ascending range")
    }

    @Test func rejectsOverlappingTensors() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        expectCorrupt(SafeTensorsBuilder.file(header: header, data: [UInt8](repeating: 0, count: 12)), "overlaps tensor")
    }

    @Test func rejectsDuplicateNames() {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        expectCorrupt(SafeTensorsBuilder.file(header: header, data: [UInt8](repeating: 0, count: 8)), "duplicate tensor name 'a'")
    }

    @Test func rejectsBadEntries() {
        func file(_ entry: String) -> [UInt8] {
            SafeTensorsBuilder.file(header: #"{"w":\#(entry)}"#, data: [UInt8](repeating: 0, count: 8))
        }
        expectCorrupt(file("3"), "entry is not an object")
        expectCorrupt(file(#"{"shape":[1],"data_offsets":[0,4]}"#), "missing dtype")
        expectCorrupt(file(#"{"dtype":"F32","data_offsets":[0,4]}"#), "missing shape")
        expectCorrupt(file(#"{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}"#), "non-negative integers")
        expectCorrupt(file(#"{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}"#), "non-negative integers")
        expectCorrupt(file(#"{"dtype":"F32","shape":[1],"data_offsets":[0]}"#), "two integers")
        expectCorrupt(file(#"{"dtype":"F32","shape":[99999999,99999999],"data_offsets":[0,4]}"#), "too large")
        let metadata = SafeTensorsBuilder.file(header: #"{"__metadata__":{"k":1}}"#, data: [])
        expectCorrupt(metadata, "is not a string")
    }

    @Test func randomCorruptionNeverCrashes() throws {
        // Flip bytes of a real model file all over: every outcome must be a clean error or
        // a valid parse, never a trap.
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.tinyModelPath)))
        var generator = SeededGenerator(seed: 2024)
        for trial in 0..<300 {
            var bytes = original
            let limit = trial % 2 == 0 ? min(bytes.count, 4096) : bytes.count
            for _ in 0..<(1 + trial % 8) {
                bytes[Int.random(in: 0..<limit, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if trial % 17 == 0 { bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator))) }
            do {
                _ = try bytes.withUnsafeBytes { try KMTalkModel(bytes: $0) }
            } catch let error as KMTError {
                #expect(!error.message.isEmpty)
            }
        }
    }
}

extension SafeTensorsWriter {
    /// One tensor as stored: its dtype name, shape and little-endian bytes.
    struct Entry {
        var name: String
        var dtype: String
        var shape: [Int]
        var bytes: [UInt8]

        static func float32(_ name: String, _ tensor: Tensor) -> Entry {
            Entry(name: name, dtype: "F32", shape: tensor.shape, bytes: SafeTensorsBuilder.floats(tensor.data))
        }
        static func float16(_ name: String, _ tensor: Tensor) -> Entry {
            let halves = tensor.data.map { Float16($0).bitPattern.littleEndian }
            return Entry(name: name, dtype: "F16", shape: tensor.shape, bytes: halves.withUnsafeBytes { Array($0) })
        }
        static func int32(_ name: String, shape: [Int], _ values: [Int32]) -> Entry {
            Entry(name: name, dtype: "I32", shape: shape, bytes: SafeTensorsBuilder.int32s(values))
        }
        static func int64(_ name: String, shape: [Int], _ values: [Int64]) -> Entry {
            Entry(name: name, dtype: "I64", shape: shape, bytes: SafeTensorsBuilder.int64s(values))
        }
    }

    /// Encodes tensors of any dtype, in order, with `metadata`.
    static func encode(entries: [Entry], metadata: [(key: String, value: String)]) -> [UInt8] {
        var members: [String] = []
        if !metadata.isEmpty {
            members.append("\"__metadata__\":{" + metadata.map { "\(JSONText.quoted($0.key)):\(JSONText.quoted($0.value))" }.joined(separator: ",") + "}")
        }
        var data: [UInt8] = []
        for entry in entries {
            let begin = data.count
            data += entry.bytes
            members.append("\(JSONText.quoted(entry.name)):{\"dtype\":\"\(entry.dtype)\",\"shape\":\(entry.shape),\"data_offsets\":[\(begin),\(data.count)]}")
        }
        return SafeTensorsBuilder.file(header: "{" + members.joined(separator: ",") + "}", data: data)
    }
}
