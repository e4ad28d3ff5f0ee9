#include "detectors/Probability.hpp"

#include <algorithm>
#include <cmath>

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/students_t.hpp>

namespace flowlier::detectors {
namespace {

// Errors become return values (we guard the inputs ourselves), never exceptions.
using QuietPolicy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::underflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>,
    // Double precision is plenty for tail probabilities and several times faster.
    boost::math::policies::promote_double<false>>;

double select(double upper, double lower, Tail tail) noexcept {
  switch (tail) {
    case Tail::upper: return clamp_probability(upper);
    case Tail::lower: return clamp_probability(lower);
    case Tail::both: return clamp_probability(2.0 * std::min(upper, lower));
  }
  return 1.0;
}

}  // namespace

double clamp_probability(double p) noexcept {
  if (std::isnan(p)) return 1.0;
  return std::clamp(p, kMinTailProbability, 1.0);
}

double normal_upper_tail(double z) noexcept {
  if (std::isnan(z)) return 1.0;
  return clamp_probability(0.5 * std::erfc(z / std::sqrt(2.0)));
}

double normal_lower_tail(double z) noexcept { return normal_upper_tail(std::isnan(z) ? z : -z); }

double normal_tail(double z, Tail tail) noexcept {
  if (std::isnan(z)) return 1.0;
  return select(0.5 * std::erfc(z / std::sqrt(2.0)), 0.5 * std::erfc(-z / std::sqrt(2.0)), tail);
}

double student_t_upper_tail(double t, double dof) noexcept {
  return student_t_tail(t, dof, Tail::upper);
}

double student_t_lower_tail(double t, double dof) noexcept {
  return student_t_tail(t, dof, Tail::lower);
}

double student_t_tail(double t, double dof, Tail tail) noexcept {
  if (std::isnan(t) || !(dof > 0.0)) return 1.0;
  if (std::isinf(t)) return select(t > 0 ? 0.0 : 1.0, t > 0 ? 1.0 : 0.0, tail);
  try {
    // One incomplete-beta evaluation per call (they cost ~1 us each); the t is symmetric.
    const boost::math::students_t_distribution<double, QuietPolicy> dist(dof);
    switch (tail) {
      case Tail::upper: return clamp_probability(boost::math::cdf(boost::math::complement(dist, t)));
      case Tail::lower: return clamp_probability(boost::math::cdf(boost::math::complement(dist, -t)));
      case Tail::both:
        return clamp_probability(2.0 * boost::math::cdf(boost::math::complement(dist, std::abs(t))));
    }
    return 1.0;
  } catch (...) {  // defensive: the policy should make this unreachable
    return 1.0;
  }
}

double chi_square_upper_tail(double x, double dof) noexcept {
  if (std::isnan(x) || !(dof > 0.0) || x <= 0.0) return 1.0;
  if (std::isinf(x)) return kMinTailProbability;
  try {
    const boost::math::chi_squared_distribution<double, QuietPolicy> dist(dof);
    return clamp_probability(boost::math::cdf(boost::math::complement(dist, x)));
  } catch (...) {
    return 1.0;
  }
}

}  // namespace flowlier::detectors
