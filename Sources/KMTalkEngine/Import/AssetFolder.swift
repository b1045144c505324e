import Glibc

/// The folder an imported asset lives in, and the only place its external references
/// (glTF buffer URIs, the OBJs of an OBJ folder) may lead: absolute paths, `..` steps and
/// symbolic links that leave the folder are refused, so a crafted asset cannot read, say,
/// `/etc/passwd` into a rig. `allowOutside` lifts the rule for trusted assets that share
/// files across folders.
struct AssetFolder: Sendable {
    /// The folder as given.
    let path: String
    /// Whether references may leave the folder.
    let allowOutside: Bool

    /// The file `reference` (relative to the folder) names, checked to stay inside it.
    /// `source` and `what` name the asset and the reference in errors.
    func resolve(_ reference: String, source: String, what: String) throws -> String {
        guard !reference.utf8.contains(0) else {
            throw KMTError.corruptRig("\(source): \(what) holds a NUL byte")
        }
        let candidate = reference.hasPrefix("/") ? reference : path + "/" + reference
        if allowOutside { return candidate }
        let refusal = "\(source): \(what) refers to \(reference), outside the asset's folder; only files beside the asset are read"
            + " (allow references outside the folder to read it: `--allow-outside-files` in the CLI)"
        guard !reference.hasPrefix("/"), !reference.split(separator: "/").contains("..") else {
            throw KMTError(.invalidArgument, refusal)
        }
        // Symbolic links: the real path must stay under the folder's real path.
        guard let folder = Self.realPath(path) else {
            throw KMTError(.io, "\(path): \(String(cString: strerror(errno)))")
        }
        guard let target = Self.realPath(candidate) else {
            throw KMTError(.io, "\(candidate) (\(what) of \(source)): \(String(cString: strerror(errno)))")
        }
        guard target.hasPrefix(folder == "/" ? "/" : folder + "/") else {
            throw KMTError(.invalidArgument, refusal + " (a symbolic link leads to \(target))")
        }
        return candidate
    }

    /// `realpath(3)` of `path`, or nil (errno set).
    static func realPath(_ path: String) -> String? { DirectoryListing.realPath(path) }
}
