// Amanuensis row softmax: y[j] = bf16( e[j] * (1 / sum(e)) ), e[j] = exp2((x[j] - max) * log2(e)) for
// j < valid, y[j] = 0 for j >= valid. fp32 throughout, bf16 round-to-nearest-even at the end.
// Twin: amanuensis_desktop/backends/npu/emulator.py softmax_rows().
// Compile with -DROW_LEN=1536.
#include "amn_math.h"

#ifndef ROW_LEN
#define ROW_LEN 1536
#endif
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

using namespace amn;

static inline aie::vector<int32, VL> lane_index() {
  aie::vector<int32, VL> idx;
  for (int i = 0; i < VL; ++i) idx[i] = i;
  return idx;
}

static inline aie::mask<VL> lanes_below(const aie::vector<int32, VL> &lanes, int base, int valid) {
  return aie::lt(aie::add(aie::broadcast<int32, VL>(base), lanes), aie::broadcast<int32, VL>(valid));
}

extern "C" void CAT(amn_softmax_row_, ROW_LEN)(const float *__restrict x, bfloat16 *__restrict y, int32_t valid) {
  set_rounding();
  const aie::vector<int32, VL> lanes = lane_index();
  const aie::vector<float, VL> neg = aie::broadcast<float, VL>(-3.0e38f);
  const aie::vector<float, VL> zero = aie::zeros<float, VL>();
  // pass 1: row maximum over the valid columns
  aie::vector<float, VL> vmax = neg;
  for (int j = 0; j < ROW_LEN; j += VL) {
    aie::vector<float, VL> v = aie::select(neg, aie::load_v<VL>(x + j), lanes_below(lanes, j, valid));
    vmax = aie::max(vmax, v);
  }
  const float mx = aie::reduce_max(vmax);
  // pass 2: sum of the exponentials (masked lanes contribute 0)
  aie::vector<float, VL> vsum = zero;
  for (int j = 0; j < ROW_LEN; j += VL) {
    aie::vector<float, VL> d = aie::sub(aie::load_v<VL>(x + j), mx);
    aie::vector<float, VL> e = exp2(aie::mul(d, LOG2E).template to_vector<float>());
    vsum = aie::add(vsum, aie::select(zero, e, lanes_below(lanes, j, valid)));
  }
  const float inv = 1.0f / aie::reduce_add(vsum);  // scalar IEEE division, once per row
  // pass 3: normalise (the exponentials are recomputed: same inputs, same bits as pass 2)
  for (int j = 0; j < ROW_LEN; j += VL) {
    aie::vector<float, VL> d = aie::sub(aie::load_v<VL>(x + j), mx);
    aie::vector<float, VL> e = exp2(aie::mul(d, LOG2E).template to_vector<float>());
    aie::vector<float, VL> p = aie::select(zero, aie::mul(e, inv).template to_vector<float>(), lanes_below(lanes, j, valid));
    aie::store_v(y + j, to_bf16(p));
  }
}
