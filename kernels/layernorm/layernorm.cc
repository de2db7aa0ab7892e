// Amanuensis LayerNorm row: mean = sum(x)/D; xc = x - mean; var = sum(xc*xc)/D;
// rstd = 1/sqrt(var + 1e-5) (scalar IEEE, once per row); y = bf16(((xc * rstd) * gamma) + beta).
// Twin: amanuensis_desktop/backends/npu/emulator.py layernorm_rows(). Compile with -DROW_LEN=384.
#include "amn_math.h"
#include <math.h>

#ifndef ROW_LEN
#define ROW_LEN 384
#endif
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

using namespace amn;
static_assert(ROW_LEN % VL == 0, "row length must be a multiple of the vector length");

extern "C" void CAT(amn_layernorm_row_, ROW_LEN)(const float *__restrict x, const float *__restrict gb,
                                                 bfloat16 *__restrict y) {
  set_rounding();
  const float *gamma = gb;
  const float *beta = gb + ROW_LEN;
  aie::vector<float, VL> acc = aie::zeros<float, VL>();
  for (int j = 0; j < ROW_LEN; j += VL)
    acc = aie::add(acc, aie::load_v<VL>(x + j));
  const float mean = aie::reduce_add(acc) / (float)ROW_LEN;
  acc = aie::zeros<float, VL>();
  for (int j = 0; j < ROW_LEN; j += VL) {
    aie::vector<float, VL> xc = aie::sub(aie::load_v<VL>(x + j), mean);
    acc = aie::add(acc, aie::mul(xc, xc).template to_vector<float>());
  }
  const float var = aie::reduce_add(acc) / (float)ROW_LEN;
  const float rstd = 1.0f / sqrtf(var + 1e-5f);
  for (int j = 0; j < ROW_LEN; j += VL) {
    aie::vector<float, VL> xc = aie::sub(aie::load_v<VL>(x + j), mean);
    aie::vector<float, VL> v = aie::mul(xc, rstd).template to_vector<float>();
    v = aie::mul(v, aie::load_v<VL>(gamma + j)).template to_vector<float>();
    v = aie::add(v, aie::load_v<VL>(beta + j));
    aie::store_v(y + j, to_bf16(v));
  }
}
