#pragma once

// Shared libraries loaded on first use (libcrypto, libcurl): a process
// that does not need one does not pay for loading it.

namespace vtc::util {

// Opens `soname`; it stays loaded until the process ends. Throws Error
// (70) when it cannot be loaded.
void* open_library(const char* soname);

// The function `name` of a library open_library() returned. Throws Error
// (70) naming `soname` when there is none.
void* library_symbol(void* lib, const char* soname, const char* name);

// Sets `fn` to the function `name`, typed as declared.
template<class F>
void resolve(void* lib, const char* soname, F& fn, const char* name)
{
  fn = reinterpret_cast<F>(library_symbol(lib, soname, name));
}

} // namespace vtc::util
