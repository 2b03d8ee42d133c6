/* bytesil: a ByteSil signal chain. A signal of N ByteSil samples (one byte each: a complex
 * number in 8-bit log-polar form, rho = (b >> 4) - 8, theta = b & 15, value
 * e^rho * e^(i theta pi/8); see docs/reference/README.md#bytesil) is made by the MINSTD
 * generator, then R rounds each run every sample through: mixing with a carrier (sil.new,
 * sil.pow, mul), a one-pole low-pass filter (sil.lerp), the high-pass residual (sub), a
 * limiter (sil.rho, sil.scale) and demodulation (div on even rounds, sil.conj on odd
 * ones); the residual replaces the sample. Prints a hash of every output byte (sil.byte),
 * the sums of the low-pass output's real and imaginary parts (sil.re, sil.im, 9 decimals)
 * and the last sample.
 * The sil_* helpers below mirror runtime/src/sil.rs (the code every vsp engine runs for
 * these operations) step for step: the same libm functions (exp, cos, sin, hypot, log,
 * atan2, round) on the same f64 values in the same order, so the bytes and the sums agree
 * bit for bit. Compile with -ffp-contract=off and link glibc's libm, as vsp does: another
 * libm (e.g. wasi-libc's, from musl) rounds atan2 differently in the last bit, which moves
 * ByteSil's halfway cases.
 * usage: ./bytesil N R */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- ByteSil, as runtime/src/sil.rs ------------------------------------------------ */

typedef uint8_t sil;

#define SIL_NULL 0x00 /* sil(-8,0) */
#define SIL_ONE 0x80  /* sil(0,0) */
#define RHO_MIN -8
#define RHO_MAX 7
/* The f64 nearest pi/8: pi / 8 is exact (a power of two). */
#define PI_8 (3.141592653589793 / 8.0)

static int64_t sil_rho(sil b) { return (int64_t)(b >> 4) - 8; }
static int64_t sil_theta(sil b) { return (int64_t)(b & 15); }
static int sil_is_null(sil b) { return sil_rho(b) == RHO_MIN; }

/* rho clamped to -8..=7, theta wrapped mod 16 into 0..=15 (& 15 on two's complement is
 * Rust's rem_euclid(16)) */
static sil sil_make(int64_t rho, int64_t theta)
{
    int64_t r = rho < RHO_MIN ? RHO_MIN : rho > RHO_MAX ? RHO_MAX : rho;
    int64_t t = theta & 15;
    return (sil)(((r - RHO_MIN) << 4) | t);
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b < 0 ? INT64_MIN : INT64_MAX;
    return r;
}

static int64_t sat_mul(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
    return r;
}

static double sil_angle(sil a) { return (double)sil_theta(a) * PI_8; }

static double sil_re(sil a)
{
    if (sil_is_null(a))
        return 0.0;
    return exp((double)sil_rho(a)) * cos(sil_angle(a));
}

static double sil_im(sil a)
{
    if (sil_is_null(a))
        return 0.0;
    return exp((double)sil_rho(a)) * sin(sil_angle(a));
}

static sil sil_from_complex(double re, double im)
{
    double m = hypot(re, im);
    if (isnan(m) || m < exp((double)RHO_MIN))
        return SIL_NULL;
    double l = round(log(m));
    int64_t r;
    if (l >= (double)RHO_MAX)
        r = RHO_MAX;
    else if (l <= (double)RHO_MIN)
        return SIL_NULL;
    else
        r = (int64_t)l;
    double q = round(atan2(im, re) / PI_8);
    int64_t t = isnan(q) ? 0 : (int64_t)q;
    return sil_make(r, t);
}

static sil sil_mul(sil a, sil b) { return sil_make(sil_rho(a) + sil_rho(b), sil_theta(a) + sil_theta(b)); }
static sil sil_div(sil a, sil b) { return sil_make(sil_rho(a) - sil_rho(b), sil_theta(a) - sil_theta(b)); }

static sil sil_sub(sil a, sil b)
{
    double ar = sil_re(a), ai = sil_im(a);
    double br = sil_re(b), bi = sil_im(b);
    return sil_from_complex(ar - br, ai - bi);
}

static sil sil_pow(sil a, int64_t n)
{
    return sil_make(sat_mul(sil_rho(a), n), sil_theta(a) * (n & 15));
}

static sil sil_scale(sil a, int64_t k) { return sil_make(sat_add(sil_rho(a), k), sil_theta(a)); }
static sil sil_conj(sil a) { return sil_make(sil_rho(a), -sil_theta(a)); }

static sil sil_lerp(sil a, sil b, double t)
{
    t = t >= 0.0 ? (t <= 1.0 ? t : 1.0) : 0.0;
    double ar = sil_re(a), ai = sil_im(a);
    double br = sil_re(b), bi = sil_im(b);
    double s = 1.0 - t;
    return sil_from_complex(s * ar + t * br, s * ai + t * bi);
}

/* ---- the kernel ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s N R\n", argv[0]);
        return 2;
    }
    int64_t n = strtoll(argv[1], NULL, 10);
    int64_t rounds = strtoll(argv[2], NULL, 10);
    sil *sig = malloc(n > 0 ? n : 1);
    if (!sig) {
        perror("malloc");
        return 1;
    }
    /* the input: the top 8 of the 31 bits of each step of the MINSTD generator (Park and
     * Miller: x = 48271 x mod (2^31 - 1)); every value stays below 2^53, for Lua's sake */
    int64_t x = 1;
    for (int64_t i = 0; i < n; i++) {
        x = x * 48271 % 2147483647;
        sig[i] = (sil)(x >> 23);
    }
    int64_t hash = 0;
    double sre = 0.0, sim = 0.0;
    for (int64_t r = 0; r < rounds; r++) {
        sil carrier = sil_make(0, r);                   /* sil.new: one step of r pi/8 */
        double alpha = (double)((r & 3) + 1) * 0.125;   /* 0.125, 0.25, 0.375, 0.5 */
        sil prev = SIL_NULL;
        for (int64_t i = 0; i < n; i++) {
            sil s = sig[i];
            sil w = sil_pow(carrier, i);                /* the carrier at sample i */
            sil m = sil_mul(s, w);                      /* mix */
            sil y = sil_lerp(prev, m, alpha);           /* low-pass */
            sil d = sil_sub(m, y);                      /* high-pass residual */
            if (sil_rho(d) > 2)                         /* limiter */
                d = sil_scale(d, -3);
            if (r & 1)
                d = sil_conj(d);
            else
                d = sil_div(d, w);                      /* demodulate */
            sig[i] = d;
            prev = y;
            hash = (hash * 31 + d) % 1000000007;        /* below 2^53, for Lua */
            sre += sil_re(y);
            sim += sil_im(y);
        }
    }
    printf("%lld\n%.9f\n%.9f\n", (long long)hash, sre, sim);
    if (n > 0)
        printf("sil(%lld,%lld)\n", (long long)sil_rho(sig[n - 1]), (long long)sil_theta(sig[n - 1]));
    free(sig);
    return 0;
}
