import ArgumentParser
import Foundation
import CKMTalk

/// `kmtalk rig import-obj DIR -o RIG [--neutral NAME.obj] [--units cm] [--half] [--all]`
struct RigImportOBJ: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-obj",
        abstract: "Make a rig from a folder of OBJs: a neutral mesh plus one OBJ per shape.",
        discussion: """
            Every OBJ beside the neutral is a shape named by its file stem (delta = shape - \
            neutral); OBJs with another topology are skipped with a note. Polygons are \
            triangulated as fans. UVs are kept only when each vertex has one. A folder with an \
            ICT-FaceKit manifest (vertex_indices.json) imports the expressions it lists unless \
            --all is given.
            """)

    @Argument(help: "Folder of .obj files.")
    var directory: String

    @Option(name: .shortAndLong, help: "Output rig file (.safetensors).")
    var output: String

    @Option(help: "File name of the neutral mesh (default: the one OBJ named *neutral*).")
    var neutral: String?

    @Option(help: "Length unit of the OBJs: m, cm or mm (default: guessed from the size).")
    var units: String?

    @Flag(help: "Follow references that leave the asset's folder (absolute paths, '..', symbolic links); off: a crafted file cannot read other files.")
    var allowOutsideFiles = false

    @Flag(help: "Store deltas as float16 (refused when rounding exceeds 0.1 mm).")
    var half = false

    @Flag(name: .shortAndLong, help: "No progress bar, notes or summary on stderr (warnings and errors still show).")
    var quiet = false

    @Flag(help: "Import every OBJ even when an ICT-FaceKit manifest lists fewer.")
    var all = false

    func run() throws {
        let started = Date()
        if let units, !["m", "cm", "mm"].contains(units) {
            throw ValidationError("--units must be one of: m, cm, mm")
        }
        var params: kmt_rig_import_params = try defaultParams(kmt_rig_import_params_init)
        params.flags = (all ? KMT_RIG_IMPORT_ALL_OBJS : 0) | (allowOutsideFiles ? KMT_RIG_IMPORT_ALLOW_OUTSIDE_FILES : 0)
        try withOptionalCString(neutral) { neutral in
            try withOptionalCString(units) { units in
                params.neutral = neutral
                params.units = units
                try RigFileOutput(path: output, half: half, quiet: quiet).write(importing: directory, params: &params, started: started)
            }
        }
    }
}
