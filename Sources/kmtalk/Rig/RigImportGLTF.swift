import ArgumentParser
import Foundation
import CKMTalk

/// `kmtalk rig import-gltf FILE.glb|.gltf -o RIG [--mesh NAME] [--half]`
struct RigImportGLTF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-gltf",
        abstract: "Make a rig from a glTF 2.0 / GLB mesh with morph targets.",
        discussion: """
            Reads the mesh's triangle primitives (merged), POSITION, NORMAL and TEXCOORD_0, and \
            the morph targets' POSITION deltas, named from extras.targetNames (mesh, then first \
            primitive) or target_<i>. The node's world transform is applied (translation to \
            positions only). Units: metres.
            """)

    @Argument(help: "A .glb or .gltf file.")
    var file: String

    @Option(name: .shortAndLong, help: "Output rig file (.safetensors).")
    var output: String

    @Option(help: "Mesh to import, by name or index (default: the mesh with morph targets).")
    var mesh: String?

    @Flag(help: "Follow references that leave the asset's folder (absolute paths, '..', symbolic links); off: a crafted file cannot read other files.")
    var allowOutsideFiles = false

    @Flag(help: "Store deltas as float16 (refused when rounding exceeds 0.1 mm).")
    var half = false

    @Flag(name: .shortAndLong, help: "No progress bar, notes or summary on stderr (warnings and errors still show).")
    var quiet = false

    func run() throws {
        let started = Date()
        var params: kmt_rig_import_params = try defaultParams(kmt_rig_import_params_init)
        params.flags = allowOutsideFiles ? KMT_RIG_IMPORT_ALLOW_OUTSIDE_FILES : 0
        try withOptionalCString(mesh) { mesh in
            params.mesh = mesh
            try RigFileOutput(path: output, half: half, quiet: quiet).write(importing: file, params: &params, started: started)
        }
    }
}

/// Calls `body` with `text` as a C string valid during the call, or with NULL.
func withOptionalCString<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) throws -> R) rethrows -> R {
    guard let text else { return try body(nil) }
    return try text.withCString { try body($0) }
}
