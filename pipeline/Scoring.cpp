#include "pipeline/Scoring.hpp"

#include <algorithm>
#include <cmath>

namespace flowlier::pipeline {

double score_from_probability(double p, const ScoringConfig& c) {
  if (!(p > 0)) p = 1e-300;
  const double adjusted = std::min(1.0, p * c.multiplicity);
  const double decades = -std::log10(adjusted);
  return std::clamp(100.0 * decades / c.decades, 0.0, 100.0);
}

Severity severity_from_score(double score, const ScoringConfig& c) {
  if (score >= c.critical) return Severity::critical;
  if (score >= c.high) return Severity::high;
  if (score >= c.medium) return Severity::medium;
  if (score >= c.low) return Severity::low;
  return Severity::info;
}

}  // namespace flowlier::pipeline
