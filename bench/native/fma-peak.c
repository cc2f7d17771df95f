/*
 * What fused multiply-add can gain on this CPU for the GEMM micro-kernel at 128-bit vectors
 * (WebAssembly SIMD128's width), measured natively. The kernel is the SIMD128 build's: a 4×8 tile
 * of C in 8 accumulators; per depth step two 4-float loads of the packed B panel, four broadcasts
 * of the packed A panel, and 8 multiply-adds, over kc = 256 (both panels in L1), repeated:
 *   - mul+add: _mm_mul_ps then _mm_add_ps (the SIMD128 build),
 *   - fma:     _mm_fmadd_ps (what f32x4.relaxed_madd becomes on x86 with FMA3; the FMA build).
 * Native code is the best any engine can emit for these instructions, so fma ÷ mul+add here bounds
 * what the FMA build's GEMM can gain over the SIMD128 build on this CPU. Built and run by
 * bench/native/fma-peak.mjs (gcc -O2 -mfma -ffp-contract=off, so mul+add stays two instructions).
 */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define KC 256
static float A[4 * KC] __attribute__((aligned(16)));
static float B[8 * KC] __attribute__((aligned(16)));
static float C[4 * 8] __attribute__((aligned(16)));

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

#define TILE(MADD)                                                              \
  __m128 c00 = _mm_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00,   \
         c21 = c00, c30 = c00, c31 = c00;                                       \
  for (int p = 0; p < KC; p++) {                                                \
    __m128 b0 = _mm_load_ps(B + 8 * p), b1 = _mm_load_ps(B + 8 * p + 4);        \
    __m128 a0 = _mm_broadcast_ss(A + 4 * p), a1 = _mm_broadcast_ss(A + 4 * p + 1); \
    __m128 a2 = _mm_broadcast_ss(A + 4 * p + 2), a3 = _mm_broadcast_ss(A + 4 * p + 3); \
    c00 = MADD(a0, b0, c00); c01 = MADD(a0, b1, c01);                           \
    c10 = MADD(a1, b0, c10); c11 = MADD(a1, b1, c11);                           \
    c20 = MADD(a2, b0, c20); c21 = MADD(a2, b1, c21);                           \
    c30 = MADD(a3, b0, c30); c31 = MADD(a3, b1, c31);                           \
  }                                                                             \
  _mm_store_ps(C, _mm_add_ps(_mm_load_ps(C), c00)); _mm_store_ps(C + 4, _mm_add_ps(_mm_load_ps(C + 4), c01)); \
  _mm_store_ps(C + 8, _mm_add_ps(_mm_load_ps(C + 8), c10)); _mm_store_ps(C + 12, _mm_add_ps(_mm_load_ps(C + 12), c11)); \
  _mm_store_ps(C + 16, _mm_add_ps(_mm_load_ps(C + 16), c20)); _mm_store_ps(C + 20, _mm_add_ps(_mm_load_ps(C + 20), c21)); \
  _mm_store_ps(C + 24, _mm_add_ps(_mm_load_ps(C + 24), c30)); _mm_store_ps(C + 28, _mm_add_ps(_mm_load_ps(C + 28), c31));

#define MULADD(a, b, c) _mm_add_ps(c, _mm_mul_ps(a, b))
#define FMADD(a, b, c) _mm_fmadd_ps(a, b, c)

__attribute__((noinline)) static void tiles_mul_add(long reps) {
  for (long r = 0; r < reps; r++) { TILE(MULADD) }
}
__attribute__((noinline)) static void tiles_fma(long reps) {
  for (long r = 0; r < reps; r++) { TILE(FMADD) }
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 9;
  long reps = 200000;
  for (int i = 0; i < 4 * KC; i++) A[i] = 1e-3f * (float)(i % 7);
  for (int i = 0; i < 8 * KC; i++) B[i] = 1e-3f * (float)(i % 5);
  tiles_mul_add(reps / 10);
  tiles_fma(reps / 10);
  printf("{\"rounds\":[");
  for (int r = 0; r < rounds; r++) {
    /* alternated, so a change in clock speed hits both alike */
    double t0 = now();
    tiles_mul_add(reps);
    double t1 = now();
    tiles_fma(reps);
    double t2 = now();
    double macs = (double)reps * KC * 32;
    printf("%s{\"mulAdd\":%.3f,\"fma\":%.3f}", r ? "," : "", macs / (t1 - t0) * 1e-9, macs / (t2 - t1) * 1e-9);
  }
  printf("],\"sink\":%g}\n", C[0] + C[31]);
  return 0;
}
