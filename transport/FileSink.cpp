#include "transport/FileSink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "transport/RotatingFile.hpp"

namespace flowlier::transport {

FileSink::FileSink(SinkConfig config, std::string& error) : config_(std::move(config)) {
  if (config_.type == SinkType::stdout_) {
    out_ = stdout;
    return;
  }
  cut_torn_line(config_.path);
  out_ = std::fopen(config_.path.c_str(), "ab");
  if (!out_) {
    error = fmt::format("{}: cannot open {}: {}", config_.redacted(), config_.path, std::strerror(errno));
    return;
  }
  std::error_code ec;
  size_ = std::filesystem::file_size(config_.path, ec);
}

// A kill -9 mid-write can leave a last line without its newline: cut it, so the file
// stays JSON Lines (its event comes again from the episode journal or the spool).
void FileSink::cut_torn_line(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    off_t end = st.st_size;
    char block[4096];
    off_t keep = -1;
    while (end > 0 && keep < 0) {
      const off_t start = std::max<off_t>(0, end - static_cast<off_t>(sizeof block));
      const ssize_t n = ::pread(fd, block, static_cast<std::size_t>(end - start), start);
      if (n <= 0) break;
      for (ssize_t i = n - 1; i >= 0; --i) {
        if (block[i] == '\n') {
          keep = start + i + 1;
          break;
        }
      }
      end = start;
    }
    if (keep < 0) keep = 0;
    if (keep < st.st_size && ::ftruncate(fd, keep) == 0) {
      ::fsync(fd);
      ++counters_.torn_lines_cut;
    }
  }
  ::close(fd);
}

FileSink::~FileSink() {
  if (out_ && out_ != stdout) std::fclose(out_);
  else if (out_) std::fflush(out_);
}

bool FileSink::rotate() {
  std::fclose(out_);
  out_ = nullptr;
  rotate_files(config_.path, config_.max_files);
  out_ = std::fopen(config_.path.c_str(), "ab");
  size_ = 0;
  return out_ != nullptr;
}

void FileSink::push(const SinkEvent& event) {
  std::lock_guard lock(mutex_);
  ++counters_.received;
  if (event.meta.severity < config_.min_severity) {
    ++counters_.filtered;
    return;
  }
  if (config_.type == SinkType::file && out_ && size_ > 0 && size_ + event.json.size() + 1 > config_.max_bytes &&
      !rotate())
    counters_.last_error = fmt::format("cannot reopen {}: {}", config_.path, std::strerror(errno));
  if (!out_ || std::fwrite(event.json.data(), 1, event.json.size(), out_) != event.json.size() ||
      std::fputc('\n', out_) == EOF) {
    ++counters_.dropped;
    return;
  }
  // Written through to the file (and to disk for a file sink) before it counts as
  // delivered: an event is rare, a lost one is not.
  if (std::fflush(out_) != 0 || (config_.type == SinkType::file && ::fdatasync(::fileno(out_)) != 0)) {
    ++counters_.dropped;
    counters_.last_error = fmt::format("cannot write {}: {}", config_.path, std::strerror(errno));
    return;
  }
  size_ += event.json.size() + 1;
  ++counters_.delivered;
}

bool FileSink::flush(std::chrono::milliseconds) {
  std::lock_guard lock(mutex_);
  return out_ && std::fflush(out_) == 0;
}

SinkCounters FileSink::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace flowlier::transport
