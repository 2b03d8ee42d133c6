/* fib: naive doubly recursive Fibonacci. Measures call/return overhead.
 * usage: ./fib N      (prints fib(N)) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int64_t fib(int64_t n)
{
    if (n < 2)
        return n;
    return fib(n - 1) + fib(n - 2);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    int64_t n = strtoll(argv[1], NULL, 10);
    printf("%lld\n", (long long)fib(n));
    return 0;
}
