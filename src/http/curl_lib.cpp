#include "http/curl_lib.hpp"

#include "util/error.hpp"
#include "util/shared_lib.hpp"

namespace vtc::http::detail {

namespace {

// The soname of the libcurl this was compiled against (ABI 4).
constexpr const char* k_soname = "libcurl.so.4";

CurlLib load()
{
  void* lib = util::open_library(k_soname);
  // Never closed: libcurl keeps global state until the process ends.
  CurlLib c{};
  util::resolve(lib, k_soname, c.global_init, "curl_global_init");
  util::resolve(lib, k_soname, c.easy_init, "curl_easy_init");
  util::resolve(lib, k_soname, c.easy_setopt, "curl_easy_setopt");
  util::resolve(lib, k_soname, c.easy_getinfo, "curl_easy_getinfo");
  util::resolve(lib, k_soname, c.easy_strerror, "curl_easy_strerror");
  util::resolve(lib, k_soname, c.easy_cleanup, "curl_easy_cleanup");
  util::resolve(lib, k_soname, c.slist_append, "curl_slist_append");
  util::resolve(lib, k_soname, c.slist_free_all, "curl_slist_free_all");
  util::resolve(lib, k_soname, c.multi_init, "curl_multi_init");
  util::resolve(lib, k_soname, c.multi_setopt, "curl_multi_setopt");
  util::resolve(lib, k_soname, c.multi_add_handle, "curl_multi_add_handle");
  util::resolve(lib, k_soname, c.multi_remove_handle,
                "curl_multi_remove_handle");
  util::resolve(lib, k_soname, c.multi_socket_action,
                "curl_multi_socket_action");
  util::resolve(lib, k_soname, c.multi_info_read, "curl_multi_info_read");
  util::resolve(lib, k_soname, c.multi_cleanup, "curl_multi_cleanup");
  util::resolve(lib, k_soname, c.url, "curl_url");
  util::resolve(lib, k_soname, c.url_set, "curl_url_set");
  util::resolve(lib, k_soname, c.url_get, "curl_url_get");
  util::resolve(lib, k_soname, c.url_cleanup, "curl_url_cleanup");
  util::resolve(lib, k_soname, c.free, "curl_free");
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
