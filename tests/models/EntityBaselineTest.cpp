#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <sstream>

#include "detectors/CountDetector.hpp"
#include "models/EntityBaseline.hpp"

using namespace flowlier::models;
using flowlier::detectors::count_upper_tail;

TEST_CASE("count tail is Poisson without overdispersion and heavier with it", "[count]") {
  // P(X >= 3 | Poisson(1)) = 1 - e^-1 (1 + 1 + 1/2) = 0.0803
  CHECK(count_upper_tail(3, 1.0, 1.0) == Approx(0.0803014).epsilon(1e-4));
  CHECK(count_upper_tail(0, 1.0, 1.0) == 1.0);
  CHECK(count_upper_tail(30, 10.0, 40.0) > count_upper_tail(30, 10.0, 10.0));
}

namespace {
FeatureVector normal_window(std::mt19937_64& rng) {
  std::poisson_distribution<int> flows(40), peers(8), ports(3);
  std::lognormal_distribution<double> bytes(10.0, 0.3);
  FeatureVector x{};
  x[static_cast<int>(Feature::flows)] = flows(rng);
  x[static_cast<int>(Feature::packets)] = x[0] * 10;
  x[static_cast<int>(Feature::bytes_in)] = bytes(rng);
  x[static_cast<int>(Feature::bytes_out)] = bytes(rng);
  x[static_cast<int>(Feature::distinct_peers)] = peers(rng);
  x[static_cast<int>(Feature::distinct_ports)] = std::max(1, ports(rng));
  return x;
}
}  // namespace

TEST_CASE("a steady entity scores normal windows low and a port scan high", "[baseline]") {
  BaselineConfig config;
  EntityBaseline b(config);
  std::mt19937_64 rng(3);
  double min_p = 1;
  for (int t = 0; t < 500; ++t) {
    const auto x = normal_window(rng);
    const auto s = b.score(x, t * 60, config);
    if (t >= 100) {
      for (const auto& f : s) min_p = std::min(min_p, f.result.tail_probability);
    }
    b.update(x, s, t * 60, config);
  }
  CHECK(min_p > 1e-6);  // 400 normal windows x 10 features: nothing alert-worthy
  auto scan = normal_window(rng);
  scan[static_cast<int>(Feature::distinct_ports)] = 300;
  const auto s = b.score(scan, 500 * 60, config);
  // As improbable as 500 windows of history can vouch for: (500 + 1)^-3.
  CHECK(s[static_cast<int>(Feature::distinct_ports)].result.tail_probability ==
        Approx(std::pow(501.0, -config.evidence_power)));
  CHECK(s[static_cast<int>(Feature::distinct_ports)].detector == std::string("count"));
}

TEST_CASE("baseline warms up before alerting and round-trips its state", "[baseline]") {
  BaselineConfig config;
  EntityBaseline a(config);
  std::mt19937_64 rng(5);
  auto x = normal_window(rng);
  CHECK(a.score(x, 0, config)[0].result.warming_up);
  for (int t = 0; t < 60; ++t) {
    x = normal_window(rng);
    a.update(x, a.score(x, t, config), t, config);
  }
  CHECK_FALSE(a.score(x, 61, config)[0].result.warming_up);
  std::stringstream state;
  a.save(state);
  EntityBaseline b(config);
  REQUIRE(b.restore(state, config) == "");
  CHECK(a.checksum() == b.checksum());
  x = normal_window(rng);
  CHECK(a.score(x, 62, config)[3].result.tail_probability == b.score(x, 62, config)[3].result.tail_probability);

  std::string corrupt = state.str();
  corrupt[corrupt.size() / 2] ^= 0x5a;
  std::stringstream bad(corrupt);
  EntityBaseline c(config);
  const auto before = c.checksum();
  CHECK_FALSE(c.restore(bad, config).empty());
  CHECK(c.checksum() == before);
}
