// Amanuensis bf16 x bf16 -> fp32 GEMM tile kernel for AIE-ML (npu1, aie2) and AIE2P (npu2).
//
//   amn_zero_f32(C)                 C[m x n] = 0
//   amn_matmul_bf16_f32(A, B, C)    C[m x n] += A[m x k] * B[k x n]
//
// Operands arrive in the MAC unit's blocked layout (the memory tile re-lays them, see gemm.py):
// A as (m/r) x (k/s) blocks of r x s, B as (k/s) x (n/t) blocks of s x t, C as (m/r) x (n/t) blocks of
// r x t, each block contiguous and row-major. Numerics (what the emulator models):
//   * products of two bf16 are exact in fp32;
//   * the accumulator is fp32 ("accfloat"), loaded from C, advanced through the k/s MAC steps of this
//     call in increasing K order, stored back to C as fp32 (no output rounding);
//   * successive calls (K-blocks) continue from the stored C, so the tile accumulates K in order.
// Compile with -DDIM_M=64 -DDIM_K=64 -DDIM_N=32 and -DAMN_NPU2 for aie2p (8x8x8 bf16 micro-tile).

#include <aie_api/aie.hpp>
#include <stdint.h>

// Chess spells software-pipelining hints as keywords; Peano (clang) has none (mlir-aie's own kernels guard
// them with #if defined(__chess__)), so the hint expands to nothing here.
#if defined(__chess__)
#define AMN_PIPELINE chess_prepare_for_pipelining
#else
#define AMN_PIPELINE
#endif

#ifndef DIM_M
#define DIM_M 64
#endif
#ifndef DIM_K
#define DIM_K 64
#endif
#ifndef DIM_N
#define DIM_N 32
#endif

#ifdef AMN_NPU2
constexpr unsigned R = 8, S = 8, T = 8;
#else
constexpr unsigned R = 4, S = 8, T = 4;
#endif

using MMUL = aie::mmul<R, S, T, bfloat16, bfloat16, accfloat>;

static_assert(DIM_M % (2 * R) == 0, "m must hold pairs of r-row blocks");
static_assert(DIM_K % S == 0, "k must be a multiple of s");
static_assert(DIM_N % (2 * T) == 0, "n must hold pairs of t-column blocks");

extern "C" {

void amn_zero_f32(float *__restrict c) {
  const aie::vector<float, 16> z = aie::zeros<float, 16>();
  for (unsigned i = 0; i < DIM_M * DIM_N; i += 16)
    aie::store_v(c + i, z);
}

// 2 x 2 register blocking: four accumulators share two A and two B loads per MAC step.
void amn_matmul_bf16_f32(const bfloat16 *__restrict a, const bfloat16 *__restrict b, float *__restrict c) {
  constexpr unsigned MB = DIM_M / R;  // row blocks
  constexpr unsigned KB = DIM_K / S;  // MAC steps
  constexpr unsigned NB = DIM_N / T;  // column blocks
  for (unsigned i = 0; i < MB; i += 2) {
    for (unsigned j = 0; j < NB; j += 2) {
      float *c00 = c + (i * NB + j) * MMUL::size_C;
      float *c01 = c00 + MMUL::size_C;
      float *c10 = c + ((i + 1) * NB + j) * MMUL::size_C;
      float *c11 = c10 + MMUL::size_C;
      MMUL m00(aie::load_v<MMUL::size_C>(c00));
      MMUL m01(aie::load_v<MMUL::size_C>(c01));
      MMUL m10(aie::load_v<MMUL::size_C>(c10));
      MMUL m11(aie::load_v<MMUL::size_C>(c11));
      const bfloat16 *pa0 = a + (i * KB) * MMUL::size_A;
      const bfloat16 *pa1 = a + ((i + 1) * KB) * MMUL::size_A;
      const bfloat16 *pb0 = b + j * MMUL::size_B;
      const bfloat16 *pb1 = b + (j + 1) * MMUL::size_B;
      for (unsigned kk = 0; kk < KB; ++kk)  // increasing K: the order the emulator's fp32 chain follows
        AMN_PIPELINE {
          const aie::vector<bfloat16, MMUL::size_A> a0 = aie::load_v<MMUL::size_A>(pa0);
          const aie::vector<bfloat16, MMUL::size_A> a1 = aie::load_v<MMUL::size_A>(pa1);
          const aie::vector<bfloat16, MMUL::size_B> b0 = aie::load_v<MMUL::size_B>(pb0);
          const aie::vector<bfloat16, MMUL::size_B> b1 = aie::load_v<MMUL::size_B>(pb1);
          pa0 += MMUL::size_A;
          pa1 += MMUL::size_A;
          pb0 += NB * MMUL::size_B;
          pb1 += NB * MMUL::size_B;
          m00.mac(a0, b0);
          m01.mac(a0, b1);
          m10.mac(a1, b0);
          m11.mac(a1, b1);
        }
      aie::store_v(c00, m00.template to_vector<float>());
      aie::store_v(c01, m01.template to_vector<float>());
      aie::store_v(c10, m10.template to_vector<float>());
      aie::store_v(c11, m11.template to_vector<float>());
    }
  }
}

}  // extern "C"
