#include "pipeline/InputFiles.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

namespace flowlier::pipeline {

namespace fs = std::filesystem;

InputList expand_inputs(const std::vector<std::string>& paths) {
  InputList list;
  for (const auto& path : paths) {
    if (path == "-") {
      list.files.push_back(path);
      continue;
    }
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      list.errors.push_back(fmt::format("{}: no such file or directory", path));
      continue;
    }
    if (!fs::is_directory(status)) {
      list.files.push_back(path);
      continue;
    }
    std::vector<fs::path> found;
    for (fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
      const auto name = it->path().filename().string();
      if (!name.empty() && name[0] == '.') {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file()) found.push_back(it->path());
    }
    if (ec) list.errors.push_back(fmt::format("{}: cannot list directory: {}", path, ec.message()));
    std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
      const auto fa = a.filename().string();
      const auto fb = b.filename().string();
      return fa != fb ? fa < fb : a < b;
    });
    if (found.empty() && !ec) list.errors.push_back(fmt::format("{}: directory holds no files", path));
    for (auto& f : found) list.files.push_back(f.string());
  }
  return list;
}

}  // namespace flowlier::pipeline
