/* compute: a sieve of Eratosthenes over a .bss array; exits with the prime count mod 256. */
#define N 8000

static unsigned char composite[N];

int main(void)
{
  int count = 0;
  for (int i = 2; i < N; i++) {
    if (composite[i])
      continue;
    count++;
    for (int j = 2 * i; j < N; j += i)
      composite[j] = 1;
  }
  return count & 0xff; /* 1007 primes below 8000: 239 */
}
