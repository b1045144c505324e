import ArgumentParser
import Foundation
import KMTalkEngine

/// `kmtalk rig info RIG [--model M]`
struct RigInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe a rig: counts, units, shapes, and how a model's channels drive them.")

    @Argument(help: "Rig file (.safetensors, format kmtalk-rig).")
    var rig: String

    @Option(help: "Model whose channels are matched (default: $KMTALK_MODEL or the shipped model).")
    var model: String?

    func run() throws {
        let start = Date()
        let loaded: Rig
        do {
            loaded = try Rig(path: rig)
        } catch let error as KMTError {
            throw CLIError(error.message)
        }
        let elapsed = Date().timeIntervalSince(start)
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: rig)[.size] as? Int) ?? 0
        let file = try? SafeTensorsFile(path: rig)
        let deltaType = file?.storedTypes["deltas"]?.rawValue ?? "?"
        print("rig:       \(rig)")
        print("size:      \(fileSize) bytes, loaded in \(String(format: "%.1f", elapsed * 1000)) ms")
        print("mesh:      \(loaded.vertexCount) vertices, \(loaded.faceCount) triangles, units \(loaded.units.rawValue)\(loaded.uvs == nil ? "" : ", UVs")\(loaded.normals == nil ? "" : ", normals")")
        print("extent:    \(Self.extent(loaded))")
        print("shapes:    \(loaded.shapeCount) (deltas \(deltaType))")
        for (index, name) in loaded.shapeNames.enumerated() {
            let largest = Self.largestDelta(loaded, shape: index)
            print(String(format: "  %3d %-24@ max |delta| %.4g %@", index, name as NSString, largest, loaded.units.rawValue))
        }
        print("metadata:")
        for (key, value) in loaded.metadata where key != "channels" {
            print("  \(key): \(value)")
        }

        let modelPath: String
        do {
            modelPath = try ModelLocator.resolve(model)
        } catch {
            print("match:     no model found (\(error)); pass --model to see how its channels drive the rig")
            return
        }
        let channels: [String]
        do {
            channels = try KMTalkModel(path: modelPath).config.motion.channels
        } catch let error as KMTError {
            throw CLIError(error.message)
        }
        let mapping = loaded.matcher.match(channels)
        let matched = mapping.drivers.compactMap { $0 }.count
        print("match:     \(modelPath): \(channels.count) channels drive \(matched) of \(loaded.shapeCount) shapes")
        for (source, targets) in mapping.targets.enumerated() where !targets.isEmpty {
            let described = targets.map { shape -> String in
                let kind = mapping.drivers[shape].map { "\($0.kind)" } ?? "?"
                return mapping.shapeNames[shape] + (kind == "exact" ? "" : " (\(kind))")
            }
            print("  \(channels[source]) -> \(described.joined(separator: ", "))")
        }
        let unmatchedChannels = mapping.unmatchedSources.map { channels[$0] }
        let unmatchedShapes = mapping.unmatchedShapes.map { mapping.shapeNames[$0] }
        print("unmatched channels (\(unmatchedChannels.count)): \(unmatchedChannels.isEmpty ? "none" : unmatchedChannels.joined(separator: ", "))")
        print("unmatched shapes (\(unmatchedShapes.count)): \(unmatchedShapes.isEmpty ? "none" : unmatchedShapes.joined(separator: ", "))")
    }

    /// The bounding box of the neutral mesh as text.
    static func extent(_ rig: Rig) -> String {
        var low = [Float](repeating: .infinity, count: 3)
        var high = [Float](repeating: -.infinity, count: 3)
        for vertex in 0..<rig.vertexCount {
            for k in 0..<3 {
                low[k] = min(low[k], rig.vertices[3 * vertex + k])
                high[k] = max(high[k], rig.vertices[3 * vertex + k])
            }
        }
        let axes = ["x", "y", "z"]
        return (0..<3).map { String(format: "%@ %.4g..%.4g", axes[$0], low[$0], high[$0]) }.joined(separator: ", ") + " \(rig.units.rawValue)"
    }

    /// The largest |delta| of one shape.
    static func largestDelta(_ rig: Rig, shape: Int) -> Float {
        let width = rig.vertexCount * 3
        var largest: Float = 0
        rig.deltas.data.withUnsafeBufferPointer { data in
            for element in (shape * width)..<((shape + 1) * width) { largest = max(largest, abs(data[element])) }
        }
        return largest
    }
}
