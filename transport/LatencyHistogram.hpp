#pragma once
// A Prometheus-style latency histogram with fixed bucket bounds, safe to observe from
// one thread while another renders it (relaxed atomics: a scrape may see a bucket
// a moment ahead of the count, which Prometheus tolerates).
#include <array>
#include <atomic>
#include <cstdint>

namespace flowlier::transport {

class LatencyHistogram {
 public:
  // Upper bounds in seconds, 100 us .. 10 s; +Inf is implicit.
  static constexpr std::array<double, 12> kBounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                  0.01,   0.025,   0.05,   0.1,   1.0,    10.0};

  void observe(double seconds) {
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
      if (seconds <= kBounds[i]) {
        buckets_[i].fetch_add(1, std::memory_order_relaxed);
        break;
      }
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    // Sum in nanoseconds as an integer, so it stays atomic without a CAS loop.
    sum_ns_.fetch_add(static_cast<std::uint64_t>(seconds > 0 ? seconds * 1e9 : 0), std::memory_order_relaxed);
  }

  // Non-cumulative count of bucket i (observations in (kBounds[i-1], kBounds[i]]).
  std::uint64_t bucket(std::size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum_seconds() const { return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9; }

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size()> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace flowlier::transport
