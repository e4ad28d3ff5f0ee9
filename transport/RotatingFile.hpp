#pragma once
// An append-only line file rotated by size: path -> path.1 -> ... path.<max_files>
// (0 files: the full file is removed). The rotation of the `file` sink, and the
// writer of `run --rejects`. Lines are flushed to the OS, not fdatasync'd: callers
// that need each line on disk (the file sink) sync themselves. Not thread-safe.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace flowlier::transport {

// Shifts path.<i> to path.<i+1> (dropping path.<max_files>) and path to path.1.
void rotate_files(const std::string& path, std::uint32_t max_files);

class RotatingFile {
 public:
  RotatingFile(std::string path, std::uint64_t max_bytes, std::uint32_t max_files)
      : path_(std::move(path)), max_bytes_(max_bytes), max_files_(max_files) {}
  ~RotatingFile();
  RotatingFile(const RotatingFile&) = delete;
  RotatingFile& operator=(const RotatingFile&) = delete;

  // Opens (appends to) the file; "" or why it cannot.
  std::string open();
  // Writes `line` and a newline, rotating first when it would pass max_bytes; false
  // when it could not be written.
  bool write_line(std::string_view line);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::uint64_t max_bytes_;
  std::uint32_t max_files_;
  std::FILE* out_ = nullptr;
  std::uint64_t size_ = 0;
};

}  // namespace flowlier::transport
