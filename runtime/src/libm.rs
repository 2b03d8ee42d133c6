//! Declarations of the C library's libm functions; every engine goes through these so results agree bit for bit.

// SAFETY: these are the C99 <math.h> functions with exactly these prototypes (double in, double
// out). They read no memory of ours and are defined for every input, NaN and infinities
// included (domain errors return NaN and at most set the thread-local errno), so calling them
// can never be undefined behaviour; hence they are declared `safe`.
#[link(name = "m")]
unsafe extern "C" {
    pub safe fn sin(x: f64) -> f64;
    pub safe fn cos(x: f64) -> f64;
    pub safe fn tan(x: f64) -> f64;
    pub safe fn asin(x: f64) -> f64;
    pub safe fn acos(x: f64) -> f64;
    pub safe fn atan(x: f64) -> f64;
    pub safe fn exp(x: f64) -> f64;
    pub safe fn log(x: f64) -> f64;
    pub safe fn log10(x: f64) -> f64;
    pub safe fn atan2(y: f64, x: f64) -> f64;
    pub safe fn pow(x: f64, y: f64) -> f64;
    pub safe fn hypot(x: f64, y: f64) -> f64;
    pub safe fn fmod(x: f64, y: f64) -> f64;
    pub safe fn round(x: f64) -> f64;
}
