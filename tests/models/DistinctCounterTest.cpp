#include <catch2/catch.hpp>

#include <random>

#include "models/DistinctCounter.hpp"

using flowlier::models::DistinctCounter;

TEST_CASE("distinct counter is exact for a few values", "[distinct]") {
  DistinctCounter c;
  CHECK(c.add(11));
  CHECK_FALSE(c.add(11));
  CHECK(c.add(12));
  CHECK(c.estimate() == 2);
  CHECK(c.is_exact());
}

TEST_CASE("distinct counter estimates a flood within 25% at fixed memory", "[distinct]") {
  std::mt19937_64 rng(7);
  for (std::size_t n : {50u, 1000u, 100000u}) {
    DistinctCounter c;
    for (std::size_t i = 0; i < n; ++i) {
      const auto v = rng();
      c.add(v);
      c.add(v);  // repeats do not count
    }
    INFO(n);
    CHECK(c.estimate() == Approx(static_cast<double>(n)).epsilon(0.25));
    CHECK(c.memory_usage() <= 256);
  }
}

TEST_CASE("distinct counter state round-trips", "[distinct]") {
  DistinctCounter c;
  for (std::uint64_t i = 0; i < 500; ++i) c.add(i * 7919);
  flowlier::detectors::StateWriter w;
  c.save(w);
  flowlier::detectors::StateReader r(w.bytes());
  DistinctCounter d;
  REQUIRE(d.load(r));
  CHECK(d.estimate() == c.estimate());
}
