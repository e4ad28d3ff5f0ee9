#include "detectors/CountDetector.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>

#include <boost/math/distributions/negative_binomial.hpp>
#include <boost/math/distributions/poisson.hpp>

#include "detectors/Probability.hpp"
#include "core/StateIo.hpp"

namespace flowlier::detectors {

namespace {
using boost::math::policies::domain_error;
using boost::math::policies::ignore_error;
using boost::math::policies::overflow_error;
using boost::math::policies::policy;
// Double precision throughout: Boost's default promotion to long double costs ~3x on
// the per-window path and buys digits far below the score's resolution.
using Quiet = policy<domain_error<ignore_error>, overflow_error<ignore_error>,
                     boost::math::policies::evaluation_error<ignore_error>,
                     boost::math::policies::promote_double<false>>;

double alpha_for(double half_life) { return 1.0 - std::exp2(-1.0 / std::max(1.0, half_life)); }

// Shrinks the EW mean towards the prior: an entity that never saw an event keeps a
// small but non-zero rate for it.
double shrunk_mean(double mean, std::uint32_t count, const CountConfig& c) {
  const double a = alpha_for(c.half_life);
  const double n_eff = std::min(static_cast<double>(count), (2.0 - a) / a);
  return (mean * n_eff + c.prior_mean * c.prior_weight) / (n_eff + c.prior_weight);
}
}  // namespace

std::string CountConfig::validate() const {
  if (!(half_life >= 1.0) || !std::isfinite(half_life)) return "half_life must be a number >= 1";
  if (!(prior_mean > 0.0) || !std::isfinite(prior_mean)) return "prior_mean must be > 0";
  if (!(prior_weight >= 0.0) || !std::isfinite(prior_weight)) return "prior_weight must be >= 0";
  if (!(band_probability > 0.0 && band_probability < 0.5)) return "band_probability must be in (0, 0.5)";
  if (!(min_dispersion >= 0.0) || !std::isfinite(min_dispersion)) return "min_dispersion must be >= 0";
  return {};
}

double count_scoring_variance(double mean, double variance, const CountConfig& c) noexcept {
  double v = std::max(variance, mean);
  if (c.min_dispersion > 0) v = std::max(v, mean + mean * mean / c.min_dispersion);
  return v;
}

double count_upper_tail(double x, double mean, double variance) noexcept {
  if (!std::isfinite(x) || !std::isfinite(mean)) return 1.0;
  const double k = std::ceil(x);
  if (k <= 0.0) return 1.0;
  const double m = std::max(mean, 1e-9);
  double p;
  if (variance <= m * 1.0001) {
    boost::math::poisson_distribution<double, Quiet> d(m);
    p = boost::math::cdf(boost::math::complement(d, k - 1.0));
  } else {
    // NB(r, q): mean r(1-q)/q, variance r(1-q)/q^2  =>  q = m/v, r = m^2/(v-m).
    const double q = m / variance;
    const double r = m * m / (variance - m);
    boost::math::negative_binomial_distribution<double, Quiet> d(r, q);
    p = boost::math::cdf(boost::math::complement(d, k - 1.0));
  }
  if (!std::isfinite(p)) p = 1.0;
  return clamp_probability(p);
}

double count_upper_quantile(double p, double mean, double variance) noexcept {
  // Doubling then bisection over integers: the tail is monotone in x.
  double hi = std::max(1.0, std::ceil(mean));
  while (count_upper_tail(hi, mean, variance) > p && hi < 1e18) hi *= 2;
  double lo = 0;
  while (hi - lo > 1) {
    const double mid = std::floor((lo + hi) / 2);
    if (count_upper_tail(mid, mean, variance) > p) lo = mid;
    else hi = mid;
  }
  return hi;
}

void CountDetector::update(double x, const CountConfig& c) {
  if (!std::isfinite(x) || x < 0) return;
  if (count_ < UINT32_MAX) ++count_;
  const double a = std::max(alpha_for(c.half_life), 1.0 / count_);
  const double b = std::max(c.variance_half_life >= 1.0 ? alpha_for(c.variance_half_life) : alpha_for(c.half_life),
                            1.0 / count_);
  const double diff = x - mean_;
  mean_ += a * diff;
  variance_ = (1.0 - b) * variance_ + b * (1.0 - a) * diff * diff;
}

DetectorResult CountDetector::score(double x, const CountConfig& c) const {
  DetectorResult r;
  r.value = std::isfinite(x) ? x : 0.0;
  r.warming_up = !is_warm(c);
  const double m = shrunk_mean(mean_, count_, c);
  const double v = count_scoring_variance(m, variance_, c);
  r.expected = count_ == 0 ? r.value : m;
  r.lower = 0;
  r.upper = std::numeric_limits<double>::infinity();
  if (!r.warming_up) r.tail_probability = count_upper_tail(r.value, m, v);
  return r;
}

double CountDetector::upper_bound(const CountConfig& c) const {
  const double m = shrunk_mean(mean_, count_, c);
  return count_upper_quantile(c.band_probability, m, count_scoring_variance(m, variance_, c));
}

double CountDetector::clip_value(const CountConfig& c, double sigmas) const {
  const double m = shrunk_mean(mean_, count_, c);
  return m + sigmas * std::sqrt(count_scoring_variance(m, variance_, c));
}

void CountDetector::save(std::ostream& out) const {
  StateWriter w;
  w.put(mean_);
  w.put(variance_);
  w.put(count_);
  save_record(out, kTag, kVersion, w.bytes());
}

std::string CountDetector::restore(std::istream& in) {
  std::string payload;
  if (auto error = load_record(in, kTag, kVersion, payload); !error.empty()) return error;
  StateReader r(payload);
  CountDetector next;
  r.get(next.mean_);
  r.get(next.variance_);
  r.get(next.count_);
  if (auto error = r.finish(); !error.empty()) return error;
  if (!std::isfinite(next.mean_) || !std::isfinite(next.variance_) || next.variance_ < 0) {
    return "count state holds a non-finite mean or negative variance";
  }
  *this = next;
  return {};
}

std::uint64_t CountDetector::checksum() const {
  StateWriter w;
  w.put(mean_);
  w.put(variance_);
  w.put(count_);
  return fnv1a64(w.bytes());
}

}  // namespace flowlier::detectors
