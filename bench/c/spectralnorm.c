/* spectralnorm: the Computer Language Benchmarks Game spectral-norm. Approximates the
 * spectral norm of the infinite matrix A (a_ij = 1 / ((i+j)(i+j+1)/2 + i + 1)) by 10
 * rounds of the power method on A^T A, restricted to N x N; prints it with 9 decimals.
 * Single-threaded and without SIMD, so that the work matches the .sil and Lua versions,
 * which perform the same f64 operations in the same order (compile with
 * -ffp-contract=off so that gcc never fuses a multiply and an add).
 * usage: ./spectralnorm N */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The index arithmetic is integer, as in the Benchmarks Game programs; the i64 value
 * is below 2^53 for any N that fits in memory, so its conversion to f64 is exact. */
static double eval_a(int64_t i, int64_t j)
{
    return 1.0 / (double)((i + j) * (i + j + 1) / 2 + i + 1);
}

/* av = A v */
static void mul_av(int64_t n, const double *v, double *av)
{
    for (int64_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (int64_t j = 0; j < n; j++)
            sum += eval_a(i, j) * v[j];
        av[i] = sum;
    }
}

/* atv = A^T v */
static void mul_atv(int64_t n, const double *v, double *atv)
{
    for (int64_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (int64_t j = 0; j < n; j++)
            sum += eval_a(j, i) * v[j];
        atv[i] = sum;
    }
}

/* atav = A^T A v, through tmp */
static void mul_atav(int64_t n, const double *v, double *atav, double *tmp)
{
    mul_av(n, v, tmp);
    mul_atv(n, tmp, atav);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    int64_t n = strtoll(argv[1], NULL, 10);
    double *u = malloc(n * sizeof(double));
    double *v = malloc(n * sizeof(double));
    double *tmp = malloc(n * sizeof(double));
    if (!u || !v || !tmp) {
        perror("malloc");
        return 1;
    }
    for (int64_t i = 0; i < n; i++)
        u[i] = 1.0;
    for (int k = 0; k < 10; k++) {
        mul_atav(n, u, v, tmp);
        mul_atav(n, v, u, tmp);
    }
    double vbv = 0.0, vv = 0.0;
    for (int64_t i = 0; i < n; i++) {
        vbv += u[i] * v[i];
        vv += v[i] * v[i];
    }
    printf("%.9f\n", sqrt(vbv / vv));
    free(u);
    free(v);
    free(tmp);
    return 0;
}
