#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "detectors/EwmaDetector.hpp"
#include "tests/detectors/PersistenceChecks.hpp"

using namespace flowlier::detectors;

namespace {

std::vector<double> noisy_series(std::size_t n, std::uint64_t seed, double mean, double sd) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(mean, sd);
  std::vector<double> out(n);
  for (auto& v : out) v = noise(rng);
  return out;
}

}  // namespace

TEST_CASE("EWMA of a constant series is that constant with zero variance", "[ewma]") {
  EwmaDetector d;
  for (int i = 0; i < 100; ++i) d.update(42.0, i);
  CHECK(d.mean() == Approx(42.0));
  CHECK(d.variance() == Approx(0.0).margin(1e-12));
  // Floor: 1 % of the mean, so 42.5 is ~1.2 sd away, not infinitely unlikely.
  const auto r = d.score(42.5, 100);
  CHECK_FALSE(r.warming_up);
  CHECK(r.tail_probability > 0.05);
  CHECK(r.upper == Approx(42.0 + 3 * 0.42));
}

TEST_CASE("EWMA starts as an ordinary mean and variance", "[ewma]") {
  EwmaDetector d;
  for (const double v : {2.0, 4.0, 6.0}) d.update(v, 0);
  CHECK(d.mean() == Approx(4.0));
  CHECK(d.variance() == Approx(8.0 / 3.0));  // population variance of {2, 4, 6}
}

TEST_CASE("EWMA forgets with the configured half-life", "[ewma]") {
  EwmaConfig config;
  config.half_life = 10;
  EwmaDetector d(config);
  for (int i = 0; i < 1000; ++i) d.update(0.0, i);
  for (int i = 0; i < 10; ++i) d.update(100.0, i);
  CHECK(d.mean() == Approx(50.0).epsilon(0.01));  // half the weight moved in 10 samples
}

TEST_CASE("EWMA warms up before min_samples and then scores", "[ewma]") {
  EwmaDetector d;
  CHECK(d.score(5.0, 0).warming_up);
  CHECK(d.score(5.0, 0).tail_probability == 1.0);
  for (int i = 0; i < 19; ++i) d.update(10.0 + (i % 3), i);
  const auto early = d.score(1000.0, 19);
  CHECK(early.warming_up);
  CHECK(early.tail_probability == 1.0);
  CHECK(std::isfinite(early.expected));
  d.update(11.0, 19);
  CHECK(d.is_warm());
  CHECK_FALSE(d.score(1000.0, 20).warming_up);
}

TEST_CASE("EWMA catches a spike and not ordinary noise", "[ewma][spike]") {
  EwmaDetector d;
  const auto series = noisy_series(500, 1, 1000.0, 50.0);
  int false_alarms = 0;
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto r = d.score(series[i], static_cast<std::int64_t>(i));
    if (!r.warming_up && r.tail_probability < 1e-4) ++false_alarms;
    d.update(series[i], static_cast<std::int64_t>(i));
  }
  CHECK(false_alarms <= 1);
  CHECK(d.score(2000.0, 500).tail_probability < 1e-6);
  CHECK(d.score(0.0, 500).tail_probability > 0.5);  // upper tail only by default
  EwmaConfig both;
  both.tail = Tail::both;
  EwmaDetector two_sided(both);
  for (std::size_t i = 0; i < series.size(); ++i) two_sided.update(series[i], 0);
  CHECK(two_sided.score(0.0, 500).tail_probability < 1e-6);
}

TEST_CASE("EWMA ignores non-finite input", "[ewma][bad-input]") {
  EwmaDetector d;
  for (int i = 0; i < 30; ++i) d.update(5.0, i);
  const auto before = d.checksum();
  d.update(std::nan(""), 0);
  d.update(INFINITY, 0);
  CHECK(d.checksum() == before);
  const auto r = d.score(std::nan(""), 0);
  CHECK(r.tail_probability == 1.0);
  CHECK(std::isfinite(r.value));
}

TEST_CASE("EWMA state is tiny", "[ewma][memory]") {
  EwmaDetector d;
  CHECK(d.memory_usage() <= 64);
  CHECK(d.memory_usage() == sizeof(EwmaDetector));
}

TEST_CASE("EWMA config validation names the parameter", "[ewma]") {
  EwmaConfig c;
  CHECK(c.validate().empty());
  c.half_life = 0.5;
  CHECK(c.validate().find("half_life") != std::string::npos);
}

TEST_CASE("EWMA save/restore", "[ewma][persist]") {
  EwmaDetector trained;
  for (const double v : noisy_series(200, 2, 10.0, 1.0)) trained.update(v, 0);
  EwmaDetector bystander;
  for (int i = 0; i < 5; ++i) bystander.update(3.0, i);
  flowlier::detectors::testing::check_persistence(trained, bystander, [](EwmaDetector& d) {
    std::vector<double> scores;
    for (const double v : noisy_series(50, 3, 10.0, 1.5)) {
      scores.push_back(d.score(v, 0).tail_probability);
      d.update(v, 0);
    }
    return scores;
  });
}
