/* fannkuch: the Computer Language Benchmarks Game fannkuch-redux. For every permutation
 * of 0..N-1, in the benchmark's order, counts the flips of the first k+1 elements (k the
 * first element) until 0 comes first; prints the checksum (flips added for even-numbered
 * permutations, subtracted for odd ones) and the largest number of flips, as the
 * benchmark does ("CHECKSUM\nPfannkuchen(N) = MAXFLIPS"). The whole computation is done
 * K times from scratch (as sieve repeats its sieve), so that the run lasts long enough at
 * an N whose permutation count (N!) is still small enough for the interpreter.
 * Single-threaded, and the flip is the plain element-by-element loop of the .sil and Lua
 * versions (no memcpy, no SIMD), so that all three do the same work.
 * usage: ./fannkuch N K      (1 <= N <= 16) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s N K\n", argv[0]);
        return 2;
    }
    int64_t n = strtoll(argv[1], NULL, 10);
    int64_t reps = strtoll(argv[2], NULL, 10);
    if (n < 1 || n > 16) {
        fprintf(stderr, "fannkuch: N must be 1..16\n");
        return 2;
    }
    int64_t perm[16], perm1[16], count[16];
    int64_t maxflips = 0, checksum = 0;
    for (int64_t rep = 0; rep < reps; rep++) {
        maxflips = 0;
        checksum = 0;
        int64_t permcount = 0;
        for (int64_t i = 0; i < n; i++)
            perm1[i] = i;
        int64_t r = n;
        for (;;) {
            for (; r != 1; r--)
                count[r - 1] = r;
            for (int64_t i = 0; i < n; i++)
                perm[i] = perm1[i];
            /* flip the first k+1 elements until the first one is 0 */
            int64_t flips = 0, k;
            while ((k = perm[0]) != 0) {
                for (int64_t i = 0, j = k; i < j; i++, j--) {
                    int64_t t = perm[i];
                    perm[i] = perm[j];
                    perm[j] = t;
                }
                flips++;
            }
            if (flips > maxflips)
                maxflips = flips;
            checksum += (permcount & 1) == 0 ? flips : -flips;
            /* the next permutation: rotate the first r+1 elements left by one, for the
             * smallest r whose counter does not run out; after the last one, r = n */
            for (;;) {
                if (r == n)
                    goto finished;
                int64_t p0 = perm1[0];
                for (int64_t i = 0; i < r; i++)
                    perm1[i] = perm1[i + 1];
                perm1[r] = p0;
                count[r]--;
                if (count[r] > 0)
                    break;
                r++;
            }
            permcount++;
        }
    finished:;
    }
    printf("%lld\nPfannkuchen(%lld) = %lld\n", (long long)checksum, (long long)n,
           (long long)maxflips);
    return 0;
}
