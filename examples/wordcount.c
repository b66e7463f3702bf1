// wordcount: counts lines, words and bytes of every regular file in a
// mounted directory, like `wc`, one line per file (sorted by name so the
// result does not depend on the host's directory order) and a total line.
//
//   milf run wordcount.wasm --dir ./texts:/in:ro      # counts /in
//   milf run wordcount.wasm --dir ./texts:/data:ro --arg /data
//
// A word is a maximal run of bytes that are not ASCII white space; a line
// is a newline byte, so a last line without one is not counted (as in wc).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "milf.h"

typedef struct {
  int64_t lines;
  int64_t words;
  int64_t bytes;
} Counts;

typedef struct {
  char** items;
  size_t len;
  size_t cap;
} NameList;

static bool IsSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
         c == '\r';
}

// Counts one open file. Returns 0, or -1 with errno set on a read error.
static int CountFd(int fd, Counts* counts) {
  // Static, not on the stack: wasm-ld gives the whole stack only 64 KiB.
  static unsigned char chunk[64 * 1024];
  bool in_word = false;
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    counts->bytes += n;
    for (ssize_t i = 0; i < n; ++i) {
      if (chunk[i] == '\n') ++counts->lines;
      if (IsSpace(chunk[i])) {
        in_word = false;
      } else if (!in_word) {
        in_word = true;
        ++counts->words;
      }
    }
  }
}

static bool AppendName(NameList* list, const char* name) {
  if (list->len == list->cap) {
    size_t cap = list->cap == 0 ? 16 : list->cap * 2;
    char** grown = realloc(list->items, cap * sizeof *grown);
    if (grown == NULL) return false;
    list->items = grown;
    list->cap = cap;
  }
  char* copy = strdup(name);
  if (copy == NULL) return false;
  list->items[list->len++] = copy;
  return true;
}

static void FreeNames(NameList* list) {
  for (size_t i = 0; i < list->len; ++i) free(list->items[i]);
  free(list->items);
}

static int CompareNames(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

// Lists the names of the regular files directly inside `dir`. Symbolic
// links are followed; subdirectories and other entries are skipped.
static int ListFiles(const char* dir, NameList* names) {
  DIR* d = opendir(dir);
  if (d == NULL) {
    milf_logf("wordcount: cannot open directory %s: %s", dir, strerror(errno));
    return -1;
  }
  int result = 0;
  char path[4096];
  for (;;) {
    errno = 0;
    struct dirent* entry = readdir(d);
    if (entry == NULL) {
      if (errno != 0) {
        milf_logf("wordcount: cannot read %s: %s", dir, strerror(errno));
        result = -1;
      }
      break;
    }
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) {
      continue;
    }
    int len = snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
    struct stat st;
    if (len < 0 || (size_t)len >= sizeof path || stat(path, &st) != 0 ||
        !S_ISREG(st.st_mode)) {
      continue;
    }
    if (!AppendName(names, entry->d_name)) {
      milf_log("wordcount: out of memory");
      result = -1;
      break;
    }
  }
  closedir(d);
  if (result == 0) qsort(names->items, names->len, sizeof *names->items, CompareNames);
  return result;
}

static void PrintCounts(const Counts* counts, const char* label) {
  printf("%7" PRId64 " %7" PRId64 " %7" PRId64 " %s\n", counts->lines,
         counts->words, counts->bytes, label);
}

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : "/in";
  NameList names = {NULL, 0, 0};
  if (ListFiles(dir, &names) != 0) {
    FreeNames(&names);
    return 1;
  }

  int status = 0;
  Counts total = {0, 0, 0};
  char path[4096];
  for (size_t i = 0; i < names.len; ++i) {
    snprintf(path, sizeof path, "%s/%s", dir, names.items[i]);
    int fd = open(path, O_RDONLY);
    Counts counts = {0, 0, 0};
    if (fd < 0 || CountFd(fd, &counts) != 0) {
      milf_logf("wordcount: %s: %s", path, strerror(errno));
      status = 1;
    } else {
      PrintCounts(&counts, names.items[i]);
      total.lines += counts.lines;
      total.words += counts.words;
      total.bytes += counts.bytes;
    }
    if (fd >= 0) close(fd);
  }
  PrintCounts(&total, "total");
  FreeNames(&names);
  if (fflush(stdout) != 0) return 1;
  return status;
}
