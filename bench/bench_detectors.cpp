// update + score per detector, on a pre-generated series (the RNG is outside the loop).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "detectors/EwmaDetector.hpp"
#include "detectors/HalfSpaceTrees.hpp"
#include "detectors/MahalanobisDetector.hpp"
#include "detectors/RarityDetector.hpp"
#include "detectors/RobustZDetector.hpp"
#include "detectors/RollingZDetector.hpp"
#include "detectors/SeasonalDetector.hpp"

using namespace flowlier::detectors;

namespace {

std::vector<double> series(std::size_t n) {
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> d(7.0, 0.3);
  std::vector<double> out(n);
  for (auto& v : out) v = d(rng);
  return out;
}

std::vector<Eigen::VectorXd> vectors(std::size_t n, Eigen::Index dim) {
  std::mt19937_64 rng(2);
  std::normal_distribution<double> d(0.5, 0.1);
  std::vector<Eigen::VectorXd> out(n, Eigen::VectorXd(dim));
  for (auto& v : out) {
    for (Eigen::Index i = 0; i < dim; ++i) v(i) = d(rng);
  }
  return out;
}

template <class D>
void univariate(benchmark::State& state, D detector) {
  const auto values = series(4096);
  std::size_t i = 0;
  std::int64_t t = 1'700'000'000;
  for (auto _ : state) {
    const double v = values[i++ & 4095];
    benchmark::DoNotOptimize(detector.score(v, t));
    detector.update(v, t);
    t += 60;
  }
}

template <class D>
void multivariate(benchmark::State& state, D detector, Eigen::Index dim) {
  const auto data = vectors(4096, dim);
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& x = data[i++ & 4095];
    benchmark::DoNotOptimize(detector.score(x, 0));
    detector.update(x, 0);
  }
}

void BM_Ewma(benchmark::State& s) { univariate(s, EwmaDetector{}); }
void BM_RollingZ(benchmark::State& s) { univariate(s, RollingZDetector{}); }
void BM_RobustZ(benchmark::State& s) { univariate(s, RobustZDetector{}); }
void BM_Seasonal(benchmark::State& s) { univariate(s, SeasonalDetector{}); }

void BM_Mahalanobis(benchmark::State& s) {
  MahalanobisConfig c;
  c.dimension = static_cast<std::uint32_t>(s.range(0));
  multivariate(s, MahalanobisDetector(c), s.range(0));
}

void BM_HalfSpaceTrees(benchmark::State& s) {
  HalfSpaceTreesConfig c;  // 25 trees, depth 12, window 256
  c.dimension = static_cast<std::uint32_t>(s.range(0));
  multivariate(s, HalfSpaceTrees(c), s.range(0));
}

void BM_Rarity(benchmark::State& s) {
  RarityDetector d;
  std::uint32_t i = 0;
  for (auto _ : s) {
    const std::uint32_t fresh = (i++ % 17 == 0) ? 3 : 0;
    benchmark::DoNotOptimize(d.score(fresh, 40, 0));
    d.update(fresh, 40, 0);
  }
}

}  // namespace

BENCHMARK(BM_Ewma);
BENCHMARK(BM_RollingZ);
BENCHMARK(BM_RobustZ);
BENCHMARK(BM_Seasonal);
BENCHMARK(BM_Mahalanobis)->Arg(4)->Arg(8);
BENCHMARK(BM_HalfSpaceTrees)->Arg(4)->Arg(8);
BENCHMARK(BM_Rarity);
BENCHMARK_MAIN();
