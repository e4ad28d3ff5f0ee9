#include <catch2/catch.hpp>

#include <cstddef>
#include <cstring>

#include "models/RepeatedSources.hpp"

using flowlier::models::PeerAddress;
using flowlier::models::RepeatedSources;
using flowlier::models::TopContributors;

namespace {
PeerAddress peer(std::uint8_t last) {
  PeerAddress a{};
  a[10] = a[11] = 0xff;
  a[12] = 203;
  a[13] = 0;
  a[14] = 113;
  a[15] = last;
  return a;
}
}  // namespace

TEST_CASE("repeated sources: a slow persistent source builds up, single probes do not", "[models][sources]") {
  RepeatedSources slow, background;
  double slow_value = 0, background_value = 0;
  for (int w = 1; w <= 60; ++w) {
    TopContributors<PeerAddress, 4> one_source, probes;
    one_source.add(peer(1), w % 2 == 0 ? 2.0 : 1.0);  // 1.5 flows a minute from one address
    for (int k = 0; k < 4; ++k) probes.add(peer(static_cast<std::uint8_t>(10 + (w * 4 + k) % 200)), 1.0);
    slow_value = slow.absorb(one_source, w * 60, 60, 15.0);
    background_value = background.absorb(probes, w * 60, 60, 15.0);
  }
  CHECK(slow_value > 20);          // ~1.5 / (1 - 2^(-1/15)) at steady state ~ 33
  CHECK(background_value <= 1.0);  // every probe from a new address
  CHECK(slow.top().peer == peer(1));
}

TEST_CASE("repeated sources: counts decay over windows the entity was idle", "[models][sources]") {
  RepeatedSources s;
  TopContributors<PeerAddress, 4> burst, none;
  burst.add(peer(7), 40);
  CHECK(s.absorb(burst, 60, 60, 5.0) == Approx(40));
  // 10 windows later (two half-lives) the same source is a quarter of what it was.
  CHECK(s.absorb(none, 660, 60, 5.0) == Approx(10).epsilon(1e-4));
}

TEST_CASE("repeated sources: state round trip and bad state", "[models][sources][state]") {
  RepeatedSources s;
  TopContributors<PeerAddress, 4> w;
  w.add(peer(3), 5);
  s.absorb(w, 120, 60, 5.0);
  flowlier::detectors::StateWriter out;
  s.save(out);
  RepeatedSources back;
  flowlier::detectors::StateReader in(out.bytes());
  REQUIRE(back.load(in));
  CHECK(back.top().peer == peer(3));
  CHECK(back.top().count == Approx(5));
  // A negative count is refused and leaves the target as it was.
  std::string bad = out.bytes();
  const float negative = -1.0f;
  std::memcpy(bad.data() + offsetof(RepeatedSources::Source, count), &negative, sizeof negative);
  RepeatedSources target;
  flowlier::detectors::StateReader bad_in(bad);
  CHECK_FALSE(target.load(bad_in));
  CHECK(target.top().count == 0);
}
