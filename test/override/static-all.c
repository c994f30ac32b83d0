/* ----------------------------------------------------------------------------
override-static-all: a program that names only `malloc` and `free` (and glibc
functions that allocate inside: getline, strdup, qsort, fopen), linked with
libmimalloc.a. The archive must override all or nothing: glibc's getline
calls `realloc` on a block our `malloc` made, so our `realloc` (and every
other entry point) must have come in with `malloc`. override-static-all-nm
checks the executable's symbols; this program checks that it runs.
Deliberately no mi_ call and no other allocation function by name.
-----------------------------------------------------------------------------*/
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_LENGTH 100000

static int compare_int(const void* a, const void* b) {
  int x = *(const int*)a, y = *(const int*)b;
  return (x > y) - (x < y);
}

int main(void) {
  char path[] = "/tmp/override-static-all-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    return 2;
  close(fd);
  FILE* out = fopen(path, "w");
  if (out == NULL)
    return 2;
  for (int i = 0; i < LINE_LENGTH; i++)
    fputc('a' + (i % 26), out);
  fputs("\nshort\n", out);
  fclose(out);

  // getline grows its buffer with realloc: from a small malloc'ed one here.
  FILE* in = fopen(path, "r");
  char* line = (char*)malloc(16);
  size_t cap = 16;
  int failures = 0;
  ssize_t len = getline(&line, &cap, in);
  failures += (len != LINE_LENGTH + 1 || line[LINE_LENGTH - 1] != 'a' + ((LINE_LENGTH - 1) % 26));
  len = getline(&line, &cap, in);
  failures += (len != 6 || strcmp(line, "short\n") != 0);
  fclose(in);
  free(line);
  unlink(path);

  char* copy = strdup("static all-or-nothing");
  failures += (copy == NULL || strcmp(copy, "static all-or-nothing") != 0);
  free(copy);

  size_t count = 200000; // large enough for glibc's qsort to allocate a buffer
  int* numbers = (int*)malloc(count * sizeof(int));
  for (size_t i = 0; i < count; i++)
    numbers[i] = (int)((i * 7919) % count);
  qsort(numbers, count, sizeof(int), compare_int);
  for (size_t i = 0; i < count; i++)
    failures += (numbers[i] != (int)i);
  free(numbers);

  printf("override-static-all: %d failures\n", failures);
  return (failures == 0 ? 0 : 1);
}
