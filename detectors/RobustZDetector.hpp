#pragma once
// Median and MAD over the trailing `window` observations (a float ring buffer);
// robust z = (value - median) / (1.4826 * MAD), MAD floored so a window with more
// than half identical values (MAD = 0) does not make every change infinite.
// Median and MAD are recomputed on update (O(window) with nth_element), so score is
// O(1) and const. Values are scored against the window before they are absorbed.
// Non-finite values are ignored.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "detectors/DetectorResult.hpp"

namespace flowlier::detectors {

struct RobustZConfig {
  std::uint32_t window = 60;       // trailing observations; >= 3
  std::uint32_t min_samples = 20;  // clamped to window
  Tail tail = Tail::upper;
  double band_sigma = 3.0;         // band = median +- band_sigma * scaled MAD
  double min_relative_mad = 0.01;  // scaled-MAD floor as a fraction of |median|
  double min_mad = 1e-6;           // absolute floor

  std::string validate() const;
};

class RobustZDetector {
 public:
  static constexpr const char* kTag = "robust_z";
  static constexpr std::uint32_t kVersion = 1;
  static constexpr double kMadToSigma = 1.4826;  // MAD of a normal = 0.6745 sigma

  explicit RobustZDetector(const RobustZConfig& config = {});

  void update(double value, std::int64_t time_s);
  DetectorResult score(double value, std::int64_t time_s) const;

  void save(std::ostream& out) const;
  std::string restore(std::istream& in);
  std::uint64_t checksum() const;
  std::size_t memory_usage() const { return sizeof(*this) + ring_.capacity() * sizeof(float); }
  bool is_warm() const { return ring_.size() >= config_.min_samples; }

  std::size_t size() const { return ring_.size(); }
  double median() const { return median_; }
  double mad() const { return mad_; }  // raw MAD (not scaled by 1.4826)

 private:
  std::string payload() const;
  void recompute();

  RobustZConfig config_;
  std::vector<float> ring_;  // grows to `window`, then overwritten at head_
  std::uint32_t head_ = 0;
  float median_ = 0.0f;
  float mad_ = 0.0f;
};

}  // namespace flowlier::detectors
