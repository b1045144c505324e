import CKMTalk

/// Runs the body of an exported function: clears the thread's last error, turns a thrown
/// `KMTError` into its status and message, and maps anything else to KMT_ERR_INTERNAL.
/// No Swift error ever crosses the C boundary.
@inline(__always)
func apiCall(_ body: () throws -> Void) -> kmt_status {
    LastError.clear()
    do {
        try body()
        return KMT_OK
    } catch let error as KMTError {
        LastError.set(error.message)
        Log.shared.emit(.debug, "error: \(error.message)")
        return error.status
    } catch {
        LastError.set("internal error: \(error)")
        return KMT_ERR_INTERNAL
    }
}

/// Converts a C string argument, rejecting NULL with a message naming the argument.
func requireString(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String {
    guard let pointer else { throw KMTError.invalidArgument("\(name) is NULL") }
    return String(cString: pointer)
}

/// Rejects a NULL out-parameter.
func requireOut<T>(_ pointer: UnsafeMutablePointer<T>?, _ name: String) throws -> UnsafeMutablePointer<T> {
    guard let pointer else { throw KMTError.invalidArgument("\(name) is NULL") }
    return pointer
}

/// Reads a caller's parameter struct that starts with `size_t struct_size`: fields the
/// caller's (older, smaller) struct lacks keep the values of `defaults`. `pointerFields`
/// are the offsets of the struct's pointer fields: a struct_size that ends inside one
/// would leave half a pointer, and is refused.
func readParams<T>(_ pointer: UnsafePointer<T>?, defaults: T, name: String, pointerFields: [Int] = []) throws -> T {
    guard let pointer else { return defaults }
    // A size_t: a newer caller's larger struct is fine, only the known prefix is read.
    let declared = UnsafeRawPointer(pointer).loadUnaligned(as: UInt.self)
    guard declared >= UInt(MemoryLayout<UInt>.size) else {
        throw KMTError.invalidArgument("\(name).struct_size is \(declared); initialise the struct with its kmt_*_default_params() function")
    }
    let pointerSize = UInt(MemoryLayout<UnsafeRawPointer>.size)
    if let cut = pointerFields.first(where: { declared > UInt($0) && declared < UInt($0) + pointerSize }) {
        throw KMTError.invalidArgument("\(name).struct_size \(declared) ends inside the pointer field at offset \(cut); initialise the struct with its kmt_*_default_params() function")
    }
    var result = defaults
    withUnsafeMutableBytes(of: &result) { destination in
        let count = Int(min(declared, UInt(MemoryLayout<T>.size)))
        destination.baseAddress!.copyMemory(from: UnsafeRawPointer(pointer), byteCount: count)
        destination.storeBytes(of: MemoryLayout<T>.size, toByteOffset: 0, as: Int.self)
    }
    return result
}

/// Boxing of Swift objects into C handles and back.
enum Handle {
    static func retain<T: AnyObject>(_ object: T) -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(object).toOpaque())
    }
    static func borrow<T: AnyObject>(_ handle: OpaquePointer, as type: T.Type) -> T {
        Unmanaged<T>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }
    static func release<T: AnyObject>(_ handle: OpaquePointer?, as type: T.Type) {
        guard let handle else { return }
        Unmanaged<T>.fromOpaque(UnsafeRawPointer(handle)).release()
    }
}
