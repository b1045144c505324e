/*
 * Streams a 16-bit PCM WAV file through a KMTalk session in 10 ms chunks at
 * real time, as a live microphone would, and prints each chunk's compute time.
 *
 *     stream MODEL WAV [--latency MS | --exact] [--fast]
 *
 * The default latency is 150 ms; --exact streams at the model's full
 * look-ahead (kmt_session_exact_latency_ms), where the frames equal
 * kmt_animate_pcm's.
 * --fast skips the real-time pacing (same output, no waiting).
 * Build: cc -std=c99 -O2 stream.c -I../../include -L../../.build/debug -lKMTalk
 *        -Wl,-rpath,../../.build/debug -o stream
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kmtalk.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint32_t u32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* Reads a canonical PCM16 WAV into *pcm (interleaved); returns frames or 0. */
static size_t read_wav(const char *path, int16_t **pcm, int *rate, int *channels) {
    FILE *f = fopen(path, "rb");
    unsigned char h[12], c[8], fmt[16];
    size_t frames = 0;
    int have_fmt = 0;
    if (!f) return 0;
    if (fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) || memcmp(h + 8, "WAVE", 4)) goto done;
    while (fread(c, 1, 8, f) == 8) {
        uint32_t size = u32(c + 4);
        if (!memcmp(c, "fmt ", 4) && size >= 16) {
            if (fread(fmt, 1, 16, f) != 16) goto done;
            if (fmt[0] != 1 || fmt[14] != 16) goto done; /* PCM, 16-bit */
            *channels = fmt[2] | fmt[3] << 8;
            *rate = (int)u32(fmt + 4);
            have_fmt = 1;
            fseek(f, (long)(size - 16 + (size & 1)), SEEK_CUR);
        } else if (!memcmp(c, "data", 4) && have_fmt) {
            size_t count = size / 2;
            *pcm = malloc(count * sizeof **pcm);
            if (!*pcm) goto done;
            count = fread(*pcm, 2, count, f);
            frames = count / (size_t)*channels;
            goto done;
        } else {
            fseek(f, (long)(size + (size & 1)), SEEK_CUR);
        }
    }
done:
    fclose(f);
    return frames;
}

int main(int argc, char **argv) {
    const char *model_path = NULL, *wav_path = NULL;
    double latency = 0;
    int fast = 0, exact = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fast")) fast = 1;
        else if (!strcmp(argv[i], "--exact")) exact = 1;
        else if (!strcmp(argv[i], "--latency") && i + 1 < argc) latency = atof(argv[++i]);
        else if (!model_path) model_path = argv[i];
        else if (!wav_path) wav_path = argv[i];
    }
    if (!model_path || !wav_path) {
        fprintf(stderr, "usage: %s MODEL WAV [--latency MS | --exact] [--fast]\n", argv[0]);
        return 2;
    }
    int16_t *pcm = NULL;
    int rate = 0, channels = 0;
    size_t frames = read_wav(wav_path, &pcm, &rate, &channels);
    if (!frames) {
        fprintf(stderr, "%s: not a readable 16-bit PCM WAV file\n", wav_path);
        free(pcm);
        return 1;
    }
    kmt_model *model = NULL;
    kmt_session *session = NULL;
    size_t width = 0; /* floats per frame: the model's channels */
    double exact_ms = 0, latency_ms = 0, fps = 0;
    if (kmt_model_load_file(model_path, NULL, &model) != KMT_OK ||
        kmt_session_create(model, NULL, &session) != KMT_OK ||
        kmt_model_channel_count(model, &width) != KMT_OK ||
        kmt_session_exact_latency_ms(session, &exact_ms) != KMT_OK ||
        (exact && kmt_session_set_latency_ms(session, exact_ms) != KMT_OK) ||
        (latency > 0 && kmt_session_set_latency_ms(session, latency) != KMT_OK) ||
        kmt_session_latency_ms(session, &latency_ms) != KMT_OK ||
        kmt_session_output_fps(session, &fps) != KMT_OK) {
        fprintf(stderr, "%s\n", kmt_last_error());
        kmt_session_free(session);
        kmt_model_free(model);
        free(pcm);
        return 1;
    }
    size_t capacity = 256 * width;
    float *out = malloc(capacity * sizeof *out);
    size_t step = (size_t)rate / 100, chunks = (frames + step - 1) / step, total = 0, n = 0;
    double *times = malloc(chunks * sizeof *times), start = now_ms(), first = 0;
    int status = 0;
    printf("latency %.0f ms (exact from %.0f ms), %g fps, %d Hz x %d\n", latency_ms, exact_ms, fps, rate,
           channels);
    for (size_t i = 0; i < chunks && out && times; i++) {
        if (!fast) { /* pace the pushes like a live source */
            double wait = start + (double)i * 10 - now_ms();
            if (wait > 0) {
                struct timespec ts = {(time_t)(wait / 1000), (long)(wait * 1e6) % 1000000000L};
                nanosleep(&ts, NULL);
            }
        }
        size_t count = frames - i * step < step ? frames - i * step : step;
        double began = now_ms();
        if (kmt_session_push_s16(session, pcm + i * step * (size_t)channels, count, rate, channels) != KMT_OK ||
            kmt_session_pull(session, out, capacity, &n, &first) != KMT_OK) {
            fprintf(stderr, "%s\n", kmt_last_error());
            status = 1;
            break;
        }
        times[i] = now_ms() - began;
        total += n;
        if (n) printf("chunk %4zu: %6.3f ms, %zu frame(s) from %6.3f s\n", i, times[i], n, first);
    }
    if (!status && out && times && kmt_session_flush(session) == KMT_OK) {
        do {
            if (kmt_session_pull(session, out, capacity, &n, &first) != KMT_OK) break;
            total += n;
        } while (n);
        qsort(times, chunks, sizeof *times, compare);
        printf("%zu frames in all; compute per chunk: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", total,
               times[chunks / 2], times[(size_t)((double)(chunks - 1) * 0.99)], times[chunks - 1]);
    }
    free(times);
    free(out);
    free(pcm);
    kmt_session_free(session);
    kmt_model_free(model);
    return status;
}
