import Foundation
import KMTalkEngine

/// Options and output shared by the rig importers: encode (float32 or float16 deltas),
/// write, and summarise on stderr.
struct RigFileOutput {
    /// Where the rig goes.
    let path: String
    /// Whether deltas are stored as float16.
    let half: Bool

    /// Encodes `imported`, writes it and prints notes and a summary; `started` times it.
    func write(_ imported: RigImport, generator: String, started: Date) throws {
        var rig = imported.rig
        rig.extraMetadata.append(("generator", generator))
        let encoded: EncodedRig
        do {
            encoded = try RigWriter.encode(rig, deltas: half ? .float16 : .float32)
        } catch let error as KMTError {
            throw CLIError(error.message)
        }
        do {
            try Data(encoded.bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CLIError("\(path): cannot write (\(error.localizedDescription))")
        }
        for note in imported.notes { Self.standardError("note: \(note)") }
        let elapsed = Date().timeIntervalSince(started)
        var summary = "\(path): \(rig.vertexCount) vertices, \(rig.faceCount) triangles, \(rig.shapeCount) shapes, units \(rig.units.rawValue)"
        summary += rig.uvs == nil ? ", no UVs" : ", UVs"
        summary += rig.normals == nil ? "" : ", normals"
        summary += String(format: ", deltas %@", half ? "F16" : "F32")
        if half { summary += String(format: " (max rounding %.3g %@)", encoded.deltaRoundingError, rig.units.rawValue) }
        summary += String(format: ", %.2f MiB in %.2f s", Double(encoded.bytes.count) / 1_048_576, elapsed)
        Self.standardError(summary)
    }

    /// Writes a line to stderr.
    static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
