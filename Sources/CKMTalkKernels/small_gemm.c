/* kmtalk_sgemm_nt_small: C = alpha * A * B^T + beta * C for a few rows of A, without the
 * packing that makes BLAS slow on such shapes. See include/kmtalk_kernels.h. */
#include "kmtalk_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KMTALK_HAVE_X86 1
#endif

/* Stores one result: alpha * dot (+ beta * old), with beta == 0 never reading C. */
static inline void store(float *c, float dot, float alpha, float beta) {
    *c = beta == 0.0f ? alpha * dot : alpha * dot + beta * *c;
}

/* Portable kernel: rows x cols dot products at a time, eight-wide partial sums that a
 * compiler can keep in vector registers. */
static inline __attribute__((always_inline)) void block_generic(
    int rows, int cols, int k, float alpha, const float *a, int lda, const float *b, int ldb,
    float beta, float *c, int ldc) {
    for (int r = 0; r < rows; r++) {
        for (int j = 0; j < cols; j++) {
            const float *x = a + (long)r * lda, *w = b + (long)j * ldb;
            float partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            int i = 0;
            for (; i + 8 <= k; i += 8)
                for (int l = 0; l < 8; l++) partial[l] += x[i + l] * w[i + l];
            float dot = ((partial[0] + partial[4]) + (partial[1] + partial[5])) +
                        ((partial[2] + partial[6]) + (partial[3] + partial[7]));
            for (; i < k; i++) dot += x[i] * w[i];
            store(c + (long)r * ldc + j, dot, alpha, beta);
        }
    }
}

static void sgemm_nt_generic(int m, int n, int k, float alpha, const float *a, int lda,
                             const float *b, int ldb, float beta, float *c, int ldc) {
    block_generic(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

#ifdef KMTALK_HAVE_X86
__attribute__((target("avx2,fma"))) static inline float horizontal_sum(__m256 v) {
    __m128 low = _mm256_castps256_ps128(v), high = _mm256_extractf128_ps(v, 1);
    __m128 s = _mm_add_ps(low, high);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* R rows of A against C columns (rows of B): R x C accumulators of eight lanes, one load
 * of each B row segment shared by the R rows. R and C are constants at every call site,
 * so the loops unroll and the accumulators stay in registers. */
#define KMTALK_BLOCK(R, C)                                                                    \
    __attribute__((target("avx2,fma"))) static void block_##R##x##C(                           \
        int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta,      \
        float *c, int ldc) {                                                                   \
        __m256 acc[R][C];                                                                      \
        for (int r = 0; r < R; r++)                                                            \
            for (int j = 0; j < C; j++) acc[r][j] = _mm256_setzero_ps();                       \
        int i = 0;                                                                             \
        for (; i + 8 <= k; i += 8) {                                                           \
            __m256 w[C];                                                                       \
            for (int j = 0; j < C; j++) w[j] = _mm256_loadu_ps(b + (long)j * ldb + i);          \
            for (int r = 0; r < R; r++) {                                                      \
                __m256 x = _mm256_loadu_ps(a + (long)r * lda + i);                             \
                for (int j = 0; j < C; j++) acc[r][j] = _mm256_fmadd_ps(x, w[j], acc[r][j]);   \
            }                                                                                  \
        }                                                                                      \
        for (int r = 0; r < R; r++)                                                            \
            for (int j = 0; j < C; j++) {                                                      \
                float dot = horizontal_sum(acc[r][j]);                                         \
                for (int t = i; t < k; t++) dot += a[(long)r * lda + t] * b[(long)j * ldb + t]; \
                store(c + (long)r * ldc + j, dot, alpha, beta);                                \
            }                                                                                  \
    }

KMTALK_BLOCK(1, 4)
KMTALK_BLOCK(1, 1)
KMTALK_BLOCK(2, 4)
KMTALK_BLOCK(2, 1)
KMTALK_BLOCK(3, 2)
KMTALK_BLOCK(3, 1)
KMTALK_BLOCK(4, 2)
KMTALK_BLOCK(4, 1)

typedef void (*block_fn)(int, float, const float *, int, const float *, int, float, float *, int);

__attribute__((target("avx2,fma"))) static void sgemm_nt_avx2(
    int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
    float beta, float *c, int ldc) {
    for (int r0 = 0; r0 < m; r0 += 4) {
        int rows = m - r0 < 4 ? m - r0 : 4;
        /* The widest block for these rows and the one-column block for the remainder. */
        block_fn wide, one;
        int width;
        switch (rows) {
        case 1: wide = block_1x4; one = block_1x1; width = 4; break;
        case 2: wide = block_2x4; one = block_2x1; width = 4; break;
        case 3: wide = block_3x2; one = block_3x1; width = 2; break;
        default: wide = block_4x2; one = block_4x1; width = 2; break;
        }
        const float *x = a + (long)r0 * lda;
        float *y = c + (long)r0 * ldc;
        int j = 0;
        for (; j + width <= n; j += width) wide(k, alpha, x, lda, b + (long)j * ldb, ldb, beta, y + j, ldc);
        for (; j < n; j++) one(k, alpha, x, lda, b + (long)j * ldb, ldb, beta, y + j, ldc);
    }
}
#endif

int kmtalk_kernels_have_avx2(void) {
#ifdef KMTALK_HAVE_X86
    /* -1: not asked yet. Racing first calls compute the same answer. */
    static int cached = -1;
    int known = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        __atomic_store_n(&cached, known, __ATOMIC_RELAXED);
    }
    return known;
#else
    return 0;
#endif
}

void kmtalk_sgemm_nt_small(int m, int n, int k, float alpha, const float *a, int lda,
                           const float *b, int ldb, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
#ifdef KMTALK_HAVE_X86
    if (kmtalk_kernels_have_avx2()) {
        sgemm_nt_avx2(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
#endif
    sgemm_nt_generic(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
