/* Internal compute kernels of libKMTalk (not part of the public API: nothing here is
 * exported from the shared library, whose version script keeps only kmt_*). */
#ifndef KMTALK_KERNELS_H
#define KMTALK_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/* The most rows kmtalk_sgemm_nt_small is meant for; beyond it OpenBLAS's packed kernels
 * win. */
#define KMTALK_SMALL_GEMM_MAX_ROWS 8

/* Row-major C[m, n] = alpha * A[m, k] * B[n, k]^T + beta * C for a few rows of A
 * (m <= KMTALK_SMALL_GEMM_MAX_ROWS; larger m works, only slower than BLAS). This is the
 * shape of every linear layer (B is the [out, in] weight) and of the attention scores.
 * Unlike sgemm it packs nothing: each row of B is read once per block of four rows of
 * A, which is what streaming's one-to-few-row products need. Uses AVX2 + FMA when the
 * CPU has them (checked at run time), else portable C. beta == 0 ignores C's contents
 * (NaN included), as BLAS does. */
void kmtalk_sgemm_nt_small(int m, int n, int k, float alpha, const float *a, int lda,
                           const float *b, int ldb, float beta, float *c, int ldc);

/* Band attention for a few query rows (the per-head context rows before the output
 * projection), one row and head at a time: query row r (absolute position
 * query_start + r) of q[rows, width] sees key rows j in [query - back, query + ahead]
 * (all of them when banded is 0) clipped to [key_base, key_end), held in k and v
 * [*, width] from absolute row key_base on; the scaled dot products, a softmax with the
 * engine's exp (KMTalkVector's VectorMath.exp) and the weighted sum of the value rows go
 * into context[rows, width]. scores: scratch for the widest visible run rounded up to a
 * multiple of 8 floats. Equal to the blocked GEMM path up to float rounding. */
void kmtalk_attention_rows(int rows, int width, int heads, float scale, const float *q, long query_start,
                           const float *k, const float *v, long key_base, long key_end, int banded,
                           long back, long ahead, float *scores, float *context);

/* Output columns per panel of a packed weight (two AVX2 vectors). */
#define KMTALK_PACKED_PANEL_WIDTH 16

/* Floats a packed copy of an [n, k] weight takes: ceil(n / 16) panels of k x 16, the
 * columns past n zero. 0 when n or k is not positive. */
long kmtalk_packed_weight_count(int n, int k);

/* Packs the row-major weight W[n, k] (row stride ldw; PyTorch's [out, in]) into `packed`
 * (kmtalk_packed_weight_count(n, k) floats): panel p holds W[16p + j][i] at i * 16 + j. */
void kmtalk_pack_weight(int n, int k, const float *w, int ldw, float *packed);

/* Row-major C[m, n] = A[m, k] * W^T + bias (bias may be NULL) with W packed by
 * kmtalk_pack_weight. Each output sums its k products in order, then adds the bias, so a
 * row's result does not depend on m or on the other rows: a product of one row equals the
 * same row inside a product of many, bit for bit. Packs nothing per call (streaming's
 * products of a few to a few hundred rows spent a third of their time in OpenBLAS's
 * packing). */
void kmtalk_sgemm_packed(int m, int n, int k, const float *a, int lda, const float *packed,
                         const float *bias, float *c, int ldc);

/* 1 when kmtalk_sgemm_nt_small runs its AVX2 + FMA kernel on this CPU, else 0. */
int kmtalk_kernels_have_avx2(void);

#ifdef __cplusplus
}
#endif

#endif
