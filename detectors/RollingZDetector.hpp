#pragma once
// Mean and sample standard deviation over the trailing `window` observations
// (Boost.Accumulators rolling_mean + rolling_variance); z of a new value against
// them. With window 10 and band_sigma 3 this is Sumo Logic's `outlier` operator
// (mean +- 3 sigma over the trailing 10 points), our reference baseline.
//
// The accumulator cannot be serialised, so the window's values are also kept in a
// small ring; restore re-feeds them. A value is scored against the window *before*
// it is absorbed (score, then update). Non-finite values are ignored.
// Cost: O(1) update and score; memory ~ 2 * window doubles.
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "detectors/DetectorResult.hpp"

namespace flowlier::detectors {

struct RollingZConfig {
  std::uint32_t window = 10;       // trailing observations; >= 2
  std::uint32_t min_samples = 10;  // clamped to window
  Tail tail = Tail::both;
  double band_sigma = 3.0;
  double min_relative_std = 0.01;  // sd floor as a fraction of |mean|
  double min_std = 1e-6;
  bool student_t = true;  // Student-t with n - 1 dof (honest for a 10-point window); else normal

  std::string validate() const;
};

class RollingZDetector {
 public:
  static constexpr const char* kTag = "rolling_z";
  static constexpr std::uint32_t kVersion = 1;

  explicit RollingZDetector(const RollingZConfig& config = {});
  ~RollingZDetector();
  RollingZDetector(const RollingZDetector& other);
  RollingZDetector& operator=(const RollingZDetector& other);
  RollingZDetector(RollingZDetector&&) noexcept;
  RollingZDetector& operator=(RollingZDetector&&) noexcept;

  void update(double value, std::int64_t time_s);
  DetectorResult score(double value, std::int64_t time_s) const;

  void save(std::ostream& out) const;
  std::string restore(std::istream& in);
  std::uint64_t checksum() const;
  std::size_t memory_usage() const;
  bool is_warm() const { return size_ >= config_.min_samples; }

  std::size_t size() const { return size_; }  // values currently in the window
  double mean() const;
  double variance() const;  // sample variance (n - 1), 0 with fewer than 2 values

 private:
  struct Accumulator;
  std::string payload() const;
  void rebuild_accumulator();

  RollingZConfig config_;
  std::vector<double> ring_;  // capacity == window; oldest at head_ once full
  std::uint32_t head_ = 0;
  std::uint32_t size_ = 0;
  std::unique_ptr<Accumulator> accumulator_;
};

}  // namespace flowlier::detectors
