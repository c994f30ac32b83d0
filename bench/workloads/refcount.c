/* Workload 10: reference-counted tiny objects, interpreter style.
 *
 * Models the heap traffic of a dynamic-language interpreter: a frame of 256
 * variables refers to reference-counted objects of 16..48 bytes (numbers,
 * short strings, small tuples holding references).  Each step evaluates an
 * "expression": it creates a few temporaries that die at once, builds a
 * result from two variables, and stores it into a variable, releasing the
 * old value (and, for tuples, the objects it held) when its count reaches
 * zero.  The live set stays small while the allocation rate is very high,
 * so this measures the small-object fast path and cache locality.
 *
 * usage: refcount [steps_in_thousands]
 */
#include "bench_common.h"

#define FRAME_SIZE 256

enum { KIND_NUMBER = 1, KIND_STRING = 2, KIND_TUPLE = 3 };

typedef struct object_s {
  uint32_t refcount;
  uint16_t kind;
  uint16_t length; /* tuple: number of items; string: bytes of text */
  uint64_t value;  /* number: the value; others: a check word */
  /* tuple: followed by `length` object pointers; string: by text bytes */
} object_t;

static uint64_t objects_alive;

static object_t* object_new(uint16_t kind, uint16_t length, size_t extra) {
  object_t* object = mi_bench_malloc_checked(sizeof(object_t) + extra);
  object->refcount = 1;
  object->kind = kind;
  object->length = length;
  objects_alive++;
  return object;
}

static object_t** tuple_items(object_t* tuple) { return (object_t**)(tuple + 1); }

static void object_release(object_t* object) {
  while (object != NULL) {
    if (object->kind < KIND_NUMBER || object->kind > KIND_TUPLE) mi_bench_fail("refcount: object %p has a bad kind", (void*)object);
    if (object->refcount == 0) mi_bench_fail("refcount: object %p released too often", (void*)object);
    if (--object->refcount != 0) return;
    object_t* next = NULL;
    if (object->kind == KIND_TUPLE) {
      if (object->value != (uint64_t)(uintptr_t)object) mi_bench_fail("refcount: tuple check word lost");
      object_t** items = tuple_items(object);
      for (uint16_t i = 0; i + 1 < object->length; i++) object_release(items[i]);
      next = items[object->length - 1]; /* release the last item without recursion */
    } else if (object->kind == KIND_STRING) {
      const unsigned char* text = (const unsigned char*)(object + 1);
      if (text[object->length - 1] != (unsigned char)object->value) mi_bench_fail("refcount: string text lost");
    }
    objects_alive--;
    free(object);
    object = next;
  }
}

static object_t* number_new(uint64_t value) {
  object_t* number = object_new(KIND_NUMBER, 0, 0);
  number->value = value;
  return number;
}

static object_t* string_new(mi_bench_rng_t* rng) {
  uint16_t length = (uint16_t)mi_bench_rng_range(rng, 1, 32);
  object_t* string = object_new(KIND_STRING, length, length);
  string->value = mi_bench_rng_next(rng) & 0xff;
  unsigned char* text = (unsigned char*)(string + 1);
  memset(text, 'a', length);
  text[length - 1] = (unsigned char)string->value;
  return string;
}

static object_t* tuple_new(object_t* first, object_t* second) {
  object_t* tuple = object_new(KIND_TUPLE, 2, 2 * sizeof(object_t*));
  tuple->value = (uint64_t)(uintptr_t)tuple;
  first->refcount++;
  second->refcount++;
  tuple_items(tuple)[0] = first;
  tuple_items(tuple)[1] = second;
  return tuple;
}

int main(int argc, char** argv) {
  long thousands = mi_bench_arg_long(argc, argv, 1, 30000);
  size_t steps = (size_t)thousands * 1000;
  mi_bench_rng_t rng;
  mi_bench_rng_init(&rng, 10);
  object_t* frame[FRAME_SIZE];
  for (size_t i = 0; i < FRAME_SIZE; i++) frame[i] = number_new(i);
  uint64_t checksum = 0;
  double start = mi_bench_now();
  for (size_t step = 0; step < steps; step++) {
    object_t* a = frame[mi_bench_rng_below(&rng, FRAME_SIZE)];
    object_t* b = frame[mi_bench_rng_below(&rng, FRAME_SIZE)];
    /* temporaries of the expression: boxed intermediates that die at once */
    object_t* temporary = number_new(step);
    checksum += temporary->value & 1;
    object_release(temporary);
    object_t* result;
    uint64_t choice = mi_bench_rng_below(&rng, 8);
    if (choice < 4) {
      uint64_t left = (a->kind == KIND_NUMBER) ? a->value : a->length;
      uint64_t right = (b->kind == KIND_NUMBER) ? b->value : b->length;
      result = number_new(left + right);
    } else if (choice < 6) {
      result = string_new(&rng);
    } else {
      /* a tuple referring to two existing objects; nesting stays shallow
         because tuples replace frame entries and release their items */
      result = tuple_new(a, b);
    }
    size_t target = mi_bench_rng_below(&rng, FRAME_SIZE);
    object_t* old = frame[target];
    frame[target] = result;
    object_release(old);
  }
  for (size_t i = 0; i < FRAME_SIZE; i++) object_release(frame[i]);
  if (objects_alive != 0) mi_bench_fail("refcount: %llu objects still alive at the end", (unsigned long long)objects_alive);
  printf("workload=refcount steps=%zu checksum=%llu seconds=%.3f\n", steps, (unsigned long long)checksum,
         mi_bench_now() - start);
  return 0;
}
