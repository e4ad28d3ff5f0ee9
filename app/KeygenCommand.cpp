// flowlier keygen: writes a CURVE key pair for `run --curve-secret` / `--curve-allow` /
// `--curve-peer`. The secret goes only to PREFIX.key (mode 0600), never to the terminal.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include "app/Commands.hpp"
#include "transport/ZmqCurve.hpp"

namespace flowlier::app {

namespace {
int run_keygen(const std::string& prefix, bool force) {
  const std::string secret_path = prefix + ".key";
  const std::string public_path = prefix + ".pub";
  struct stat st {};
  if (!force && (::stat(secret_path.c_str(), &st) == 0 || ::stat(public_path.c_str(), &st) == 0)) {
    fmt::print(stderr, "keygen: {} or {} exists (use --force to overwrite)\n", secret_path, public_path);
    return 2;
  }
  const auto pair = transport::generate_curve_keypair();
  // Create the secret file private from the start, not chmod-ed after writing.
  const mode_t old_mask = ::umask(077);
  std::FILE* secret = std::fopen(secret_path.c_str(), "w");
  ::umask(old_mask);
  if (!secret) {
    fmt::print(stderr, "keygen: cannot write {}: {}\n", secret_path, std::strerror(errno));
    return 2;
  }
  ::fchmod(fileno(secret), 0600);
  fmt::print(secret, "# flowlier CURVE secret key: keep private (run --curve-secret)\n{}\n", pair.secret_key);
  const bool secret_ok = std::fclose(secret) == 0;
  std::ofstream pub(public_path, std::ios::trunc);
  pub << "# flowlier CURVE public key (share: --curve-allow on servers, --curve-peer on clients)\n"
      << pair.public_key << "\n";
  pub.flush();
  if (!secret_ok || !pub) {
    fmt::print(stderr, "keygen: cannot write the key files\n");
    return 2;
  }
  fmt::print("{}\n", pair.public_key);
  fmt::print(stderr, "keygen: wrote {} (secret, mode 0600) and {} (public)\n", secret_path, public_path);
  return 0;
}
}  // namespace

void add_keygen_command(CLI::App& app) {
  auto prefix = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("keygen", "Write a CURVE key pair (PREFIX.key secret, PREFIX.pub public)");
  cmd->add_option("prefix", *prefix, "Path prefix of the two files")->required();
  cmd->add_flag("--force", *force, "Overwrite existing files");
  cmd->callback([prefix, force] {
    const int rc = run_keygen(*prefix, *force);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace flowlier::app
