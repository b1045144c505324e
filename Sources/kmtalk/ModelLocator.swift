import CKMTalk
import Foundation

/// Finds the model file when the user gives none.
enum ModelLocator {
    /// Model file names in order of preference.
    static let candidates = ["kmtalk-base.safetensors", "kmtalk-tiny-random.safetensors"]

    /// The explicit path, else $KMTALK_MODEL, else the first candidate found in a
    /// `models/` folder beside the executable, one level up, or in the checkout above it.
    static func resolve(_ explicit: String?) throws -> String {
        if let explicit { return explicit }
        if let fromEnvironment = ProcessInfo.processInfo.environment["KMTALK_MODEL"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        var searched: [String] = []
        for _ in 0..<6 {
            for folder in [directory, directory.appendingPathComponent("models")] {
                for name in candidates {
                    let path = folder.appendingPathComponent(name).path
                    if FileManager.default.fileExists(atPath: path) { return path }
                }
                searched.append(folder.path)
            }
            directory = directory.deletingLastPathComponent()
        }
        throw CLIError("no model found; pass --model PATH or set KMTALK_MODEL (searched \(searched.prefix(4).joined(separator: ", ")), ...)")
    }
}

/// An error the CLI reports as one line on stderr with exit code 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    /// The library's status when the error comes from a C call.
    let status: kmt_status?
    init(_ description: String, status: kmt_status? = nil) {
        self.description = description
        self.status = status
    }
}
