/// What an importer produced: the rig to write, plus notes for the user about what was
/// dropped, guessed or skipped along the way.
struct RigImport: Sendable {
    /// The rig, ready for `RigWriter`.
    var rig: RigContent
    /// One line per thing the user should know (dropped UVs, skipped files, ...).
    var notes: [String]

    /// A result with `rig` and `notes`.
    init(rig: RigContent, notes: [String]) {
        self.rig = rig
        self.notes = notes
    }
}
