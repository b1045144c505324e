/// The file formats an animation can be exported to (`kmt_export_format`).
enum ExportFormat: String, Sendable, CaseIterable {
    /// `{"fps", "frame_count", "source", "model", "channels", "frames"}` (`JSONExporter`).
    case json
    /// `time,<channel>...` and one row per frame (`CSVExporter`).
    case csv
    /// The iPhone Live Link Face app's CSV: 61 fixed columns (`LiveLinkCSVExporter`).
    case liveLinkCSV = "livelink"
    /// NumPy `.npy`: weights [frames, channels], or vertices [frames, V, 3] with a rig or
    /// for a vertices-space animation (`NPYExporter`).
    case npy
    /// glTF 2.0 binary: the rig's mesh, one morph target per shape and a weights
    /// animation (`GLBExporter`). Needs a rig; refuses vertices-space animations.
    case glb
    /// One Wavefront OBJ per frame (`OBJSequenceExporter`). Needs a rig, unless the
    /// animation is of a vertices-space model.
    case obj
    /// One binary PLY per frame (`PLYSequenceExporter`). Needs a rig, unless the
    /// animation is of a vertices-space model.
    case ply
    /// Rhubarb Lip Sync's TSV of mouth cues for 2D characters (`MouthCuesTSVExporter`).
    case mouthCuesTSV = "cues-tsv"
    /// Rhubarb Lip Sync's JSON of mouth cues (`MouthCuesJSONExporter`); only ever chosen
    /// explicitly (`.json` is the weights).
    case mouthCuesJSON = "cues-json"
    /// The GLB with sparse morph targets: only the vertices each shape moves (`GLBExporter`
    /// with `sparseTargets`); only ever chosen explicitly (`.glb` is the dense GLB).
    case glbSparse = "glb-sparse"
    /// The phones a key-motion model recognized, as timed segments (`PhonesTSVExporter`);
    /// only ever chosen explicitly (`.tsv` is the mouth cues).
    case phonesTSV = "phones"
    /// Rhubarb Lip Sync's XML of mouth cues (`MouthCuesXMLExporter`); only ever chosen
    /// explicitly.
    case mouthCuesXML = "cues-xml"
    /// Mouth cues as a Moho switch-layer DAT at 24 fps, as Rhubarb writes for Moho and
    /// OpenToonz (`MouthCuesDATExporter`); only ever chosen explicitly.
    case mouthCuesDAT = "cues-dat"

    /// The format a file name's extension stands for (case-insensitive): `.json`, `.csv`
    /// (plain CSV; Live Link CSV is only ever chosen explicitly), `.npy`, `.glb`, `.obj`,
    /// `.ply`, `.tsv` (mouth cues; their JSON is only ever chosen explicitly); nil for
    /// anything else.
    init?(path: String) {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        switch name[name.index(after: dot)...].lowercased() {
        case "json": self = .json
        case "csv": self = .csv
        case "npy": self = .npy
        case "glb": self = .glb
        case "obj": self = .obj
        case "ply": self = .ply
        case "tsv": self = .mouthCuesTSV
        default: return nil
        }
    }

    /// Whether the format needs a rig (it writes geometry) for an animation of blendshape
    /// weights. `.npy` writes vertices when given one and weights otherwise. Animations
    /// of vertices-space models carry their own mesh and take no rig.
    var needsRig: Bool {
        switch self {
        case .glb, .glbSparse, .obj, .ply: return true
        case .json, .csv, .liveLinkCSV, .npy, .mouthCuesTSV, .mouthCuesJSON, .mouthCuesXML, .mouthCuesDAT, .phonesTSV:
            return false
        }
    }

    /// Whether the format can write posed vertices: the geometry formats and NPY.
    var writesGeometry: Bool { needsRig || self == .npy }

    /// Whether the format writes one file per frame rather than one file.
    var isSequence: Bool { self == .obj || self == .ply }

    /// The format's name in messages ("GLB", "Live Link Face CSV").
    var displayName: String {
        switch self {
        case .json: return "JSON"
        case .csv: return "CSV"
        case .liveLinkCSV: return "Live Link Face CSV"
        case .npy: return "NPY"
        case .glb: return "GLB"
        case .glbSparse: return "GLB"
        case .phonesTSV: return "phones TSV"
        case .obj: return "OBJ"
        case .ply: return "PLY"
        case .mouthCuesTSV: return "mouth cues TSV"
        case .mouthCuesJSON: return "mouth cues JSON"
        case .mouthCuesXML: return "mouth cues XML"
        case .mouthCuesDAT: return "mouth cues DAT (Moho)"
        }
    }
}
