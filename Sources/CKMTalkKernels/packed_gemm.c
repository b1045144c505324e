/* kmtalk_pack_weight / kmtalk_sgemm_packed: y = x W^T + bias against a weight packed once
 * into column panels, so no product packs anything at call time. See
 * include/kmtalk_kernels.h. */
#include "kmtalk_kernels.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KMTALK_HAVE_X86 1
#endif

#define PANEL KMTALK_PACKED_PANEL_WIDTH /* output columns per panel */
#define ROWS 6                          /* rows of x per register block */

long kmtalk_packed_weight_count(int n, int k) {
    if (n <= 0 || k <= 0) return 0;
    long panels = ((long)n + PANEL - 1) / PANEL;
    return panels * (long)k * PANEL;
}

void kmtalk_pack_weight(int n, int k, const float *w, int ldw, float *packed) {
    long panels = ((long)n + PANEL - 1) / PANEL;
    for (long p = 0; p < panels; p++) {
        float *panel = packed + p * (long)k * PANEL;
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < PANEL; j++) {
                long column = p * PANEL + j;
                panel[(long)i * PANEL + j] = column < n ? w[column * ldw + i] : 0.0f;
            }
        }
    }
}

/* Stores `rows` x `cols` results from a PANEL-wide block, adding the bias. */
static inline void store_block(int rows, int cols, const float *block, const float *bias, float *c, int ldc) {
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++) c[(long)r * ldc + j] = block[r * PANEL + j] + (bias ? bias[j] : 0.0f);
}

/* Portable kernel: the same order of sums as the SIMD one (each output sums its k terms
 * first to last, then adds the bias), so both give the same numbers up to FMA rounding. */
static void packed_generic(int m, int n, int k, const float *a, int lda, const float *packed,
                           const float *bias, float *c, int ldc) {
    long panels = ((long)n + PANEL - 1) / PANEL;
    float block[ROWS * PANEL];
    for (long p = 0; p < panels; p++) {
        const float *panel = packed + p * (long)k * PANEL;
        int cols = n - (int)(p * PANEL) < PANEL ? n - (int)(p * PANEL) : PANEL;
        for (int r0 = 0; r0 < m; r0 += ROWS) {
            int rows = m - r0 < ROWS ? m - r0 : ROWS;
            memset(block, 0, sizeof block);
            for (int i = 0; i < k; i++) {
                const float *w = panel + (long)i * PANEL;
                for (int r = 0; r < rows; r++) {
                    float x = a[(long)(r0 + r) * lda + i];
                    for (int j = 0; j < PANEL; j++) block[r * PANEL + j] += x * w[j];
                }
            }
            store_block(rows, cols, block, bias ? bias + p * PANEL : NULL, c + (long)r0 * ldc + p * PANEL, ldc);
        }
    }
}

#ifdef KMTALK_HAVE_X86
/* R rows against P consecutive 16-wide panels: R x 2P accumulators of eight lanes; per k
 * 2P panel loads shared by the R rows and one broadcast per row. Every output still sums
 * its k products first to last in one accumulator, so the blocking changes no result. R
 * and P are constants at every call site, so the loops unroll and the accumulators stay
 * in registers (6 x 1: 12 + 2 + 1 of the 16 vector registers). Few rows take several
 * panels at once: one row against one panel would wait on two FMA chains (about 4 cycles
 * each per k); against four panels eight chains run in parallel. `cols`: the valid columns
 * of the last of the P panels (16 unless it is the weight's last, partial panel). */
#define KMTALK_PACKED_BLOCK(R, P)                                                              \
    __attribute__((target("avx2,fma"))) static void packed_block_##R##x##P(                    \
        int k, const float *a, int lda, const float *panel, long panel_stride, const float *bias, \
        int cols, float *c, int ldc) {                                                          \
        __m256 acc[R][2 * P];                                                                   \
        for (int r = 0; r < R; r++)                                                             \
            for (int j = 0; j < 2 * P; j++) acc[r][j] = _mm256_setzero_ps();                    \
        for (int i = 0; i < k; i++) {                                                           \
            __m256 w[2 * P];                                                                    \
            for (int q = 0; q < P; q++) {                                                       \
                w[2 * q] = _mm256_loadu_ps(panel + q * panel_stride + (long)i * PANEL);         \
                w[2 * q + 1] = _mm256_loadu_ps(panel + q * panel_stride + (long)i * PANEL + 8); \
            }                                                                                   \
            for (int r = 0; r < R; r++) {                                                       \
                __m256 x = _mm256_broadcast_ss(a + (long)r * lda + i);                          \
                for (int j = 0; j < 2 * P; j++) acc[r][j] = _mm256_fmadd_ps(x, w[j], acc[r][j]); \
            }                                                                                   \
        }                                                                                       \
        for (int q = 0; q < P; q++) {                                                           \
            const float *b = bias ? bias + q * PANEL : NULL;                                    \
            float *out = c + q * PANEL;                                                         \
            if (q < P - 1 || cols == PANEL) {                                                   \
                __m256 b0 = b ? _mm256_loadu_ps(b) : _mm256_setzero_ps();                       \
                __m256 b1 = b ? _mm256_loadu_ps(b + 8) : _mm256_setzero_ps();                   \
                for (int r = 0; r < R; r++) {                                                   \
                    _mm256_storeu_ps(out + (long)r * ldc, _mm256_add_ps(acc[r][2 * q], b0));    \
                    _mm256_storeu_ps(out + (long)r * ldc + 8, _mm256_add_ps(acc[r][2 * q + 1], b1)); \
                }                                                                               \
            } else {                                                                            \
                float block[R * PANEL];                                                         \
                for (int r = 0; r < R; r++) {                                                   \
                    _mm256_storeu_ps(block + r * PANEL, acc[r][2 * q]);                         \
                    _mm256_storeu_ps(block + r * PANEL + 8, acc[r][2 * q + 1]);                 \
                }                                                                               \
                store_block(R, cols, block, b, out, ldc);                                       \
            }                                                                                   \
        }                                                                                       \
    }

KMTALK_PACKED_BLOCK(1, 1)
KMTALK_PACKED_BLOCK(2, 1)
KMTALK_PACKED_BLOCK(3, 1)
KMTALK_PACKED_BLOCK(4, 1)
KMTALK_PACKED_BLOCK(5, 1)
KMTALK_PACKED_BLOCK(6, 1)
KMTALK_PACKED_BLOCK(1, 4)
KMTALK_PACKED_BLOCK(2, 2)
KMTALK_PACKED_BLOCK(3, 2)

typedef void (*packed_block_fn)(int, const float *, int, const float *, long, const float *, int, float *, int);

/* Rows per chunk: a chunk of x (120 x k floats, 60-120 KB at k = 128-256) stays in L2
 * while every panel passes over it. */
#define ROW_CHUNK 120

/* `rows` (< ROWS or == ROWS) rows against every panel, the widest panel group first. */
__attribute__((target("avx2,fma"))) static void packed_rows(int rows, int n, int k, const float *a, int lda,
                                                            const float *packed, const float *bias,
                                                            float *c, int ldc) {
    static const packed_block_fn one[ROWS + 1] = {
        NULL, packed_block_1x1, packed_block_2x1, packed_block_3x1, packed_block_4x1, packed_block_5x1,
        packed_block_6x1};
    static const packed_block_fn wide[ROWS + 1] = {
        NULL, packed_block_1x4, packed_block_2x2, packed_block_3x2, packed_block_4x1, packed_block_5x1,
        packed_block_6x1};
    static const int group[ROWS + 1] = {0, 4, 2, 2, 1, 1, 1};
    long panels = ((long)n + PANEL - 1) / PANEL, stride = (long)k * PANEL;
    int last_cols = n - (int)((panels - 1) * PANEL);
    long p = 0;
    for (; p + group[rows] <= panels; p += group[rows]) {
        int cols = p + group[rows] == panels ? last_cols : PANEL;
        wide[rows](k, a, lda, packed + p * stride, stride, bias ? bias + p * PANEL : NULL, cols, c + p * PANEL, ldc);
    }
    for (; p < panels; p++)
        one[rows](k, a, lda, packed + p * stride, stride, bias ? bias + p * PANEL : NULL,
                  p + 1 == panels ? last_cols : PANEL, c + p * PANEL, ldc);
}

__attribute__((target("avx2,fma"))) static void packed_avx2(int m, int n, int k, const float *a, int lda,
                                                            const float *packed, const float *bias,
                                                            float *c, int ldc) {
    long panels = ((long)n + PANEL - 1) / PANEL, stride = (long)k * PANEL;
    int last_cols = n - (int)((panels - 1) * PANEL);
    for (int chunk = 0; chunk < m; chunk += ROW_CHUNK) {
        int chunk_end = m - chunk < ROW_CHUNK ? m : chunk + ROW_CHUNK;
        int full_end = chunk + (chunk_end - chunk) / ROWS * ROWS;
        /* Panel-outer inside the chunk: one panel (k x 16 floats, 8-16 KB) stays in L1
         * while the chunk's row blocks stream past it. */
        for (long p = 0; p < panels; p++) {
            int cols = p + 1 == panels ? last_cols : PANEL;
            for (int r0 = chunk; r0 < full_end; r0 += ROWS)
                packed_block_6x1(k, a + (long)r0 * lda, lda, packed + p * stride, stride,
                                 bias ? bias + p * PANEL : NULL, cols, c + (long)r0 * ldc + p * PANEL, ldc);
        }
        if (full_end < chunk_end)
            packed_rows(chunk_end - full_end, n, k, a + (long)full_end * lda, lda, packed, bias,
                        c + (long)full_end * ldc, ldc);
    }
}
#endif

void kmtalk_sgemm_packed(int m, int n, int k, const float *a, int lda, const float *packed,
                         const float *bias, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        for (int r = 0; r < m; r++)
            for (int j = 0; j < n; j++) c[(long)r * ldc + j] = bias ? bias[j] : 0.0f;
        return;
    }
#ifdef KMTALK_HAVE_X86
    if (kmtalk_kernels_have_avx2()) {
        packed_avx2(m, n, k, a, lda, packed, bias, c, ldc);
        return;
    }
#endif
    packed_generic(m, n, k, a, lda, packed, bias, c, ldc);
}
