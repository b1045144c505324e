import Foundation
import Testing

@testable import KMTalkEngine

/// Locations of committed fixtures and shipped models, found from this file's path.
enum Fixtures {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let repositoryRoot = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()

    static func path(_ name: String) -> String {
        testsDirectory.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }

    static var tinyModelPath: String {
        repositoryRoot.appendingPathComponent("models/kmtalk-tiny-random.safetensors").path
    }

    /// Loads a golden fixture file written by training/make_fixtures.py.
    static func golden(_ name: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(path: path(name))
    }

    /// A fresh temporary directory, removed by the caller with `cleanup`.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kmtalk-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension SafeTensorsFile {
    /// The tensor `name`, failing the test when absent.
    func tensor(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Tensor {
        try #require(tensors[name], "fixture tensor '\(name)' missing", sourceLocation: sourceLocation)
    }
}

/// Largest absolute element difference; infinity when shapes differ.
func maxAbsError(_ a: Tensor, _ b: Tensor) -> Float {
    guard a.shape == b.shape else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a.data, b.data) { worst = max(worst, abs(x - y)) }
    return worst
}

/// Expects `actual` to match `expected` in shape and within `tolerance` max abs error.
func expectClose(
    _ actual: Tensor, _ expected: Tensor, tolerance: Float = 1e-4, _ label: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.shape == expected.shape, "\(label): shape \(actual.shape) != \(expected.shape)", sourceLocation: sourceLocation)
    let error = maxAbsError(actual, expected)
    #expect(error < tolerance, "\(label): max abs error \(error) >= \(tolerance)", sourceLocation: sourceLocation)
}
