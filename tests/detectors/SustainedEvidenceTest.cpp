#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "detectors/SustainedEvidence.hpp"

using namespace flowlier::detectors;

TEST_CASE("sustained evidence is Fisher's combination corrected for the looks", "[sustained]") {
  SustainedEvidence run;
  CHECK_FALSE(run.open());
  CHECK(run.combined() == 1.0);
  run.start({0.01});
  CHECK(run.open());
  CHECK(run.combined() == Approx(0.01));  // one p-value: chi2(2) tail is the p itself
  const SustainedConfig config{.max_windows = 10};
  // Product 2e-4, two terms: P * (1 - ln P) = 1.90344e-3; ten looks.
  CHECK(run.peek(0.02, config) == Approx(0.0190344).epsilon(1e-5));
  CHECK(run.terms() == 1);  // peek adds nothing
  CHECK(run.add(0.02, config) == Approx(0.0190344).epsilon(1e-5));
  CHECK(run.combined() == Approx(0.00190344).epsilon(1e-5));
  // Windows with no evidence (p = 1) dilute the run instead of being skipped.
  CHECK(run.add(1.0, config) > 0.0190344);
}

TEST_CASE("a run closes after max_windows later windows; a new anchor replaces it", "[sustained]") {
  const SustainedConfig config{.max_windows = 2};
  SustainedEvidence run;
  run.start({0.5});
  run.add(0.5, config);
  CHECK(run.open());
  run.add(0.5, config);
  CHECK_FALSE(run.open());
  run.start({0.1, 0.2});
  CHECK(run.terms() == 2);
  run.start({0.3});
  CHECK(run.terms() == 1);
  CHECK(run.combined() == Approx(0.3));
  // A zero p-value is clamped, never -inf or NaN.
  CHECK(run.add(0.0, config) > 0.0);
}

TEST_CASE("under the null a run pages at level a at most a times", "[sustained]") {
  // Uniform p-values (the null), every look of every run: the smallest corrected p
  // of a run is below a with probability <= a (Bonferroni over the looks).
  std::mt19937_64 rng(20261127);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const SustainedConfig config{.max_windows = 8};
  const int runs = 20000;
  for (const double a : {0.05, 0.01}) {
    int alarms = 0;
    for (int i = 0; i < runs; ++i) {
      SustainedEvidence run;
      run.start({uniform(rng)});
      double smallest = 1.0;
      for (std::uint32_t k = 0; k < config.max_windows; ++k) smallest = std::min(smallest, run.add(uniform(rng), config));
      CHECK_FALSE(run.open());
      if (smallest <= a) ++alarms;
    }
    const double rate = static_cast<double>(alarms) / runs;
    INFO("a=" << a << " rate=" << rate);
    CHECK(rate <= a);
    CHECK(rate >= a / 8);  // Bonferroni is loose but not vacuous here
  }
}

TEST_CASE("sustained evidence state round-trips and refuses nonsense", "[sustained][state]") {
  const SustainedConfig config{};
  SustainedEvidence run;
  run.start({1e-3});
  run.add(2e-2, config);
  StateWriter w;
  run.save(w);
  SustainedEvidence back;
  StateReader r(w.bytes());
  REQUIRE(back.load(r));
  CHECK(back.terms() == 2);
  CHECK(back.combined() == run.combined());
  CHECK(back.peek(0.5, config) == run.peek(0.5, config));

  StateWriter bad;
  bad.put(1.5);  // a positive sum of log p is impossible
  bad.put(std::uint32_t{2});
  bad.put(std::uint32_t{1});
  SustainedEvidence untouched;
  StateReader br(bad.bytes());
  CHECK_FALSE(untouched.load(br));
  CHECK_FALSE(untouched.open());
}
