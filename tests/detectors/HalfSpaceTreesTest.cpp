#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "detectors/HalfSpaceTrees.hpp"
#include "tests/detectors/PersistenceChecks.hpp"

using namespace flowlier::detectors;

namespace {

HalfSpaceTreesConfig small_config(std::uint64_t seed) {
  HalfSpaceTreesConfig c;
  c.dimension = 3;
  c.trees = 10;
  c.depth = 8;
  c.window_size = 64;
  c.calibration_size = 256;
  c.min_calibration = 64;
  c.seed = seed;
  return c;
}

// A population: three clusters of normalized feature vectors.
std::vector<Eigen::VectorXd> population(std::size_t n, std::uint64_t seed, Eigen::Index dim) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.03);
  std::vector<Eigen::VectorXd> out;
  for (std::size_t i = 0; i < n; ++i) {
    Eigen::VectorXd x(dim);
    const double centre = 0.2 + 0.3 * static_cast<double>(i % 3);
    for (Eigen::Index q = 0; q < dim; ++q) x(q) = centre + noise(rng);
    out.push_back(x);
  }
  return out;
}

std::vector<double> run(HalfSpaceTrees& model, const std::vector<Eigen::VectorXd>& data) {
  std::vector<double> scores;
  for (const auto& x : data) {
    scores.push_back(model.score(x, 0).raw_score);
    model.update(x, 0);
  }
  return scores;
}

}  // namespace

TEST_CASE("half-space trees are deterministic for a seed", "[hst]") {
  const auto data = population(600, 1, 3);
  HalfSpaceTrees a(small_config(17));
  HalfSpaceTrees b(small_config(17));
  HalfSpaceTrees c(small_config(18));
  const auto sa = run(a, data);
  CHECK(sa == run(b, data));
  CHECK(a.checksum() == b.checksum());
  CHECK(sa != run(c, data));
  CHECK(a.checksum() != c.checksum());
}

TEST_CASE("half-space trees warm up, then flag a point far from the population", "[hst][spike]") {
  HalfSpaceTrees model;  // defaults: 25 trees, depth 12, window 256
  Eigen::VectorXd probe = Eigen::VectorXd::Constant(4, 0.5);
  CHECK(model.score(probe, 0).warming_up);
  CHECK(model.score(probe, 0).tail_probability == 1.0);
  const auto data = population(2000, 2, 4);
  for (const auto& x : data) model.update(x, 0);
  CHECK(model.is_warm());
  CHECK(model.windows_completed() == 2000 / 256);

  int alarms = 0;
  for (const auto& x : population(300, 3, 4)) {
    if (model.score(x, 0).tail_probability < 0.005) ++alarms;
  }
  CHECK(alarms <= 6);  // ~ the calibration's own rate

  Eigen::VectorXd outlier(4);
  outlier << 0.9, 0.1, 0.85, 0.15;  // inside the learned range, far from every cluster
  const auto r = model.score(outlier, 0);
  CHECK_FALSE(r.warming_up);
  CHECK(r.tail_probability < 1e-3);
  Eigen::VectorXd ordinary = data.front();
  CHECK(model.score(ordinary, 0).tail_probability > 0.05);
  CHECK(model.score(ordinary, 0).raw_score > r.raw_score);
}

TEST_CASE("half-space trees with a fixed range", "[hst]") {
  auto c = small_config(5);
  c.range_min = {0, 0, 0};
  c.range_max = {1, 1, 1};
  CHECK(c.validate().empty());
  HalfSpaceTrees model(c);
  for (const auto& x : population(1000, 4, 3)) model.update(x, 0);
  Eigen::VectorXd far(3);
  far << 5.0, -3.0, 0.95;  // clamped to the edge of [0, 1]
  CHECK(model.score(far, 0).tail_probability < 0.01);
  c.range_max = {1, 1};
  CHECK_FALSE(c.validate().empty());
}

TEST_CASE("half-space trees refuse bad vectors and account memory", "[hst][bad-input]") {
  HalfSpaceTrees model(small_config(1));
  const auto before = model.checksum();
  CHECK_FALSE(model.update(Eigen::VectorXd::Zero(2), 0));
  Eigen::VectorXd bad = Eigen::VectorXd::Zero(3);
  bad(1) = NAN;
  CHECK_FALSE(model.update(bad, 0));
  CHECK(model.checksum() == before);
  CHECK(model.score(bad, 0).tail_probability == 1.0);
  // 10 trees * 511 nodes * 2 masses * 4 bytes at least.
  CHECK(model.memory_usage() >= 10 * 511 * 8);
}

TEST_CASE("half-space trees save/restore", "[hst][persist]") {
  HalfSpaceTrees trained(small_config(21));
  for (const auto& x : population(700, 6, 3)) trained.update(x, 0);
  HalfSpaceTrees bystander(small_config(21));
  for (const auto& x : population(10, 7, 3)) bystander.update(x, 0);  // still in its first window
  flowlier::detectors::testing::check_persistence(trained, bystander, [](HalfSpaceTrees& d) {
    std::vector<double> scores;
    for (const auto& x : population(200, 8, 3)) {
      scores.push_back(d.score(x, 0).tail_probability);
      d.update(x, 0);
    }
    return scores;
  });
  SECTION("a first-window state round-trips too") {
    HalfSpaceTrees restored(small_config(21));
    REQUIRE(flowlier::detectors::testing::restore_from(restored, flowlier::detectors::testing::saved(bystander)).empty());
    CHECK(restored.checksum() == bystander.checksum());
  }
  SECTION("another shape is refused") {
    auto c = small_config(21);
    c.depth = 7;
    HalfSpaceTrees other(c);
    const auto error = flowlier::detectors::testing::restore_from(other, flowlier::detectors::testing::saved(trained));
    CHECK_FALSE(error.empty());
  }
}
