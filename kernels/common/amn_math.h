// Amanuensis fp32 math shared by the row kernels. Every step here has a twin in
// amanuensis_desktop/backends/npu/emulator.py (same constants, same operation order):
//   exp2(y): y < -126 -> 0; n = floor(y); f = y - n (exact); p = Horner(c6..c0, f) in fp32;
//            result = p * 2^n by adding n to the exponent field (exact while the result is normal).
//   bf16 output: round-to-nearest-even: the fp32 vector is loaded into an accfloat accumulator
//                (accum::from_vector) and converted with accum::to_vector<bfloat16> under the rounding mode
//                set to conv_even by set_rounding(). aie::to_vector<T>() is defined on accumulators only;
//                Peano rejects it on an aie::vector<float> ("constraints not satisfied").
// Compile with -ffp-contract=off: a fused multiply-add would round once instead of twice and break the
// bit-for-bit correspondence of the element-wise chains.
#pragma once
#include <aie_api/aie.hpp>
#include <stdint.h>

namespace amn {

constexpr int VL = 16;  // fp32 lanes per vector operation

// ln2^i / i!, i = 0..6, as fp32 (emulator: _EXP2_C)
constexpr float C0 = 1.0f;
constexpr float C1 = 0.6931471805599453f;
constexpr float C2 = 0.2402265069591007f;
constexpr float C3 = 0.05550410866482158f;
constexpr float C4 = 0.009618129107628477f;
constexpr float C5 = 0.0013333558146428443f;
constexpr float C6 = 0.00015403530393381606f;
constexpr float LOG2E = 1.4426950408889634f;

inline void set_rounding() { aie::set_rounding(aie::rounding_mode::conv_even); }

inline aie::vector<bfloat16, VL> to_bf16(aie::vector<float, VL> v) {
  aie::accum<accfloat, VL> acc;
  acc.from_vector(v);
  return acc.template to_vector<bfloat16>();
}

inline aie::vector<float, VL> exp2(aie::vector<float, VL> y) {
  aie::vector<float, VL> out;
  for (int i = 0; i < VL; ++i) {  // lane-wise: floor and exponent insertion have no vector form here
    float v = y[i];
    if (v < -126.0f) {
      out[i] = 0.0f;
      continue;
    }
    float n = (float)(int32_t)v;
    if (n > v) n -= 1.0f;  // floor
    float f = v - n;
    float p = C6 * f + C5;
    p = p * f + C4;
    p = p * f + C3;
    p = p * f + C2;
    p = p * f + C1;
    p = p * f + C0;
    union { float fl; int32_t in; } u;
    u.fl = p;
    u.in += ((int32_t)n) << 23;
    out[i] = u.fl;
  }
  return out;
}

}  // namespace amn
