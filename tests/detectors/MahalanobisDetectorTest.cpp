#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "detectors/MahalanobisDetector.hpp"
#include "tests/detectors/PersistenceChecks.hpp"

using namespace flowlier::detectors;

namespace {

Eigen::VectorXd vec(std::initializer_list<double> values) {
  Eigen::VectorXd v(static_cast<Eigen::Index>(values.size()));
  Eigen::Index i = 0;
  for (const double x : values) v(i++) = x;
  return v;
}

MahalanobisConfig config2() {
  MahalanobisConfig c;
  c.dimension = 2;
  c.half_life = 1e6;  // effectively a plain average for the known-value tests
  return c;
}

}  // namespace

TEST_CASE("Mahalanobis distance and chi-square tail of a known distance", "[mahalanobis]") {
  MahalanobisDetector d(config2());
  for (int i = 0; i < 250; ++i) {
    for (const auto& p : {vec({1, 0}), vec({-1, 0}), vec({0, 1}), vec({0, -1})}) d.update(p, i);
  }
  CHECK(d.mean().norm() < 1e-9);
  CHECK(d.covariance()(0, 0) == Approx(0.5));
  CHECK(d.covariance()(0, 1) == Approx(0.0).margin(1e-12));
  const auto r = d.score(vec({1, 1}), 0);
  const double variance = 0.5 + 1e-6 + 1e-4;  // + ridge + min_variance
  CHECK(r.distance2 == Approx(2.0 / variance));
  CHECK(r.tail_probability == Approx(std::exp(-r.distance2 / 2.0)));  // chi-square(2)
  CHECK(r.contributions(0) == Approx(0.5));
  CHECK(r.contributions(1) == Approx(0.5));
  CHECK_FALSE(r.warming_up);
}

TEST_CASE("Mahalanobis sees broken correlations and names the feature", "[mahalanobis][spike]") {
  MahalanobisConfig c;
  c.dimension = 3;
  MahalanobisDetector d(c);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> n(0.0, 1.0);
  for (int i = 0; i < 2000; ++i) {
    const double base = n(rng);
    d.update(vec({base, base + 0.1 * n(rng), n(rng)}), i);
  }
  // Along the correlation: far in Euclidean terms, ordinary in Mahalanobis terms.
  const auto along = d.score(vec({2.0, 2.0, 0.0}), 0);
  const auto across = d.score(vec({1.0, -1.0, 0.0}), 0);
  CHECK(along.tail_probability > 0.01);
  CHECK(across.tail_probability < 1e-6);  // shrinkage (5 %) softens a perfect correlation
  const auto third = d.score(vec({0.0, 0.0, 8.0}), 0);
  CHECK(third.tail_probability < 1e-9);
  Eigen::Index top = 0;
  third.contributions.maxCoeff(&top);
  CHECK(top == 2);
  CHECK(third.contributions.sum() == Approx(1.0));
  CHECK(across.contributions.sum() == Approx(1.0));
}

TEST_CASE("Mahalanobis is invertible from the first samples and warms up", "[mahalanobis]") {
  MahalanobisConfig c;
  c.dimension = 4;
  MahalanobisDetector d(c);
  d.update(vec({1, 2, 3, 4}), 0);
  d.update(vec({1, 2, 3, 4}), 1);  // rank-0 covariance
  const auto r = d.score(vec({1, 2, 3, 5}), 2);
  CHECK(std::isfinite(r.distance2));
  CHECK(r.warming_up);
  CHECK(r.tail_probability == 1.0);
  CHECK(r.contributions.size() == 4);
}

TEST_CASE("Mahalanobis refuses wrong-sized and non-finite vectors", "[mahalanobis][bad-input]") {
  MahalanobisDetector d(config2());
  d.update(vec({1, 1}), 0);
  const auto before = d.checksum();
  CHECK_FALSE(d.update(vec({1, 2, 3}), 0));
  CHECK_FALSE(d.update(vec({1, NAN}), 0));
  CHECK(d.checksum() == before);
  const auto r = d.score(vec({1}), 0);
  CHECK(r.tail_probability == 1.0);
  CHECK(r.contributions.size() == 2);
  CHECK(d.memory_usage() >= sizeof(MahalanobisDetector) + 6 * sizeof(double));
}

TEST_CASE("Mahalanobis save/restore", "[mahalanobis][persist]") {
  MahalanobisConfig c;
  c.dimension = 3;
  MahalanobisDetector trained(c);
  std::mt19937_64 rng(9);
  std::normal_distribution<double> n(0.0, 1.0);
  for (int i = 0; i < 300; ++i) trained.update(vec({n(rng), n(rng) * 2, n(rng) + 5}), i);
  MahalanobisDetector bystander(c);
  bystander.update(vec({1, 1, 1}), 0);
  flowlier::detectors::testing::check_persistence(trained, bystander, [](MahalanobisDetector& d) {
    std::mt19937_64 later(10);
    std::normal_distribution<double> m(0.0, 1.5);
    std::vector<double> scores;
    for (int i = 0; i < 40; ++i) {
      const Eigen::VectorXd x = vec({m(later), m(later), m(later) + 5});
      scores.push_back(d.score(x, i).distance2);
      d.update(x, i);
    }
    return scores;
  });
  SECTION("another dimension is refused") {
    MahalanobisConfig other = c;
    other.dimension = 2;
    MahalanobisDetector d2(other);
    const std::string error =
        flowlier::detectors::testing::restore_from(d2, flowlier::detectors::testing::saved(trained));
    CHECK_FALSE(error.empty());
  }
}
