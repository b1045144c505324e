/// Hands out the tensors an architecture needs, checking that each exists with the
/// expected shape, and that the file holds nothing the architecture does not use.
struct WeightStore {
    private let file: SafeTensorsFile
    private let source: String
    private let architecture: String
    private var used = Set<String>()

    init(file: SafeTensorsFile, source: String, architecture: String) {
        self.file = file
        self.source = source
        self.architecture = architecture
    }

    /// The tensor `name`, which must have exactly `shape`.
    mutating func require(_ name: String, shape: [Int]) throws -> Tensor {
        guard let tensor = file.tensors[name] else {
            if let dtype = file.storedTypes[name] {
                throw KMTError.corruptModel("\(source): tensor '\(name)' is \(dtype.rawValue), architecture '\(architecture)' expects floating point")
            }
            throw KMTError.corruptModel("\(source): missing tensor '\(name)' required by architecture '\(architecture)'")
        }
        guard tensor.shape == shape else {
            throw KMTError.corruptModel("\(source): tensor '\(name)' has shape \(tensor.shape), architecture '\(architecture)' expects \(shape)")
        }
        for value in tensor.data where !value.isFinite {
            throw KMTError.corruptModel("\(source): tensor '\(name)' contains a non-finite value")
        }
        used.insert(name)
        return tensor
    }

    /// The tensor `name`, which must be stored as F32 (data, not weights: no rounding
    /// allowed) with exactly `shape` and finite values; `why` explains in the error for
    /// a missing tensor what needs it.
    mutating func requireFloat32(_ name: String, shape: [Int], why: String) throws -> Tensor {
        guard let dtype = file.storedTypes[name] else {
            throw KMTError.corruptModel("\(source): missing tensor '\(name)' \(shape): \(why)")
        }
        guard dtype == .f32 else {
            throw KMTError.corruptModel("\(source): tensor '\(name)' is \(dtype.rawValue), expected F32")
        }
        return try require(name, shape: shape)
    }

    /// The integer tensor `name` stored as `dtype`, or nil when the file has no such
    /// tensor. Errors: KMT_ERR_CORRUPT_MODEL for another dtype.
    mutating func optionalIntegers(_ name: String, dtype: SafeTensorsDType) throws -> IntegerTensor? {
        guard let stored = file.storedTypes[name] else { return nil }
        guard stored == dtype, let tensor = file.integerTensors[name] else {
            throw KMTError.corruptModel("\(source): tensor '\(name)' is \(stored.rawValue), expected \(dtype.rawValue)")
        }
        used.insert(name)
        return tensor
    }

    /// Throws when the file holds tensors the architecture never asked for (a sign of a
    /// mismatched export) or data bytes that belong to no tensor (a damaged file).
    func checkAllUsed() throws {
        guard file.unclaimedDataBytes == 0 else {
            throw KMTError.corruptModel("\(source): \(file.unclaimedDataBytes) bytes of the data section belong to no tensor (size inconsistent with the header)")
        }
        let unused = file.names.filter { !used.contains($0) }
        guard unused.isEmpty else {
            let list = unused.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            throw KMTError.corruptModel("\(source): \(unused.count) tensor(s) not used by architecture '\(architecture)': \(list)")
        }
    }
}
