// Event times map to windows, days and hours the same way before 1970 as after.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

#include "core/TimeMath.hpp"

using namespace flowlier::core;

TEST_CASE("TimeMath: floor division rounds toward negative infinity") {
  CHECK(floor_div(0, 60) == 0);
  CHECK(floor_div(59, 60) == 0);
  CHECK(floor_div(60, 60) == 1);
  CHECK(floor_div(-1, 60) == -1);   // truncation would say 0
  CHECK(floor_div(-59, 60) == -1);
  CHECK(floor_div(-60, 60) == -1);  // exactly on a boundary
  CHECK(floor_div(-61, 60) == -2);
  CHECK(floor_mod(-1, 60) == 59);
  CHECK(floor_mod(-60, 60) == 0);
  CHECK(floor_mod(125, 60) == 5);
}

TEST_CASE("TimeMath: a negative time falls in the window that holds it") {
  for (std::int64_t window : {1, 60, 300, 86400}) {
    const std::int64_t times[] = {-1, -window, -window - 1, -3 * window + 1, 0, window - 1, window, 1'700'000'007};
    for (std::int64_t t : times) {
      const std::int64_t start = window_start(t, window);
      INFO("t = " << t << ", window = " << window);
      CHECK(start <= t);
      CHECK(t < start + window);
      CHECK(floor_mod(start, window) == 0);
    }
  }
  CHECK(window_start(-1, 60) == -60);
  CHECK(window_start(-60, 60) == -60);
  CHECK(window_start(-61, 60) == -120);
  // The last second of 1969 is on 1969-12-31, a Wednesday (day -1; 1970-01-01 was a Thursday).
  CHECK(floor_div(-1, kSecondsPerDay) == -1);
  CHECK(floor_mod(floor_div(-1, kSecondsPerDay) + 4, 7) == 3);
  CHECK(floor_mod(-1, kSecondsPerDay) / 3600 == 23);
}

TEST_CASE("TimeMath: no overflow at the far end of the range") {
  constexpr std::int64_t min = std::numeric_limits<std::int64_t>::min();
  // (t - window + 1) / window, an earlier copy, overflowed here.
  CHECK(floor_div(min, 60) == min / 60 - 1);
  CHECK(floor_mod(min, 60) == 52);  // 2^63 = 153722867280912930 * 60 + 8
  CHECK(floor_div(std::numeric_limits<std::int64_t>::max(), 60) == std::numeric_limits<std::int64_t>::max() / 60);
}
