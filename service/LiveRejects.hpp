#pragma once
// `run --rejects FILE` ([service] rejects_file): every rejected live record, with its
// source, reason and raw input, one JSON line each, the same lines `normalize
// --rejects` writes (pipeline/RejectLog), in a file rotated like the file sink
// (transport/RotatingFile). Thread-safe: the intake and the follow source report
// from their own threads.
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "pipeline/DecodeSink.hpp"
#include "pipeline/RejectLog.hpp"
#include "transport/RotatingFile.hpp"

namespace flowlier::service {

class LiveRejects {
 public:
  LiveRejects(std::string path, std::uint64_t max_bytes, std::uint32_t max_files);
  std::string open();  // "" or why the file cannot be written
  void report(std::string_view source, const pipeline::Reject& reject);
  // A whole message or chunk in no known format (its first bytes as the raw input).
  void report_unknown_format(std::string_view source, std::string_view text);
  std::uint64_t write_failures() const;

 private:
  mutable std::mutex mutex_;
  transport::RotatingFile file_;
  pipeline::RejectLog log_{nullptr, 0};
  std::uint64_t write_failures_ = 0;
};

}  // namespace flowlier::service
