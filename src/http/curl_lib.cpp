#include "http/curl_lib.hpp"

#include "util/error.hpp"

#include <dlfcn.h>
#include <fmt/core.h>

namespace vtc::http::detail {

namespace {

// The soname of the libcurl this was compiled against (ABI 4).
constexpr const char* k_soname = "libcurl.so.4";

template<class F>
void resolve(void* lib, F& fn, const char* name)
{
  void* sym = ::dlsym(lib, name);
  if (sym == nullptr) {
    throw Error(ExitCode::software,
                fmt::format("{}: no function {}", k_soname, name));
  }
  fn = reinterpret_cast<F>(sym);
}

CurlLib load()
{
  void* lib = ::dlopen(k_soname, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = ::dlerror();
    throw Error(ExitCode::software, fmt::format("cannot load {}: {}", k_soname,
                                                why ? why : "unknown error"));
  }
  // Never closed: libcurl keeps global state until the process ends.
  CurlLib c{};
  resolve(lib, c.global_init, "curl_global_init");
  resolve(lib, c.easy_init, "curl_easy_init");
  resolve(lib, c.easy_setopt, "curl_easy_setopt");
  resolve(lib, c.easy_getinfo, "curl_easy_getinfo");
  resolve(lib, c.easy_strerror, "curl_easy_strerror");
  resolve(lib, c.easy_cleanup, "curl_easy_cleanup");
  resolve(lib, c.slist_append, "curl_slist_append");
  resolve(lib, c.slist_free_all, "curl_slist_free_all");
  resolve(lib, c.multi_init, "curl_multi_init");
  resolve(lib, c.multi_setopt, "curl_multi_setopt");
  resolve(lib, c.multi_add_handle, "curl_multi_add_handle");
  resolve(lib, c.multi_remove_handle, "curl_multi_remove_handle");
  resolve(lib, c.multi_socket_action, "curl_multi_socket_action");
  resolve(lib, c.multi_info_read, "curl_multi_info_read");
  resolve(lib, c.multi_cleanup, "curl_multi_cleanup");
  resolve(lib, c.url, "curl_url");
  resolve(lib, c.url_set, "curl_url_set");
  resolve(lib, c.url_get, "curl_url_get");
  resolve(lib, c.url_cleanup, "curl_url_cleanup");
  resolve(lib, c.free, "curl_free");
  if (c.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    throw Error(ExitCode::software, "libcurl: global initialisation failed");
  }
  return c;
}

} // namespace

const CurlLib& curl()
{
  static const CurlLib lib = load();
  return lib;
}

} // namespace vtc::http::detail
