#include "transport/FileSink.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace flowlier::transport {

FileSink::FileSink(SinkConfig config, std::string& error) : config_(std::move(config)) {
  if (config_.type == SinkType::stdout_) {
    out_ = stdout;
    return;
  }
  out_ = std::fopen(config_.path.c_str(), "ab");
  if (!out_) {
    error = fmt::format("{}: cannot open {}: {}", config_.redacted(), config_.path, std::strerror(errno));
    return;
  }
  std::error_code ec;
  size_ = std::filesystem::file_size(config_.path, ec);
}

FileSink::~FileSink() {
  if (out_ && out_ != stdout) std::fclose(out_);
  else if (out_) std::fflush(out_);
}

bool FileSink::rotate() {
  std::fclose(out_);
  out_ = nullptr;
  std::error_code ec;
  const auto& p = config_.path;
  if (config_.max_files == 0) {
    std::filesystem::remove(p, ec);
  } else {
    std::filesystem::remove(fmt::format("{}.{}", p, config_.max_files), ec);
    for (auto i = config_.max_files; i > 1; --i)
      std::filesystem::rename(fmt::format("{}.{}", p, i - 1), fmt::format("{}.{}", p, i), ec);
    std::filesystem::rename(p, p + ".1", ec);
  }
  out_ = std::fopen(p.c_str(), "ab");
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
