#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "detectors/BeaconDetector.hpp"
#include "detectors/Probability.hpp"
#include "tests/detectors/PersistenceChecks.hpp"

using namespace flowlier::detectors;

namespace {
BeaconContact contact(std::int64_t t, std::uint8_t last_octet, std::uint16_t local_port) {
  BeaconContact c;
  c.time_s = t;
  c.peer = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, last_octet};
  c.peer_hash = 0x9e3779b97f4a7c15ULL * (last_octet + 1u);
  c.service_port = 443;
  c.local_port = local_port;
  c.protocol = 6;
  return c;
}

// Contacts to one new peer at the given times (each a new connection), settled as
// novel with `novelty_p`, then scored once.
BeaconFinding judge(const std::vector<std::int64_t>& times, double novelty_p, const BeaconConfig& config = {}) {
  BeaconDetector d;
  std::uint16_t port = 40000;
  for (std::size_t i = 0; i < times.size(); ++i) d.observe(contact(times[i], 7, port++), i == 0, config);
  const std::int64_t start = times[0] - times[0] % 60;
  d.settle(start, start + 60, true, novelty_p, config);
  return d.score(config);
}

// Empirical P(CV <= c) for n exponential intervals.
double simulated_cv_tail(double c, std::uint32_t n, int trials, std::mt19937_64& rng) {
  std::exponential_distribution<double> exp(1.0);
  int hits = 0;
  for (int t = 0; t < trials; ++t) {
    double sum = 0, sum2 = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      const double x = exp(rng);
      sum += x;
      sum2 += x * x;
    }
    const double mean = sum / n;
    const double cv = std::sqrt(std::max(0.0, sum2 / n - mean * mean)) / mean;
    hits += cv <= c ? 1 : 0;
  }
  return static_cast<double>(hits) / trials;
}
}  // namespace

TEST_CASE("the Poisson-null CV tail has known values", "[beacon]") {
  // n = 2: CV = |u1 - u2| with u uniform on the 1-simplex, so P(CV <= c) = c.
  CHECK(exponential_cv_lower_tail(0.3, 2) == Approx(0.3));
  CHECK(exponential_cv_lower_tail(0.9, 2) == Approx(0.9));
  CHECK(exponential_cv_lower_tail(0.5, 1) == 1.0);
  CHECK(exponential_cv_lower_tail(0.0, 10) == kMinTailProbability);
  CHECK(exponential_cv_lower_tail(NAN, 10) == 1.0);
  CHECK(exponential_cv_lower_tail(5.0, 10) == 1.0);
  // Exact inside the inscribed ball (c <= 1/sqrt(n-1)): against a seeded Monte Carlo.
  std::mt19937_64 rng(20261126);
  // n = 5, c = 0.45: p ~ 0.087 (~17000 hits of 200000, 1% error); n = 10, c = 0.32:
  // p ~ 4.3e-4 (~430 hits of 1e6, 5% error).
  struct Case {
    std::uint32_t n;
    double c;
    int trials;
    double epsilon;
  };
  for (const Case k : {Case{5, 0.45, 200000, 0.04}, Case{10, 0.32, 1000000, 0.2}}) {
    const double simulated = simulated_cv_tail(k.c, k.n, k.trials, rng);
    INFO("n=" << k.n << " c=" << k.c << " simulated=" << simulated);
    CHECK(exponential_cv_lower_tail(k.c, k.n) == Approx(simulated).epsilon(k.epsilon));
  }
  // Beyond it the formula is an upper bound: conservative, never anti-conservative.
  const double wide = simulated_cv_tail(0.6, 5, 100000, rng);
  CHECK(exponential_cv_lower_tail(0.6, 5) >= wide);
  // Combining two independent p-values: P(U1 U2 <= x) = x (1 - ln x).
  CHECK(product_of_two_p(1.0) == 1.0);
  CHECK(product_of_two_p(0.01) == Approx(0.01 * (1 + std::log(100.0))));
  CHECK(product_of_two_p(0.0) == kMinTailProbability);
}

TEST_CASE("Poisson contacts to a new peer are not found periodic", "[beacon][calibration]") {
  std::mt19937_64 rng(7);
  BeaconConfig config;
  int below_001 = 0, below_01 = 0, trials = 0;
  for (int t = 0; t < 4000; ++t) {
    // Flows at random (Poisson) times, each its own connection; means from 1 to 10
    // minutes, so that many fall within the merge gap at the fast end.
    const double mean = 60.0 + 540.0 * (t % 10) / 9.0;
    std::exponential_distribution<double> gap(1.0 / mean);
    std::vector<std::int64_t> times{1'000'020};
    const int flows = 7 + t % 25;
    double clock = static_cast<double>(times[0]);
    while (static_cast<int>(times.size()) < flows) {
      clock += gap(rng);
      times.push_back(static_cast<std::int64_t>(clock));
    }
    const auto f = judge(times, 0.049, config);
    if (!f.present) continue;  // fewer than min_intervals check-ins after merging
    ++trials;
    below_001 += f.periodic_p < 0.01 ? 1 : 0;
    below_01 += f.periodic_p < 0.1 ? 1 : 0;
    CHECK(f.tail_probability >= f.periodic_p * f.novelty_p);  // corrections only weaken the evidence
  }
  // Uniform-ish under the null (exactly uniform below 1/sqrt(n-1), conservative above):
  // about the nominal rate below each level, allowing 2x for sampling and whole seconds.
  INFO("below 0.01: " << below_001 << " below 0.1: " << below_01 << " of " << trials);
  REQUIRE(trials > 3000);
  CHECK(below_001 < 2 * trials / 100);
  CHECK(below_01 < 2 * trials / 10);
  CHECK(below_01 > trials / 20);  // and not trivially conservative
}

TEST_CASE("periodic contacts with 10% jitter give a tiny p", "[beacon]") {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> jitter(0.0, 30.0);  // up to 10% of a 300 s period
  std::vector<std::int64_t> times;
  for (int i = 0; i < 13; ++i) times.push_back(2'000'000 + 300 * i + static_cast<std::int64_t>(jitter(rng)));
  const auto f = judge(times, 0.01);
  REQUIRE(f.present);
  CHECK(f.intervals == 12);
  CHECK(f.mean_interval == Approx(300).margin(5));
  CHECK(f.cv < 0.1);
  CHECK(f.periodic_p < 1e-10);
  CHECK(f.tail_probability < 1e-9);
  CHECK(f.tail_probability > f.periodic_p * 0.01);  // the novelty cannot be counted twice
  CHECK(f.peer[15] == 7);
  CHECK(f.service_port == 443);

  // Too few intervals: no finding yet.
  const auto early = judge({times.begin(), times.begin() + 5}, 0.01);
  CHECK_FALSE(early.present);
}

TEST_CASE("flows of one check-in, or of one connection, are one contact", "[beacon]") {
  BeaconConfig config;
  BeaconDetector d;
  std::uint16_t port = 50000;
  for (int i = 0; i < 8; ++i) {
    const std::int64_t t = 3'000'000 + 600 * i;
    d.observe(contact(t, 9, port), i == 0, config);
    d.observe(contact(t, 9, port), false, config);                    // the reverse direction's record
    d.observe(contact(t + 10, 9, static_cast<std::uint16_t>(port + 1)), false, config);  // within the gap
    d.observe(contact(t + 300, 9, port), false, config);  // the same connection, still open 5 min later
    port = static_cast<std::uint16_t>(port + 2);
  }
  d.settle(3'000'000 - 3'000'000 % 60, 3'000'000 - 3'000'000 % 60 + 60, true, 0.01, config);
  const auto f = d.score(config);
  REQUIRE(f.present);
  CHECK(f.intervals == 7);
  CHECK(f.mean_interval == Approx(600));
  CHECK(f.cv == Approx(0.0).margin(1e-9));
  // Scored once per new contact: nothing new, nothing to report.
  CHECK_FALSE(d.score(config).present);
}

TEST_CASE("only new peers whose first window was novel stay candidates; the table is bounded", "[beacon]") {
  BeaconConfig config;
  BeaconDetector d;
  CHECK(d.empty());
  const std::size_t empty_bytes = d.memory_usage();
  d.observe(contact(60, 1, 40000), false, config);  // a known peer: nothing tracked
  CHECK(d.empty());
  CHECK(d.memory_usage() == empty_bytes);

  for (int i = 0; i < 100; ++i) d.observe(contact(120 + i, static_cast<std::uint8_t>(i + 10), 40001), true, config);
  CHECK(d.candidate_count() == BeaconDetector::kSlots);
  const std::size_t full_bytes = d.memory_usage();
  CHECK(full_bytes > empty_bytes);
  CHECK(full_bytes < 1024);
  // The window's novelty was ordinary for this entity: every candidate is dropped.
  d.settle(120, 240, true, 0.5, config);
  CHECK(d.empty());
  CHECK(d.memory_usage() == empty_bytes);
  // Warming up (novelty unknown): dropped too.
  d.observe(contact(300, 3, 40002), true, config);
  d.settle(300, 360, false, 1e-6, config);
  CHECK(d.empty());
  // Novel: kept, and later windows do not touch it.
  d.observe(contact(400, 4, 40003), true, config);
  d.settle(360, 420, true, 0.001, config);
  d.settle(420, 480, true, 0.9, config);
  CHECK(d.candidate_count() == 1);
  // A kept candidate outlives newer unsettled first contacts competing for its slot.
  for (int i = 0; i < 20; ++i) d.observe(contact(500 + i, static_cast<std::uint8_t>(100 + i), 40004), true, config);
  d.settle(480, 540, true, 0.5, config);
  CHECK(d.candidate_count() == 1);
}

TEST_CASE("beacon detector state round-trips and refuses bad state", "[beacon][state]") {
  BeaconConfig config;
  BeaconDetector trained;
  for (int i = 0; i < 9; ++i) trained.observe(contact(10'000 + 240 * i, 5, static_cast<std::uint16_t>(41000 + i)), i == 0, config);
  trained.settle(9'960, 10'020, true, 0.002, config);
  BeaconDetector bystander;
  bystander.observe(contact(50, 6, 42000), true, config);
  auto later = [&config](BeaconDetector& d) {
    std::vector<double> out;
    for (int i = 9; i < 14; ++i) {
      d.observe(contact(10'000 + 240 * i + (i % 2) * 7, 5, static_cast<std::uint16_t>(41000 + i)), false, config);
      out.push_back(d.score(config).tail_probability);
    }
    return out;
  };
  testing::check_persistence(trained, bystander, later);

  SECTION("an empty detector round-trips to empty") {
    BeaconDetector empty, target = trained;
    REQUIRE(testing::restore_from(target, testing::saved(empty)).empty());
    CHECK(target.empty());
  }
}
