#include "transport/RotatingFile.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace flowlier::transport {

void rotate_files(const std::string& path, std::uint32_t max_files) {
  std::error_code ec;
  if (max_files == 0) {
    std::filesystem::remove(path, ec);
    return;
  }
  std::filesystem::remove(fmt::format("{}.{}", path, max_files), ec);
  for (auto i = max_files; i > 1; --i) std::filesystem::rename(fmt::format("{}.{}", path, i - 1), fmt::format("{}.{}", path, i), ec);
  std::filesystem::rename(path, path + ".1", ec);
}

RotatingFile::~RotatingFile() {
  if (out_) std::fclose(out_);
}

std::string RotatingFile::open() {
  out_ = std::fopen(path_.c_str(), "ab");
  if (!out_) return fmt::format("{}: cannot write: {}", path_, std::strerror(errno));
  std::error_code ec;
  size_ = std::filesystem::file_size(path_, ec);
  if (ec) size_ = 0;
  return {};
}

bool RotatingFile::write_line(std::string_view line) {
  if (out_ && size_ > 0 && size_ + line.size() + 1 > max_bytes_) {
    std::fclose(out_);
    rotate_files(path_, max_files_);
    out_ = std::fopen(path_.c_str(), "ab");
    size_ = 0;
  }
  if (!out_ || std::fwrite(line.data(), 1, line.size(), out_) != line.size() || std::fputc('\n', out_) == EOF ||
      std::fflush(out_) != 0) {
    return false;
  }
  size_ += line.size() + 1;
  return true;
}

}  // namespace flowlier::transport
