#pragma once
// A fresh directory under the system temp dir, removed with everything in it when the
// object goes (tests write there, never into the checkout).
#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

namespace flowlier::testing {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "flowlier-test") {
    static std::atomic<unsigned> counter{0};
    path = std::filesystem::temp_directory_path() /
           (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)));
    std::filesystem::create_directories(path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace flowlier::testing
