#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "detectors/RobustZDetector.hpp"
#include "tests/detectors/PersistenceChecks.hpp"

using namespace flowlier::detectors;

TEST_CASE("median and MAD of a known window", "[robust]") {
  RobustZConfig config;
  config.min_samples = 3;
  RobustZDetector d(config);
  // {1, 1, 2, 2, 4, 6, 9}: median 2, |x - 2| = {1, 1, 0, 0, 2, 4, 7} -> MAD 1.
  for (const double v : {1.0, 2.0, 9.0, 1.0, 4.0, 6.0, 2.0}) d.update(v, 0);
  CHECK(d.median() == Approx(2.0));
  CHECK(d.mad() == Approx(1.0));
  const auto r = d.score(2.0 + 3 * 1.4826, 0);
  CHECK(r.expected == Approx(2.0));
  CHECK(r.tail_probability == Approx(0.0013498980).epsilon(1e-4));
  // Even count: {1, 2, 9, 1, 4, 6, 2, 3} -> median (2 + 3) / 2.
  d.update(3.0, 0);
  CHECK(d.median() == Approx(2.5));
}

TEST_CASE("robust z keeps only the trailing window", "[robust]") {
  RobustZConfig config;
  config.window = 5;
  config.min_samples = 5;
  RobustZDetector d(config);
  for (const double v : {100.0, 100.0, 100.0, 1.0, 2.0, 3.0, 4.0, 5.0}) d.update(v, 0);
  CHECK(d.size() == 5);
  CHECK(d.median() == Approx(3.0));
  CHECK(d.mad() == Approx(1.0));
}

TEST_CASE("robust z is not dragged by earlier outliers and catches a spike", "[robust][spike]") {
  RobustZDetector d;
  for (int i = 0; i < 60; ++i) d.update(i % 7 == 0 ? 5000.0 : 100.0 + (i % 5), i);  // outliers in the window
  CHECK(d.median() == Approx(102.0).margin(1.0));
  const auto spike = d.score(1000.0, 60);
  CHECK_FALSE(spike.warming_up);
  CHECK(spike.tail_probability < 1e-12);
  CHECK(d.score(103.0, 60).tail_probability > 0.1);
}

TEST_CASE("robust z floors a zero MAD", "[robust]") {
  RobustZDetector d;
  for (int i = 0; i < 60; ++i) d.update(50.0, i);
  CHECK(d.mad() == 0.0);
  const auto r = d.score(50.2, 60);  // 0.2 / (1 % of 50) = 0.4 sd
  CHECK(r.tail_probability > 0.3);
  CHECK(d.score(60.0, 60).tail_probability < 1e-12);
}

TEST_CASE("robust z warms up and ignores non-finite input", "[robust][bad-input]") {
  RobustZDetector d;
  for (int i = 0; i < 19; ++i) d.update(i, i);
  CHECK(d.score(1e9, 0).warming_up);
  CHECK(d.score(1e9, 0).tail_probability == 1.0);
  const auto before = d.checksum();
  d.update(std::nan(""), 0);
  CHECK(d.checksum() == before);
  d.update(1.0, 0);
  CHECK(d.is_warm());
  CHECK(d.memory_usage() >= sizeof(RobustZDetector) + 20 * sizeof(float));
}

TEST_CASE("robust z save/restore", "[robust][persist]") {
  RobustZDetector trained;
  for (int i = 0; i < 90; ++i) trained.update(std::sin(i) * 10 + 50, i);
  RobustZDetector bystander;
  bystander.update(1.0, 0);
  flowlier::detectors::testing::check_persistence(trained, bystander, [](RobustZDetector& d) {
    std::vector<double> scores;
    for (int i = 0; i < 30; ++i) {
      const double v = std::cos(i) * 12 + 50;
      scores.push_back(d.score(v, i).tail_probability);
      d.update(v, i);
    }
    return scores;
  });
}
