// From tail probabilities to 0-100 scores and severities (pipeline/Scoring).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "pipeline/Scoring.hpp"

using namespace flowlier::pipeline;

TEST_CASE("a score is the adjusted probability's decades over the configured span", "[scoring]") {
  const ScoringConfig c;  // 14 features per window, 12 decades to 100
  REQUIRE(c.multiplicity == 14);
  // p * 14 = 1e-6: six decades of twelve.
  CHECK(score_from_probability(1e-6 / 14, c) == Approx(50));
  CHECK(score_from_probability(1e-12 / 14, c) == Approx(100));
  CHECK(score_from_probability(1e-3 / 14, c) == Approx(25));
  // Nothing a window of 14 tests would show by chance scores above zero.
  CHECK(score_from_probability(1.0 / 14, c) == 0);
  CHECK(score_from_probability(0.5, c) == 0);
  CHECK(score_from_probability(1.0, c) == 0);
  // Beyond the span it stays at 100; 0 and NaN (no evidence of a probability) are the floor.
  CHECK(score_from_probability(1e-200, c) == 100);
  CHECK(score_from_probability(0.0, c) == 100);
  CHECK(score_from_probability(std::numeric_limits<double>::quiet_NaN(), c) == 100);
}

TEST_CASE("scores fall as probabilities rise, and the multiplicity is a Bonferroni factor", "[scoring]") {
  const ScoringConfig c;
  double previous = 101;
  for (double p = 1e-14; p < 1; p *= 3.7) {
    const double s = score_from_probability(p, c);
    CHECK(s <= previous);
    CHECK(s >= 0);
    CHECK(s <= 100);
    previous = s;
  }
  ScoringConfig one_test = c;
  one_test.multiplicity = 1;
  CHECK(score_from_probability(1e-6, one_test) == Approx(score_from_probability(1e-6 / 14, c)));
  ScoringConfig six_decades = c;
  six_decades.decades = 6;
  CHECK(score_from_probability(1e-6 / 14, six_decades) == Approx(100));
}

TEST_CASE("severities start at each threshold", "[scoring]") {
  const ScoringConfig c;  // low 50, medium 60, high 75, critical 90
  CHECK(severity_from_score(0, c) == Severity::info);
  CHECK(severity_from_score(49.99, c) == Severity::info);
  CHECK(severity_from_score(50, c) == Severity::low);
  CHECK(severity_from_score(59.99, c) == Severity::low);
  CHECK(severity_from_score(60, c) == Severity::medium);
  CHECK(severity_from_score(75, c) == Severity::high);
  CHECK(severity_from_score(89.99, c) == Severity::high);
  CHECK(severity_from_score(90, c) == Severity::critical);
  CHECK(severity_from_score(100, c) == Severity::critical);
  ScoringConfig strict = c;
  strict.low = 70;
  CHECK(severity_from_score(65, strict) == Severity::medium);  // thresholds are checked top down
  strict.medium = 80;
  CHECK(severity_from_score(65, strict) == Severity::info);
}
