#pragma once
// Reports rejected input: the first few in full on the diagnostic stream, every one
// (raw input and reason) to an optional rejects file, and a count per reason.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "pipeline/DecodeSink.hpp"

namespace flowlier::pipeline {

class RejectLog {
 public:
  // `diagnostics` may be null (quiet); `rejects_path` empty means no rejects file.
  RejectLog(std::FILE* diagnostics, std::size_t show_first);
  ~RejectLog();
  RejectLog(const RejectLog&) = delete;
  RejectLog& operator=(const RejectLog&) = delete;

  // Returns an empty string, or why the file cannot be written.
  std::string open_rejects_file(const std::string& path);

  void report(std::string_view source, const Reject& reject);
  std::uint64_t reported() const { return reported_; }

 private:
  std::FILE* diagnostics_;
  std::size_t show_first_;
  std::FILE* rejects_ = nullptr;
  std::uint64_t reported_ = 0;
};

}  // namespace flowlier::pipeline
