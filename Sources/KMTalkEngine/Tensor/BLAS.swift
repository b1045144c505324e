import CKMTalkKernels
import COpenBLAS

/// Thin wrappers over the OpenBLAS calls the engine uses.
enum BLAS {
    /// Sets OpenBLAS's process-wide thread count; `count <= 1` means one thread (the caller's),
    /// which keeps results bit-identical whatever other sessions run: OpenBLAS's threaded
    /// products round differently from its single-threaded ones.
    static func setThreads(_ count: Int) {
        let cores = Int(openblas_get_num_procs())
        let wanted = count <= 1 ? 1 : min(count, max(cores, 1) * 4)
        if Int(openblas_get_num_threads()) != wanted {
            openblas_set_num_threads(Int32(wanted))
        }
    }

    /// OpenBLAS's current thread count.
    static var threads: Int { Int(openblas_get_num_threads()) }

    /// Up to this many rows, `A B^T` (every linear layer, attention scores) goes to
    /// `kmtalk_sgemm_nt_small`, which packs nothing: streaming's one-to-few-row products
    /// spent most of their time in OpenBLAS packing the weights (`kmtalk bench --stream`).
    static let smallRows = 8

    /// Row-major `C[m, n] = alpha * op(A) * op(B) + beta * C`, where op transposes when asked.
    /// `lda`, `ldb`, `ldc` are the row strides of the stored matrices. Products of at most
    /// `smallRows` rows against a transposed B use the project's small-row kernel.
    @inline(__always)
    static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if m <= smallRows && transposeB && !transposeA {
            kmtalk_sgemm_nt_small(
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
            return
        }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
