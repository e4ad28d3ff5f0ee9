#pragma once
// Novelty of first-seen items (peers, ports) for one entity.
//
// Per window the caller reports how many distinct items were new to the entity and
// how many were already known. Each item seen in a window is new with an unknown
// rate p ~ Beta(prior_new + total_new, prior_known + total_known) (Laplace-smoothed
// by default); the number of new items among n = new + known then follows a
// Beta-Binomial, whose upper tail is the result. An entity whose history is stable
// (novelty rare) seeing several new items gets a small p; a chatty entity that sees
// new peers every window gets p near 1. The posterior's concentration is capped
// (max_concentration) so a long quiet history does not make a single new item look
// impossible: novelty comes in bursts, and the cap keeps the tail heavy.
// How bursty is learnt from the entity itself: items of one window are not
// independent (a page load meets thirty new CDN addresses at once), and the
// Beta-Binomial's intra-window correlation rho = 1 / (alpha + beta + 1) is estimated by
// the method of moments over warm windows, E[(k - n pi)^2 / (n pi (1 - pi)) - 1] =
// (n - 1) rho, shrunk towards the cap's rho; the concentration used is then at most
// 1 / rho - 1. A host whose novelty comes thirty at a time is not surprised by
// thirty-five.
// State: four counters (24 bytes) plus config. O(1) update; score sums the tail
// (stops when terms become negligible; at most n - k terms).
#include <cstdint>
#include <iosfwd>
#include <string>

#include "detectors/DetectorResult.hpp"

namespace flowlier::detectors {

struct RarityConfig {
  std::uint32_t min_windows = 10;   // warming up before this many windows
  double prior_new = 1.0;           // Beta pseudo-counts for the per-item novelty rate
  double prior_known = 1.0;
  double max_concentration = 5000.0;  // cap on alpha + beta (item observations trusted)
  double band_sigma = 3.0;          // upper = expected + band_sigma * sd of the Beta-Binomial

  std::string validate() const;
};

class RarityDetector {
 public:
  static constexpr const char* kTag = "rarity";
  static constexpr std::uint32_t kVersion = 2;  // 2: learnt dispersion

  explicit RarityDetector(const RarityConfig& config = {});

  void update(std::uint32_t new_items, std::uint32_t known_items, std::int64_t time_s);
  // value = new_items; expected/lower/upper in items; tail = P(at least new_items new).
  DetectorResult score(std::uint32_t new_items, std::uint32_t known_items, std::int64_t time_s) const;

  void save(std::ostream& out) const;
  std::string restore(std::istream& in);
  std::uint64_t checksum() const;
  std::size_t memory_usage() const { return sizeof(*this); }
  bool is_warm() const { return windows_observed_ >= config_.min_windows; }

  std::uint32_t windows_observed() const { return windows_observed_; }
  std::uint32_t windows_with_novelty() const { return windows_with_novelty_; }
  std::uint64_t distinct_items_seen() const { return total_new_; }

 private:
  std::string payload() const;

  RarityConfig config_;
  std::uint32_t windows_observed_ = 0;
  std::uint32_t windows_with_novelty_ = 0;
  std::uint64_t total_new_ = 0;    // new items over all windows = distinct items seen
  std::uint64_t total_known_ = 0;  // known-item observations over all windows
  double dispersion_sum_ = 0;      // sum over warm windows of (k - n pi)^2 / (n pi (1 - pi)) - 1
  double dispersion_pairs_ = 0;    // sum over the same windows of n - 1
  // The Beta parameters the next window is judged with.
  void posterior(double& alpha, double& beta) const;
};

// P(X >= k) for X ~ BetaBinomial(n, alpha, beta), alpha, beta > 0; clamped to
// [1e-300, 1]. Exposed for tests and for models that pool novelty differently.
double beta_binomial_upper_tail(std::uint64_t k, std::uint64_t n, double alpha, double beta) noexcept;

}  // namespace flowlier::detectors
