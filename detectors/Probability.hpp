#pragma once
// Tail probabilities shared by all detectors. None of them throws or returns NaN:
// results are clamped to [kMinTailProbability, 1] so a huge deviation never
// underflows to 0 (callers take logs), and NaN inputs give 1 (no evidence).
#include "detectors/DetectorResult.hpp"

namespace flowlier::detectors {

inline constexpr double kMinTailProbability = 1e-300;

// Clamps to [kMinTailProbability, 1]; NaN becomes 1.
double clamp_probability(double p) noexcept;

// Standard normal: P(Z >= z), P(Z <= z), and the tail selected by `tail`
// (`both` = two-sided 2 * min(upper, lower)).
double normal_upper_tail(double z) noexcept;
double normal_lower_tail(double z) noexcept;
double normal_tail(double z, Tail tail) noexcept;

// Student-t with `dof` > 0 degrees of freedom (dof <= 0 or NaN gives 1).
double student_t_upper_tail(double t, double dof) noexcept;
double student_t_lower_tail(double t, double dof) noexcept;
double student_t_tail(double t, double dof, Tail tail) noexcept;

// Chi-square with `dof` > 0: P(X >= x). x <= 0 gives 1.
double chi_square_upper_tail(double x, double dof) noexcept;

}  // namespace flowlier::detectors
