import CKMTalk

/// The formats `kmtalk animate` writes, as a host of the C API sees them: the `--format`
/// names, the C enum value for `kmt_animation_save`, the extension rule and what each
/// needs (include/kmtalk.h documents the formats themselves).
enum OutputFormat: String, CaseIterable {
    case json
    case csv
    case liveLinkCSV = "livelink"
    case npy
    case glb
    case obj
    case ply
    case mouthCuesTSV = "cues-tsv"
    case mouthCuesJSON = "cues-json"
    case glbSparse = "glb-sparse"
    case phonesTSV = "phones"
    case mouthCuesXML = "cues-xml"
    case mouthCuesDAT = "cues-dat"

    /// The library's C name for the format.
    var exportFormat: kmt_export_format {
        switch self {
        case .json: return KMT_EXPORT_JSON
        case .csv: return KMT_EXPORT_CSV
        case .liveLinkCSV: return KMT_EXPORT_LIVE_LINK_CSV
        case .npy: return KMT_EXPORT_NPY
        case .glb: return KMT_EXPORT_GLB
        case .obj: return KMT_EXPORT_OBJ
        case .ply: return KMT_EXPORT_PLY
        case .mouthCuesTSV: return KMT_EXPORT_MOUTH_CUES_TSV
        case .mouthCuesJSON: return KMT_EXPORT_MOUTH_CUES_JSON
        case .glbSparse: return KMT_EXPORT_GLB_SPARSE
        case .phonesTSV: return KMT_EXPORT_PHONES_TSV
        case .mouthCuesXML: return KMT_EXPORT_MOUTH_CUES_XML
        case .mouthCuesDAT: return KMT_EXPORT_MOUTH_CUES_DAT
        }
    }

    /// The format a file name's extension stands for, as KMT_EXPORT_AUTO decides it:
    /// .json .csv .npy .glb .obj .ply .tsv (mouth cues); nil for anything else.
    init?(path: String) {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        let byExtension: [String: OutputFormat] = [
            "json": .json, "csv": .csv, "npy": .npy, "glb": .glb, "obj": .obj, "ply": .ply, "tsv": .mouthCuesTSV,
        ]
        guard let format = byExtension[name[name.index(after: dot)...].lowercased()] else { return nil }
        self = format
    }

    /// Whether the format writes geometry and so needs a rig for a weights animation.
    var needsRig: Bool { [.glb, .glbSparse, .obj, .ply].contains(self) }

    /// Whether the format writes one file per frame.
    var isSequence: Bool { self == .obj || self == .ply }

    /// Whether the format writes mouth cues rather than the animation itself.
    var isCues: Bool { [.mouthCuesTSV, .mouthCuesJSON, .mouthCuesXML, .mouthCuesDAT].contains(self) }
}
