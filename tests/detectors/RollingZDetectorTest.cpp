#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "detectors/RollingZDetector.hpp"
#include "tests/detectors/PersistenceChecks.hpp"

using namespace flowlier::detectors;

TEST_CASE("rolling z on {3, 4, 10}: mean 5.667, sample variance 14.33", "[rolling]") {
  RollingZConfig config;
  config.min_samples = 3;
  RollingZDetector d(config);
  for (const double v : {3.0, 4.0, 10.0}) d.update(v, 0);
  CHECK(d.mean() == Approx(17.0 / 3.0));
  CHECK(d.variance() == Approx(43.0 / 3.0));
  const auto r = d.score(5.0, 0);
  CHECK_FALSE(r.warming_up);
  CHECK(r.expected == Approx(5.6667).epsilon(1e-4));
  CHECK(r.upper == Approx(17.0 / 3.0 + 3.0 * std::sqrt(43.0 / 3.0)));
}

TEST_CASE("rolling z only sees the trailing window", "[rolling]") {
  RollingZDetector d;  // window 10
  for (int i = 0; i < 10; ++i) d.update(1000.0, i);
  for (int i = 0; i < 10; ++i) d.update(static_cast<double>(i), i);  // 0..9 pushes the 1000s out
  CHECK(d.size() == 10);
  CHECK(d.mean() == Approx(4.5));
  CHECK(d.variance() == Approx(55.0 / 6.0));  // sample variance of 0..9
}

TEST_CASE("rolling z warms up, then flags a 3-sigma outlier like Sumo's operator", "[rolling][spike]") {
  RollingZConfig config;
  config.student_t = false;
  RollingZDetector d(config);
  const std::vector<double> base{100, 102, 98, 101, 99, 100, 103, 97, 100, 100};
  for (std::size_t i = 0; i < 9; ++i) {
    d.update(base[i], static_cast<std::int64_t>(i));
    CHECK(d.score(500, 0).warming_up);
  }
  d.update(base[9], 9);
  const auto r = d.score(500.0, 10);
  CHECK_FALSE(r.warming_up);
  CHECK(500.0 > r.upper);
  CHECK(r.tail_probability < 1e-12);
  const auto normal = d.score(101.0, 10);
  CHECK(normal.tail_probability > 0.5);
  CHECK(normal.lower < 101.0);
  CHECK(normal.upper > 101.0);
}

TEST_CASE("rolling z ignores non-finite input", "[rolling][bad-input]") {
  RollingZDetector d;
  for (int i = 0; i < 10; ++i) d.update(i, i);
  const auto before = d.checksum();
  d.update(std::nan(""), 0);
  CHECK(d.checksum() == before);
  CHECK(d.score(-INFINITY, 0).tail_probability == 1.0);
  CHECK(d.memory_usage() >= sizeof(RollingZDetector) + 10 * sizeof(double));
}

TEST_CASE("rolling z copies are independent and equal", "[rolling]") {
  RollingZDetector a;
  for (int i = 0; i < 15; ++i) a.update(i * 1.5, i);
  RollingZDetector b = a;
  CHECK(b.mean() == Approx(a.mean()));
  b.update(100, 0);
  CHECK(b.mean() != Approx(a.mean()));
}

TEST_CASE("rolling z save/restore", "[rolling][persist]") {
  RollingZDetector trained;
  for (int i = 0; i < 23; ++i) trained.update(std::sin(i) * 10 + 50, i);
  RollingZDetector bystander;
  bystander.update(1.0, 0);
  flowlier::detectors::testing::check_persistence(trained, bystander, [](RollingZDetector& d) {
    std::vector<double> scores;
    for (int i = 0; i < 30; ++i) {
      const double v = std::cos(i) * 12 + 50;
      scores.push_back(d.score(v, i).tail_probability);
      d.update(v, i);
    }
    return scores;
  });
}
