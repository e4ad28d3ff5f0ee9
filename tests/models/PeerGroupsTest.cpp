// Peer groups: integer tallies that add up alike in any order, a model of the last
// epochs, and a judgement whose confidence comes from the number of hosts.
#include <catch2/catch.hpp>

#include <random>
#include <sstream>

#include "models/PeerGroups.hpp"

using namespace flowlier::models;

namespace {
FeatureVector window(double flows, double bytes_out, double fanout = 1) {
  FeatureVector x{};
  x[static_cast<std::size_t>(Feature::flows)] = flows;
  x[static_cast<std::size_t>(Feature::packets)] = flows * 8;
  x[static_cast<std::size_t>(Feature::bytes_in)] = bytes_out / 2;
  x[static_cast<std::size_t>(Feature::bytes_out)] = bytes_out;
  x[static_cast<std::size_t>(Feature::distinct_peers)] = flows / 2;
  x[static_cast<std::size_t>(Feature::distinct_ports)] = 1;
  x[static_cast<std::size_t>(Feature::fanout_peers)] = fanout;
  return x;
}

// `hosts` members with `windows` windows each, split over two engines' tallies.
std::pair<PeerContribution, PeerContribution> two_engines(int hosts, int windows, std::mt19937_64& rng) {
  PeerGroups a, b;
  std::lognormal_distribution<double> flows(std::log(20.0), 0.3), bytes(std::log(4000.0), 0.4);
  for (int h = 0; h < hosts; ++h) {
    PeerGroups& engine = h % 2 ? a : b;
    for (int w = 0; w < windows; ++w) engine.contribute(7, window(flows(rng), bytes(rng)), w == 0);
  }
  a.label(7, "10.0.5.0/24");
  return {a.seal(), b.seal()};
}
}  // namespace

TEST_CASE("tallies merged in either order give the same model and the same judgement", "[peers]") {
  std::mt19937_64 rng(3);
  auto [a, b] = two_engines(12, 60, rng);
  PeerContribution ab = a, ba = b;
  ab.add(b);
  ba.add(a);
  REQUIRE(ab.groups.at(7).members == 12);
  CHECK(ab.groups.at(7).windows == 720);
  CHECK(ab.groups.at(7).sum == ba.groups.at(7).sum);
  CHECK(ab.groups.at(7).sum_squares == ba.groups.at(7).sum_squares);
  const PeerConfig config;
  PeerGroups one, other;
  one.absorb(0, ab, config);
  other.absorb(0, ba, config);
  const auto x = window(400, 900000, 300);
  const PeerReading r1 = one.judge(7, x, config), r2 = other.judge(7, x, config);
  REQUIRE(r1.judged);
  CHECK(r1.tail_probability == r2.tail_probability);
  CHECK(r1.label == "10.0.5.0/24");
  CHECK(r1.members == 12);
}

TEST_CASE("a window unlike twelve peers is improbable; one like them is not", "[peers]") {
  std::mt19937_64 rng(5);
  auto [a, b] = two_engines(12, 60, rng);
  a.add(b);
  const PeerConfig config;
  PeerGroups groups;
  groups.absorb(0, a, config);
  const PeerReading usual = groups.judge(7, window(22, 4500), config);
  REQUIRE(usual.judged);
  CHECK(usual.tail_probability > 0.01);
  const PeerReading scan = groups.judge(7, window(900, 60000, 600), config);
  CHECK(scan.tail_probability < 1e-8);
  CHECK(kPeerFeatures[scan.feature] == Feature::fanout_peers);
  CHECK(scan.expected == Approx(1.0).margin(0.05));
  CHECK(scan.upper > scan.expected);
  // Below its peers is not news (upper tail only).
  CHECK(groups.judge(7, window(2, 100), config).tail_probability > 0.45);
  // An unknown group is not judged.
  CHECK_FALSE(groups.judge(8, window(900, 60000, 600), config).judged);
}

TEST_CASE("a handful of peers never vouch for a page", "[peers]") {
  std::mt19937_64 rng(7);
  auto [a, b] = two_engines(3, 400, rng);
  a.add(b);
  PeerConfig config;
  config.min_members = 2;
  PeerGroups groups;
  groups.absorb(0, a, config);
  const PeerReading r = groups.judge(7, window(5000, 5e8, 900), config);
  REQUIRE(r.judged);
  // Two degrees of freedom: even a thousandfold excess stays far from a paging p.
  CHECK(r.tail_probability > 1e-8);
  config.min_members = 5;
  CHECK_FALSE(groups.judge(7, window(5000, 5e8, 900), config).judged);
}

TEST_CASE("the model forgets epochs beyond its memory", "[peers]") {
  std::mt19937_64 rng(9);
  PeerConfig config;
  config.memory_epochs = 3;
  PeerGroups groups;
  auto [a, b] = two_engines(12, 60, rng);
  a.add(b);
  groups.absorb(10, a, config);
  CHECK(groups.judge(7, window(20, 4000), config).judged);
  groups.absorb(12, {}, config);
  CHECK(groups.judge(7, window(20, 4000), config).judged);
  groups.absorb(13, {}, config);  // epoch 10 is now four epochs old
  CHECK_FALSE(groups.judge(7, window(20, 4000), config).judged);
  CHECK(groups.group_count() == 0);
}

TEST_CASE("peer groups survive save and restore, and refuse a damaged state", "[peers]") {
  std::mt19937_64 rng(11);
  auto [a, b] = two_engines(12, 60, rng);
  a.add(b);
  const PeerConfig config;
  PeerGroups groups;
  groups.absorb(4, a, config);
  groups.contribute(9, window(10, 100), true);
  groups.label(9, "10.0.9.0/24");
  std::stringstream state;
  groups.save(state);
  const std::string bytes = state.str();
  PeerGroups restored;
  REQUIRE(restored.restore(state) == "");
  const auto x = window(300, 1e6, 200);
  CHECK(restored.judge(7, x, config).tail_probability == groups.judge(7, x, config).tail_probability);
  std::stringstream again;
  restored.save(again);
  CHECK(again.str() == bytes);
  const PeerContribution open = restored.seal();
  CHECK(open.groups.at(9).windows == 1);
  CHECK(open.labels.at(9) == "10.0.9.0/24");
  std::string damaged = bytes;
  damaged[damaged.size() / 2] ^= 0x5a;
  std::istringstream bad(damaged);
  PeerGroups untouched;
  CHECK_FALSE(untouched.restore(bad).empty());
}

TEST_CASE("a group's summary says what its members typically do", "[peers]") {
  std::mt19937_64 rng(13);
  auto [a, b] = two_engines(12, 60, rng);
  a.add(b);
  const PeerConfig config;
  PeerGroups groups;
  CHECK_FALSE(groups.summary(7, config).known);
  groups.absorb(0, a, config);
  const PeerSummary s = groups.summary(7, config);
  REQUIRE(s.known);
  CHECK(s.label == "10.0.5.0/24");
  CHECK(s.members == 12);
  CHECK(s.windows == 720);
  // Flows were drawn log-normal around 20: the typical value is near it, the upper well above.
  CHECK(s.typical[0] == Approx(20).epsilon(0.15));
  CHECK(s.upper[0] > 2 * s.typical[0]);
}
