#pragma once

// Internal to http/: libcurl, loaded on first use.
//
// libcurl pulls in some thirty shared libraries (TLS, HTTP/2, IDN, LDAP,
// Kerberos…); linking it would make every process pay for loading them,
// including the frequent passes that send nothing. The functions http/
// calls are resolved from libcurl.so.4 the first time one is needed.

#include <curl/curl.h>

namespace vtc::http::detail {

// The libcurl functions http/ uses, with libcurl's own signatures.
struct CurlLib
{
  decltype(&::curl_global_init) global_init;
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
  decltype(&::curl_multi_init) multi_init;
  decltype(&::curl_multi_setopt) multi_setopt;
  decltype(&::curl_multi_add_handle) multi_add_handle;
  decltype(&::curl_multi_remove_handle) multi_remove_handle;
  decltype(&::curl_multi_socket_action) multi_socket_action;
  decltype(&::curl_multi_info_read) multi_info_read;
  decltype(&::curl_multi_cleanup) multi_cleanup;
  decltype(&::curl_url) url;
  decltype(&::curl_url_set) url_set;
  decltype(&::curl_url_get) url_get;
  decltype(&::curl_url_cleanup) url_cleanup;
  decltype(&::curl_free) free;
};

// libcurl, loaded and globally initialised once per process. Throws
// Error (70) when libcurl.so.4 or one of its functions cannot be found.
const CurlLib& curl();

} // namespace vtc::http::detail
