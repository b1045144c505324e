import CKMTalk
import Testing

/// What a C API getter (`kmt_status f(object, ..., T *out)`) writes into its out-parameter,
/// called as a C host calls it; records an issue (with kmt_last_error()) when the call does
/// not return KMT_OK.
func got<T>(
    _ initial: T, sourceLocation: SourceLocation = #_sourceLocation, _ getter: (UnsafeMutablePointer<T>?) -> kmt_status
) -> T {
    var value = initial
    let status = getter(&value)
    #expect(status == KMT_OK, "\(String(cString: kmt_last_error()))", sourceLocation: sourceLocation)
    return value
}

/// The string a C API name getter (`kmt_status f(object, ..., const char **out)`) writes;
/// nil (and an issue) when it fails.
func gotString(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ getter: (UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> kmt_status
) -> String? {
    got(nil, sourceLocation: sourceLocation, getter).map { String(cString: $0) }
}
