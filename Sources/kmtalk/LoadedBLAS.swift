import CKMTalkHost

/// The BLAS that libKMTalk.so loaded (OpenBLAS), reached by symbol name through the host
/// loader, so `kmtalk bench` measures the very sgemm the library runs on without linking
/// a BLAS of its own.
struct LoadedBLAS: @unchecked Sendable {
    private typealias Sgemm = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32,
        Float, UnsafeMutablePointer<Float>?, Int32
    ) -> Void
    private typealias SetThreads = @convention(c) (Int32) -> Void

    private let sgemm: Sgemm
    private let setThreadCount: SetThreads?

    /// The loaded BLAS, or nil when the library's cblas_sgemm cannot be found.
    static let shared: LoadedBLAS? = {
        guard let symbol = kmtalk_host_symbol("cblas_sgemm") else { return nil }
        let threads = kmtalk_host_symbol("openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) }
        return LoadedBLAS(sgemm: unsafeBitCast(symbol, to: Sgemm.self), setThreadCount: threads)
    }()

    /// OpenBLAS's thread count (no effect with another BLAS).
    func setThreads(_ count: Int) {
        setThreadCount?(Int32(max(1, count)))
    }

    /// C = A B for row-major n x n matrices.
    func multiply(n: Int, a: [Float], b: [Float], c: inout [Float]) {
        let size = Int32(n)
        // CblasRowMajor = 101, CblasNoTrans = 111.
        sgemm(101, 111, 111, size, size, size, 1, a, size, b, size, 0, &c, size)
    }
}
