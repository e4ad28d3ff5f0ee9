#pragma once
// Exponentially weighted mean and variance of one feature of one entity.
//
// Update: West/Finch incremental EW moments with weight a = max(alpha, 1/n), so the
// first samples form an ordinary average (no start-up bias) and later ones decay with
// the configured half-life. Score: z = (value - mean) / sd with sd floored relative
// to |mean| (a flat series must not make every tiny change infinitely unlikely); the
// tail comes from a Student-t with (effective n - 1) dof while the baseline is young,
// from the normal afterwards. The time argument is accepted for interface uniformity
// and not used (the detector counts samples, not seconds).
//
// Per-instance state is a few scalars (<= 48 bytes, no heap): one per entity and
// feature. Saved state holds the learned moments only; parameters come from config.
// Non-finite values are ignored by update() and score with tail probability 1.
// Cost: O(1) update and score. Not thread-safe for concurrent update.
#include <cstdint>
#include <iosfwd>
#include <string>

#include "detectors/DetectorResult.hpp"

namespace flowlier::detectors {

struct EwmaConfig {
  double half_life = 30.0;          // in samples; must be >= 1
  // The spread may be remembered longer than the level: a level that follows the
  // daily cycle, judged against the spread of the last day (bursts a few times a
  // day stay normal). 0 = the same as half_life.
  double variance_half_life = 0.0;
  std::uint32_t min_samples = 20;   // warming up before this many observations
  Tail tail = Tail::upper;
  double band_sigma = 3.0;          // band = expected +- band_sigma * sd
  double min_relative_std = 0.01;   // sd floor as a fraction of |mean|
  double min_std = 1e-6;            // absolute sd floor (a series flat at 0)
  bool student_t_while_young = true;  // Student-t until the effective n reaches 30

  // "" if valid, else a message naming the offending parameter.
  std::string validate() const;
};

class EwmaDetector {
 public:
  static constexpr const char* kTag = "ewma";
  static constexpr std::uint32_t kVersion = 1;

  // Invalid parameters are clamped to the nearest valid value (validate() first).
  explicit EwmaDetector(const EwmaConfig& config = {});

  void update(double value, std::int64_t time_s);
  DetectorResult score(double value, std::int64_t time_s) const;

  void save(std::ostream& out) const;
  std::string restore(std::istream& in);
  std::uint64_t checksum() const;
  std::size_t memory_usage() const { return sizeof(*this); }
  bool is_warm() const { return count_ >= min_samples_; }

  double mean() const { return mean_; }
  double variance() const { return variance_; }  // EW (population-style) variance
  std::uint32_t count() const { return count_; }  // saturates at UINT32_MAX

 private:
  std::string payload() const;

  double mean_ = 0.0;
  double variance_ = 0.0;
  std::uint32_t count_ = 0;
  std::uint32_t min_samples_;
  float alpha_;
  float variance_alpha_;
  float band_sigma_;
  float min_relative_std_;
  float min_std_;
  Tail tail_;
  bool student_t_;
};

}  // namespace flowlier::detectors
