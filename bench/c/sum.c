/* sum: a tight integer loop, s = sum over i in 0..n of ((i mod M)^2 mod M), M = 1000003.
 * usage: ./sum N */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define M 1000003

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    int64_t n = strtoll(argv[1], NULL, 10);
    int64_t s = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t t = i % M;
        s += t * t % M;
    }
    printf("%lld\n", (long long)s);
    return 0;
}
