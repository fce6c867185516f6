/* malloc: small blocks from brk, big ones from mmap2 (freed with munmap), realloc growth; a checksum exit code. */
#include <stdlib.h>

#define PAGE 4096
#define SMALL 64

/* touch writes one word per page of p[0, n) and returns their sum after reading them back. */
static unsigned touch(unsigned char *p, size_t n, unsigned seed)
{
  unsigned sum = 0;
  for (size_t i = 0; i < n; i += PAGE)
    p[i] = (unsigned char)(seed + i / PAGE);
  for (size_t i = 0; i < n; i += PAGE)
    sum += p[i];
  return sum;
}

int main(void)
{
  unsigned sum = 0;
  char *small[SMALL];
  for (int i = 0; i < SMALL; i++) {
    small[i] = malloc(100 + 300 * i);
    sum += touch((unsigned char *)small[i], 100 + 300 * i, i);
  }
  for (int i = 0; i < SMALL; i += 2)
    free(small[i]);
  for (int round = 0; round < 3; round++) {
    unsigned char *big = malloc(512 * 1024 + round * 64 * 1024); /* above the mmap threshold: mmap2 */
    sum += touch(big, 512 * 1024 + round * 64 * 1024, round);
    free(big); /* munmap */
  }
  unsigned char *grow = malloc(1000);
  for (size_t n = 2000; n < 300000; n *= 2) {
    grow = realloc(grow, n);
    grow[n - 1] = 1;
  }
  sum += grow[1999];
  free(grow);
  for (int i = 1; i < SMALL; i += 2)
    free(small[i]);
  unsigned char *volatile huge = malloc(6 * 1024 * 1024); /* 6 MiB: mmap2, touched sparsely in its middle */
  sum += touch(huge + 3 * 1024 * 1024, 8 * PAGE, 7);
  free(huge);
  return sum & 0xff;
}
