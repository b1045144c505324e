import ArgumentParser
import CKMTalkHost
import Foundation

/// The `kmtalk` command-line tool.
@main
struct KMTalkCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kmtalk",
        abstract: "Speech-driven 3D facial animation (ARKit blendshapes) with KMTalk.",
        discussion: """
            The model is found from --model, then $KMTALK_MODEL, then models/ next to the \
            binary or in the source checkout it was built from.
            Guides: docs/unreal-livelink.md (kmtalk stream to Unreal's Live Link), \
            docs/export.md, docs/rig.md, docs/model.md, docs/web-viewer.md (kmtalk view).
            """,
        version: "1.0.0",
        subcommands: [Animate.self, StreamCommand.self, Info.self, Features.self, Bench.self, RigCommand.self, PreviewCommand.self, ViewCommand.self],
        defaultSubcommand: nil)

    /// Keeps freed memory for reuse (`AllocatorTuning`), puts OpenBLAS on the kernels this
    /// CPU can run (`OpenBLASCore`), loads libKMTalk.so
    /// (`CKMTalkHost`: a clear message and exit status 70 when it cannot), then parses and
    /// runs the command as ArgumentParser's own `main` does.
    static func main() {
        AllocatorTuning.apply()
        OpenBLASCore.chooseKernelsBeforeLoading()
        var reason = [CChar](repeating: 0, count: 4096)
        if kmtalk_host_load(&reason, reason.count) != 0 {
            let text = String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            FileHandle.standardError.write(Data("kmtalk: \(text)\n".utf8))
            Foundation.exit(70)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
