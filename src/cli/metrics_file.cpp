#include "cli/metrics_file.hpp"

#include "app/metrics.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

#include <fmt/core.h>
#include <fstream>
#include <iterator>

namespace vtc::cli {

ExitCode write_metrics_file(const std::string& path, store::SqliteStore& store,
                            const app::TickResult& result)
{
  if (path.empty()) {
    return result.code;
  }
  // Idle passes leave the database alone, so the time of the last successful
  // pass lives on in the file itself.
  std::optional<core::TimeNs> previous;
  if (std::ifstream in{path, std::ios::binary}) {
    const std::string text{std::istreambuf_iterator<char>(in),
                           std::istreambuf_iterator<char>()};
    previous = app::last_success_in(text);
  }
  try {
    const app::PassMetrics m =
      app::collect_metrics(store.status(result.finished), result, previous);
    util::write_file_atomically(path, app::render_metrics(m), 0644);
  } catch (const Error& e) {
    util::log::error(fmt::format("metrics.textfile: {}", e.what()));
    return worst(result.code, e.code());
  }
  return result.code;
}

} // namespace vtc::cli
