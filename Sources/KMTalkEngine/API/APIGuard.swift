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

/// The name at `index` of an object's `names`, for the getters that read a name by index
/// (`kmt_model_channel_name`, `kmt_animation_channel_name`, `kmt_rig_shape_name`): an
/// index not below the count is KMT_ERR_INVALID_ARGUMENT ("channel index 60 is not below
/// the channel count 52"). `index` is a size_t arriving as Int: above Int.max it is
/// negative, and reported as the caller passed it.
func indexedCString(_ names: CStringTable, at index: Int, item: String) throws -> UnsafePointer<CChar> {
    guard let pointer = names.pointer(at: index) else {
        throw KMTError.invalidArgument("\(item) index \(UInt(bitPattern: index)) is not below the \(item) count \(names.count)")
    }
    return pointer
}

/// The offset of the pointer field (of `pointerFields`) that a struct_size of `size` bytes
/// would end inside, leaving half a pointer; nil when it ends between fields.
private func pointerFieldSplit(by size: UInt, _ pointerFields: [Int]) -> Int? {
    let pointerSize = UInt(MemoryLayout<UnsafeRawPointer>.size)
    return pointerFields.first { size > UInt($0) && size < UInt($0) + pointerSize }
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
        throw KMTError.invalidArgument("\(name).struct_size is \(declared); initialise the struct with \(name)_init()")
    }
    if let cut = pointerFieldSplit(by: declared, pointerFields) {
        throw KMTError.invalidArgument("\(name).struct_size \(declared) ends inside the pointer field at offset \(cut); initialise the struct with \(name)_init()")
    }
    var result = defaults
    withUnsafeMutableBytes(of: &result) { destination in
        let count = Int(min(declared, UInt(MemoryLayout<T>.size)))
        destination.baseAddress!.copyMemory(from: UnsafeRawPointer(pointer), byteCount: count)
        destination.storeBytes(of: MemoryLayout<T>.size, toByteOffset: 0, as: Int.self)
    }
    return result
}

/// The largest struct_size a `kmt_*_params_init` function accepts: far beyond any
/// parameter struct, small enough that a garbage size is refused rather than written.
let maxParamsStructSize: UInt = 65536

/// Implements the `kmt_*_params_init` functions (`name` is the struct's C name): writes
/// exactly `structSize` bytes at `pointer`, the caller's sizeof(*params): the first bytes
/// of `defaults` (all of them when the caller's struct is at least as large), zeros for
/// the bytes of a newer caller's struct beyond `T` (zero is every field's default), and
/// `structSize` into struct_size. Refuses, writing nothing, NULL, a size below
/// sizeof(size_t) or above `maxParamsStructSize`, and one that ends inside a pointer field
/// (`pointerFields`, as for `readParams`).
func initParams<T>(_ pointer: UnsafeMutablePointer<T>?, structSize: Int, defaults: T, name: String, pointerFields: [Int] = []) throws {
    guard let pointer else { throw KMTError.invalidArgument("\(name)_init: params is NULL") }
    // size_t arrives as Int: sizes above Int.max show up negative.
    let size = UInt(bitPattern: structSize)
    guard size >= UInt(MemoryLayout<UInt>.size), size <= maxParamsStructSize else {
        throw KMTError.invalidArgument("\(name)_init: struct_size \(size) is out of range (\(MemoryLayout<UInt>.size)..\(maxParamsStructSize) bytes); pass sizeof(*params)")
    }
    if let cut = pointerFieldSplit(by: size, pointerFields) {
        throw KMTError.invalidArgument("\(name)_init: struct_size \(size) ends inside the pointer field at offset \(cut); pass sizeof(*params)")
    }
    let destination = UnsafeMutableRawPointer(pointer)
    let known = Int(min(size, UInt(MemoryLayout<T>.size)))
    withUnsafeBytes(of: defaults) { source in
        destination.copyMemory(from: source.baseAddress!, byteCount: known)
    }
    if Int(size) > known {
        (destination + known).initializeMemory(as: UInt8.self, repeating: 0, count: Int(size) - known)
    }
    destination.storeBytes(of: size, toByteOffset: 0, as: UInt.self)
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
