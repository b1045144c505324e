/* kmtalk_attention_rows: band attention for a few query rows, one row and head at a time.
 * See include/kmtalk_kernels.h. */
#include "kmtalk_kernels.h"

#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KMTALK_HAVE_X86 1
#endif

/* The keys query `query` sees: [*lower, *upper). */
static inline void visible_keys(long query, long key_base, long key_end, int banded, long back, long ahead,
                                long *lower, long *upper) {
    *lower = key_base;
    *upper = key_end;
    if (banded) {
        if (query - back > *lower) *lower = query - back;
        if (query + ahead + 1 < *upper) *upper = query + ahead + 1;
    }
}

/* e^x as the engine's VectorMath.exp computes it (same constants and steps), one lane. */
static inline float exp_lane(float x) {
    if (x != x) return x;
    if (x < -87.3f) return 0.0f;
    if (x > 88.37f) return INFINITY;
    float n = rintf(x * 1.44269504088896341f);
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    return ldexpf(p, (int)n);
}

static void rows_generic(int rows, int width, int heads, float scale, const float *q, long query_start,
                         const float *k, const float *v, long key_base, long key_end, int banded, long back,
                         long ahead, float *scores, float *context) {
    int hw = width / heads;
    for (int r = 0; r < rows; r++) {
        long lower, upper;
        visible_keys(query_start + r, key_base, key_end, banded, back, ahead, &lower, &upper);
        long visible = upper - lower;
        for (int h = 0; h < heads; h++) {
            float *out = context + (long)r * width + h * hw;
            for (int c = 0; c < hw; c++) out[c] = 0.0f;
            if (visible <= 0) continue;
            const float *qr = q + (long)r * width + h * hw;
            float top = -INFINITY;
            for (long j = 0; j < visible; j++) {
                const float *kr = k + (lower - key_base + j) * width + h * hw;
                float dot = 0.0f;
                for (int c = 0; c < hw; c++) dot += qr[c] * kr[c];
                scores[j] = scale * dot;
                if (scores[j] > top) top = scores[j];
            }
            float sum = 0.0f;
            for (long j = 0; j < visible; j++) {
                scores[j] = exp_lane(scores[j] - top);
                sum += scores[j];
            }
            float inverse = 1.0f / sum;
            for (long j = 0; j < visible; j++) {
                float p = scores[j] * inverse;
                const float *vr = v + (lower - key_base + j) * width + h * hw;
                for (int c = 0; c < hw; c++) out[c] += p * vr[c];
            }
        }
    }
}

#ifdef KMTALK_HAVE_X86
__attribute__((target("avx2,fma"))) static inline float sum_lanes(__m256 x) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) static inline float max_lanes(__m256 x) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Eight lanes of VectorMath.exp (for x <= 0, the softmax's case, with -inf giving 0). */
__attribute__((target("avx2,fma"))) static inline __m256 exp_avx2(__m256 x) {
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 clamped = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.37f)), _mm256_set1_ps(-87.3f));
    __m256 shifted = _mm256_add_ps(_mm256_mul_ps(clamped, _mm256_set1_ps(1.44269504088896341f)), magic);
    __m256 n = _mm256_sub_ps(shifted, magic);
    __m256 r = _mm256_sub_ps(clamped, _mm256_mul_ps(n, _mm256_set1_ps(0.693359375f)));
    r = _mm256_sub_ps(r, _mm256_mul_ps(n, _mm256_set1_ps(-2.12194440e-4f)));
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(p, _mm256_mul_ps(r, r)), r), _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x4B400000));
    __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(127)), 23));
    __m256 result = _mm256_mul_ps(p, scale);
    return _mm256_blendv_ps(result, _mm256_setzero_ps(), _mm256_cmp_ps(x, _mm256_set1_ps(-87.3f), _CMP_LT_OQ));
}

/* Heads of 8 to 64 lanes (a multiple of 8). */
__attribute__((target("avx2,fma"))) static void rows_avx2(
    int rows, int width, int heads, float scale, const float *q, long query_start, const float *k,
    const float *v, long key_base, long key_end, int banded, long back, long ahead, float *scores,
    float *context) {
    int hw = width / heads, blocks = hw / 8;
    for (int r = 0; r < rows; r++) {
        long lower, upper;
        visible_keys(query_start + r, key_base, key_end, banded, back, ahead, &lower, &upper);
        long visible = upper - lower;
        for (int h = 0; h < heads; h++) {
            float *out = context + (long)r * width + h * hw;
            if (visible <= 0) {
                for (int c = 0; c < hw; c++) out[c] = 0.0f;
                continue;
            }
            const float *qr = q + (long)r * width + h * hw;
            __m256 query[8];
            for (int b = 0; b < blocks; b++) query[b] = _mm256_loadu_ps(qr + 8 * b);
            for (long j = 0; j < visible; j++) {
                const float *kr = k + (lower - key_base + j) * width + h * hw;
                __m256 acc = _mm256_mul_ps(query[0], _mm256_loadu_ps(kr));
                for (int b = 1; b < blocks; b++) acc = _mm256_fmadd_ps(query[b], _mm256_loadu_ps(kr + 8 * b), acc);
                scores[j] = scale * sum_lanes(acc);
            }
            /* Softmax, padding the last partial block with -inf (e^-inf = 0). */
            long padded = (visible + 7) / 8 * 8;
            for (long j = visible; j < padded; j++) scores[j] = -INFINITY;
            __m256 top8 = _mm256_set1_ps(-INFINITY);
            for (long j = 0; j < padded; j += 8) top8 = _mm256_max_ps(top8, _mm256_loadu_ps(scores + j));
            __m256 top = _mm256_set1_ps(max_lanes(top8));
            __m256 sums = _mm256_setzero_ps();
            for (long j = 0; j < padded; j += 8) {
                __m256 e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(scores + j), top));
                _mm256_storeu_ps(scores + j, e);
                sums = _mm256_add_ps(sums, e);
            }
            float inverse = 1.0f / sum_lanes(sums);
            __m256 acc[8];
            for (int b = 0; b < blocks; b++) acc[b] = _mm256_setzero_ps();
            for (long j = 0; j < visible; j++) {
                __m256 p = _mm256_set1_ps(scores[j] * inverse);
                const float *vr = v + (lower - key_base + j) * width + h * hw;
                for (int b = 0; b < blocks; b++) acc[b] = _mm256_fmadd_ps(p, _mm256_loadu_ps(vr + 8 * b), acc[b]);
            }
            for (int b = 0; b < blocks; b++) _mm256_storeu_ps(out + 8 * b, acc[b]);
        }
    }
}
#endif

void kmtalk_attention_rows(int rows, int width, int heads, float scale, const float *q, long query_start,
                           const float *k, const float *v, long key_base, long key_end, int banded,
                           long back, long ahead, float *scores, float *context) {
    if (rows <= 0 || heads <= 0) return;
#ifdef KMTALK_HAVE_X86
    int hw = width / heads;
    if (kmtalk_kernels_have_avx2() && hw % 8 == 0 && hw <= 64) {
        rows_avx2(rows, width, heads, scale, q, query_start, k, v, key_base, key_end, banded, back, ahead, scores, context);
        return;
    }
#endif
    rows_generic(rows, width, heads, scale, q, query_start, k, v, key_base, key_end, banded, back, ahead, scores, context);
}
