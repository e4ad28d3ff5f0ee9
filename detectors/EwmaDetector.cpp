#include "detectors/EwmaDetector.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>

#include "detectors/Probability.hpp"
#include "core/StateIo.hpp"

namespace flowlier::detectors {
namespace {

// Below this effective sample size the variance estimate is itself uncertain enough
// that a Student-t tail is noticeably heavier than the normal one.
constexpr double kStudentTUntil = 30.0;

double finite_or(double value, double fallback) { return std::isfinite(value) ? value : fallback; }

}  // namespace

std::string EwmaConfig::validate() const {
  if (!(half_life >= 1.0) || !std::isfinite(half_life)) return "half_life must be a number >= 1";
  if (!(band_sigma > 0.0) || !std::isfinite(band_sigma)) return "band_sigma must be > 0";
  if (!(min_relative_std >= 0.0) || !std::isfinite(min_relative_std)) {
    return "min_relative_std must be >= 0";
  }
  if (!(min_std > 0.0) || !std::isfinite(min_std)) return "min_std must be > 0";
  if (tail != Tail::upper && tail != Tail::lower && tail != Tail::both) return "tail is invalid";
  return {};
}

EwmaDetector::EwmaDetector(const EwmaConfig& config)
    : min_samples_(config.min_samples),
      // Weight of a sample halves after half_life later samples: (1 - a)^h = 1/2.
      alpha_(static_cast<float>(1.0 - std::exp2(-1.0 / std::max(1.0, finite_or(config.half_life, 30.0))))),
      variance_alpha_(config.variance_half_life >= 1.0 && std::isfinite(config.variance_half_life)
                          ? static_cast<float>(1.0 - std::exp2(-1.0 / config.variance_half_life))
                          : alpha_),
      band_sigma_(static_cast<float>(config.band_sigma > 0.0 ? finite_or(config.band_sigma, 3.0) : 3.0)),
      min_relative_std_(static_cast<float>(std::max(0.0, finite_or(config.min_relative_std, 0.0)))),
      min_std_(static_cast<float>(config.min_std > 0.0 ? finite_or(config.min_std, 1e-6) : 1e-6)),
      tail_(config.tail == Tail::lower || config.tail == Tail::both ? config.tail : Tail::upper),
      student_t_(config.student_t_while_young) {}

void EwmaDetector::update(double value, std::int64_t /*time_s*/) {
  if (!std::isfinite(value)) return;
  if (count_ < UINT32_MAX) ++count_;
  const double a = std::max(static_cast<double>(alpha_), 1.0 / count_);
  const double b = std::max(static_cast<double>(variance_alpha_), 1.0 / count_);
  const double diff = value - mean_;
  mean_ += a * diff;
  // West's EW variance with its own (possibly slower) forgetting b; when b == a it
  // is the classic (1 - a)(v + a d^2).
  variance_ = (1.0 - b) * variance_ + b * (1.0 - a) * diff * diff;
}

DetectorResult EwmaDetector::score(double value, std::int64_t /*time_s*/) const {
  DetectorResult result;
  result.value = std::isfinite(value) ? value : 0.0;
  result.warming_up = !is_warm();
  if (count_ == 0) {
    result.expected = result.lower = result.upper = result.value;
    return result;
  }
  // Effective sample size of the EW average: n while a = 1/n, then (2 - a) / a.
  const double alpha = alpha_;
  const double n_eff = std::min(static_cast<double>(count_), (2.0 - alpha) / alpha);
  // Bessel-style correction: the EW variance is a population-style estimate.
  double variance = variance_;
  if (n_eff > 1.0) variance *= n_eff / (n_eff - 1.0);
  const double floor = std::max(static_cast<double>(min_std_), min_relative_std_ * std::abs(mean_));
  const double sd = std::max(std::sqrt(variance), floor);
  result.expected = mean_;
  result.lower = mean_ - band_sigma_ * sd;
  result.upper = mean_ + band_sigma_ * sd;
  if (result.warming_up || !std::isfinite(value)) return result;
  const double z = (value - mean_) / sd;
  if (student_t_ && n_eff < kStudentTUntil && n_eff > 1.0) {
    result.tail_probability = student_t_tail(z, n_eff - 1.0, tail_);
  } else {
    result.tail_probability = normal_tail(z, tail_);
  }
  return result;
}

std::string EwmaDetector::payload() const {
  StateWriter writer;
  writer.put(mean_);
  writer.put(variance_);
  writer.put(count_);
  return writer.take();
}

void EwmaDetector::save(std::ostream& out) const { save_record(out, kTag, kVersion, payload()); }

std::uint64_t EwmaDetector::checksum() const { return fnv1a64(payload()); }

std::string EwmaDetector::restore(std::istream& in) {
  std::string bytes;
  if (std::string error = load_record(in, kTag, kVersion, bytes, 1024); !error.empty()) {
    return error;
  }
  StateReader reader(bytes);
  EwmaDetector next = *this;
  reader.get(next.mean_);
  reader.get(next.variance_);
  reader.get(next.count_);
  if (reader.ok() && (!std::isfinite(next.mean_) || !std::isfinite(next.variance_) ||
                      next.variance_ < 0.0)) {
    reader.fail("ewma state has a non-finite mean or an invalid variance");
  }
  if (std::string error = reader.finish(); !error.empty()) return "ewma: " + error;
  *this = next;
  return {};
}

}  // namespace flowlier::detectors
