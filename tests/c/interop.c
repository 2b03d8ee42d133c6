/* A C program linking two vsp modules (counter.sil, mathlib.sil) and the vsp runtime:
 * calls exports of both, provides counter's externs, reads counter's memory, handles traps.
 * Built and checked by tests/c_interop.rs; docs/aot.md walks through it. */
#include <stdio.h>
#include <string.h>

#include "counter.h"
#include "mathlib.h"

/* counter's `extern func host_add(a: i64, b: i64) -> i64` */
int64_t host_add(int64_t a, int64_t b) { return a + b; }

/* counter's `extern func host_note(x: f64)` */
static double noted;
void host_note(double x) { noted = x; }

static int traps;
static char last_trap[64];

static void on_trap(int code, const char *msg) {
    traps++;
    snprintf(last_trap, sizeof last_trap, "%d %s", code, msg);
}

int main(void) {
    /* Module state persists between calls; the extern is this file's host_add. */
    bump(40);
    printf("bump: %lld\n", (long long)bump(2));

    /* The module's memory: its data segment, and the total bump stored at address 64. */
    uint8_t *mem = counter_memory();
    int64_t total;
    memcpy(&total, mem + 64, sizeof total);
    printf("memory: %zu bytes, \"%.15s\", total %lld\n", counter_memory_size(), (const char *)mem,
           (long long)total);

    /* Module output goes to the same stdout, flushed when the call returns. */
    fflush(stdout);
    greet();

    unsigned s = note(2.5); /* sil.from(2.5, 0): rho 1, theta 0 */
    printf("note: %u, noted %g\n", s, noted);
    long long old_pages = (long long)grow();
    printf("grow: %lld, now %zu bytes\n", old_pages, counter_memory_size());
    printf("fib(20): %lld\n", (long long)fib(20));
    printf("hyp(3, 4): %g\n", hyp(3.0, 4.0));
    printf("twice(0x93): 0x%02x\n", (unsigned)twice(0x93));
    printf("apply(14): %lld\n", (long long)apply(14));

    /* A trap with a handler installed: the call returns 0 and the module stays usable. */
    vsp_set_trap_handler(on_trap);
    long long q = (long long)divide(7, 0);
    printf("divide(7, 0): %lld, traps %d, last \"%s\"\n", q, traps, last_trap);
    printf("divide(7, 2): %lld\n", (long long)divide(7, 2));
    q = (long long)poke(-8);
    printf("poke(-8): %lld, traps %d, last \"%s\"\n", q, traps, last_trap);

    /* The default handler prints the trap and a backtrace, then exits with status 70. */
    vsp_set_trap_handler(NULL);
    fflush(stdout);
    poke(1 << 20);
    printf("not reached\n");
    return 0;
}
