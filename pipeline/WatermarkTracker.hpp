#pragma once
// Decides when windows may close: the watermark is the newest event time seen minus
// the allowed lateness, and it matters only when it crosses a window boundary.
// The replay driver and the live ingest stage both run one over the same record
// stream, which is what makes a sharded run close windows exactly where a
// single-process run does.
#include <cstdint>
#include <optional>

#include "core/TimeMath.hpp"
#include "pipeline/FlowRecord.hpp"

namespace flowlier::pipeline {

class WatermarkTracker {
 public:
  WatermarkTracker(std::int64_t window_seconds, std::int64_t allowed_lateness_seconds)
      : window_(window_seconds), lateness_(allowed_lateness_seconds) {}

  // Returns the new close point (a window boundary, Unix seconds) when this record
  // moves the watermark across one, else nullopt.
  std::optional<std::int64_t> observe(const FlowRecord& record) {
    if (!record.has(Field::start) && !record.has(Field::end)) return std::nullopt;
    const std::int64_t t = (record.has(Field::start) ? record.start_ns : record.end_ns) / 1'000'000'000;
    return observe_time(t);
  }

  std::optional<std::int64_t> observe_time(std::int64_t t) {
    if (t <= newest_) return std::nullopt;
    newest_ = t;
    const std::int64_t boundary = core::window_start(t - lateness_, window_);
    if (boundary <= close_point_) return std::nullopt;
    close_point_ = boundary;
    return boundary;
  }

  // Whether the window holding event time t had closed at `close_point`: a record that
  // comes after that is late.
  static bool is_closed(std::int64_t t, std::int64_t window, std::int64_t close_point) {
    return core::window_start(t, window) + window <= close_point;
  }

  std::int64_t close_point() const { return close_point_; }
  std::int64_t newest() const { return newest_; }
  void restore(std::int64_t newest, std::int64_t close_point) {
    newest_ = newest;
    close_point_ = close_point;
  }

 private:
  std::int64_t window_;
  std::int64_t lateness_;
  std::int64_t newest_ = INT64_MIN / 2;
  std::int64_t close_point_ = INT64_MIN / 2;
};

}  // namespace flowlier::pipeline
