// Amanuensis bias + exact GELU on a 128-element segment:
//   u = x + b; a = |u| * (1/sqrt 2); t = 1 / (1 + p*a);
//   poly = ((((a5*t + a4)*t + a3)*t + a2)*t + a1)*t;  (Abramowitz & Stegun 7.1.26)
//   y = 1 - poly * exp2(-(a*a) * log2 e);  erf = sign(u) * y;  out = bf16((0.5*u) * (1 + erf)).
// Twin: amanuensis_desktop/backends/npu/emulator.py bias_gelu_rows(). The reciprocal is aie::inv's seed
// refined by two Newton steps t <- t*(2 - den*t): the seed can be a table approximation (~1e-2 relative),
// the refined value is within a few fp32 ulps of 1/den (bounded, not bit-faithful; see kernels/README.md).
#include "amn_math.h"

#define SEG 128
using namespace amn;

extern "C" void amn_bias_gelu_seg(const float *__restrict x, const float *__restrict b, bfloat16 *__restrict y) {
  set_rounding();
  const aie::vector<float, VL> one = aie::broadcast<float, VL>(1.0f);
  const aie::vector<float, VL> two = aie::broadcast<float, VL>(2.0f);
  const aie::vector<float, VL> zero = aie::zeros<float, VL>();
  for (int j = 0; j < SEG; j += VL) {
    aie::vector<float, VL> u = aie::add(aie::load_v<VL>(x + j), aie::load_v<VL>(b + j));
    aie::vector<float, VL> a = aie::mul(aie::abs(u), 0.7071067811865476f).template to_vector<float>();
    aie::vector<float, VL> den = aie::add(aie::mul(a, 0.3275911f).template to_vector<float>(), 1.0f);
    aie::vector<float, VL> t = aie::inv(den);
    for (int it = 0; it < 2; ++it)
      t = aie::mul(t, aie::sub(two, aie::mul(den, t).template to_vector<float>())).template to_vector<float>();
    aie::vector<float, VL> p = aie::add(aie::mul(t, 1.061405429f).template to_vector<float>(), -1.453152027f);
    p = aie::add(aie::mul(p, t).template to_vector<float>(), 1.421413741f);
    p = aie::add(aie::mul(p, t).template to_vector<float>(), -0.284496736f);
    p = aie::add(aie::mul(p, t).template to_vector<float>(), 0.254829592f);
    p = aie::mul(p, t).template to_vector<float>();
    aie::vector<float, VL> sq = aie::mul(a, a).template to_vector<float>();
    aie::vector<float, VL> e = exp2(aie::mul(aie::neg(sq), LOG2E).template to_vector<float>());
    aie::vector<float, VL> yv = aie::sub(one, aie::mul(p, e).template to_vector<float>());
    aie::vector<float, VL> erf = aie::select(yv, aie::neg(yv), aie::lt(u, zero));
    aie::vector<float, VL> half_u = aie::mul(u, 0.5f).template to_vector<float>();
    aie::vector<float, VL> out = aie::mul(half_u, aie::add(one, erf)).template to_vector<float>();
    aie::store_v(y + j, to_bf16(out));
  }
}
