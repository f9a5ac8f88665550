#include "util/shared_lib.hpp"

#include "util/error.hpp"

#include <dlfcn.h>
#include <fmt/core.h>

namespace vtc::util {

void* open_library(const char* soname)
{
  void* lib = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = ::dlerror();
    throw Error(ExitCode::software, fmt::format("cannot load {}: {}", soname,
                                                why ? why : "unknown error"));
  }
  return lib;
}

void* library_symbol(void* lib, const char* soname, const char* name)
{
  void* sym = ::dlsym(lib, name);
  if (sym == nullptr) {
    throw Error(ExitCode::software,
                fmt::format("{}: no function {}", soname, name));
  }
  return sym;
}

} // namespace vtc::util
