#include <catch2/catch.hpp>

#include <random>
#include <sstream>

#include <vector>

#include "detectors/Probability.hpp"
#include "detectors/RarityDetector.hpp"
#include "tests/detectors/PersistenceChecks.hpp"

using namespace flowlier::detectors;

TEST_CASE("Beta-Binomial tails have known values", "[rarity]") {
  // alpha = beta = 1: uniform over 0..n, so P(X >= k) = (n - k + 1) / (n + 1).
  CHECK(beta_binomial_upper_tail(0, 5, 1, 1) == 1.0);
  CHECK(beta_binomial_upper_tail(2, 2, 1, 1) == Approx(1.0 / 3.0));
  CHECK(beta_binomial_upper_tail(3, 9, 1, 1) == Approx(7.0 / 10.0));
  CHECK(beta_binomial_upper_tail(9, 9, 1, 1) == Approx(1.0 / 10.0));
  CHECK(beta_binomial_upper_tail(1, 1, 2, 6) == Approx(0.25));  // a Bernoulli with mean alpha / (alpha + beta)
  CHECK(beta_binomial_upper_tail(10, 9, 1, 1) == kMinTailProbability);
  // Near-binomial: n = 20, p ~ 0.001; P(X >= 3) ~ C(20, 3) p^3.
  CHECK(beta_binomial_upper_tail(3, 20, 1e3, 1e6) == Approx(1140 * 1e-9).epsilon(0.05));
}

TEST_CASE("a stable entity seeing several new peers is rare; a chatty one is not", "[rarity][spike]") {
  RarityDetector stable;
  stable.update(20, 0, 0);  // the first window: everything is new
  for (int i = 1; i < 200; ++i) stable.update(i % 50 == 0 ? 1 : 0, 20, i * 60);
  CHECK(stable.is_warm());
  CHECK(stable.distinct_items_seen() == 23);
  const auto quiet = stable.score(0, 20, 0);
  CHECK(quiet.tail_probability == 1.0);
  const auto one = stable.score(1, 20, 0);
  CHECK(one.tail_probability > 1e-3);  // a single new peer now and then is not alarming
  const auto several = stable.score(6, 20, 0);
  CHECK(several.tail_probability < 1e-6);
  CHECK(several.upper < 6.0);

  RarityDetector chatty;
  for (int i = 0; i < 200; ++i) chatty.update(10, 10, i * 60);
  const auto busy = chatty.score(10, 10, 0);
  CHECK(busy.tail_probability > 0.3);
  CHECK(busy.expected == Approx(10.0).epsilon(0.05));
  CHECK(chatty.windows_with_novelty() == 200);
}

TEST_CASE("rarity warms up over windows", "[rarity]") {
  RarityDetector d;
  for (int i = 0; i < 9; ++i) d.update(0, 5, i);
  CHECK(d.score(5, 5, 9).warming_up);
  CHECK(d.score(5, 5, 9).tail_probability == 1.0);
  d.update(0, 5, 9);
  CHECK_FALSE(d.score(5, 5, 10).warming_up);
  CHECK(d.memory_usage() == sizeof(RarityDetector));
}

TEST_CASE("rarity handles huge windows in bounded time", "[rarity][bad-input]") {
  RarityDetector d;
  for (int i = 0; i < 20; ++i) d.update(1000, 4'000'000'000u, i);
  const auto r = d.score(4'000'000'000u, 100, 0);
  CHECK(r.tail_probability >= kMinTailProbability);
  CHECK(r.tail_probability <= 1.0);
}

TEST_CASE("rarity save/restore", "[rarity][persist]") {
  RarityDetector trained;
  for (int i = 0; i < 100; ++i) trained.update(i % 7 == 0 ? 2 : 0, 30, i);
  RarityDetector bystander;
  bystander.update(1, 1, 0);
  flowlier::detectors::testing::check_persistence(trained, bystander, [](RarityDetector& d) {
    std::vector<double> scores;
    for (std::uint32_t i = 0; i < 20; ++i) {
      scores.push_back(d.score(i % 4, 30, i).tail_probability);
      d.update(i % 4, 30, i);
    }
    return scores;
  });
  SECTION("impossible counters are refused") {
    StateWriter w;
    w.put<std::uint32_t>(1);
    w.put<std::uint32_t>(5);  // more novelty windows than windows
    w.put<std::uint64_t>(0);
    w.put<std::uint64_t>(0);
    w.put<double>(0);
    w.put<double>(0);
    std::ostringstream out;
    save_record(out, RarityDetector::kTag, RarityDetector::kVersion, w.bytes());
    RarityDetector d;
    const auto error = flowlier::detectors::testing::restore_from(d, out.str());
    CHECK(error.find("novelty") != std::string::npos);
  }
}

TEST_CASE("novelty that comes in bursts is learnt as bursty", "[rarity][dispersion]") {
  // Both entities meet new items at the same long-run rate (about 17 of 40 a window).
  // One meets them independently; the other thirty at a time, now and then.
  RarityDetector steady, bursty;
  std::mt19937_64 rng(5);
  std::binomial_distribution<int> items(40, 17.0 / 40);
  std::bernoulli_distribution burst(17.0 / 34);
  for (int i = 0; i < 1500; ++i) {
    const int k = items(rng);
    steady.update(static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(40 - k), i * 60);
    const int b = burst(rng) ? 34 : 0;
    bursty.update(static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(40 - b), i * 60);
  }
  // Thirty-five new of forty: news for the steady one, routine for the bursty one.
  const double p_steady = steady.score(35, 5, 0).tail_probability;
  const double p_bursty = bursty.score(35, 5, 0).tail_probability;
  INFO("steady " << p_steady << ", bursty " << p_bursty);
  CHECK(p_steady < 1e-7);
  CHECK(p_bursty > 1e-3);
  // The learnt dispersion survives a restart.
  std::stringstream state;
  bursty.save(state);
  RarityDetector back;
  REQUIRE(back.restore(state).empty());
  CHECK(back.score(35, 5, 0).tail_probability == p_bursty);
}
