// The entity API's recent windows (RecentWindows): a ring of the last 8, oldest
// first, counts exact, large and fractional values within 0.1 % (0.001 below 1),
// scores in half points.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "models/RecentWindows.hpp"

using flowlier::models::FeatureVector;
using flowlier::models::kFeatureCount;
using flowlier::models::RecentWindows;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Window n: every feature's value is n * 10 + f, score n + f / 4 (feature 3 warming up).
void record(RecentWindows& ring, int n) {
  FeatureVector values{};
  std::array<double, kFeatureCount> scores{};
  for (std::size_t f = 0; f < kFeatureCount; ++f) {
    values[f] = n * 10.0 + static_cast<double>(f);
    scores[f] = f == 3 ? kNaN : n + f / 4.0;
  }
  ring.record(1'772'409'600 + n * 60, values, scores);
}
}  // namespace

TEST_CASE("RecentWindows keeps the last 8 windows, oldest first") {
  RecentWindows ring;
  CHECK(ring.empty());
  record(ring, 0);
  REQUIRE(ring.size() == 1);
  CHECK(ring.at(0).end == 1'772'409'600);
  for (int n = 1; n < 11; ++n) record(ring, n);
  REQUIRE(ring.size() == RecentWindows::kCapacity);
  for (std::size_t i = 0; i < ring.size(); ++i) {
    const int n = static_cast<int>(i) + 3;  // windows 0..2 were forgotten
    const auto w = ring.at(i);
    CHECK(w.end == 1'772'409'600 + n * 60);
    CHECK(w.values[5] == n * 10.0 + 5);
    CHECK_FALSE(w.scores[3].has_value());
    REQUIRE(w.scores[4].has_value());
    CHECK(*w.scores[4] == n + 1.0);
    CHECK(*w.scores[1] == Approx(n + 0.25).margin(0.25));
  }
}

TEST_CASE("RecentWindows stores counts exactly and the rest within 0.1 % or 0.0015") {
  for (double v : {0.0, 1.0, 3.0, 255.0, 32767.0}) CHECK(RecentWindows::decode_value(RecentWindows::encode_value(v)) == v);
  for (double v : {0.37, 2.5, 32768.0, 1.5e6, 7.3e9, 4.2e12, 1e19}) {
    // 0.07 % of 1 + v: below 1 that is about 0.001 absolute.
    CHECK(RecentWindows::decode_value(RecentWindows::encode_value(v)) == Approx(v).epsilon(0.001).margin(0.0015));
  }
  CHECK(RecentWindows::decode_value(RecentWindows::encode_value(-4)) == 0);
  CHECK(RecentWindows::decode_value(RecentWindows::encode_value(kNaN)) == 0);
  // Beyond what 15 bits of log2 hold: the largest code, not a wrap-around.
  CHECK(RecentWindows::decode_value(RecentWindows::encode_value(1e300)) > 1e19);
}

TEST_CASE("RecentWindows scores: half points from 0 to 100, none while warming up") {
  CHECK(*RecentWindows::decode_score(RecentWindows::encode_score(0)) == 0);
  CHECK(*RecentWindows::decode_score(RecentWindows::encode_score(57.3)) == 57.5);
  CHECK(*RecentWindows::decode_score(RecentWindows::encode_score(100)) == 100);
  CHECK(*RecentWindows::decode_score(RecentWindows::encode_score(140)) == 100);
  CHECK_FALSE(RecentWindows::decode_score(RecentWindows::encode_score(kNaN)).has_value());
}

TEST_CASE("RecentWindows is small enough to keep per entity") {
  // bench/entity-memory tracks bytes per entity: 8 windows of 46 B and two counters.
  CHECK(sizeof(RecentWindows) <= 8 * 46 + 4);
}
