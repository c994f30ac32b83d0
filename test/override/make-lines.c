/* ----------------------------------------------------------------------------
override-make-lines: deterministic text for the program workloads.

  override-make-lines <seed> <bytes>

writes about <bytes> bytes of text lines to stdout: pseudo-random words
built from syllables, numbers and punctuation, with plenty of repeated words
and duplicate lines, so sort, gzip and git have realistic work. The output
depends only on the two arguments.
-----------------------------------------------------------------------------*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char* const syllables[] = {
  "ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "el", "an", "or", "is",
  "que", "zon", "bar", "fel", "gri", "hum", "jax", "wil", "tro", "ved", "ysk", "cha",
};

static uint64_t next_random(uint64_t* state) {
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return *state;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <seed> <bytes>\n", argv[0]);
    return 2;
  }
  uint64_t state = strtoull(argv[1], NULL, 10) * UINT64_C(0x9E3779B97F4A7C15) + 0x1234567;
  if (state == 0) state = 1;
  const unsigned long long target = strtoull(argv[2], NULL, 10);
  const size_t syllable_count = sizeof(syllables) / sizeof(syllables[0]);
  static char line[512];
  unsigned long long written = 0;
  unsigned long long line_number = 0;
  while (written < target) {
    size_t length = 0;
    uint64_t r = next_random(&state);
    if (r % 16 == 0 && line_number > 0) {
      // a duplicate-ish line: a short fixed vocabulary
      length = (size_t)snprintf(line, sizeof(line), "common line %u\n", (unsigned)(r >> 8) % 100);
    }
    else {
      size_t words = 2 + (size_t)(r >> 4) % 10;
      for (size_t w = 0; w < words && length < sizeof(line) - 64; w++) {
        uint64_t wr = next_random(&state);
        size_t parts = 1 + (size_t)wr % 4;
        for (size_t p = 0; p < parts; p++) {
          const char* s = syllables[(wr >> (8 + 5 * p)) % syllable_count];
          size_t n = strlen(s);
          memcpy(line + length, s, n);
          length += n;
        }
        if (wr % 7 == 0) length += (size_t)snprintf(line + length, sizeof(line) - length, "%u", (unsigned)(wr >> 40) % 100000);
        line[length++] = (w + 1 < words ? ((wr >> 30) % 9 == 0 ? ',' : ' ') : '\n');
        if (line[length - 1] == ',') line[length++] = ' ';
      }
    }
    fwrite(line, 1, length, stdout);
    written += length;
    line_number++;
  }
  return 0;
}
