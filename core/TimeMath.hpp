#pragma once
// Integer time arithmetic that is right before 1970 too. C++ division truncates toward
// zero, so -1 / 60 is 0 and an event at -1 s would land in the window [0, 60): every
// mapping of an event time to its window, day or hour goes through these instead.
// constexpr, no I/O; b (window, period) must be positive.
#include <cstdint>

namespace flowlier::core {

// a / b rounded toward negative infinity: floor_div(-1, 60) == -1.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// a - floor_div(a, b) * b, in [0, b): floor_mod(-1, 60) == 59.
constexpr std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
  const std::int64_t r = a % b;
  return r < 0 ? r + b : r;
}

// The start of the `window`-second window holding time t (the boundary at or before t).
constexpr std::int64_t window_start(std::int64_t t, std::int64_t window) { return floor_div(t, window) * window; }

inline constexpr std::int64_t kSecondsPerDay = 86'400;

static_assert(floor_div(-1, 60) == -1 && floor_div(-60, 60) == -1 && floor_div(59, 60) == 0);
static_assert(floor_mod(-1, 60) == 59 && window_start(-61, 60) == -120 && window_start(61, 60) == 60);

}  // namespace flowlier::core
