import CKMTalk
import Foundation
import Testing

@testable import kmtalk

/// `kmtalk info` as a host of the C API: the safetensors header it reads agrees with what
/// the library loaded (parameter count, metadata), and the streaming line comes from a
/// session (none for a full-attention model).
@Suite struct InfoCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("KMTalkEngineTests/Fixtures")

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    @Test(arguments: ["kmtalk-tiny.safetensors", "learned-direct.safetensors", "kmtalk-vertices.safetensors"])
    func theHeaderAgreesWithTheLoadedModel(name: String) throws {
        let path = Self.fixture(name)
        let model = try ModelHandle(path: path)
        let header = try SafeTensorsHeader(path: path)
        // The library counts every stored element (a vertices model's faces included).
        let parameters = header.tensors.map { $0.shape.reduce(1, *) }.reduce(0, +)
        #expect(UInt64(parameters) == model.parameterCount)
        var count: UInt64 = 0
        #expect(kmt_model_parameter_count(model.pointer, &count) == KMT_OK && count == model.parameterCount)
        #expect(!header.tensors.isEmpty && header.tensors.allSatisfy { !$0.shape.isEmpty || $0.dtype != "?" })
        let config = try #require(model.metadata("config"))
        #expect(header.metadata.first { $0.key == "config" }?.value == config)
        #expect(try JSONSerialization.jsonObject(with: Data(config.utf8)) is [String: Any])
        #expect(model.metadata("no such key") == nil)
        #expect(header.metadata.map(\.key) == header.metadata.map(\.key).sorted())
    }

    @Test func streamingLatenciesComeFromASession() throws {
        let banded = try #require(try ModelHandle(path: Self.fixture("kmtalk-tiny.safetensors")).streamingLatencies())
        #expect(banded.exact > banded.default && banded.default > 0)
        #expect(try ModelHandle(path: Self.fixture("learned-direct.safetensors")).streamingLatencies() == nil)
    }

    @Test func aFileThatIsNotSafetensorsIsRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("info-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        for bytes in [[UInt8](), [1, 2, 3], [255, 255, 255, 255, 0, 0, 0, 0, 123], [4, 0, 0, 0, 0, 0, 0, 0, 91, 49, 93, 32]] {
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            #expect(throws: CLIError.self, "\(bytes)") { try SafeTensorsHeader(path: path) }
        }
    }
}
