#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "detectors/SeasonalDetector.hpp"
#include "tests/detectors/PersistenceChecks.hpp"

using namespace flowlier::detectors;

namespace {

constexpr std::int64_t kStart = 1704585600;  // 2024-01-07 00:00:00 UTC, a Sunday
constexpr std::int64_t kStep = 300;          // 5-minute windows
constexpr double kPi = 3.14159265358979323846;

// Diurnal traffic: 1000 at night, 5000 at the afternoon peak, 10 % lognormal noise.
double diurnal(std::int64_t t, std::mt19937_64& rng) {
  std::normal_distribution<double> noise(0.0, 0.1);
  const double phase = 2.0 * kPi * static_cast<double>((t - kStart) % 86400) / 86400.0;
  return 1000.0 * (3.0 - 2.0 * std::cos(phase - kPi / 6.0)) * std::exp(noise(rng));
}

}  // namespace

TEST_CASE("seasonal bins follow UTC hour and day of week", "[seasonal]") {
  SeasonalDetector d;
  CHECK(d.hour_of(0) == 0);
  CHECK(d.week_bin_of(0) == 4 * 24);  // 1970-01-01 was a Thursday
  CHECK(d.hour_of(kStart + 13 * 3600 + 1800) == 13);
  CHECK(d.week_bin_of(kStart + 13 * 3600 + 1800) == 13);  // Sunday
  CHECK(d.week_bin_of(kStart + 86400 + 3600) == 24 + 1);  // Monday 01:00
  CHECK(d.hour_of(-1) == 23);                             // 1969-12-31 23:59:59
  CHECK(d.week_bin_of(-1) == 3 * 24 + 23);                // a Wednesday
  SeasonalConfig offset;
  offset.utc_offset_s = -5 * 3600;
  CHECK(SeasonalDetector(offset).hour_of(kStart) == 19);
}

TEST_CASE("seasonal bin means are log1p averages", "[seasonal]") {
  SeasonalDetector d;
  d.update(std::expm1(2.0), kStart + 3600);
  d.update(std::expm1(4.0), kStart + 3700);
  CHECK(d.hour_bin(1).count == 2);
  CHECK(d.hour_bin(1).mean == Approx(3.0));
  CHECK(d.hour_bin(1).variance == Approx(1.0));
  CHECK(d.hour_bin(2).count == 0);
}

TEST_CASE("diurnal traffic is normal after two days; a 10x spike is caught", "[seasonal][spike]") {
  std::mt19937_64 rng(7);
  SeasonalDetector seasonal;
  std::int64_t t = kStart;
  for (; t < kStart + 2 * 86400; t += kStep) {
    const double v = diurnal(t, rng);
    seasonal.update(v, t);
  }
  CHECK(seasonal.is_warm());
  int seasonal_alarms = 0, scored = 0;
  for (; t < kStart + 7 * 86400; t += kStep) {
    const double v = diurnal(t, rng);
    const auto r = seasonal.score(v, t);
    REQUIRE_FALSE(r.warming_up);
    ++scored;
    if (r.tail_probability < 1e-4) ++seasonal_alarms;
    seasonal.update(v, t);
  }
  INFO("scored " << scored << ", seasonal alarms " << seasonal_alarms);
  CHECK(scored == 5 * 288);
  CHECK(seasonal_alarms <= 1);

  const std::int64_t night = kStart + 7 * 86400 + 2 * 3600;
  const std::int64_t peak = kStart + 7 * 86400 + 14 * 3600;
  const auto at_night = seasonal.score(1000.0, night);
  const auto at_peak = seasonal.score(5000.0, peak);
  CHECK(at_night.tail_probability > 0.01);
  CHECK(at_peak.tail_probability > 0.01);
  CHECK(at_peak.expected > 3.0 * at_night.expected);
  CHECK(seasonal.score(10000.0, night).tail_probability < 1e-9);  // 10x the night level
  CHECK(seasonal.score(50000.0, peak).tail_probability < 1e-9);   // 10x the peak
}

TEST_CASE("seasonal warms up on history span, not just sample count", "[seasonal]") {
  SeasonalDetector d;
  for (int i = 0; i < 100; ++i) d.update(10.0, kStart + i * 60);  // 100 minutes
  CHECK_FALSE(d.is_warm());
  const auto r = d.score(1e6, kStart + 6000);
  CHECK(r.warming_up);
  CHECK(r.tail_probability == 1.0);
  CHECK(std::isfinite(r.expected));
  CHECK(d.score(10.0, kStart + 86400).warming_up == false);
}

TEST_CASE("weekly bins separate weekends once two weeks exist", "[seasonal]") {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0.0, 0.05);
  SeasonalDetector d;
  auto level = [](std::int64_t t) {
    const int week_bin = SeasonalDetector().week_bin_of(t);
    return week_bin < 24 || week_bin >= 6 * 24 ? 100.0 : 1000.0;  // quiet Saturday and Sunday
  };
  std::int64_t t = kStart;
  // Three weeks of 10-minute windows, then next Sunday noon: quiet is expected.
  const std::int64_t sunday = kStart + 21 * 86400 + 12 * 3600;
  for (; t < sunday; t += 600) d.update(level(t) * std::exp(noise(rng)), t);
  const auto r = d.score(100.0, sunday);
  CHECK(r.expected < 200.0);
  INFO("expected " << r.expected << ", p(weekday level) " << d.score(1000.0, sunday).tail_probability);
  CHECK(d.score(1000.0, sunday).tail_probability < 1e-5);

  // Without weekly bins the weekday level on a Sunday is unremarkable.
  SeasonalConfig hourly_only;
  hourly_only.weekly = false;
  SeasonalDetector h(hourly_only);
  std::mt19937_64 rng2(11);
  for (std::int64_t u = kStart; u < sunday; u += 600) h.update(level(u) * std::exp(noise(rng2)), u);
  CHECK(h.score(1000.0, sunday).tail_probability > 0.01);
  CHECK(h.memory_usage() < d.memory_usage());
  CHECK(d.memory_usage() >= sizeof(SeasonalDetector) + 168 * sizeof(SeasonalDetector::Bin));
}

TEST_CASE("seasonal ignores non-finite input", "[seasonal][bad-input]") {
  SeasonalDetector d;
  d.update(5.0, kStart);
  const auto before = d.checksum();
  d.update(std::nan(""), kStart);
  CHECK(d.checksum() == before);
  CHECK(d.score(INFINITY, kStart).tail_probability == 1.0);
}

TEST_CASE("seasonal save/restore", "[seasonal][persist]") {
  std::mt19937_64 rng(3);
  SeasonalDetector trained;
  for (std::int64_t t = kStart; t < kStart + 3 * 86400; t += kStep) trained.update(diurnal(t, rng), t);
  SeasonalDetector bystander;
  bystander.update(1.0, kStart);
  flowlier::detectors::testing::check_persistence(trained, bystander, [](SeasonalDetector& d) {
    std::mt19937_64 later_rng(4);
    std::vector<double> scores;
    for (std::int64_t t = kStart + 3 * 86400; t < kStart + 4 * 86400; t += 3600) {
      const double v = diurnal(t, later_rng);
      scores.push_back(d.score(v, t).tail_probability);
      d.update(v, t);
    }
    return scores;
  });
  SECTION("a state saved with weekly bins does not load into an hourly-only detector") {
    SeasonalConfig hourly_only;
    hourly_only.weekly = false;
    SeasonalDetector h(hourly_only);
    const std::string error = flowlier::detectors::testing::restore_from(h, flowlier::detectors::testing::saved(trained));
    CHECK(error.find("weekly") != std::string::npos);
  }
}
