/* stack: recursion whose frames take 64 KiB each, so the stack grows by 4 MiB; one write per page of each frame. */
#define FRAME (64 * 1024)
#define DEPTH 64

static int descend(int depth)
{
  volatile char frame[FRAME];
  for (int i = 0; i < FRAME; i += 4096)
    frame[i] = (char)depth;
  if (depth == 0)
    return frame[0];
  int below = descend(depth - 1);
  return below + frame[FRAME - 4096];
}

int main(void)
{
  return descend(DEPTH) & 0xff; /* 0 + 1 + ... + 64 = 2080: 32 */
}
