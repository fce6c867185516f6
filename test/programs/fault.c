/* fault: does one bad access, chosen by argv[1]: "rodata" writes a read-only page, "null" reads address 0,
 * "kernel" writes the kernel half (0xC0000000 and up); with no argument it exits 0. */
#include <string.h>

static const char message[] = "read-only";

int main(int argc, char **argv)
{
  if (argc < 2)
    return 0;
  if (strcmp(argv[1], "rodata") == 0)
    *(volatile char *)message = 'R';
  else if (strcmp(argv[1], "null") == 0)
    return *(volatile int *)0;
  else if (strcmp(argv[1], "kernel") == 0)
    *(volatile int *)0xC0001000u = 1;
  return 3;
}
