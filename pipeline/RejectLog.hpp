#pragma once
// Reports rejected input: the first few in full on the diagnostic stream, every one
// (raw input and reason) to an optional rejects file, and a count per reason.
#include <cstdint>
#include <cstdio>
#include <functional>
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
  // Instead of a file: each reject's JSON line (no newline) goes to `writer` (`run
  // --rejects` hands them to a rotating file).
  using Writer = std::function<void(std::string_view line)>;
  void write_rejects_to(Writer writer) { writer_ = std::move(writer); }

  void report(std::string_view source, const Reject& reject);
  std::uint64_t reported() const { return reported_; }

 private:
  std::FILE* diagnostics_;
  std::size_t show_first_;
  std::FILE* rejects_ = nullptr;
  Writer writer_;
  std::uint64_t reported_ = 0;
};

}  // namespace flowlier::pipeline
