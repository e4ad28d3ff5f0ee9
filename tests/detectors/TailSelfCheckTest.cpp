#include <catch2/catch.hpp>

#include <random>

#include "detectors/TailSelfCheck.hpp"

using flowlier::detectors::SelfCheckConfig;
using flowlier::detectors::TailSelfCheck;

TEST_CASE("self-check: a calibrated model is left alone", "[detectors][selfcheck]") {
  const SelfCheckConfig c;
  TailSelfCheck check;
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 20000; ++i) check.observe(u(rng), c);  // p uniform: calibrated
  CHECK(check.factor(c) < TailSelfCheck::kCorrecting);
  CHECK_FALSE(check.correcting(c));
}

TEST_CASE("self-check: a model that fires far more often than it claims is widened", "[detectors][selfcheck]") {
  const SelfCheckConfig c;
  TailSelfCheck check;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  // 3% of the windows claim p = 1e-6: a thousand times more often than they should.
  for (int i = 0; i < 5000; ++i) check.observe(u(rng) < 0.03 ? 1e-6 : u(rng), c);
  CHECK(check.factor(c) > 10);
  CHECK(check.correcting(c));
}

TEST_CASE("self-check: one sustained run is one surprise, not one per window", "[detectors][selfcheck]") {
  const SelfCheckConfig c;
  TailSelfCheck check;
  for (int i = 0; i < 3000; ++i) check.observe(0.5, c);
  for (int i = 0; i < 100; ++i) check.observe(1e-9, c);  // a 100-window attack
  for (int i = 0; i < 100; ++i) check.observe(0.5, c);
  CHECK(check.factor(c) < TailSelfCheck::kCorrecting);
}

TEST_CASE("self-check: state round trip; bad state refused", "[detectors][selfcheck][state]") {
  const SelfCheckConfig c;
  TailSelfCheck check;
  for (int i = 0; i < 50; ++i) check.observe(i % 5 == 0 ? 1e-5 : 0.3, c);
  flowlier::detectors::StateWriter w;
  check.save(w);
  TailSelfCheck back;
  flowlier::detectors::StateReader r(w.bytes());
  REQUIRE(back.load(r));
  CHECK(back.factor(c) == check.factor(c));
  std::string bad = w.bytes();
  bad.back() = 7;  // the run flag is 0 or 1
  TailSelfCheck target;
  flowlier::detectors::StateReader rb(bad);
  CHECK_FALSE(target.load(rb));
  CHECK(target.factor(c) == TailSelfCheck().factor(c));
}
