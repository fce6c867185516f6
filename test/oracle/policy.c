/*
 * An independent page-replacement oracle: FIFO, LRU, OPT and CLOCK over a
 * page-reference string, written plainly in C to check pagelab's policies.
 *
 * stdin:  FRAMES N p1 p2 ... pN   (whitespace-separated decimal numbers)
 * stdout: one line per policy: NAME MISSES v1 v2 ... vK
 *         where v is the page evicted at each miss, -1 when a free frame was used.
 *
 * Ties go to the lowest frame. CLOCK: the frames form a ring with a hand; a
 * miss with every frame full sweeps from the hand, clearing the reference
 * bit of each frame whose bit is set, and takes the first whose bit is clear;
 * the page goes there with its bit set and the hand moves one past it. Free
 * frames are used in order 0, 1, ... first (the hand follows them).
 */
#include <stdio.h>
#include <stdlib.h>

static long frames, n;
static long *ref;

static long find(const long *page, long p) {
    for (long f = 0; f < frames; f++)
        if (page[f] == p) return f;
    return -1;
}

/* next_use: the index of the next reference to ref[t]'s page after t, or n. */
static long next_use(long t) {
    for (long u = t + 1; u < n; u++)
        if (ref[u] == ref[t]) return u;
    return n;
}

static void run(const char *name) {
    long *page = malloc(frames * sizeof *page);
    long *stamp = malloc(frames * sizeof *stamp);
    long *nxt = malloc(frames * sizeof *nxt);
    char *refbit = malloc(frames);
    long used = 0, hand = 0, misses = 0;
    char kind = name[0];
    for (long f = 0; f < frames; f++) page[f] = -1, stamp[f] = 0, nxt[f] = 0, refbit[f] = 0;
    printf("%s", name);
    char *out = malloc(32 * (n + 1));
    long len = 0;
    for (long t = 0; t < n; t++) {
        long f = find(page, ref[t]);
        if (f >= 0) {
            if (kind == 'l') stamp[f] = t;
            if (kind == 'o') nxt[f] = next_use(t);
            refbit[f] = 1;
            continue;
        }
        misses++;
        long victim = -1;
        if (used < frames) {
            f = used++;
        } else if (kind == 'f' || kind == 'l') {
            f = 0;
            for (long g = 1; g < frames; g++)
                if (stamp[g] < stamp[f]) f = g;
        } else if (kind == 'o') {
            f = 0;
            for (long g = 1; g < frames; g++)
                if (nxt[g] > nxt[f]) f = g;
        } else {
            while (refbit[hand]) refbit[hand] = 0, hand = (hand + 1) % frames;
            f = hand;
        }
        if (page[f] != -1) victim = page[f];
        page[f] = ref[t];
        stamp[f] = t;
        nxt[f] = next_use(t);
        refbit[f] = 1;
        hand = (f + 1) % frames;
        len += sprintf(out + len, " %ld", victim);
    }
    printf(" %ld%s\n", misses, out);
    free(out), free(page), free(stamp), free(nxt), free(refbit);
}

int main(void) {
    if (scanf("%ld %ld", &frames, &n) != 2 || frames < 1 || n < 0) return 2;
    ref = malloc((n + 1) * sizeof *ref);
    for (long i = 0; i < n; i++)
        if (scanf("%ld", &ref[i]) != 1) return 2;
    run("fifo");
    run("lru");
    run("opt");
    run("clock");
    return 0;
}
