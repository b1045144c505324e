import ArgumentParser
import CKMTalk
import Foundation

/// `kmtalk animate AUDIO -o OUT.{json,csv,npy,glb,obj,ply,tsv}`
struct Animate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Animate an audio file and write the animation (weights, or a rig's mesh).",
        discussion: """
            The format follows the output's extension, or --format:
              json      weights, fps, channel names, source and model
              csv       time and one column per channel
              livelink  the Live Link Face app's CSV (Unreal); 60 fps unless --fps
                        gives another whole rate (the app records 30 or 60:
                        other rates are written with a warning)
              npy       float32 weights (frames x channels), or with --rig the
                        posed vertices (frames x V x 3)
              glb       glTF 2.0: the rig's mesh, a morph target per shape and
                        the animation
              glb-sparse the same with sparse morph targets (only the vertices
                        a shape moves; ~6x smaller; only by --format)
              obj, ply  a mesh per frame: out.obj -> out_000001.obj, ...
              cues-tsv  mouth cues for 2D characters (Rhubarb Lip Sync's shapes
                        A-H and X): "<seconds>\t<shape>" per cue (.tsv)
              cues-json the same cues as Rhubarb's JSON (only by --format)
              cues-xml  the same cues as Rhubarb's XML (only by --format)
              cues-dat  the same cues as a Moho switch file at 24 fps (only by
                        --format)
                        (--extended-shapes: which of G, H, X the cue formats
                        use, as Rhubarb's --extendedShapes)
              phones    the phones the model recognized: start, end, phone (IPA,
                        _ = pause), confidence per line (only by --format)
            glb, glb-sparse, obj and ply pose a rig: --rig, else $KMTALK_RIG, else \(Animate.defaultRigName) \
            in the models/ folder beside the binary or the checkout. A vertices-space model \
            carries its own template: npy, obj and ply write it posed without a rig (glb \
            is refused). Files are written atomically.
            On a terminal a progress bar shows on stderr (not with --quiet or when stderr \
            is not a terminal). Ctrl-C stops cleanly: nothing is written, an existing \
            output is left as it was, and the exit status is 130.
            """)

    @Argument(help: "Audio file (WAV, FLAC, OGG/Opus, MP3, AIFF, ...; any rate 8-192 kHz, any channels; MP4/M4A/AAC and video through ffmpeg when installed), or '-' for stdin.")
    var audio: String

    @Option(name: .shortAndLong, help: "Output file (.json, .csv, .npy, .glb, .obj, .ply, .tsv), or '-' for stdout.")
    var output: String

    @Option(help: "Output format, overriding the extension: \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: String?

    @Option(help: "Rig file for glb, obj, ply (and npy of vertices); default: $KMTALK_RIG or the shipped head.")
    var rig: String?

    @OptionGroup var engine: EngineOptions

    @Option(help: "Output frames per second, 1-240 (default: the model's native rate).")
    var fps: Double?

    @Option(help: ArgumentHelp(
        "Channel map (JSON): drive a character whose shapes have other names (docs/rig.md, \"Channel maps\").",
        discussion: "Each target shape is a weighted sum of the model's channels; the output's channels are the targets. Mouth cues need the model's own channels: not with cue formats.",
        valueName: "map.json"))
    var map: String?


    @Option(help: ArgumentHelp(
        "Your own character (GLB): write the animation into a copy of it, keeping every mesh, material, skin and node.",
        discussion: "The morph targets named like the model's channels (ARKit names, or after --map) are driven; -o names the new .glb (docs/export.md, \"Into your own glTF\").",
        valueName: "asset.glb"))
    var into: String?

    @Option(help: ArgumentHelp(
        "Mouth cues: which of Rhubarb's extended shapes to use, letters of GHX (default: all; '' for the basic shapes A-F only).",
        discussion: "As Rhubarb Lip Sync's --extendedShapes: a shape left out is drawn as Rhubarb does (G as B, H as C, X as A).",
        valueName: "letters"))
    var extendedShapes: String?

    @Flag(name: .shortAndLong, help: "No progress bar, notes or summary on stderr (warnings and errors still show).")
    var quiet = false

    func validate() throws {
        if let into {
            if let rig { throw ValidationError("--into \(into) drives the asset's own meshes; drop --rig \(rig)") }
            if output == "-" || !output.lowercased().hasSuffix(".glb") {
                throw ValidationError("--into writes a GLB: name the output .glb (not '\(output)')")
            }
            if let format, !["glb", "gltf"].contains(format.lowercased()) {
                throw ValidationError("--into writes a GLB; drop --format \(format)")
            }
        }
        if let extendedShapes, let bad = extendedShapes.first(where: { !"GHXghx".contains($0) }) {
            throw ValidationError("--extended-shapes takes letters of GHX (Rhubarb's extended shapes), not '\(bad)'; '' for none")
        }
    }

    /// The format from --format, else stdout's JSON, else the extension.
    func chosenFormat() throws -> OutputFormat {
        if let format {
            let key = format.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "")
            let aliases: [String: OutputFormat] = [
                "livelinkcsv": .liveLinkCSV, "livelinkface": .liveLinkCSV, "gltf": .glb,
                "cuestsv": .mouthCuesTSV, "tsv": .mouthCuesTSV, "cuesjson": .mouthCuesJSON, "rhubarb": .mouthCuesTSV,
                "rhubarbjson": .mouthCuesJSON, "cuesxml": .mouthCuesXML, "rhubarbxml": .mouthCuesXML,
                "cuesdat": .mouthCuesDAT, "moho": .mouthCuesDAT, "dat": .mouthCuesDAT, "glbsparse": .glbSparse, "gltfsparse": .glbSparse,
                "phonestsv": .phonesTSV, "phonemes": .phonesTSV,
            ]
            guard let parsed = OutputFormat(rawValue: key) ?? aliases[key] else {
                throw ValidationError("--format must be one of: \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return parsed
        }
        if output == "-" { return .json }
        guard let inferred = OutputFormat(path: output) else {
            throw ValidationError("cannot tell the format from '\(output)'; use a .json, .csv, .npy, .glb, .obj, .ply or .tsv name, or --format")
        }
        return inferred
    }

    func run() throws {
        try Interrupt.withProgress(quiet: quiet) { try animate(progress: $0) }
    }

    /// The warning for a Live Link Face CSV at `fps`, or nil at a rate the app records (30
    /// or 60 fps). The library logs the same at KMT_LOG_WARNING; the CLI says it itself
    /// rather than installing a process-wide log callback.
    static func liveLinkRateWarning(fps: Double) -> String? {
        guard fps != 30, fps != 60 else { return nil }
        return "warning: Live Link Face CSV at \(String(format: "%g", fps)) fps: the Live Link Face app records at 30 or 60 fps only, so tools reading its CSV may assume one of those (the default here is 60)"
    }

    /// The text of the channel map file at `path`.
    static func readChannelMap(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CLIError("--map \(path): cannot read (\(error.localizedDescription))")
        }
    }

    /// Writes `line` to stderr unless --quiet, erasing `bar` first.
    func note(_ line: String, _ bar: ProgressBar) {
        guard !quiet else { return }
        bar.clear()
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// The command's work: the model, the rig, the animation, the file.
    private func animate(progress bar: ProgressBar) throws {
        let chosen = try chosenFormat()
        if output == "-", chosen.isSequence {
            throw ValidationError("\(chosen.rawValue) writes one file per frame and cannot go to stdout")
        }
        let modelPath = try ModelLocator.resolve(engine.model)
        let start = Date()
        let modelHandle = try ModelHandle(path: modelPath)
        // A vertices-space model's animation carries its own mesh: no rig (the library
        // refuses one for geometry); npy, obj and ply write the model's template + offsets.
        let ownMesh = modelHandle.motionSpace == "vertices"
        if ownMesh, let rig, chosen.needsRig || chosen == .npy {
            throw CLIError("\(modelPath) is a vertices-space model: its animation poses the model's own template, drop --rig \(rig)")
        }
        // A rig only where it is used: geometry formats always, NPY when asked for.
        let rigPath: String? = ownMesh || into != nil ? nil : chosen.needsRig ? try Self.resolveRig(rig) : (chosen == .npy ? rig : nil)
        if let rig, rigPath == nil {
            note("note: --rig \(rig) is ignored by \(chosen.rawValue) output (\(chosen.isCues ? "mouth cues" : "weights only"))", bar)
        }
        if chosen == .liveLinkCSV, let fps, let warning = Self.liveLinkRateWarning(fps: fps) {
            bar.clear()
            FileHandle.standardError.write(Data((warning + "\n").utf8))
        }
        if let extendedShapes, !chosen.isCues {
            note("note: --extended-shapes \(extendedShapes) is ignored by \(chosen.rawValue) output (mouth cues only)", bar)
        }
        let rigHandle = try rigPath.map { try RigHandle(path: $0) }
        // Live Link Face records at 60 fps: its CSV is written at 60 unless --fps says otherwise.
        let session = try SessionHandle(
            model: modelHandle, threads: engine.threads, fps: fps ?? (chosen == .liveLinkCSV ? 60 : nil), progress: bar)
        let input = try AudioInput(audio)
        bar.task = "animate"
        var animation = try input.animate(with: session)
        if let map {
            guard !chosen.isCues else { throw CLIError("--map: mouth cues read the model's own channels; write them without --map") }
            animation = try animation.remapped(channelMap: try Self.readChannelMap(map))
        }
        let animated = Date()
        let destination: String
        bar.task = "export"
        let shapes = chosen.isCues ? extendedShapes : nil
        if output == "-" {
            let bytes = try animation.encoded(rig: rigHandle, format: chosen.exportFormat, extendedShapes: shapes, progress: bar)
            bar.clear()
            FileHandle.standardOutput.write(Data(bytes))
            destination = "stdout"
        } else if let into {
            try animation.save(into: into, to: output)
            destination = output
        } else {
            try animation.save(to: output, rig: rigHandle, format: chosen.exportFormat, extendedShapes: shapes, progress: bar)
            destination = chosen.isSequence ? Self.sequenceSummary(output, frames: animation.frameCount) : output
        }
        bar.clear()
        let finished = Date()
        let seconds = Double(max(animation.frameCount - 1, 0)) / animation.fps
        var message = String(
            format: "%@: %d frames x %d channels at %g fps (%.2f s of audio) in %.3f s",
            input.label, animation.frameCount, animation.channelCount, animation.fps, seconds, animated.timeIntervalSince(start))
        if ownMesh, animation.vertexCount > 0 {
            message += "; the model's template: \(animation.vertexCount) vertices"
        }
        if let rigHandle, let rigPath {
            message += String(
                format: "; rig %@: %d vertices, %d of %d shapes driven", rigPath, rigHandle.vertexCount,
                rigHandle.drivenShapes(by: animation), rigHandle.shapeCount)
        }
        if let into {
            message += "; a speech animation added to a copy of \(into)"
        }
        message += String(format: "; %@ written in %.3f s -> %@", chosen.rawValue, finished.timeIntervalSince(animated), destination)
        note(message, bar)
    }

    /// The shipped head rig's file name.
    static let defaultRigName = "kmtalk-head.rig.safetensors"

    /// The rig for geometry output: `explicit`, else $KMTALK_RIG, else the shipped head in a
    /// `models/` folder beside the executable or above it (the checkout), as for the model.
    static func resolveRig(_ explicit: String?) throws -> String {
        if let explicit { return explicit }
        if let fromEnvironment = ProcessInfo.processInfo.environment["KMTALK_RIG"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var searched: [String] = []
        for _ in 0..<6 {
            for folder in [directory, directory.appendingPathComponent("models")] {
                let path = folder.appendingPathComponent(defaultRigName).path
                if FileManager.default.fileExists(atPath: path) { return path }
                searched.append(folder.path)
            }
            directory = directory.deletingLastPathComponent()
        }
        throw CLIError("no rig found for geometry output: \(defaultRigName) is not in \(searched.prefix(4).joined(separator: ", ")), ...; pass --rig RIG or set KMTALK_RIG")
    }

    /// "dir/face_000001.obj ... dir/face_000120.obj (120 files)" for a sequence pattern.
    static func sequenceSummary(_ pattern: String, frames: Int) -> String {
        let url = URL(fileURLWithPath: pattern)
        let ext = url.pathExtension
        let stem = ext.isEmpty ? pattern : String(pattern.dropLast(ext.count + 1))
        let digits = max(6, String(frames).count)
        func name(_ number: Int) -> String {
            let text = String(number)
            return stem + "_" + String(repeating: "0", count: max(0, digits - text.count)) + text + (ext.isEmpty ? "" : "." + ext)
        }
        return "\(name(1)) ... \(name(frames)) (\(frames) files)"
    }
}
