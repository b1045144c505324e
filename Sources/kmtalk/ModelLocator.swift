import Foundation

/// Finds the model file when the user gives none.
enum ModelLocator {
    /// What the model will do, which decides the preferred shipped model.
    enum Purpose {
        /// Whole files: the most accurate model (kmtalk-base, 296 ms look-ahead).
        case offline
        /// Live streaming: the low-latency model (kmtalk-live, 136 ms look-ahead).
        case streaming
    }

    /// Model file names in order of preference for `purpose`.
    static func candidates(for purpose: Purpose) -> [String] {
        switch purpose {
        case .offline: ["kmtalk-base.safetensors", "kmtalk-tiny-random.safetensors"]
        case .streaming: ["kmtalk-live.safetensors", "kmtalk-base.safetensors", "kmtalk-tiny-random.safetensors"]
        }
    }

    /// The explicit path, else $KMTALK_MODEL, else the first candidate for `purpose` found
    /// in a `models/` folder beside the executable, one level up, or in the checkout above it.
    static func resolve(_ explicit: String?, for purpose: Purpose = .offline) throws -> String {
        if let explicit { return explicit }
        if let fromEnvironment = ProcessInfo.processInfo.environment["KMTALK_MODEL"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        var searched: [String] = []
        for _ in 0..<6 {
            for folder in [directory, directory.appendingPathComponent("models")] {
                for name in candidates(for: purpose) {
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
    init(_ description: String) { self.description = description }
}
