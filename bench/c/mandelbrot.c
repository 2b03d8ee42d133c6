/* mandelbrot: escape-time iteration over a W x W grid covering [-1.5, 0.5] x [-1, 1],
 * at most 50 iterations per point; prints the total number of iterations performed.
 * Compile without FMA contraction (-ffp-contract=off) so the f64 results match the
 * other engines bit for bit.
 * usage: ./mandelbrot W */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_ITER 50

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s W\n", argv[0]);
        return 2;
    }
    int64_t w = strtoll(argv[1], NULL, 10);
    int64_t total = 0;
    for (int64_t y = 0; y < w; y++) {
        double ci = 2.0 * y / w - 1.0;
        for (int64_t x = 0; x < w; x++) {
            double cr = 2.0 * x / w - 1.5;
            double zr = 0.0, zi = 0.0;
            int64_t it = 0;
            while (it < MAX_ITER) {
                double zr2 = zr * zr, zi2 = zi * zi;
                if (zr2 + zi2 > 4.0)
                    break;
                zi = 2.0 * zr * zi + ci;
                zr = zr2 - zi2 + cr;
                it++;
            }
            total += it;
        }
    }
    printf("%lld\n", (long long)total);
    return 0;
}
