#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <sstream>
#include <vector>

#include "PersistenceChecks.hpp"
#include "detectors/RankedTail.hpp"

using flowlier::detectors::RankedTail;
using flowlier::detectors::RankedTailConfig;

namespace {

RankedTailConfig with_tail(double share) {
  RankedTailConfig c;
  c.max_surprise = 300.0;
  c.tail_share = share;
  return c;
}

// Surprises of a detector whose probabilities are uniform under the null, reported
// `inflation` times too confident (a Gaussian on heavy-tailed data: 1e-4 for 1e-1).
RankedTail history_of(const RankedTailConfig& c, std::size_t n, double inflation, std::uint64_t seed) {
  RankedTail r(c);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (std::size_t i = 0; i < n; ++i) r.update(-inflation * std::log10(1.0 - u(rng)));
  return r;
}

}  // namespace

TEST_CASE("ranked tail: plain rank is the share of earlier surprises in lower bins", "[detectors][rank]") {
  RankedTail r(RankedTailConfig{});
  CHECK(r.score(3.0) == 0.0);  // no history
  for (int i = 0; i < 10; ++i) r.update(0.1 * i);  // 0.0 .. 0.9, one per bin of 0.05
  CHECK(r.count() == 10);
  CHECK(r.score(0.0) == 0.0);
  CHECK(r.score(0.55) == Approx(0.6));
  CHECK(r.score(0.9) == Approx(0.9));  // ties are not below
  CHECK(r.score(5.0) == 1.0);
  CHECK(r.score(25.0) == 1.0);  // plain rank: every record is the same 1.0
  CHECK(r.score(-1.0) == 0.0);
  CHECK(r.score(std::nan("")) == 0.0);
}

TEST_CASE("ranked tail: a calibrated detector's tail gives back its own probabilities", "[detectors][rank]") {
  const RankedTail r = history_of(with_tail(0.01), 200000, 1.0, 7);
  for (double s : {4.0, 5.0, 6.0}) {
    INFO("surprise " << s);
    const double share = 1.0 - r.score(s);
    CHECK(share > 0.5 * std::pow(10.0, -s));
    CHECK(share < 2.0 * std::pow(10.0, -s));
  }
}

TEST_CASE("ranked tail: an overconfident detector is corrected to the true rate", "[detectors][rank]") {
  // Claims 10^-4s where the truth is 10^-s: a surprise of 20 decades is really 1e-5.
  const RankedTail r = history_of(with_tail(0.01), 200000, 4.0, 8);
  const double share = 1.0 - r.score(20.0);
  CHECK(share > 0.5e-5);
  CHECK(share < 2.0e-5);
  // The plain rank cannot say anything beyond the history's top.
  const RankedTail plain = history_of(with_tail(0.0), 200000, 4.0, 8);
  CHECK(plain.score(40.0) == plain.score(80.0));
}

TEST_CASE("ranked tail: a heavy tail of surprises is fitted as heavy", "[detectors][rank]") {
  // Generalised Pareto surprises (shape 0.3, scale 1): 1e-4 of them exceed 49.5 decades.
  RankedTail r(with_tail(0.01));
  std::mt19937_64 rng(12);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < 200000; ++i) r.update((std::pow(1.0 - u(rng), -0.3) - 1.0) / 0.3);
  const double s = (std::pow(1e-4, -0.3) - 1.0) / 0.3;
  const double share = 1.0 - r.score(s);
  CHECK(share > 0.5e-4);
  CHECK(share < 2.0e-4);
}

TEST_CASE("ranked tail: further beyond the history scores higher", "[detectors][rank]") {
  const RankedTail r = history_of(with_tail(0.01), 5000, 1.0, 9);
  double previous = r.score(3.0);
  for (double s = 3.5; s <= 12.0; s += 0.5) {
    INFO("surprise " << s);
    CHECK(r.score(s) > previous);
    previous = r.score(s);
  }
  CHECK(r.score(12.0) < 1.0);
}

TEST_CASE("ranked tail: identical surprises extrapolate with the detector's own decades", "[detectors][rank]") {
  // A quantised series: every row has the same surprise; the mean excess is 0, so the
  // fit falls back on the calibrated scale instead of an infinitely thin tail.
  RankedTail r(with_tail(0.01));
  for (int i = 0; i < 1000; ++i) r.update(2.0);
  CHECK(r.score(2.0) == 0.0);
  CHECK(r.score(3.0) == Approx(0.9).margin(1e-9));
  CHECK(r.score(4.0) == Approx(0.99).margin(1e-9));
}

TEST_CASE("ranked tail: surprises at the histogram's end are censored: ranked, not fitted", "[detectors][rank]") {
  RankedTailConfig c = with_tail(0.01);
  c.max_surprise = 30.0;
  RankedTail r(c);
  for (int i = 0; i < 100; ++i) r.update(0.01 * i);
  CHECK(r.score(2.0) < r.score(3.0));
  CHECK(r.score(3.0) < 1.0);
  CHECK(r.score(30.0) == 1.0);  // above every row: rank 1
  CHECK(r.score(250.0) == 1.0);
  for (int i = 0; i < 5; ++i) r.update(1e6);  // a detector that says p = 0, five times
  CHECK(r.score(40.0) == Approx(100.0 / 105.0));
}

TEST_CASE("ranked tail: config validation names the parameter", "[detectors][rank]") {
  CHECK(RankedTailConfig{}.validate().empty());
  RankedTailConfig c;
  c.tail_share = 0.7;
  CHECK(c.validate().find("tail_share") != std::string::npos);
  c = {};
  c.max_surprise = 301;
  CHECK(c.validate().find("max_surprise") != std::string::npos);
  c = {};
  c.bins_per_decade = 0;
  CHECK(c.validate().find("bins_per_decade") != std::string::npos);
  c = {};
  c.min_tail_rows = 0;
  CHECK(c.validate().find("min_tail_rows") != std::string::npos);
}

TEST_CASE("ranked tail: state round trip; bad state refused", "[detectors][rank][state]") {
  const RankedTail trained = history_of(with_tail(0.01), 3000, 2.0, 10);
  const RankedTail bystander = history_of(with_tail(0.01), 50, 1.0, 11);
  flowlier::detectors::testing::check_persistence(trained, bystander, [](RankedTail& r) {
    std::vector<double> scores;
    for (int i = 0; i < 40; ++i) {
      const double s = 0.37 * i;
      scores.push_back(r.score(s));
      r.update(s);
    }
    return scores;
  });
  SECTION("a history saved with another histogram is refused") {
    RankedTailConfig other = with_tail(0.01);
    other.max_surprise = 30.0;
    RankedTail target(other);
    const std::uint64_t before = target.checksum();
    const std::string error = flowlier::detectors::testing::restore_from(target, flowlier::detectors::testing::saved(trained));
    CHECK(error.find("bins") != std::string::npos);
    CHECK(target.checksum() == before);
  }
}
