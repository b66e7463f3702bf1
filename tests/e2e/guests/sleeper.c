// sleeper: a test lambda that takes its time. Its input is a number of
// milliseconds (default 2000); it sleeps that long (WASI poll_oneoff on a
// clock), then prints "slept N ms". The e2e tests kill nodes and servers
// while it runs.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(void) {
  char input[32] = {0};
  const size_t n = fread(input, 1, sizeof input - 1, stdin);
  input[n] = '\0';
  const long ms = n > 0 ? strtol(input, NULL, 10) : 2000;
  const struct timespec delay = {ms / 1000, (ms % 1000) * 1000000L};
  if (ms < 0 || nanosleep(&delay, NULL) != 0) {
    fputs("sleeper: cannot sleep\n", stderr);
    return 1;
  }
  printf("slept %ld ms\n", ms);
  return 0;
}
