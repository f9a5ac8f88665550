#include "audit/vtc_client.hpp"
#include "cli/commands.hpp"
#include "util/ed25519.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "util/secret_file.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

namespace vtc::cli {

namespace {

// Writes a new key to `path`, which must not exist, readable by its owner
// only; returns its DID.
std::string generate(const std::string& path)
{
  const util::Ed25519Key key = util::Ed25519Key::generate();
  std::string pem = key.to_pem();
  const int fd =
    ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    util::wipe(pem);
    if (error == EEXIST) {
      throw UsageError(fmt::format("identity --generate {}: the file exists; "
                                   "refusing to overwrite a key",
                                   path));
    }
    throw IoError(
      fmt::format("identity --generate {}: {}", path, std::strerror(error)));
  }
  std::size_t done = 0;
  bool ok = true;
  while (ok && done < pem.size()) {
    const ssize_t n = ::write(fd, pem.data() + done, pem.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    ok = n > 0;
    done += ok ? static_cast<std::size_t>(n) : 0;
  }
  if (!ok || ::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlink(path.c_str());
    util::wipe(pem);
    throw IoError(
      fmt::format("identity --generate {}: {}", path, std::strerror(error)));
  }
  ::close(fd);
  util::wipe(pem);
  util::log::info(
    fmt::format("wrote a new Ed25519 key to {} (mode 0600)", path));
  return util::did_key(key.public_key());
}

ExitCode run_identity(const Globals& globals, const std::string& target)
{
  if (!target.empty()) {
    std::cout << generate(target) << '\n';
    return ExitCode::ok;
  }
  const config::Config cfg = load_config(globals);
  if (cfg.audit_identity_file.empty()) {
    throw ConfigError("audit.identity_file is not set; create a key with "
                      "vtc-sync identity --generate FILE and set it");
  }
  std::cout << audit::load_identity(cfg.audit_identity_file).did << '\n';
  return ExitCode::ok;
}

} // namespace

void register_identity(CLI::App& app, const Globals& globals, Action& action)
{
  auto target = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
    "identity", "the did:key vtc-sync logs in to the VTC with");
  cmd
    ->add_option("--generate", *target,
                 "first write a new Ed25519 key to FILE (mode 0600; never "
                 "overwrites)")
    ->type_name("FILE");
  cmd->callback([&globals, &action, target] {
    action = [&globals, target] { return run_identity(globals, *target); };
  });
}

} // namespace vtc::cli
