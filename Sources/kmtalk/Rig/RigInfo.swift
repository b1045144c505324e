import ArgumentParser
import CKMTalk
import Foundation

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
        let loaded = try RigHandle(path: rig)
        let elapsed = Date().timeIntervalSince(start)
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: rig)[.size] as? Int) ?? 0
        // The stored types and optional tensors come from the file's table (a file format).
        let header = try? SafeTensorsHeader(path: rig)
        let tensors = Set(header?.tensors.map(\.name) ?? [])
        let deltaType = header?.tensors.first { $0.name == "deltas" }?.dtype ?? "?"
        let units = loaded.metadata("units") ?? "m"
        let vertices = try loaded.vertices()
        print("rig:       \(rig)")
        print("size:      \(fileSize) bytes, loaded in \(String(format: "%.1f", elapsed * 1000)) ms")
        print("mesh:      \(loaded.vertexCount) vertices, \(loaded.faceCount) triangles, units \(units)\(tensors.contains("uvs") ? ", UVs" : "")\(tensors.contains("normals") ? ", normals" : "")")
        print("extent:    \(Self.extent(vertices, units: units))")
        print("shapes:    \(loaded.shapeCount) (deltas \(deltaType))")
        let shapeNames = loaded.shapeNames
        for (index, name) in shapeNames.enumerated() {
            let largest = try loaded.deltas(shape: index).reduce(Float(0)) { max($0, abs($1)) }
            print(String(format: "  %3d %-24@ max |delta| %.4g %@", index, name as NSString, largest, units))
        }
        print("metadata:")
        for (key, value) in header?.metadata ?? [] where key != "channels" {
            print("  \(key): \(value)")
        }

        let modelPath: String
        do {
            modelPath = try ModelLocator.resolve(model)
        } catch {
            print("match:     no model found (\(error)); pass --model to see how its channels drive the rig")
            return
        }
        let channels = try ModelHandle(path: modelPath).channelNames
        let drivers = try loaded.match(channels)
        print("match:     \(modelPath): \(channels.count) channels drive \(drivers.compactMap { $0 }.count) of \(loaded.shapeCount) shapes")
        for (source, channel) in channels.enumerated() {
            let targets = drivers.indices.filter { drivers[$0] == source }.map { shapeNames[$0] }
            guard !targets.isEmpty else { continue }
            print("  \(channel) -> \(targets.joined(separator: ", "))")
        }
        let driving = Set(drivers.compactMap { $0 })
        let unmatchedChannels = channels.indices.filter { !driving.contains($0) }.map { channels[$0] }
        let unmatchedShapes = drivers.indices.filter { drivers[$0] == nil }.map { shapeNames[$0] }
        print("unmatched channels (\(unmatchedChannels.count)): \(unmatchedChannels.isEmpty ? "none" : unmatchedChannels.joined(separator: ", "))")
        print("unmatched shapes (\(unmatchedShapes.count)): \(unmatchedShapes.isEmpty ? "none" : unmatchedShapes.joined(separator: ", "))")
    }

    /// The bounding box of V x 3 neutral positions as text.
    static func extent(_ vertices: [Float], units: String) -> String {
        var low = [Float](repeating: .infinity, count: 3)
        var high = [Float](repeating: -.infinity, count: 3)
        for vertex in 0..<(vertices.count / 3) {
            for k in 0..<3 {
                low[k] = min(low[k], vertices[3 * vertex + k])
                high[k] = max(high[k], vertices[3 * vertex + k])
            }
        }
        let axes = ["x", "y", "z"]
        return (0..<3).map { String(format: "%@ %.4g..%.4g", axes[$0], low[$0], high[$0]) }.joined(separator: ", ") + " \(units)"
    }
}
