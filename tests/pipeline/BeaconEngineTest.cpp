#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <sstream>
#include <vector>

#include "pipeline/Engine.hpp"

using namespace flowlier::pipeline;

namespace {
// An outbound flow from an interface's host (egress: the interface is the source).
FlowRecord outbound(const char* eni, const char* src, const char* dst, std::uint16_t sport, std::uint16_t dport,
                    std::int64_t t) {
  FlowRecord r;
  r.format = Format::aws_vpc;
  r.interface_id = Symbol(eni);
  r.srcaddr = *IpAddress::parse(src);
  r.dstaddr = *IpAddress::parse(dst);
  r.srcport = sport;
  r.dstport = dport;
  r.protocol = 6;
  r.packets = 6;
  r.bytes = 600;
  r.packets_reverse = 0;
  r.start_ns = t * 1'000'000'000;
  r.end_ns = (t + 2) * 1'000'000'000;
  r.action = Action::accept;
  r.direction = Direction::egress;
  for (Field f : {Field::srcaddr, Field::dstaddr, Field::srcport, Field::dstport, Field::protocol, Field::packets,
                  Field::bytes, Field::start, Field::end}) {
    r.set(f);
  }
  return r;
}

constexpr std::int64_t kStart = 1'767'225'600;  // 2026-01-01T00:00:00Z
constexpr const char* kPeer = "198.51.100.77";

// Six hosts doing ordinary traffic (a few known internal and external peers each
// minute) for `hours`; after a 6 h warm-up, host 0 contacts kPeer at the given times.
std::vector<FlowRecord> stream(const std::vector<std::int64_t>& contacts, int hours, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> second(0, 59), peer(0, 5), ephemeral(32768, 60999), count(3, 8);
  std::vector<FlowRecord> out;
  const char* enis[] = {"eni-beacon", "eni-b", "eni-c", "eni-d", "eni-e", "eni-f"};
  const char* addrs[] = {"10.0.1.10", "10.0.1.11", "10.0.1.12", "10.0.1.13", "10.0.1.14", "10.0.1.15"};
  const char* known[] = {"10.0.2.20", "10.0.2.21", "10.0.2.22", "52.1.2.3", "52.1.2.4", "10.0.3.30"};
  std::size_t next_contact = 0;
  for (std::int64_t minute = 0; minute < hours * 60; ++minute) {
    const std::int64_t w = kStart + minute * 60;
    std::vector<FlowRecord> window;
    for (int h = 0; h < 6; ++h) {
      for (int i = count(rng); i > 0; --i) {
        const int p = peer(rng);
        window.push_back(outbound(enis[h], addrs[h], known[p], static_cast<std::uint16_t>(ephemeral(rng)),
                                  p >= 3 && p <= 4 ? 443 : 5432, w + second(rng)));
      }
    }
    while (next_contact < contacts.size() && contacts[next_contact] < w + 60) {
      window.push_back(outbound(enis[0], addrs[0], kPeer, static_cast<std::uint16_t>(ephemeral(rng)), 443,
                                contacts[next_contact++]));
    }
    std::sort(window.begin(), window.end(), [](const FlowRecord& a, const FlowRecord& b) { return a.start_ns < b.start_ns; });
    out.insert(out.end(), window.begin(), window.end());
  }
  return out;
}

std::vector<AnomalyEvent> replay(const std::vector<FlowRecord>& records) {
  Engine engine({});
  for (const auto& r : records) engine.process(r);
  engine.flush();
  return engine.take_events();
}

std::vector<AnomalyEvent> beacon_events(const std::vector<AnomalyEvent>& events) {
  std::vector<AnomalyEvent> out;
  for (const auto& e : events) {
    if (e.detector == "beacon") out.push_back(e);
  }
  return out;
}
}  // namespace

TEST_CASE("a host beaconing to a new external peer pages, naming the peer and the period", "[engine][beacon]") {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> jitter(0, 30);  // <= 10% of the period
  std::vector<std::int64_t> contacts;
  for (std::int64_t t = kStart + 6 * 3600 + 17; t < kStart + 9 * 3600; t += 300) contacts.push_back(t + jitter(rng));
  const auto events = replay(stream(contacts, 10, 1));
  const auto beacons = beacon_events(events);
  REQUIRE_FALSE(beacons.empty());
  const auto& first = beacons.front();
  CHECK(first.status == EventStatus::firing);
  CHECK(first.entity_id == "eni-beacon");
  CHECK(first.category == "beaconing");
  CHECK(first.score >= 50);
  CHECK(first.value < 0.2);
  CHECK(first.expected == 1.0);
  REQUIRE(first.contributors.size() == 2);
  CHECK(first.contributors[0].key == "peer");
  CHECK(first.contributors[0].value == kPeer);
  CHECK(first.contributors[1].value == "tcp/443");
  CHECK(first.explanation.find("every 5.0 min") != std::string::npos);
  CHECK(first.explanation.find(kPeer) != std::string::npos);
  // Paged within about an hour of the first check-in, and never for the other hosts.
  CHECK(first.time < contacts.front() + 3600);
  for (const auto& e : beacons) {
    CHECK((e.entity_id == "eni-beacon" || e.entity_id == "10.0.1.10"));
  }
  // One episode for the whole beacon, for the host (its interface and its address are
  // one incident): escalations are updates of it.
  std::vector<std::string> episodes;
  for (const auto& e : beacons) episodes.push_back(e.episode);
  std::sort(episodes.begin(), episodes.end());
  episodes.erase(std::unique(episodes.begin(), episodes.end()), episodes.end());
  CHECK(episodes.size() == 1);
  // The episode resolves once the check-ins stop.
  CHECK(std::count_if(beacons.begin(), beacons.end(), [](const AnomalyEvent& e) {
          return e.status == EventStatus::resolved;
        }) == 1);
}

TEST_CASE("random (Poisson) contacts with a new external peer do not page as beaconing", "[engine][beacon]") {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    std::mt19937_64 rng(100 + seed);
    std::exponential_distribution<double> gap(1.0 / 300.0);
    std::vector<std::int64_t> contacts;
    for (double t = kStart + 6 * 3600 + 17; t < kStart + 9 * 3600; t += gap(rng)) {
      contacts.push_back(static_cast<std::int64_t>(t));
    }
    REQUIRE(contacts.size() > 15);
    const auto beacons = beacon_events(replay(stream(contacts, 10, seed)));
    INFO("seed " << seed);
    CHECK(beacons.empty());
  }
}

TEST_CASE("beacon candidates survive a save and restore mid-beacon", "[engine][beacon][state]") {
  std::vector<std::int64_t> contacts;
  for (std::int64_t t = kStart + 6 * 3600 + 17; t < kStart + 9 * 3600; t += 240) contacts.push_back(t + (t % 7));
  const auto records = stream(contacts, 10, 9);
  const auto split = std::find_if(records.begin(), records.end(), [](const FlowRecord& r) {
    return r.start_ns >= (kStart + 6 * 3600 + 1500) * 1'000'000'000;  // after a few check-ins
  });
  Engine whole({});
  for (const auto& r : records) whole.process(r);
  whole.flush();
  const auto expected = beacon_events(whole.take_events());
  REQUIRE_FALSE(expected.empty());

  Engine first({});
  for (auto it = records.begin(); it != split; ++it) first.process(*it);
  auto resumed = beacon_events(first.take_events());
  std::stringstream state;
  first.save(state);
  Engine second({});
  REQUIRE(second.restore(state) == "");
  for (auto it = split; it != records.end(); ++it) second.process(*it);
  second.flush();
  for (auto& e : beacon_events(second.take_events())) resumed.push_back(std::move(e));
  REQUIRE(resumed.size() == expected.size());
  for (std::size_t i = 0; i < resumed.size(); ++i) CHECK(resumed[i].to_json() == expected[i].to_json());
}
