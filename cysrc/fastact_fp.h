/* C versions of the floating-point building blocks that the numba backend also replaces
   (fastact/_numba_backend.py): the same operations, so both backends give the same bits. */
#ifndef FASTACT_FP_H
#define FASTACT_FP_H
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Forced inline: the generated module is large enough that gcc's unit-growth limits stop it
   inlining plain `static inline` helpers into the kernels' loops, which then do not vectorise. */
#if defined(__GNUC__)
#define FASTACT_INLINE static inline __attribute__((always_inline))
#else
#define FASTACT_INLINE static inline
#endif

/* 2.0 ** kf for an integer-valued double kf in [-1022, 1023], by building the exponent field:
   kf + 1.5*2^52 holds kf in its low mantissa bits.  No float->int conversion, so loops vectorise. */
FASTACT_INLINE double fastact_pow2(double kf) {
    const double shift = 6755399441055744.0;
    double t = kf + shift;
    uint64_t bits, shift_bits;
    memcpy(&bits, &t, sizeof bits);
    memcpy(&shift_bits, &shift, sizeof shift_bits);
    uint64_t e = (bits - shift_bits + 1023) << 52;  /* unsigned: wraps exactly as numba's shl */
    double r;
    memcpy(&r, &e, sizeof r);
    return r;
}

/* 2.0 ** (k + e) for ks = k + 1.5*2^52 (k in its low mantissa bits already) and an integer-valued
   constant e: fastact_pow2 without its first addition. */
FASTACT_INLINE double fastact_pow2_shifted(double ks, double e) {
    const double shift = 6755399441055744.0;
    uint64_t bits, shift_bits;
    memcpy(&bits, &ks, sizeof bits);
    memcpy(&shift_bits, &shift, sizeof shift_bits);
    uint64_t r_bits = (bits - shift_bits + 1023 + (uint64_t)(int64_t)e) << 52;
    double r;
    memcpy(&r, &r_bits, sizeof r);
    return r;
}

/* x * 2^(k + e) for a normal x > 0 whose product is normal (ks and e as fastact_pow2_shifted):
   k + e added to x's exponent field, an integer operation, as the numba backend's. */
FASTACT_INLINE double fastact_times_pow2_shifted(double x, double ks, double e) {
    const double shift = 6755399441055744.0;
    uint64_t bits, shift_bits, x_bits;
    memcpy(&bits, &ks, sizeof bits);
    memcpy(&shift_bits, &shift, sizeof shift_bits);
    memcpy(&x_bits, &x, sizeof x_bits);
    x_bits += (bits - shift_bits + (uint64_t)(int64_t)e) << 52;
    double r;
    memcpy(&r, &x_bits, sizeof r);
    return r;
}

/* The double whose bits are those of t less those of base (t >= base > 0, same sign): for a t
   whose exponent is base's, its mantissa bits as a subnormal. */
FASTACT_INLINE double fastact_bits_less(double t, double base) {
    uint64_t bits, base_bits;
    memcpy(&bits, &t, sizeof bits);
    memcpy(&base_bits, &base, sizeof base_bits);
    bits -= base_bits;
    double r;
    memcpy(&r, &bits, sizeof r);
    return r;
}

/* round(m) * 2^-1074 for 0 <= m <= 2^52, from its bits: m + 2^52 holds round(m) in its mantissa,
   and those are the subnormal's bits.  No floating-point operation has a subnormal result. */
FASTACT_INLINE double fastact_from_subnormal_units(double m) {
    return fastact_bits_less(m + 0x1p52, 0x1p52);
}

/* b * 2^-512 rounded to the subnormals' grid, for b < 2^-510: 2^-1022 + b 2^-512 rounds once, to a
   normal number (no assist), whose mantissa bits are the subnormal's.  As the numba backend's. */
FASTACT_INLINE double fastact_subnormal_of_biased(double b) {
    return fastact_bits_less(fma(b, 0x1p-512, 0x1p-1022), 0x1p-1022);
}

/* Whether b * 2^-512 is subnormal, from the bits without the sign (x86's NaNs are negative):
   a comparison the compiler cannot merge with the clamp's (see unbias in fastact/_math/_fp.py). */
FASTACT_INLINE int fastact_unbias_is_subnormal(double b) {
    const double sub = 0x1p-510;
    uint64_t bits, sub_bits;
    memcpy(&bits, &b, sizeof bits);
    memcpy(&sub_bits, &sub, sizeof sub_bits);
    return (bits & 0x7fffffffffffffffULL) < sub_bits;
}

/* b * 2^-512 for b >= 0 or NaN, as fastact/_math/_fp.py's unbias. */
FASTACT_INLINE double fastact_unbias(double b) {
    const double sub = 0x1p-510;
    double normal = (b < sub ? sub : b) * 0x1p-512;
    return fastact_unbias_is_subnormal(b) ? fastact_subnormal_of_biased(b) : normal;
}

/* unbias(b * f) for f = 1 wherever b * 2^-512 is subnormal, as _fp.py's unbias_times: the
   subnormal branch reads b, the same expressions as unbias(b), so a loop forms them once. */
FASTACT_INLINE double fastact_unbias_times(double b, double f) {
    const double sub = 0x1p-510;
    double bf = b * f;
    double normal = (bf < sub ? sub : bf) * 0x1p-512;
    return fastact_unbias_is_subnormal(b) ? fastact_subnormal_of_biased(b) : normal;
}

/* c[0] + c[1] x + ... + c[n-1] x^(n-1), n >= 2, as E(x^2) + x O(x^2), each by Horner's rule with
   FMA: the same operations in the same order as fastact/_math/_fp.py's polyval. */
FASTACT_INLINE double fastact_polyval_n(double x, const double *c, size_t n) {
    double x2 = x * x;
    double even = c[2 * ((n + 1) / 2 - 1)];
    for (size_t j = (n + 1) / 2 - 1; j-- > 0;)
        even = fma(even, x2, c[2 * j]);
    double odd = c[2 * (n / 2 - 1) + 1];
    for (size_t j = n / 2 - 1; j-- > 0;)
        odd = fma(odd, x2, c[2 * j + 1]);
    return fma(odd, x, even);
}

/* polyval(x, COEFS) for a constant array COEFS: the length comes from the array itself. */
#define fastact_polyval(x, c) fastact_polyval_n((x), (c), sizeof(c) / sizeof((c)[0]))

/* ---- float32 arithmetic (fastact/_math/_fp.py's float32 section; numba: the same operations). */

/* A float32 (constants of the float32 kernels: folded at compile time). */
FASTACT_INLINE float fastact_to_float32(double x) { return (float)x; }

FASTACT_INLINE float fastact_mul_add_float32(float a, float b, float c) { return fmaf(a, b, c); }

FASTACT_INLINE float fastact_copysign_float32(float x, float y) { return copysignf(x, y); }

/* 2^(k + e) for ks = k + 1.5*2^23 (k in its low mantissa bits), e an integer-valued constant. */
FASTACT_INLINE float fastact_pow2_shifted_float32(float ks, float e) {
    const float shift = 12582912.0f;
    uint32_t bits, shift_bits;
    memcpy(&bits, &ks, sizeof bits);
    memcpy(&shift_bits, &shift, sizeof shift_bits);
    uint32_t r_bits = (bits - shift_bits + 127u + (uint32_t)(int32_t)e) << 23;
    float r;
    memcpy(&r, &r_bits, sizeof r);
    return r;
}

/* unbias_float32(g) for a g equal to b wherever b * 2^-100 is subnormal (those lanes from b), as
   the numba backend's: 2^-126 + b 2^-100 rounds once, to a normal float, on the subnormals'
   grid. */
FASTACT_INLINE float fastact_unbias_like_float32(float g, float b) {
    const float sub = 0x1p-26f;  /* 2^(BIAS_FLOAT32 - 126), BIAS_FLOAT32 = 100 (_fp.py) */
    uint32_t bits, sub_bits, unit_bits, smallest_bits;
    const float smallest = 0x1p-126f;
    memcpy(&bits, &b, sizeof bits);
    memcpy(&sub_bits, &sub, sizeof sub_bits);
    memcpy(&smallest_bits, &smallest, sizeof smallest_bits);
    float t = fmaf(b, 0x1p-100f, smallest);
    memcpy(&unit_bits, &t, sizeof unit_bits);
    unit_bits -= smallest_bits;
    float units;
    memcpy(&units, &unit_bits, sizeof units);
    float normal = (g < sub ? sub : g) * 0x1p-100f;
    return (int32_t)(bits & 0x7fffffffu) < (int32_t)sub_bits ? units : normal;
}

/* b * 2^-100 rounded once to float32, subnormal results included, for b >= 0 or NaN. */
FASTACT_INLINE float fastact_unbias_float32(float b) { return fastact_unbias_like_float32(b, b); }

#endif
