#include "detectors/SustainedEvidence.hpp"

#include <algorithm>
#include <cmath>

#include "detectors/Probability.hpp"

namespace flowlier::detectors {

namespace {
double log_p(double p) { return std::log(clamp_probability(p)); }
}  // namespace

void SustainedEvidence::start(std::initializer_list<double> anchor) {
  reset();
  for (double p : anchor) {
    log_sum_ += log_p(p);
    ++terms_;
  }
}

double SustainedEvidence::combined() const {
  if (terms_ == 0) return 1.0;
  return chi_square_upper_tail(-2.0 * log_sum_, 2.0 * terms_);
}

double SustainedEvidence::peek(double p, const SustainedConfig& config) const {
  SustainedEvidence copy = *this;
  return copy.add(p, config);
}

double SustainedEvidence::add(double p, const SustainedConfig& config) {
  const std::uint32_t max_windows = std::max<std::uint32_t>(1, config.max_windows);
  log_sum_ += log_p(p);
  ++terms_;
  ++looks_;
  const double corrected = clamp_probability(std::min(1.0, combined() * max_windows));
  if (looks_ >= max_windows) reset();
  return corrected;
}

void SustainedEvidence::save(StateWriter& w) const {
  w.put(log_sum_);
  w.put(terms_);
  w.put(looks_);
}

bool SustainedEvidence::load(StateReader& r) {
  SustainedEvidence next;
  r.get(next.log_sum_);
  r.get(next.terms_);
  r.get(next.looks_);
  if (r.ok() && (!(next.log_sum_ <= 0.0) || next.terms_ > 1024 || next.looks_ > next.terms_)) {
    r.fail("sustained evidence out of range");
  }
  if (!r.ok()) return false;
  *this = next;
  return true;
}

}  // namespace flowlier::detectors
