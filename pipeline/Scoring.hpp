#pragma once
// From detector tail probabilities to one 0-100 score that means the same for every
// detector and feature, and a severity.
//
// score = 100 * min(1, -log10(p * m) / decades), where m corrects for testing m
// features of a window at once (Bonferroni) and `decades` is the -log10 of the
// adjusted probability that scores 100. With the defaults a score of 50 is p*m = 1e-6:
// at one window a minute, a baseline that is right about its tails raises such a
// score by chance about once in two years per entity and feature group.
#include <cstdint>

#include "pipeline/AnomalyEvent.hpp"

namespace flowlier::pipeline {

struct ScoringConfig {
  double multiplicity = 14;  // features tested per window
  double decades = 12;       // -log10(adjusted p) that maps to 100
  double low = 50, medium = 60, high = 75, critical = 90;  // severity thresholds on the score
};

double score_from_probability(double tail_probability, const ScoringConfig& config);
Severity severity_from_score(double score, const ScoringConfig& config);

}  // namespace flowlier::pipeline
