#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "models/SeriesScorer.hpp"

using flowlier::models::Calibration;
using flowlier::models::SeriesScore;
using flowlier::models::SeriesScorer;
using flowlier::models::SeriesScorerConfig;

namespace {

constexpr std::int64_t kStart = 1396310400;  // 2014-04-01 00:00:00 UTC
constexpr std::int64_t kStep = 300;          // 5-minute rows, as most NAB series

// A noisy daily cycle, like NAB's art_daily_* series.
std::vector<double> daily_series(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 2.0);
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double hour = static_cast<double>((static_cast<std::int64_t>(i) * kStep) % 86400) / 3600.0;
    v[i] = 50.0 + 30.0 * std::sin(hour / 24.0 * 2.0 * M_PI) + noise(rng);
  }
  return v;
}

std::vector<SeriesScore> run(SeriesScorer& s, const std::vector<double>& values) {
  std::vector<SeriesScore> out;
  for (std::size_t i = 0; i < values.size(); ++i)
    out.push_back(s.observe(values[i], kStart + static_cast<std::int64_t>(i) * kStep));
  return out;
}

}  // namespace

TEST_CASE("series scorer: warm-up rows score 0, scores stay in [0, 1]", "[series]") {
  for (const auto& name : SeriesScorer::preset_names()) {
    INFO(name);
    auto config = SeriesScorer::preset(name);
    REQUIRE(config);
    REQUIRE(config->validate().empty());
    SeriesScorer scorer(*config);
    const auto scores = run(scorer, daily_series(3000, 1));
    CHECK(scores.front().warming_up);
    CHECK(scores.front().score == 0.0);
    for (const auto& s : scores) {
      CHECK(s.score >= 0.0);
      CHECK(s.score <= 1.0);
      CHECK(std::isfinite(s.surprise));
    }
    // The count detector only takes non-negative integers: on this float series it never warms.
    CHECK(scores.back().warming_up == (name == "count"));
  }
}

TEST_CASE("series scorer: a spike after three days outscores every earlier row", "[series]") {
  auto values = daily_series(1200, 2);
  const std::size_t spike = 1100;
  values[spike] += 60.0;  // ~30 sigma of the noise, within the daily range
  auto config = *SeriesScorer::preset("default");
  config.suppress_rows = 0;  // detection alone (a new maximum may precede it within 100 rows)
  SeriesScorer scorer(config);
  const auto scores = run(scorer, values);
  double earlier_max = 0.0;
  for (std::size_t i = 0; i < spike; ++i) earlier_max = std::max(earlier_max, scores[i].score);
  CHECK(scores[spike].score >= earlier_max);
  CHECK(scores[spike].score > 0.99);
  CHECK(scores[spike].surprise > 5.0);
}

TEST_CASE("series scorer: a drop is caught too (two-sided)", "[series]") {
  auto values = daily_series(1200, 3);
  values[1100] -= 60.0;
  auto config = *SeriesScorer::preset("default");
  config.suppress_rows = 0;
  SeriesScorer scorer(config);
  const auto scores = run(scorer, values);
  CHECK(scores[1100].score > 0.99);
}

TEST_CASE("series scorer: suppression halves a repeat within the episode", "[series]") {
  auto values = daily_series(1200, 4);
  values[1100] += 60.0;
  values[1105] += 60.0;  // the same size again, five rows later
  auto config = *SeriesScorer::preset("default");
  SeriesScorer with(config);
  config.suppress_rows = 0;
  SeriesScorer without(config);
  const auto a = run(with, values);
  const auto b = run(without, values);
  REQUIRE(b[1105].score > 0.9);
  CHECK(a[1105].score == Approx(0.5 * b[1105].score));
}

TEST_CASE("series scorer: the default's fitted tail tells a far record from a near one", "[series]") {
  auto values = daily_series(1600, 7);
  values[1300] += 16.0;   // ~8 sigma of the noise: a record, but a modest one
  values[1500] += 200.0;  // far beyond anything earlier
  auto config = *SeriesScorer::preset("default");
  config.suppress_rows = 0;
  REQUIRE(config.tail_share > 0.0);
  SeriesScorer tail(config);
  config.tail_share = 0.0;
  SeriesScorer plain(config);
  const auto a = run(tail, values);
  const auto b = run(plain, values);
  // A plain rank calls both "above everything": 1.0.
  CHECK(b[1300].score == 1.0);
  CHECK(b[1500].score == 1.0);
  // The fitted tail separates them, and both stay above the history's ordinary rows.
  CHECK(a[1500].score > a[1300].score);
  CHECK(a[1300].score > 0.99);
  CHECK(a[1500].score > 0.999999);
}

TEST_CASE("series scorer: fixed calibration is s / (s + scale)", "[series]") {
  SeriesScorerConfig config;
  config.use_robust_z = config.use_seasonal = false;
  config.calibration = Calibration::fixed;
  config.surprise_scale = 4.0;
  SeriesScorer scorer(config);
  const auto scores = run(scorer, daily_series(500, 5));
  for (const auto& s : scores) CHECK(s.score == Approx(s.surprise / (s.surprise + 4.0)));
}

TEST_CASE("series scorer: rank calibration ranks against earlier rows only", "[series]") {
  SeriesScorerConfig config;
  config.use_robust_z = config.use_seasonal = false;
  config.ewma.min_samples = 2;
  config.calibration = Calibration::rank;
  config.rank_min_history = 3;
  SeriesScorer scorer(config);
  // Constant rows: surprise 0 (no rank history below it), then a large jump ranks above all.
  std::vector<double> values(40, 10.0);
  values.push_back(1000.0);
  const auto scores = run(scorer, values);
  CHECK(scores[30].score == 0.0);
  CHECK(scores.back().score == Approx(1.0));
}

TEST_CASE("series scorer: non-finite values score 0 and leave the state alone", "[series]") {
  const auto values = daily_series(800, 6);
  SeriesScorer a(*SeriesScorer::preset("default"));
  SeriesScorer b(*SeriesScorer::preset("default"));
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto t = kStart + static_cast<std::int64_t>(i) * kStep;
    if (i == 400) {
      const auto nan = b.observe(std::numeric_limits<double>::quiet_NaN(), t);
      CHECK(nan.score == 0.0);
      CHECK(b.observe(std::numeric_limits<double>::infinity(), t).score == 0.0);
    }
    CHECK(a.observe(values[i], t).score == b.observe(values[i], t).score);
  }
  CHECK(b.rows() == a.rows() + 2);
}

TEST_CASE("series scorer: config validation names the parameter", "[series]") {
  SeriesScorerConfig c;
  c.use_ewma = c.use_robust_z = c.use_seasonal = false;
  CHECK(c.validate() == "no detector enabled");
  c = {};
  c.suppress_factor = 2.0;
  CHECK(c.validate().find("suppress_factor") != std::string::npos);
  c = {};
  c.bins_per_decade = 0;
  CHECK(c.validate().find("bins_per_decade") != std::string::npos);
  c = {};
  c.tail_share = -0.1;
  CHECK(c.validate().find("tail_share") != std::string::npos);
  CHECK_FALSE(SeriesScorer::preset("nope"));
}
