#include "service/LiveRejects.hpp"

namespace flowlier::service {

LiveRejects::LiveRejects(std::string path, std::uint64_t max_bytes, std::uint32_t max_files)
    : file_(std::move(path), max_bytes, max_files) {
  log_.write_rejects_to([this](std::string_view line) {
    if (!file_.write_line(line)) ++write_failures_;
  });
}

std::string LiveRejects::open() {
  std::lock_guard lock(mutex_);
  return file_.open();
}

void LiveRejects::report(std::string_view source, const pipeline::Reject& reject) {
  std::lock_guard lock(mutex_);
  log_.report(source, reject);
}

void LiveRejects::report_unknown_format(std::string_view source, std::string_view text) {
  // As much of the input as a text line may hold; the message says how much there was.
  const std::string message = "no known flow log format (" + std::to_string(text.size()) + " bytes)";
  report(source, pipeline::Reject{pipeline::RejectReason::unknown_format, 0, text.substr(0, 4096), message});
}

std::uint64_t LiveRejects::write_failures() const {
  std::lock_guard lock(mutex_);
  return write_failures_;
}

}  // namespace flowlier::service
