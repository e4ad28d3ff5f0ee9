#include "detectors/RarityDetector.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>

#include <boost/math/special_functions/gamma.hpp>

#include "detectors/Probability.hpp"
#include "core/StateIo.hpp"

namespace flowlier::detectors {
namespace {

// Bounded work per score even for an entity with millions of items in one window.
constexpr std::uint64_t kMaxTailTerms = 1'000'000;

// Double precision throughout, as in Probability.cpp and CountDetector.cpp: Boost's
// default promotes double to long double (x87 logl), which made lgamma the largest
// single cost of scoring a window. Errors still throw (caught in the caller).
using DoublePolicy = boost::math::policies::policy<boost::math::policies::promote_double<false>>;

// boost's lgamma is thread-safe (std::lgamma writes the global signgam).
double lgamma(double x) { return boost::math::lgamma(x, DoublePolicy()); }

double log_beta(double a, double b) { return lgamma(a) + lgamma(b) - lgamma(a + b); }

double log_pmf(std::uint64_t j, std::uint64_t n, double alpha, double beta) {
  const double nj = static_cast<double>(n - j);
  const double jj = static_cast<double>(j);
  const double log_choose = lgamma(static_cast<double>(n) + 1.0) - lgamma(jj + 1.0) - lgamma(nj + 1.0);
  return log_choose + log_beta(jj + alpha, nj + beta) - log_beta(alpha, beta);
}

// pmf(j + 1) / pmf(j)
double pmf_ratio(std::uint64_t j, std::uint64_t n, double alpha, double beta) {
  const double jj = static_cast<double>(j);
  const double nj = static_cast<double>(n - j);
  return nj * (jj + alpha) / ((jj + 1.0) * (nj - 1.0 + beta));
}

RarityConfig sanitized(RarityConfig c) {
  if (!(c.prior_new > 0.0) || !std::isfinite(c.prior_new)) c.prior_new = 1.0;
  if (!(c.prior_known > 0.0) || !std::isfinite(c.prior_known)) c.prior_known = 1.0;
  if (!(c.max_concentration >= 2.0) || !std::isfinite(c.max_concentration)) c.max_concentration = 5000.0;
  if (!(c.band_sigma > 0.0) || !std::isfinite(c.band_sigma)) c.band_sigma = 3.0;
  return c;
}

}  // namespace

double beta_binomial_upper_tail(std::uint64_t k, std::uint64_t n, double alpha, double beta) noexcept {
  if (k == 0) return 1.0;
  if (k > n || !(alpha > 0.0) || !(beta > 0.0)) return k > n ? kMinTailProbability : 1.0;
  try {
    const double mean = static_cast<double>(n) * alpha / (alpha + beta);
    if (static_cast<double>(k) <= mean) {
      // The tail is large here: 1 - cdf(k - 1) loses nothing that matters.
      double term = std::exp(log_pmf(0, n, alpha, beta));
      double cdf = 0.0;
      for (std::uint64_t j = 0; j < k && j < kMaxTailTerms; ++j) {
        cdf += term;
        term *= pmf_ratio(j, n, alpha, beta);
      }
      return clamp_probability(1.0 - cdf);
    }
    // Sum upward from k in log-scaled form; past the mean the terms only shrink.
    const double log_first = log_pmf(k, n, alpha, beta);
    double relative = 1.0;  // pmf(j) / pmf(k)
    double sum = 0.0;
    for (std::uint64_t j = k, steps = 0; j <= n && steps < kMaxTailTerms; ++j, ++steps) {
      sum += relative;
      if (relative < sum * 1e-17) break;
      if (j < n) relative *= pmf_ratio(j, n, alpha, beta);
    }
    return clamp_probability(std::exp(log_first + std::log(sum)));
  } catch (...) {  // boost::math on pathological arguments; no evidence either way
    return 1.0;
  }
}

std::string RarityConfig::validate() const {
  if (!(prior_new > 0.0) || !std::isfinite(prior_new)) return "prior_new must be > 0";
  if (!(prior_known > 0.0) || !std::isfinite(prior_known)) return "prior_known must be > 0";
  if (!(max_concentration >= 2.0) || !std::isfinite(max_concentration)) return "max_concentration must be >= 2";
  if (!(band_sigma > 0.0) || !std::isfinite(band_sigma)) return "band_sigma must be > 0";
  return {};
}

RarityDetector::RarityDetector(const RarityConfig& config) : config_(sanitized(config)) {}

namespace {
// Item pairs the prior dispersion (the cap's) is worth: a few hundred windows of a
// host that meets a handful of items each.
constexpr double kPriorPairs = 1000;
}  // namespace

void RarityDetector::posterior(double& alpha, double& beta) const {
  alpha = config_.prior_new + static_cast<double>(total_new_);
  beta = config_.prior_known + static_cast<double>(total_known_);
  const double rho_cap = 1.0 / (config_.max_concentration + 1.0);
  const double rho = std::clamp((dispersion_sum_ + rho_cap * kPriorPairs) / (dispersion_pairs_ + kPriorPairs),
                                rho_cap, 0.5);
  const double concentration = std::min(config_.max_concentration, 1.0 / rho - 1.0);
  if (alpha + beta > concentration) {
    const double shrink = concentration / (alpha + beta);
    alpha *= shrink;
    beta *= shrink;
  }
}

void RarityDetector::update(std::uint32_t new_items, std::uint32_t known_items, std::int64_t /*time_s*/) {
  const std::uint64_t n = std::uint64_t{new_items} + known_items;
  if (is_warm() && n >= 2) {
    // Against the pooled rate (not the shrunk posterior): the moment is about the
    // spread of windows around the entity's own novelty rate.
    const double pi = (config_.prior_new + static_cast<double>(total_new_)) /
                      (config_.prior_new + config_.prior_known + static_cast<double>(total_new_ + total_known_));
    const double nd = static_cast<double>(n);
    const double var = nd * pi * (1.0 - pi);
    if (var > 0.0) {
      const double d = static_cast<double>(new_items) - nd * pi;
      dispersion_sum_ += d * d / var - 1.0;
      dispersion_pairs_ += nd - 1.0;
    }
  }
  if (windows_observed_ < UINT32_MAX) ++windows_observed_;
  if (new_items > 0 && windows_with_novelty_ < UINT32_MAX) ++windows_with_novelty_;
  total_new_ += new_items;
  total_known_ += known_items;
}

DetectorResult RarityDetector::score(std::uint32_t new_items, std::uint32_t known_items,
                                     std::int64_t /*time_s*/) const {
  DetectorResult result;
  result.value = new_items;
  result.warming_up = !is_warm();
  double alpha = 0, beta = 0;
  posterior(alpha, beta);
  const std::uint64_t n = std::uint64_t{new_items} + known_items;
  const double nd = static_cast<double>(n);
  const double s = alpha + beta;
  result.expected = nd * alpha / s;
  const double variance = nd * alpha * beta * (s + nd) / (s * s * (s + 1.0));
  result.lower = 0.0;
  result.upper = std::min(nd, result.expected + config_.band_sigma * std::sqrt(variance));
  if (!result.warming_up) result.tail_probability = beta_binomial_upper_tail(new_items, n, alpha, beta);
  return result;
}

std::string RarityDetector::payload() const {
  StateWriter writer;
  writer.put(windows_observed_);
  writer.put(windows_with_novelty_);
  writer.put(total_new_);
  writer.put(total_known_);
  writer.put(dispersion_sum_);
  writer.put(dispersion_pairs_);
  return writer.take();
}

void RarityDetector::save(std::ostream& out) const { save_record(out, kTag, kVersion, payload()); }

std::uint64_t RarityDetector::checksum() const { return fnv1a64(payload()); }

std::string RarityDetector::restore(std::istream& in) {
  std::string bytes;
  if (std::string error = load_record(in, kTag, kVersion, bytes, 256); !error.empty()) return error;
  StateReader reader(bytes);
  RarityDetector next(config_);
  reader.get(next.windows_observed_);
  reader.get(next.windows_with_novelty_);
  reader.get(next.total_new_);
  reader.get(next.total_known_);
  reader.get(next.dispersion_sum_);
  reader.get(next.dispersion_pairs_);
  if (reader.ok() && next.windows_with_novelty_ > next.windows_observed_) {
    reader.fail("more windows with novelty than windows observed");
  }
  if (reader.ok() && (!std::isfinite(next.dispersion_sum_) || !std::isfinite(next.dispersion_pairs_) ||
                      next.dispersion_pairs_ < 0)) {
    reader.fail("dispersion sums are not finite");
  }
  if (std::string error = reader.finish(); !error.empty()) return "rarity: " + error;
  *this = next;
  return {};
}

}  // namespace flowlier::detectors
