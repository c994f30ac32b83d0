/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Runtime options (from MIMALLOC_<NAME> environment variables or the API),
message output, warnings, errors and assertion failures.
-----------------------------------------------------------------------------*/
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mimalloc/internal.h"

typedef enum mi_option_init_e {
  MI_OPTION_UNINIT,     // not yet read from the environment
  MI_OPTION_DEFAULTED,  // no environment variable: default value
  MI_OPTION_INITIALIZED // set from the environment or through the API
} mi_option_init_t;

typedef struct mi_option_desc_s {
  long value;
  mi_option_init_t init;
  mi_option_t option; // for checking the table order
  const char* name;   // MIMALLOC_<NAME>
  const char* legacy_name;
  bool is_size;     // value is a size in KiB; accepts suffixes such as MiB
  bool is_acted_on; // this implementation uses the option (see doc/options.md)
} mi_option_desc_t;

#define MI_OPTION(opt, value, acted)                                                                         \
  { value, MI_OPTION_UNINIT, mi_option_##opt, #opt, NULL, false, acted }
#define MI_OPTION_LEGACY(opt, legacy, value, acted)                                                          \
  { value, MI_OPTION_UNINIT, mi_option_##opt, #opt, #legacy, false, acted }
#define MI_OPTION_SIZE(opt, value, acted)                                                                    \
  { value, MI_OPTION_UNINIT, mi_option_##opt, #opt, NULL, true, acted }

static mi_option_desc_t mi_options[_mi_option_last] = {
    MI_OPTION(show_errors, (MI_DEBUG > 0 || MI_SHOW_ERRORS) ? 1 : 0, true),
    MI_OPTION(show_stats, 0, true),
    MI_OPTION(verbose, 0, true),
    MI_OPTION(eager_commit, 1, false),
    MI_OPTION_LEGACY(arena_eager_commit, eager_region_commit, 2, false),
    MI_OPTION_LEGACY(purge_decommits, reset_decommits, 1, false),
    MI_OPTION_LEGACY(allow_large_os_pages, large_os_pages, 0, false),
    MI_OPTION(reserve_huge_os_pages, 0, true),
    MI_OPTION(reserve_huge_os_pages_at, -1, true),
    MI_OPTION_SIZE(reserve_os_memory, 0, true),
    MI_OPTION(deprecated_segment_cache, 0, false),
    MI_OPTION(deprecated_page_reset, 0, false),
    MI_OPTION_LEGACY(abandoned_page_purge, abandoned_page_reset, 0, true),
    MI_OPTION(deprecated_segment_reset, 0, false),
    MI_OPTION(eager_commit_delay, 1, false),
    MI_OPTION_LEGACY(purge_delay, reset_delay, 10, true),
    MI_OPTION(use_numa_nodes, 0, false),
    MI_OPTION_LEGACY(disallow_os_alloc, limit_os_alloc, 0, true),
    MI_OPTION(os_tag, 100, false),
    MI_OPTION(max_errors, 32, true),
    MI_OPTION(max_warnings, 32, true),
    MI_OPTION(max_segment_reclaim, 10, true),
    MI_OPTION(destroy_on_exit, 0, true),
    MI_OPTION_SIZE(arena_reserve, 1024L * 1024L, false),
    MI_OPTION(arena_purge_mult, 10, true),
    MI_OPTION(purge_extend_delay, 1, false),
    MI_OPTION(abandoned_reclaim_on_free, 0, true),
    MI_OPTION(disallow_arena_alloc, 0, true),
    MI_OPTION(retry_on_oom, 400, false),
    MI_OPTION(visit_abandoned, 0, true),
    MI_OPTION(guarded_min, 0, MI_GUARDED),
    MI_OPTION(guarded_max, 1024L * 1024L * 1024L, MI_GUARDED),
    MI_OPTION(guarded_precise, 0, MI_GUARDED),
    MI_OPTION(guarded_sample_rate, (MI_GUARDED && MI_DEBUG == 0 ? 4000 : 0), MI_GUARDED),
    MI_OPTION(guarded_sample_seed, 0, MI_GUARDED),
    MI_OPTION(target_segments_per_thread, 0, true),
    MI_OPTION(generic_collect, 10000, true),
    MI_OPTION(allow_thp, 1, true),
};

static void mi_option_init(mi_option_desc_t* desc);

void _mi_options_init(void) {
  for (int i = 0; i < _mi_option_last; i++) {
    mi_option_desc_t* desc = &mi_options[i];
    mi_assert(desc->option == (mi_option_t)i);
    if (desc->init == MI_OPTION_UNINIT)
      mi_option_init(desc);
  }
  if (mi_option_is_enabled(mi_option_verbose))
    mi_options_print();
}

void mi_options_print(void) mi_attr_noexcept {
  _mi_message("version %d.%d.%d%s%s\n", MI_MALLOC_VERSION / 100, (MI_MALLOC_VERSION / 10) % 10,
              MI_MALLOC_VERSION % 10, (MI_DEBUG > 0 ? " (debug)" : ""),
              (MI_LEGACY_OWNERSHIP ? " (LEGACY OWNERSHIP: test-only build with racy segment claims)" : ""));
  for (int i = 0; i < _mi_option_last; i++) {
    mi_option_desc_t* desc = &mi_options[i];
    if (desc->option == mi_option_deprecated_segment_cache ||
        desc->option == mi_option_deprecated_page_reset ||
        desc->option == mi_option_deprecated_segment_reset) {
      continue;
    }
    if (desc->init == MI_OPTION_UNINIT)
      mi_option_init(desc);
    _mi_message("option '%s': %ld%s%s\n", desc->name, desc->value, desc->is_size ? " KiB" : "",
                desc->is_acted_on ? "" : " (accepted, not acted on)");
  }
}

long mi_option_get(mi_option_t option) {
  if (option < 0 || option >= _mi_option_last)
    return 0;
  mi_option_desc_t* desc = &mi_options[option];
  if (mi_unlikely(desc->init == MI_OPTION_UNINIT))
    mi_option_init(desc);
  return desc->value;
}

long _mi_option_get_fast(mi_option_t option) { return mi_options[option].value; }

long mi_option_get_clamp(mi_option_t option, long min, long max) {
  long x = mi_option_get(option);
  return (x < min ? min : (x > max ? max : x));
}

size_t mi_option_get_size(mi_option_t option) {
  long x = mi_option_get(option);
  if (x <= 0)
    return 0;
  size_t size = (size_t)x;
  if (mi_options[option].is_size)
    size *= MI_KiB;
  return size;
}

void mi_option_set(mi_option_t option, long value) {
  if (option < 0 || option >= _mi_option_last)
    return;
  mi_option_desc_t* desc = &mi_options[option];
  desc->value = value;
  desc->init = MI_OPTION_INITIALIZED;
}

void mi_option_set_default(mi_option_t option, long value) {
  if (option < 0 || option >= _mi_option_last)
    return;
  mi_option_desc_t* desc = &mi_options[option];
  if (desc->init != MI_OPTION_INITIALIZED)
    desc->value = value;
}

bool mi_option_is_enabled(mi_option_t option) { return (mi_option_get(option) != 0); }
void mi_option_set_enabled(mi_option_t option, bool enable) { mi_option_set(option, enable ? 1 : 0); }
void mi_option_set_enabled_default(mi_option_t option, bool enable) {
  mi_option_set_default(option, enable ? 1 : 0);
}
void mi_option_enable(mi_option_t option) { mi_option_set_enabled(option, true); }
void mi_option_disable(mi_option_t option) { mi_option_set_enabled(option, false); }

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

// Before a handler is registered (and before stdio may be used) messages go
// straight to stderr with write(2), which allocates nothing.
static void mi_out_stderr(const char* msg, void* arg) {
  (void)arg;
  if (msg != NULL && msg[0] != 0)
    _mi_prim_out_stderr(msg);
}

static mi_output_fun* volatile mi_out_default = NULL; // atomic pointer
static void* mi_out_arg = NULL;                       // atomic pointer

static mi_output_fun* mi_out_get_default(void** parg) {
  if (parg != NULL)
    *parg = mi_atomic_load_relaxed(&mi_out_arg);
  mi_output_fun* out = (mi_output_fun*)mi_atomic_load_relaxed(&mi_out_default);
  return (out == NULL ? &mi_out_stderr : out);
}

void mi_register_output(mi_output_fun* out, void* arg) mi_attr_noexcept {
  mi_atomic_store_relaxed(&mi_out_arg, arg);
  mi_atomic_store_relaxed(&mi_out_default, out);
}

void _mi_fputs(mi_output_fun* out, void* arg, const char* prefix, const char* message) {
  if (out == NULL || (void*)out == (void*)stdout || (void*)out == (void*)stderr) {
    // mimalloc 2.x accepts stdout/stderr as the output argument of mi_stats_print.
    out = mi_out_get_default(&arg);
  }
  if (prefix != NULL)
    out(prefix, arg);
  out(message, arg);
}

void _mi_fprintf(mi_output_fun* out, void* arg, const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  _mi_fputs(out, arg, NULL, buf);
}

static void mi_vfprintf_prefixed(const char* prefix, const char* fmt, va_list args) {
  char buf[512];
  vsnprintf(buf, sizeof(buf), fmt, args);
  _mi_fputs(NULL, NULL, prefix, buf);
}

void _mi_message(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  mi_vfprintf_prefixed("mimalloc: ", fmt, args);
  va_end(args);
}

void _mi_verbose_message(const char* fmt, ...) {
  if (!mi_option_is_enabled(mi_option_verbose))
    return;
  va_list args;
  va_start(args, fmt);
  mi_vfprintf_prefixed("mimalloc: ", fmt, args);
  va_end(args);
}

static long mi_warning_count; // atomic
static long mi_error_count;   // atomic

void _mi_warning_message(const char* fmt, ...) {
  if (!mi_option_is_enabled(mi_option_verbose)) {
    if (!mi_option_is_enabled(mi_option_show_errors))
      return;
    long max = mi_option_get(mi_option_max_warnings);
    if (max >= 0 && mi_atomic_add_relaxed(&mi_warning_count, 1) >= max)
      return;
  }
  va_list args;
  va_start(args, fmt);
  mi_vfprintf_prefixed("mimalloc: warning: ", fmt, args);
  va_end(args);
}

static mi_error_fun* volatile mi_error_handler; // atomic pointer
static void* mi_error_arg;                      // atomic pointer

void mi_register_error(mi_error_fun* fun, void* arg) {
  mi_atomic_store_relaxed(&mi_error_arg, arg);
  mi_atomic_store_relaxed(&mi_error_handler, fun);
}

void _mi_error_message(int err, const char* fmt, ...) {
  bool show = mi_option_is_enabled(mi_option_verbose);
  if (!show && mi_option_is_enabled(mi_option_show_errors)) {
    long max = mi_option_get(mi_option_max_errors);
    show = (max < 0 || mi_atomic_add_relaxed(&mi_error_count, 1) < max);
  }
  if (show) {
    va_list args;
    va_start(args, fmt);
    mi_vfprintf_prefixed("mimalloc: error: ", fmt, args);
    va_end(args);
  }
  mi_error_fun* handler = (mi_error_fun*)mi_atomic_load_relaxed(&mi_error_handler);
  if (handler != NULL)
    handler(err, mi_atomic_load_relaxed(&mi_error_arg));
  else if (MI_XMALLOC && (err == ENOMEM || err == EOVERFLOW))
    abort(); // MI_XMALLOC: running out of memory is fatal unless the program handles errors
}

#if MI_DEBUG > 0
void _mi_assert_fail(const char* assertion, const char* fname, unsigned int line, const char* func) {
  char buf[512];
  snprintf(buf, sizeof(buf), "mimalloc: assertion failed: at \"%s\":%u, %s\n  assertion: \"%s\"\n", fname,
           line, (func == NULL ? "" : func), assertion);
  _mi_prim_out_stderr(buf);
  abort();
}
#endif

// ---------------------------------------------------------------------------
// Reading options from the environment
// ---------------------------------------------------------------------------

static bool mi_env_get(const char* name, char* value, size_t value_size) {
  char key[80];
  snprintf(key, sizeof(key), "MIMALLOC_%s", name);
  for (char* p = key; *p != 0; p++)
    *p = (char)toupper((unsigned char)*p);
  if (_mi_prim_getenv(key, value, value_size))
    return true;
  // Also accept the all-lowercase spelling, as a convenience.
  return false;
}

// Parse "yes", "On", "1", "off", "42", "4MiB", "512k", ... Sizes are stored in KiB.
static bool mi_option_parse(const mi_option_desc_t* desc, const char* text, long* result) {
  char buf[64];
  size_t len = 0;
  for (const char* s = text; *s != 0 && len < sizeof(buf) - 1; s++) {
    if (*s != ' ')
      buf[len++] = (char)toupper((unsigned char)*s);
  }
  buf[len] = 0;
  if (len == 0 || strcmp(buf, "1") == 0 || strcmp(buf, "TRUE") == 0 || strcmp(buf, "YES") == 0 ||
      strcmp(buf, "ON") == 0) {
    *result = 1;
    return true;
  }
  if (strcmp(buf, "0") == 0 || strcmp(buf, "FALSE") == 0 || strcmp(buf, "NO") == 0 ||
      strcmp(buf, "OFF") == 0) {
    *result = 0;
    return true;
  }
  char* end = NULL;
  long value = strtol(buf, &end, 10);
  if (end == buf)
    return false;
  if (desc->is_size) {
    // The unit defaults to KiB; K/M/G/T with optional B or iB.
    long mult_kib = 1;
    if (*end == 'K') {
      mult_kib = 1;
      end++;
    } else if (*end == 'M') {
      mult_kib = 1024L;
      end++;
    } else if (*end == 'G') {
      mult_kib = 1024L * 1024L;
      end++;
    } else if (*end == 'T') {
      mult_kib = 1024L * 1024L * 1024L;
      end++;
    } else if (*end == 'B') {
      // plain bytes
      end++;
      if (*end != 0)
        return false;
      *result = (value + 1023) / 1024;
      return true;
    }
    if (end[0] == 'I' && end[1] == 'B')
      end += 2;
    else if (end[0] == 'B')
      end += 1;
    if (*end != 0)
      return false;
    if (value > LONG_MAX / mult_kib)
      return false;
    *result = value * mult_kib;
    return true;
  }
  if (*end != 0)
    return false;
  *result = value;
  return true;
}

static void mi_option_init(mi_option_desc_t* desc) {
  char text[64];
  bool found = mi_env_get(desc->name, text, sizeof(text));
  if (!found && desc->legacy_name != NULL) {
    found = mi_env_get(desc->legacy_name, text, sizeof(text));
    if (found) {
      _mi_warning_message(
          "environment option \"mimalloc_%s\" is deprecated -- use \"mimalloc_%s\" instead.\n",
          desc->legacy_name, desc->name);
    }
  }
  if (!found) {
    desc->init = MI_OPTION_DEFAULTED;
    return;
  }
  long value;
  if (mi_option_parse(desc, text, &value)) {
    desc->value = value;
    desc->init = MI_OPTION_INITIALIZED;
  } else {
    // Keep the default; mark initialised so the warning is printed only once.
    desc->init = MI_OPTION_DEFAULTED;
    _mi_warning_message(
        "environment option mimalloc_%s has an invalid value (\"%s\"); using the default %ld\n", desc->name,
        text, desc->value);
  }
}
