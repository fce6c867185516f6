/* fork: a parent fills shared pages, forks two children that write some of them (copy-on-write) and a grandchild;
 * each process exits with a code of its own and the parent wait4s for its children, folding their codes. */
#include <sys/wait.h>
#include <unistd.h>

#define PAGES 16
#define PAGE 4096

static unsigned char shared[PAGES * PAGE];

/* child writes every other page from `first` and returns a code from what it reads of the untouched ones. */
static int child(int first, int code)
{
  for (int p = first; p < PAGES; p += 2)
    shared[p * PAGE] = (unsigned char)(code + p);
  int sum = 0;
  for (int p = 0; p < PAGES; p++)
    sum += shared[p * PAGE + 1];
  return (code + sum) & 0x7f;
}

/* reap waits for one child and returns its exit status (or 255 if it did not exit). */
static int reap(pid_t pid)
{
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return 255;
  return WEXITSTATUS(status);
}

int main(void)
{
  for (int p = 0; p < PAGES; p++)
    shared[p * PAGE] = shared[p * PAGE + 1] = (unsigned char)p;
  pid_t a = fork();
  if (a == 0) {
    pid_t g = fork(); /* a grandchild: the tree is three deep */
    if (g == 0)
      _exit(child(1, 30));
    int code = child(0, 10);
    _exit((code + reap(g)) & 0x7f);
  }
  pid_t b = fork();
  if (b == 0)
    _exit(child(1, 20));
  for (int p = 0; p < PAGES; p++)
    shared[p * PAGE] += 100; /* the parent's own writes: its copies, not the children's */
  int ca = reap(a);
  int cb = reap(b);
  return (ca + cb + shared[0]) & 0xff;
}
