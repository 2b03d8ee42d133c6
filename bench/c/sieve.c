/* sieve: sieve of Eratosthenes over 0..=N (one byte per number), repeated K times
 * from scratch; prints the number of primes <= N.
 * usage: ./sieve N K */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s N K\n", argv[0]);
        return 2;
    }
    int64_t n = strtoll(argv[1], NULL, 10);
    int64_t k = strtoll(argv[2], NULL, 10);
    unsigned char *flags = malloc(n + 1);
    if (!flags) {
        perror("malloc");
        return 1;
    }
    int64_t count = 0;
    for (int64_t rep = 0; rep < k; rep++) {
        memset(flags, 1, n + 1);
        for (int64_t i = 2; i * i <= n; i++) {
            if (flags[i]) {
                for (int64_t j = i * i; j <= n; j += i)
                    flags[j] = 0;
            }
        }
        count = 0;
        for (int64_t i = 2; i <= n; i++)
            count += flags[i];
    }
    printf("%lld\n", (long long)count);
    free(flags);
    return 0;
}
