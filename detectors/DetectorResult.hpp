#pragma once
// The common output of the univariate detectors, and which deviations count.
#include <cstdint>
#include <string_view>

namespace flowlier::detectors {

// Which deviations from the baseline count as anomalous. bytes_out spikes matter
// upward; a drop to zero (a silent service) matters downward; `both` takes either.
enum class Tail : std::uint8_t { upper = 0, lower = 1, both = 2 };

constexpr std::string_view to_string(Tail tail) noexcept {
  switch (tail) {
    case Tail::upper: return "upper";
    case Tail::lower: return "lower";
    case Tail::both: return "both";
  }
  return "unknown";
}

// One score of one observation against a baseline. All fields are finite.
struct DetectorResult {
  double value = 0.0;     // the observation scored, in the caller's units
  double expected = 0.0;  // the baseline's central value, same units
  double lower = 0.0;     // the band's lower edge (expected - band), same units
  double upper = 0.0;     // the band's upper edge
  // P(a value at least this extreme | baseline) for the configured tail, in
  // [1e-300, 1]; 1 means perfectly normal. Always 1 while warming up.
  double tail_probability = 1.0;
  bool warming_up = true;  // fewer than min_samples observations: do not alert
};

}  // namespace flowlier::detectors
