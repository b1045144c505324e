/// How an export is written, beyond the format and the rig: what `kmt_export_params`
/// carries into `AnimationExporter`.
struct ExportOptions {
    /// Rhubarb Lip Sync's extended mouth shapes (G, H, X) the mouth-cue formats may use;
    /// the others are drawn as their basic shape (`MouthShape.basicShape`). All three by
    /// default, as Rhubarb's `--extendedShapes GHX`.
    var extendedShapes: Set<MouthShape> = MouthShape.extendedShapes
    /// Receives the export's progress (stage "export") and may cancel it; nil: none.
    var progress: ProgressReporter?

    /// Options with `extendedShapes` (default: all) and a `progress` reporter (default: none).
    init(extendedShapes: Set<MouthShape> = MouthShape.extendedShapes, progress: ProgressReporter? = nil) {
        self.extendedShapes = extendedShapes
        self.progress = progress
    }
}
