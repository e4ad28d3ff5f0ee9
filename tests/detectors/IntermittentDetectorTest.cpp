#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "PersistenceChecks.hpp"
#include "detectors/IntermittentDetector.hpp"

using flowlier::detectors::IntermittentConfig;
using flowlier::detectors::IntermittentDetector;

namespace {
// An admin session host: active in `active_share` of the windows with a log-normal
// size around `typical` bytes, idle otherwise.
struct Sessions {
  std::mt19937_64 rng;
  double active_share;
  double typical;
  double log_sd = 0.8;
  double next() {
    if (std::uniform_real_distribution<double>(0, 1)(rng) >= active_share) return 0.0;
    return std::round(typical * std::exp(std::normal_distribution<double>(0, log_sd)(rng)));
  }
};
}  // namespace

TEST_CASE("intermittent: warming up until min_active active windows", "[detectors][intermittent]") {
  const IntermittentConfig c;
  IntermittentDetector d;
  for (int i = 0; i < 500; ++i) d.update(0.0, c);  // idle windows teach the activity rate only
  CHECK(d.score(5000, c).warming_up);
  for (std::uint32_t i = 0; i + 1 < c.min_active; ++i) d.update(1000 + i, c);
  CHECK(d.score(5000, c).warming_up);
  d.update(1000, c);
  CHECK_FALSE(d.score(5000, c).warming_up);
}

TEST_CASE("intermittent: a usual session is normal however many windows were idle", "[detectors][intermittent]") {
  const IntermittentConfig c;
  IntermittentDetector d;
  Sessions day{std::mt19937_64(7), 0.3, 30'000};
  for (int i = 0; i < 600; ++i) d.update(day.next(), c);  // a working day
  for (int i = 0; i < 840; ++i) d.update(0.0, c);         // a quiet night
  // The next morning's ordinary sessions (the EWMA fed zeros would page on each).
  for (const double bytes : {4'000.0, 30'000.0, 90'000.0}) {
    const auto r = d.score(bytes, c);
    INFO(bytes << " p=" << r.tail_probability);
    CHECK_FALSE(r.warming_up);
    CHECK(r.tail_probability > 1e-3);
  }
  CHECK(d.score(0.0, c).tail_probability == 1.0);
  // The expected size is the size when active, not an average over idle windows.
  CHECK(d.score(30'000, c).expected > 10'000);
  CHECK(d.score(30'000, c).expected < 90'000);
}

TEST_CASE("intermittent: a huge upload is anomalous, but never beyond what the tail supports",
          "[detectors][intermittent]") {
  const IntermittentConfig c;
  IntermittentDetector d;
  Sessions day{std::mt19937_64(11), 0.3, 30'000};
  for (int i = 0; i < 1440; ++i) d.update(day.next(), c);
  const auto big = d.score(30'000.0 * 20'000, c);  // 600 MB
  CHECK(big.tail_probability < 1e-6);
  const auto absurd = d.score(1e15, c);
  CHECK(absurd.tail_probability < big.tail_probability);
  CHECK(absurd.tail_probability > 1e-30);  // a normal tail would claim ~1e-300 here
}

TEST_CASE("intermittent: bounded influence, but behaviour that recurs becomes normal", "[detectors][intermittent]") {
  const IntermittentConfig c;
  Sessions day{std::mt19937_64(3), 0.3, 30'000};
  IntermittentDetector d;
  for (int i = 0; i < 1440; ++i) d.update(day.next(), c);

  SECTION("one improbable window moves the level by a bounded amount") {
    const double before = d.score(30'000, c).expected;
    d.update(1e12, c);
    const double after = d.score(30'000, c).expected;
    CHECK(after / before < 1.5);  // the raw value would have multiplied it by ~10^5
  }
  SECTION("a new habit (uploads 50x larger, a third of the windows) is learnt within a day") {
    Sessions habit{std::mt19937_64(5), 0.3, 1'500'000};
    const double first = d.score(1'500'000, c).tail_probability;
    CHECK(first < 1e-4);
    for (int i = 0; i < 1440; ++i) d.update(habit.next(), c);
    const double later = d.score(1'500'000, c).tail_probability;
    INFO("first " << first << " later " << later);
    CHECK(later > 1e-2);
  }
}

TEST_CASE("intermittent: the self-check widens a model that fires more often than it claims",
          "[detectors][intermittent]") {
  IntermittentConfig c;
  // A model held to a near-normal tail on data with a t3 tail, its exceedance tail
  // off: it fires too often, and nothing but the self-check can notice.
  c.tail_dof = c.min_dof = c.max_dof = 30;
  c.exceedance_tail = false;
  IntermittentDetector d;
  std::mt19937_64 rng(9);
  std::student_t_distribution<double> heavy(3);
  auto next = [&] { return std::exp(10 + 0.5 * heavy(rng)); };
  for (int i = 0; i < 4000; ++i) d.update(next(), c);
  CHECK(d.corrections() > 0);
  CHECK(d.correction_factor(c) > 3);
  // The same windows, judged with and without the correction.
  int below = 0, raw_below = 0;
  const int scored = 8000;
  for (int i = 0; i < scored; ++i) {
    const double x = next();
    const double p = d.score(x, c).tail_probability;
    below += p < 1e-3 ? 1 : 0;
    raw_below += p / d.correction_factor(c) < 1e-3 ? 1 : 0;
    d.update(x, c);
  }
  INFO("raw " << raw_below << ", corrected " << below << " of " << scored);
  CHECK(raw_below > 4 * scored / 1000);  // the model alone fires 4x+ too often...
  CHECK(below * 5 < raw_below * 3);      // ...with the self-check, at least 40% less often
}

TEST_CASE("intermittent: config validation names the parameter", "[detectors][intermittent]") {
  IntermittentConfig c;
  CHECK(c.validate().empty());
  c.tail_dof = 0;
  CHECK(c.validate().find("tail_dof") != std::string::npos);
  c = {};
  c.activity_prior = 1.5;
  CHECK(c.validate().find("activity_prior") != std::string::npos);
}

TEST_CASE("intermittent: state round trip and bad state", "[detectors][intermittent][state]") {
  const IntermittentConfig c;
  IntermittentDetector trained;
  Sessions day{std::mt19937_64(1), 0.4, 20'000};
  for (int i = 0; i < 400; ++i) trained.update(day.next(), c);
  IntermittentDetector bystander;
  for (int i = 0; i < 30; ++i) bystander.update(100 + i, c);
  flowlier::detectors::testing::check_persistence(trained, bystander, [&](IntermittentDetector& d) {
    Sessions later{std::mt19937_64(2), 0.4, 25'000};
    std::vector<double> scores;
    for (int i = 0; i < 50; ++i) {
      const double x = later.next();
      scores.push_back(d.score(x, c).tail_probability);
      d.update(x, c);
    }
    return scores;
  });
}

TEST_CASE("intermittent: the entity's own exceedances calibrate a tail the Student-t cannot fit",
          "[detectors][intermittent]") {
  // Tiny control traffic every window, and a few times a day a 50 MB pull: bimodal, so
  // no unimodal tail fitted to the usual windows knows the pulls.
  IntermittentConfig with, without;
  without.exceedance_tail = false;
  IntermittentDetector a, b;
  std::mt19937_64 rng(3);
  std::normal_distribution<double> usual(std::log(500.0), 0.5), pull(std::log(5e7), 0.7);
  std::bernoulli_distribution is_pull(5.0 / 1440);
  auto next = [&] { return std::exp(is_pull(rng) ? pull(rng) : usual(rng)); };
  for (int i = 0; i < 4000; ++i) {
    const double x = next();
    a.update(x, with);
    b.update(x, without);
  }
  int below_with = 0, below_without = 0;
  const int scored = 20000;
  for (int i = 0; i < scored; ++i) {
    const double x = next();
    double raw_a = 1, raw_b = 1;
    a.score(x, with, &raw_a);
    b.score(x, without, &raw_b);
    below_with += raw_a < 1e-6 ? 1 : 0;
    below_without += raw_b < 1e-6 ? 1 : 0;
    a.update(x, with);
    b.update(x, without);
  }
  INFO("p < 1e-6 in " << below_with << " (with exceedances) and " << below_without << " (without) of " << scored);
  // About 70 pulls: the t alone calls many of them one-in-a-million (~0.02 expected).
  CHECK(below_without > 10);
  CHECK(below_with * 5 < below_without);
  // A pull far beyond any seen is still news.
  CHECK(a.score(5e12, with).tail_probability < 1e-5);
  // Saved and restored, the exceedances are kept.
  std::stringstream state;
  a.save(state);
  IntermittentDetector back;
  REQUIRE(back.restore(state).empty());
  CHECK(back.score(3e7, with).tail_probability == a.score(3e7, with).tail_probability);
}
