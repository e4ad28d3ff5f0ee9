// libFuzzer target: the --follow read positions a restarted service reads back from
// `<state>.follow` (FileFollower::restore_checkpoints). Any text is either refused or
// accepted; an accepted one must leave a follower that polls without harm, and what it
// then saves must read back. A real followed file (three lines) sits in a scratch
// directory, so checkpoints naming it (by chance or from the seeds) are resumed.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "transport/FileFollower.hpp"

namespace {
using namespace flowlier::transport;

// One scratch directory per process, removed at exit (fork mode starts many processes).
struct ScratchDir {
  std::string path;
  ScratchDir() {
    const auto d = std::filesystem::temp_directory_path() / ("fuzz-follow-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    path = d.string();
    std::ofstream(path + "/flows.log") << "version srcaddr\n2 10.0.0.1\n2 10.0.0.2\n";
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

const std::string& scratch() {
  static const ScratchDir dir;
  return dir.path;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  FileFollower::Options options;
  options.gzip_settle = std::chrono::milliseconds(0);
  FileFollower follower({scratch() + "/flows.log"}, options);
  if (!follower.restore_checkpoints(text)) return 0;
  std::size_t bytes = 0;
  follower.poll([&](std::string&& chunk) { bytes += chunk.size(); });
  if (bytes > 4096) std::abort();  // never more than the file holds
  FileFollower again({scratch() + "/flows.log"}, options);
  if (!again.restore_checkpoints(follower.checkpoints())) std::abort();
  return 0;
}
