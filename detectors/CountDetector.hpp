#pragma once
// Counts per window (flows, distinct peers, rejected flows, ...) against an
// exponentially weighted negative-binomial baseline.
//
// A Gaussian on counts fails both ways: an entity with 0-2 rejects per window gets a
// tiny variance and pages on every 3, and a Gaussian tail on a heavy-tailed count is
// far too thin. The negative binomial with the EW mean m and variance v of the
// counts (Poisson when v <= m) gives a calibrated P(X >= x) for small and large
// counts alike. The mean is shrunk towards a prior of `prior_mean` with weight
// `prior_weight` windows, so an entity that has never had a reject does not make
// a single one impossible.
// State: two doubles and a counter (the config is shared by the caller: the
// per-entity part stays 24 bytes).
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string>

#include "detectors/DetectorResult.hpp"

namespace flowlier::detectors {

struct CountConfig {
  double half_life = 30.0;         // in windows
  double variance_half_life = 0.0;  // the spread's memory; 0 = half_life
  std::uint32_t min_samples = 20;  // warming up before this many windows
  double prior_mean = 0.5;         // pseudo-observation pulled into the mean...
  double prior_weight = 1.0;       // ...with this many windows of weight
  double band_probability = 1e-3;  // bounds: the (1 - p) quantile of the predictive
  // Real traffic counts are never as regular as Poisson: the variance is at least
  // m + m^2 / min_dispersion (a gamma-Poisson with shape min_dispersion), so a
  // doubling of a busy count is unusual, not impossible. 0 = no floor.
  double min_dispersion = 10.0;
  std::string validate() const;
};

class CountDetector {
 public:
  static constexpr const char* kTag = "count";
  static constexpr std::uint32_t kVersion = 1;

  void update(double count, const CountConfig& config);
  // value = count; expected = m; tail = P(X >= count). upper is left at +infinity:
  // the band quantile costs a search, so callers ask upper_bound() when they need it.
  DetectorResult score(double count, const CountConfig& config) const;
  // The band's upper edge: the smallest count with P(X >= count) <= band_probability.
  double upper_bound(const CountConfig& config) const;
  // mean + sigmas * sd of the scoring distribution: where an improbable window is
  // clipped before it updates the baseline. Not the band edge: on small, skewed
  // counts that edge lies 6+ sd out, and a sustained attack clipped there inflates
  // the spread window after window until it is learnt.
  double clip_value(const CountConfig& config, double sigmas) const;

  void save(std::ostream& out) const;
  std::string restore(std::istream& in);
  std::uint64_t checksum() const;
  std::size_t memory_usage() const { return sizeof(*this); }
  bool is_warm(const CountConfig& config) const { return count_ >= config.min_samples; }
  double mean() const { return mean_; }
  double variance() const { return variance_; }
  std::uint32_t count() const { return count_; }

 private:
  double mean_ = 0.0;
  double variance_ = 0.0;
  std::uint32_t count_ = 0;
};

// The variance used for scoring: the estimate, floored by Poisson and by the
// minimum overdispersion of the config.
double count_scoring_variance(double mean, double variance, const CountConfig& config) noexcept;

// P(X >= x) for a negative binomial with mean m and variance v (Poisson when v <= m),
// clamped to [1e-300, 1]. Non-integer x is rounded up.
double count_upper_tail(double x, double mean, double variance) noexcept;
// The smallest x with P(X >= x) <= p: an upper bound for explanations.
double count_upper_quantile(double p, double mean, double variance) noexcept;

}  // namespace flowlier::detectors
