/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Reading an ELF core file (from gcore or the kernel): the PT_LOAD segments give
the memory, the notes give the threads (NT_PRSTATUS), the mapped files
(NT_FILE) and the auxiliary vector (NT_AUXV), from which the executable's
path follows. Every offset and size from the file is checked against the
file's size, so a truncated or damaged core is an error, never a crash.
-----------------------------------------------------------------------------*/
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>
#include "inspect.h"

#if defined(__x86_64__)
#define MI_CORE_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define MI_CORE_MACHINE EM_AARCH64
#else
#error "mimalloc-inspect: unsupported architecture"
#endif

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

// Does [offset, offset + size) lie within the file?
static bool mi_core_has(const mi_target_t* target, uint64_t offset, uint64_t size) {
  return (offset <= target->map_size && size <= target->map_size - offset);
}

static uint64_t mi_align4(uint64_t x) { return (x + 3) & ~(uint64_t)3; }

// The auxiliary vector's value for `type`, or 0.
static uint64_t mi_auxv_get(const uint8_t* desc, uint64_t size, uint64_t type) {
  for (uint64_t at = 0; at + 16 <= size; at += 16) {
    uint64_t entry[2];
    memcpy(entry, desc + at, sizeof(entry));
    if (entry[0] == type)
      return entry[1];
    if (entry[0] == AT_NULL)
      break;
  }
  return 0;
}

// The NT_FILE entry mapping `addr`: copy its path into `path`.
static bool mi_ntfile_find(const uint8_t* desc, uint64_t size, uint64_t addr, char* path, size_t path_size) {
  if (size < 16)
    return false;
  uint64_t count, page_size;
  memcpy(&count, desc, 8);
  memcpy(&page_size, desc + 8, 8);
  if (count > (size - 16) / 24)
    return false;
  const char* names = (const char*)desc + 16 + count * 24;
  const char* names_end = (const char*)desc + size;
  for (uint64_t i = 0; i < count && names < names_end; i++) {
    uint64_t range[3];
    memcpy(range, desc + 16 + i * 24, sizeof(range));
    size_t len = strnlen(names, (size_t)(names_end - names));
    if (addr >= range[0] && addr < range[1] && len < path_size && names + len < names_end) {
      memcpy(path, names, len);
      path[len] = 0;
      return true;
    }
    names += len + 1;
  }
  return false;
}

// Threads, files and the executable from the notes of one PT_NOTE segment.
static bool mi_core_notes(mi_target_t* target, const Elf64_Phdr* ph, const uint8_t** auxv,
                          uint64_t* auxv_size, const uint8_t** files, uint64_t* files_size, char* error) {
  const uint8_t* p = target->map + ph->p_offset;
  uint64_t left = ph->p_filesz;
  while (left >= sizeof(Elf64_Nhdr)) {
    Elf64_Nhdr nh;
    memcpy(&nh, p, sizeof(nh));
    uint64_t name_size = mi_align4(nh.n_namesz);
    uint64_t desc_size = mi_align4(nh.n_descsz);
    if (name_size > left - sizeof(nh) || desc_size > left - sizeof(nh) - name_size) {
      snprintf(error, MI_ERROR_SIZE, "malformed note in the core file (truncated?)");
      return false;
    }
    const uint8_t* desc = p + sizeof(nh) + name_size;
    if (nh.n_type == NT_PRSTATUS && nh.n_descsz >= sizeof(prstatus_t)) {
      prstatus_t status;
      memcpy(&status, desc, sizeof(status));
      uint64_t* tids = realloc(target->os_tids, (target->os_tid_count + 1) * sizeof(uint64_t));
      if (tids == NULL) {
        snprintf(error, MI_ERROR_SIZE, "out of memory");
        return false;
      }
      target->os_tids = tids;
      target->os_tids[target->os_tid_count++] = (uint64_t)status.pr_pid;
      if (target->pid == 0)
        target->pid = status.pr_pid;
    } else if (nh.n_type == NT_PRPSINFO && nh.n_descsz >= sizeof(prpsinfo_t) && target->executable[0] == 0) {
      prpsinfo_t info;
      memcpy(&info, desc, sizeof(info));
      snprintf(target->executable, sizeof(target->executable), "%.*s", (int)sizeof(info.pr_fname),
               info.pr_fname);
    } else if (nh.n_type == NT_AUXV) {
      *auxv = desc;
      *auxv_size = nh.n_descsz;
    } else if (nh.n_type == NT_FILE) {
      *files = desc;
      *files_size = nh.n_descsz;
    }
    p += sizeof(nh) + name_size + desc_size;
    left -= sizeof(nh) + name_size + desc_size;
  }
  return true;
}

static bool mi_core_fail(mi_target_t* target) {
  mi_target_close(target);
  return false;
}

bool mi_target_core_open(mi_target_t* target, const char* path, char* error) {
  memset(target, 0, sizeof(*target));
  target->kind = MI_TARGET_CORE;
  snprintf(target->source, sizeof(target->source), "%s", path);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(error, MI_ERROR_SIZE, "cannot open core file '%s': %s", path, strerror(errno));
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
    snprintf(error, MI_ERROR_SIZE, "'%s' is not a core file (too small or not a regular file)", path);
    close(fd);
    return false;
  }
  void* map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) {
    snprintf(error, MI_ERROR_SIZE, "cannot map core file '%s': %s", path, strerror(errno));
    return false;
  }
  target->map = map;
  target->map_size = (size_t)st.st_size;

  Elf64_Ehdr eh;
  memcpy(&eh, target->map, sizeof(eh));
  if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_type != ET_CORE) {
    snprintf(error, MI_ERROR_SIZE, "'%s' is not a 64-bit ELF core file", path);
    return mi_core_fail(target);
  }
  if (eh.e_machine != MI_CORE_MACHINE) {
    snprintf(error, MI_ERROR_SIZE, "'%s' is a core file of another architecture (e_machine %u)", path,
             eh.e_machine);
    return mi_core_fail(target);
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
      !mi_core_has(target, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr))) {
    snprintf(error, MI_ERROR_SIZE, "'%s': program headers missing or truncated", path);
    return mi_core_fail(target);
  }
  target->regions = calloc(eh.e_phnum, sizeof(mi_region_t));
  if (target->regions == NULL) {
    snprintf(error, MI_ERROR_SIZE, "out of memory");
    return mi_core_fail(target);
  }
  const uint8_t* auxv = NULL;
  const uint8_t* files = NULL;
  uint64_t auxv_size = 0, files_size = 0;
  for (unsigned i = 0; i < eh.e_phnum; i++) {
    Elf64_Phdr ph;
    memcpy(&ph, target->map + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
    if (!mi_core_has(target, ph.p_offset, ph.p_filesz)) {
      snprintf(error, MI_ERROR_SIZE,
               "core file '%s' is truncated: its %s (program header %u) needs bytes up to %llu, the file "
               "has %zu",
               path, (ph.p_type == PT_NOTE ? "notes" : "memory"), i,
               (unsigned long long)(ph.p_offset + ph.p_filesz), target->map_size);
      return mi_core_fail(target);
    }
    if (ph.p_type == PT_NOTE) {
      if (!mi_core_notes(target, &ph, &auxv, &auxv_size, &files, &files_size, error))
        return mi_core_fail(target);
    } else if (ph.p_type == PT_LOAD && ph.p_filesz > 0) {
      mi_region_t* region = &target->regions[target->region_count++];
      region->start = ph.p_vaddr;
      region->end = ph.p_vaddr + (ph.p_filesz < ph.p_memsz ? ph.p_filesz : ph.p_memsz);
      region->file_offset = ph.p_offset;
    }
  }
  if (target->os_tid_count == 0) {
    snprintf(error, MI_ERROR_SIZE, "'%s' has no thread status notes: not a process core file", path);
    return mi_core_fail(target);
  }
  // The executable: the mapped file that holds the program's entry point.
  if (auxv != NULL && files != NULL) {
    uint64_t entry = mi_auxv_get(auxv, auxv_size, AT_ENTRY);
    char exe[sizeof(target->executable)];
    if (entry != 0 && mi_ntfile_find(files, files_size, entry, exe, sizeof(exe)))
      memcpy(target->executable, exe, sizeof(exe));
  }
  return true;
}

// Reads may cross from one region into an adjacent one.
bool mi_target_core_read(mi_target_t* target, uint64_t addr, void* dst, size_t len) {
  uint8_t* out = dst;
  while (len > 0) {
    // Regions are few (one per mapping); a linear search is fast enough.
    const mi_region_t* found = NULL;
    for (size_t i = 0; i < target->region_count && found == NULL; i++) {
      if (addr >= target->regions[i].start && addr < target->regions[i].end)
        found = &target->regions[i];
    }
    if (found == NULL)
      return false;
    size_t chunk = (len < found->end - addr ? len : (size_t)(found->end - addr));
    memcpy(out, target->map + found->file_offset + (addr - found->start), chunk);
    out += chunk;
    addr += chunk;
    len -= chunk;
  }
  return true;
}

bool mi_target_read(mi_target_t* target, uint64_t addr, void* dst, size_t len) {
  return (target->kind == MI_TARGET_CORE ? mi_target_core_read(target, addr, dst, len)
                                         : mi_target_live_read(target, addr, dst, len));
}

void mi_target_close(mi_target_t* target) {
  if (target->kind == MI_TARGET_PROCESS)
    mi_target_live_resume(target);
  if (target->map != NULL)
    munmap((void*)target->map, target->map_size);
  free(target->regions);
  free(target->os_tids);
  target->map = NULL;
  target->regions = NULL;
  target->os_tids = NULL;
  target->region_count = target->os_tid_count = 0;
}
