import ArgumentParser

/// `kmtalk rig ...`: build and inspect rig files (docs/rig.md).
struct RigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rig",
        abstract: "Import meshes with blendshapes as kmtalk rig files, and describe rigs.",
        subcommands: [RigImportGLTF.self, RigImportOBJ.self, RigInfo.self])
}
