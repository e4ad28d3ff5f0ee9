#pragma once
// `file` (JSON Lines, size-rotated: path -> path.1 -> ... path.<max_files>) and
// `stdout` sinks. Synchronous: push writes the line through (flush, and fdatasync for
// `file`) before counting it delivered; a torn last line left by a crash is cut on open.
#include <cstdio>
#include <mutex>

#include "transport/Sink.hpp"
#include "transport/SinkConfig.hpp"

namespace flowlier::transport {

class FileSink final : public Sink {
 public:
  // For type file, opens (appends to) config.path; `error` set on failure.
  FileSink(SinkConfig config, std::string& error);
  ~FileSink() override;
  const std::string& id() const override { return config_.id; }
  void push(const SinkEvent& event) override;
  bool try_push(const SinkEvent& event) override {
    push(event);
    return true;
  }
  bool flush(std::chrono::milliseconds timeout) override;
  SinkCounters counters() const override;

 private:
  bool rotate();
  void cut_torn_line(const std::string& path);
  SinkConfig config_;
  std::FILE* out_ = nullptr;
  std::uint64_t size_ = 0;
  mutable std::mutex mutex_;
  SinkCounters counters_;
};

}  // namespace flowlier::transport
