#include "store/overlay_vfs.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>

namespace vtc::store::detail {

namespace {

// What a file opened through the VFS reads: the real file (opened
// read-only through the default VFS, or none) with the writes made since
// laid over it. The main database's writes are kept by offset; the WAL
// (and a journal, should SQLite make one) is held whole.
struct Overlay
{
  sqlite3_file* real = nullptr; // the default VFS's file, or null
  std::int64_t real_size = 0;
  bool whole = false; // `data` is the file: no reads of `real`
  std::string data;   // the whole file, when `whole`
  std::map<std::int64_t, std::string> writes; // by offset, when not `whole`
  std::int64_t size = 0;                      // the file's size as written

  Overlay() = default;
  Overlay(const Overlay&) = delete;
  Overlay& operator=(const Overlay&) = delete;
  ~Overlay()
  {
    if (real != nullptr) {
      real->pMethods->xClose(real);
      sqlite3_free(real);
    }
  }

  int read(void* out, int amount, std::int64_t offset)
  {
    auto* bytes = static_cast<char*>(out);
    std::memset(bytes, 0, static_cast<std::size_t>(amount));
    const std::int64_t end = offset + amount;
    if (whole) {
      if (offset < size) {
        std::memcpy(bytes, data.data() + offset,
                    static_cast<std::size_t>(std::min(end, size) - offset));
      }
    } else {
      const std::int64_t from_real = std::min(end, std::min(real_size, size));
      if (offset < from_real) {
        const int rc = real->pMethods->xRead(
          real, bytes, static_cast<int>(from_real - offset), offset);
        if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) {
          return rc;
        }
      }
      // Writes are pages (or less): one may start up to 64 KiB before.
      for (auto it = writes.lower_bound(offset - 65536);
           it != writes.end() && it->first < end; ++it) {
        const std::int64_t w_end =
          it->first + static_cast<std::int64_t>(it->second.size());
        const std::int64_t from = std::max(offset, it->first);
        const std::int64_t to = std::min(end, std::min(w_end, size));
        if (from < to) {
          std::memcpy(bytes + (from - offset),
                      it->second.data() + (from - it->first),
                      static_cast<std::size_t>(to - from));
        }
      }
    }
    return end <= size ? SQLITE_OK : SQLITE_IOERR_SHORT_READ;
  }

  void write(const void* in, int amount, std::int64_t offset)
  {
    const auto* bytes = static_cast<const char*>(in);
    const std::int64_t end = offset + amount;
    if (whole) {
      if (static_cast<std::int64_t>(data.size()) < end) {
        data.resize(static_cast<std::size_t>(end));
      }
      std::memcpy(data.data() + offset, bytes,
                  static_cast<std::size_t>(amount));
    } else {
      // SQLite writes the database a page at a time, at the same offsets.
      std::string& w = writes[offset];
      if (static_cast<std::int64_t>(w.size()) < amount) {
        w.resize(static_cast<std::size_t>(amount));
      }
      std::memcpy(w.data(), bytes, static_cast<std::size_t>(amount));
    }
    size = std::max(size, end);
  }

  void truncate(std::int64_t to)
  {
    size = std::min(size, to);
    if (whole) {
      data.resize(static_cast<std::size_t>(size));
    } else {
      writes.erase(writes.lower_bound(size), writes.end());
      real_size = std::min(real_size, size);
    }
  }
};

struct File
{
  sqlite3_file base;
  Overlay* overlay;
};

Overlay& of(sqlite3_file* f)
{
  return *reinterpret_cast<File*>(f)->overlay;
}

int x_close(sqlite3_file* f)
{
  delete reinterpret_cast<File*>(f)->overlay;
  return SQLITE_OK;
}

int x_read(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset)
{
  return of(f).read(out, amount, offset);
}

int x_write(sqlite3_file* f, const void* in, int amount, sqlite3_int64 offset)
{
  of(f).write(in, amount, offset);
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size)
{
  of(f).truncate(size);
  return SQLITE_OK;
}

int x_sync(sqlite3_file*, int)
{
  return SQLITE_OK;
}

int x_file_size(sqlite3_file* f, sqlite3_int64* size)
{
  *size = of(f).size;
  return SQLITE_OK;
}

// No locks: nothing of the real files is written, and the connection is
// the only one on its overlay.
int x_lock(sqlite3_file*, int)
{
  return SQLITE_OK;
}
int x_unlock(sqlite3_file*, int)
{
  return SQLITE_OK;
}
int x_check_reserved(sqlite3_file*, int* out)
{
  *out = 0;
  return SQLITE_OK;
}
int x_file_control(sqlite3_file*, int, void*)
{
  return SQLITE_NOTFOUND;
}
int x_sector_size(sqlite3_file*)
{
  return 4096;
}
int x_device(sqlite3_file*)
{
  return 0;
}

// Version 1: no shared memory, so SQLite keeps the WAL index in its heap
// (it must, with locking_mode EXCLUSIVE set before the first read).
const sqlite3_io_methods k_methods = {
  1,          x_close,          x_read,         x_write,
  x_truncate, x_sync,           x_file_size,    x_lock,
  x_unlock,   x_check_reserved, x_file_control, x_sector_size,
  x_device,   nullptr,          nullptr,        nullptr,
  nullptr,    nullptr,          nullptr,
};

sqlite3_vfs* base()
{
  return sqlite3_vfs_find(nullptr);
}

// Opens `name` read-only through the default VFS into `o`, if it exists.
int open_real(const char* name, int flags, Overlay& o)
{
  int exists = 0;
  const int rc = base()->xAccess(base(), name, SQLITE_ACCESS_EXISTS, &exists);
  if (rc != SQLITE_OK || exists == 0) {
    return rc;
  }
  o.real = static_cast<sqlite3_file*>(sqlite3_malloc(base()->szOsFile));
  if (o.real == nullptr) {
    return SQLITE_NOMEM;
  }
  std::memset(o.real, 0, static_cast<std::size_t>(base()->szOsFile));
  const int mode = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL |
                             SQLITE_OPEN_MAIN_JOURNAL)) |
                   SQLITE_OPEN_READONLY;
  int out = 0;
  if (const int open = base()->xOpen(base(), name, o.real, mode, &out);
      open != SQLITE_OK) {
    sqlite3_free(o.real); // xOpen failed: nothing to close
    o.real = nullptr;
    return open;
  }
  sqlite3_int64 size = 0;
  const int got = o.real->pMethods->xFileSize(o.real, &size);
  o.real_size = size;
  return got;
}

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags,
           int* out_flags)
{
  const bool named_file = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL |
                                    SQLITE_OPEN_MAIN_JOURNAL)) != 0;
  if (!named_file || name == nullptr) {
    // Temporary files: private to this process, the default VFS's.
    return base()->xOpen(base(), name, f, flags, out_flags);
  }
  auto overlay = std::make_unique<Overlay>();
  if (const int rc = open_real(name, flags, *overlay); rc != SQLITE_OK) {
    return rc;
  }
  overlay->size = overlay->real_size;
  if ((flags & SQLITE_OPEN_MAIN_DB) == 0) {
    // The WAL, read whole now. A pass may append to it meanwhile (a torn
    // last frame fails its checksum), or truncate it once every frame is
    // in the database file: the bytes that were there read as zeros,
    // which end the frames SQLite accepts, and the file has them all.
    overlay->whole = true;
    overlay->data.resize(static_cast<std::size_t>(overlay->real_size));
    if (overlay->real_size > 0) {
      const int rc =
        overlay->real->pMethods->xRead(overlay->real, overlay->data.data(),
                                       static_cast<int>(overlay->real_size), 0);
      if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) {
        return rc;
      }
    }
  }
  auto* file = reinterpret_cast<File*>(f);
  file->base.pMethods = &k_methods;
  file->overlay = overlay.release();
  if (out_flags != nullptr) {
    *out_flags = flags;
  }
  return SQLITE_OK;
}

// Nothing real is ever deleted; the files this VFS opens are in memory.
int x_delete(sqlite3_vfs*, const char*, int)
{
  return SQLITE_OK;
}

int x_access(sqlite3_vfs*, const char* name, int what, int* out)
{
  return base()->xAccess(base(), name, what, out);
}

int x_full_pathname(sqlite3_vfs*, const char* name, int n, char* out)
{
  return base()->xFullPathname(base(), name, n, out);
}

int x_randomness(sqlite3_vfs*, int n, char* out)
{
  return base()->xRandomness(base(), n, out);
}

int x_sleep(sqlite3_vfs*, int us)
{
  return base()->xSleep(base(), us);
}

int x_current_time(sqlite3_vfs*, double* out)
{
  return base()->xCurrentTime(base(), out);
}

int x_last_error(sqlite3_vfs*, int n, char* out)
{
  return base()->xGetLastError(base(), n, out);
}

} // namespace

const char* overlay_vfs()
{
  static sqlite3_vfs vfs{};
  static const bool registered = [] {
    vfs.iVersion = 1;
    vfs.szOsFile = std::max<int>(sizeof(File), base()->szOsFile);
    vfs.mxPathname = base()->mxPathname;
    vfs.zName = "vtc-sync-overlay";
    vfs.xOpen = x_open;
    vfs.xDelete = x_delete;
    vfs.xAccess = x_access;
    vfs.xFullPathname = x_full_pathname;
    vfs.xRandomness = x_randomness;
    vfs.xSleep = x_sleep;
    vfs.xCurrentTime = x_current_time;
    vfs.xGetLastError = x_last_error;
    return sqlite3_vfs_register(&vfs, 0) == SQLITE_OK;
  }();
  (void)registered;
  return vfs.zName;
}

} // namespace vtc::store::detail
