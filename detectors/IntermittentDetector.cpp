#include "detectors/IntermittentDetector.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>
#include <sstream>

#include "detectors/Probability.hpp"
#include "core/StateIo.hpp"

namespace flowlier::detectors {

namespace {
double alpha_for(double half_life) { return 1.0 - std::exp2(-1.0 / std::max(1.0, half_life)); }

}  // namespace

std::string IntermittentConfig::validate() const {
  auto positive = [](double v) { return v > 0 && std::isfinite(v); };
  if (!(activity_half_life >= 1) || !std::isfinite(activity_half_life)) return "activity_half_life must be >= 1";
  if (!(activity_prior > 0 && activity_prior < 1)) return "activity_prior must be in (0, 1)";
  if (!(activity_prior_weight >= 0) || !std::isfinite(activity_prior_weight)) {
    return "activity_prior_weight must be >= 0";
  }
  if (!(level_half_life >= 1) || !std::isfinite(level_half_life)) return "level_half_life must be >= 1";
  if (!(spread_half_life >= 1) || !std::isfinite(spread_half_life)) return "spread_half_life must be >= 1";
  if (!positive(tail_dof)) return "tail_dof must be > 0";
  if (!(min_dof > 0 && min_dof <= max_dof && std::isfinite(max_dof))) return "min_dof and max_dof must satisfy 0 < min_dof <= max_dof";
  if (!(tail_prior_windows >= 0) || !std::isfinite(tail_prior_windows)) return "tail_prior_windows must be >= 0";
  if (!positive(min_std)) return "min_std must be > 0";
  if (!positive(clip_sigma)) return "clip_sigma must be > 0";
  if (!positive(band_sigma)) return "band_sigma must be > 0";
  if (!(check.level > 0 && check.level < 0.5)) return "check_level must be in (0, 0.5)";
  if (!(check.half_life >= 1) || !std::isfinite(check.half_life)) return "check_half_life must be >= 1";
  return {};
}

double IntermittentDetector::activity_rate(const IntermittentConfig& c) const {
  return (activity_ + c.activity_prior * c.activity_prior_weight) / (activity_n_ + c.activity_prior_weight);
}

double IntermittentDetector::correction_factor(const IntermittentConfig& c) const { return check_.factor(c.check); }

double IntermittentDetector::tail_dof(const IntermittentConfig& c) const {
  const double prior_kurtosis = 6.0 / std::max(0.1, c.tail_dof - 4.0);
  const double n = std::min(static_cast<double>(active_), (2.0 - alpha_for(c.spread_half_life)) /
                                                              alpha_for(c.spread_half_life));
  double kurtosis = prior_kurtosis;
  if (spread_ > 0 && active_ > 1) kurtosis = static_cast<double>(fourth_) / (static_cast<double>(spread_) * spread_) - 3.0;
  kurtosis = (n * kurtosis + c.tail_prior_windows * prior_kurtosis) / (n + c.tail_prior_windows);
  const double dof = kurtosis > 6.0 / (c.max_dof - 4.0) ? 4.0 + 6.0 / kurtosis : c.max_dof;
  return std::clamp(dof, c.min_dof, c.max_dof);
}

DetectorResult IntermittentDetector::raw_score(double x, const IntermittentConfig& c) const {
  DetectorResult r;
  r.value = std::isfinite(x) ? std::max(0.0, x) : 0.0;
  r.warming_up = active_ < c.min_active;
  const double level = level_;
  const double sd = spread_sd(c);
  r.expected = active_ == 0 ? 0.0 : std::expm1(level);
  r.lower = 0.0;
  r.upper = active_ == 0 ? r.value : std::expm1(level + c.band_sigma * sd);
  if (r.warming_up || r.value <= 0.0) return r;
  const double z = (std::log1p(r.value) - level) / sd;
  // The more conservative of the two tails: the Student-t, or what the entity's own
  // exceedances say (a host that downloads 50 MB a few times a day has a tail no
  // unimodal shape fitted to its usual minutes can know).
  const double tail = std::max(student_t_tail(z, tail_dof(c), Tail::upper), exceedance_tail(z, c));
  r.tail_probability = clamp_probability(activity_rate(c) * tail);
  return r;
}

double IntermittentDetector::spread_sd(const IntermittentConfig& c) const {
  // Bessel-style correction of the EW variance while few active windows stand behind it.
  const double n_eff = std::min(static_cast<double>(active_), (2.0 - alpha_for(c.spread_half_life)) /
                                                                   alpha_for(c.spread_half_life));
  double variance = spread_;
  if (n_eff > 1.0) variance *= n_eff / (n_eff - 1.0);
  return std::max(std::sqrt(std::max(0.0, variance)), c.min_std);
}

double IntermittentDetector::exceedance_tail(double z, const IntermittentConfig& c) const {
  if (!c.exceedance_tail || z <= kExceedanceZ) return 0.0;
  const double n_eff = std::min(static_cast<double>(active_), 1.0 / alpha_for(c.spread_half_life));
  // Priors: one exceedance in 1 / P(normal > 2) windows, two of them with a
  // normal-like mean excess, so without exceedances of its own this tail is thinner
  // than the Student-t and the t decides.
  const double rate = (exceed_ + 1.0) / (n_eff + kPriorWindowsPerExceedance);
  const double mean_excess = (excess_ + kPriorExceedances * kPriorMeanExcess) / (exceed_ + kPriorExceedances);
  return std::min(1.0, rate * std::exp(-(z - kExceedanceZ) / mean_excess));
}

DetectorResult IntermittentDetector::score(double x, const IntermittentConfig& c, double* raw) const {
  DetectorResult r = raw_score(x, c);
  if (raw) *raw = r.tail_probability;
  if (!r.warming_up) r.tail_probability = std::min(1.0, r.tail_probability * correction_factor(c));
  return r;
}

void IntermittentDetector::update(double x, const IntermittentConfig& c, double raw) {
  if (!std::isfinite(x) || x < 0) return;
  if (active_ >= c.min_active) {
    check_.observe(std::isnan(raw) ? raw_score(x, c).tail_probability : raw, c.check);
    if (check_.correcting(c.check) && corrections_ < UINT32_MAX) ++corrections_;
  }
  const double a_act = alpha_for(c.activity_half_life);
  activity_ = static_cast<float>((1 - a_act) * activity_ + (x > 0 ? 1.0 : 0.0));
  activity_n_ = static_cast<float>((1 - a_act) * activity_n_ + 1.0);
  if (windows_ < UINT32_MAX) ++windows_;
  if (x <= 0) return;

  const bool warm = active_ >= c.min_active;
  if (warm) {
    // Peaks over threshold, measured before this window moves level and spread.
    const double keep = 1.0 - alpha_for(c.spread_half_life);
    const double z = (std::log1p(x) - level_) / spread_sd(c);
    exceed_ = static_cast<float>(keep * exceed_ + (z > kExceedanceZ ? 1.0 : 0.0));
    excess_ = static_cast<float>(keep * excess_ + (z > kExceedanceZ ? z - kExceedanceZ : 0.0));
  }
  if (active_ < UINT32_MAX) ++active_;
  const double y = std::log1p(x);
  const double a = std::max(alpha_for(c.level_half_life), 1.0 / active_);
  const double b = std::max(alpha_for(c.spread_half_life), 1.0 / active_);
  double residual = y - level_;
  if (warm) {
    // Bounded influence: at most clip_sigma spreads per window, but always some, so
    // the spread keeps learning behaviour that recurs (no lock-out).
    const double sd = std::max(std::sqrt(std::max(0.0f, spread_)), static_cast<float>(c.min_std));
    residual = std::clamp(residual, -c.clip_sigma * sd, c.clip_sigma * sd);
  }
  level_ = static_cast<float>(level_ + a * residual);
  const double centred = (1 - a) * residual;  // the residual from the updated level
  spread_ = static_cast<float>((1 - b) * spread_ + b * (1 - a) * residual * residual);
  fourth_ = static_cast<float>((1 - b) * fourth_ + b * centred * centred * centred * centred);
}

void IntermittentDetector::save(std::ostream& out) const {
  StateWriter w;
  w.put(level_);
  w.put(spread_);
  w.put(fourth_);
  w.put(activity_);
  w.put(activity_n_);
  check_.save(w);
  w.put(exceed_);
  w.put(excess_);
  w.put(active_);
  w.put(windows_);
  w.put(corrections_);
  save_record(out, kTag, kVersion, w.bytes());
}

std::string IntermittentDetector::restore(std::istream& in) {
  std::string payload;
  if (auto error = load_record(in, kTag, kVersion, payload, 1024); !error.empty()) return error;
  StateReader r(payload);
  IntermittentDetector next;
  r.get(next.level_);
  r.get(next.spread_);
  r.get(next.fourth_);
  r.get(next.activity_);
  r.get(next.activity_n_);
  next.check_.load(r);
  r.get(next.exceed_);
  r.get(next.excess_);
  r.get(next.active_);
  r.get(next.windows_);
  r.get(next.corrections_);
  if (auto error = r.finish(); !error.empty()) return "intermittent: " + error;
  for (float v : {next.level_, next.spread_, next.fourth_, next.activity_, next.activity_n_, next.exceed_, next.excess_}) {
    if (!std::isfinite(v) || v < 0) return "intermittent: state holds a negative or non-finite value";
  }

  *this = next;
  return {};
}

std::uint64_t IntermittentDetector::checksum() const {
  std::ostringstream out;
  save(out);
  return fnv1a64(out.str());
}

}  // namespace flowlier::detectors
