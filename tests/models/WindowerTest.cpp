#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "models/Windower.hpp"

using namespace flowlier::models;

namespace {
Observation obs(const char* id, std::int64_t t, std::uint64_t peer = 1, std::uint16_t port = 443) {
  Observation o;
  o.entity = {EntityKind::interface, Symbol(id)};
  o.time_s = t;
  o.bytes_in = 100;
  o.bytes_out = 50;
  o.packets = 3;
  o.has_peer = true;
  o.peer_hash = peer;
  o.has_port = true;
  o.service_port = port;
  o.protocol = 6;
  o.client = true;  // the entity initiated: its ports count as used
  return o;
}

struct Closed {
  std::string id;
  std::int64_t start;
  FeatureVector features;
};
}  // namespace

TEST_CASE("windows close on the watermark, in time then key order", "[windower]") {
  Windower w({.window_seconds = 60, .allowed_lateness_seconds = 120});
  std::vector<Closed> closed;
  auto collect = [&](const ClosedWindow& c) {
    closed.push_back({std::string(c.key.id.view()), c.start, c.accumulator.features()});
  };
  w.ingest(obs("eni-b", 1000));
  w.ingest(obs("eni-a", 1010, 2));
  w.ingest(obs("eni-a", 1015, 3));
  w.ingest(obs("eni-a", 1070));
  w.close_until(1020, collect);  // window [960,1020) ends at 1020
  REQUIRE(closed.size() == 2);
  CHECK(closed[0].id == "eni-a");
  CHECK(closed[1].id == "eni-b");
  CHECK(closed[0].start == 960);
  CHECK(closed[0].features[static_cast<int>(Feature::flows)] == 2);
  CHECK(closed[0].features[static_cast<int>(Feature::fanout_peers)] == 2);
  CHECK(closed[0].features[static_cast<int>(Feature::distinct_peers)] == 0);  // no peer opened a connection
  CHECK(closed[0].features[static_cast<int>(Feature::bytes_in)] == 200);
  CHECK(w.open_windows() == 1);
}

TEST_CASE("late records are counted, not silently added", "[windower]") {
  Windower w({.window_seconds = 60, .allowed_lateness_seconds = 0});
  int closes = 0;
  auto count = [&](const ClosedWindow&) { ++closes; };
  REQUIRE(w.ingest(obs("eni-a", 100)));
  w.close_until(180, count);
  CHECK(closes == 1);
  CHECK_FALSE(w.ingest(obs("eni-a", 110)));  // its window [60,120) is closed
  CHECK(w.stats().late == 1);
  CHECK(w.ingest(obs("eni-a", 185)));  // out of order but still open
  CHECK(w.ingest(obs("eni-a", 181)));
  w.flush(count);
  CHECK(closes == 2);
}

TEST_CASE("new peers and ports are judged against the entity's history", "[windower]") {
  Windower w({});
  std::vector<Closed> closed;
  auto collect = [&](const ClosedWindow& c) {
    closed.push_back({std::string(c.key.id.view()), c.start, c.accumulator.features()});
  };
  w.ingest(obs("eni-a", 0, 10, 22));
  w.ingest(obs("eni-a", 70, 10, 22));
  w.ingest(obs("eni-a", 75, 11, 22));
  w.flush(collect);
  REQUIRE(closed.size() == 2);
  CHECK(closed[0].features[static_cast<int>(Feature::new_peers)] == 1);
  CHECK(closed[0].features[static_cast<int>(Feature::new_ports)] == 1);
  CHECK(closed[1].features[static_cast<int>(Feature::new_peers)] == 1);  // only peer 11
  CHECK(closed[1].features[static_cast<int>(Feature::new_ports)] == 0);
}

TEST_CASE("an entity flood stays within max_entities and counts evictions", "[windower][flood]") {
  const std::size_t max_entities = 10000;
  Windower w({.window_seconds = 60, .allowed_lateness_seconds = 0, .max_entities = max_entities});
  std::mt19937_64 rng(1);
  std::size_t closed = 0;
  auto count = [&](const ClosedWindow&) { ++closed; };
  std::size_t peak_memory = 0;
  char id[32];
  for (int i = 0; i < 1'000'000; ++i) {
    const std::int64_t t = i / 1000;  // 1000 new sources per second
    std::snprintf(id, sizeof id, "10.%u.%u.%u", static_cast<unsigned>(rng() % 256), static_cast<unsigned>(rng() % 256),
                  static_cast<unsigned>(rng() % 256));
    Observation o = obs(id, t);
    o.entity.kind = EntityKind::srcaddr;
    w.ingest(o);
    if (i % 1000 == 999) {
      w.close_until(t, count);
      peak_memory = std::max(peak_memory, w.memory_usage());
    }
  }
  CHECK(w.entity_count() <= max_entities);
  CHECK(w.stats().evicted_full + w.stats().dropped_table_full > 0);
  // Every observation was placed, dropped for a full table, or late: the books balance.
  CHECK(w.stats().observations == 1'000'000);
  INFO("peak memory " << peak_memory);
  CHECK(peak_memory < 64u << 20);
}

TEST_CASE("windower state round-trips mid-window", "[windower]") {
  Windower a({});
  a.ingest(obs("eni-a", 10, 1));
  a.ingest(obs("eni-b", 20, 2));
  a.ingest(obs("eni-a", 70, 3));
  flowlier::detectors::StateWriter writer;
  a.save(writer);
  Windower b({});
  flowlier::detectors::StateReader reader(writer.bytes());
  REQUIRE(b.load(reader) == "");
  std::vector<Closed> ca, cb;
  a.ingest(obs("eni-a", 75, 4));
  b.ingest(obs("eni-a", 75, 4));
  a.flush([&](const ClosedWindow& c) { ca.push_back({std::string(c.key.id.view()), c.start, c.accumulator.features()}); });
  b.flush([&](const ClosedWindow& c) { cb.push_back({std::string(c.key.id.view()), c.start, c.accumulator.features()}); });
  REQUIRE(ca.size() == cb.size());
  for (std::size_t i = 0; i < ca.size(); ++i) {
    CHECK(ca[i].id == cb[i].id);
    CHECK(ca[i].features == cb[i].features);
  }
  flowlier::detectors::StateReader truncated(std::string_view(writer.bytes()).substr(0, 40));
  Windower c({});
  CHECK_FALSE(c.load(truncated).empty());
}

TEST_CASE("record counts add an observation's directions; volumes and distinct counts do not", "[windower]") {
  // One Azure tuple reporting both directions equals AWS's request and response records.
  SeenHistory history;
  WindowAccumulator azure, aws;
  Observation tuple = obs("m", 1000, 7);
  tuple.external_peer = true;
  tuple.directions = 2;
  azure.add(tuple, history);
  SeenHistory history2;
  Observation request = obs("e", 1000, 7), response = obs("e", 1000, 7);
  request.external_peer = response.external_peer = true;
  request.bytes_in = response.bytes_out = 0;
  request.packets = 2;
  response.packets = 1;
  aws.add(request, history2);
  aws.add(response, history2);
  const auto a = azure.features(), b = aws.features();
  CHECK(a[static_cast<std::size_t>(Feature::flows)] == 2);
  CHECK(a[static_cast<std::size_t>(Feature::external_flows)] == 2);
  CHECK(a[static_cast<std::size_t>(Feature::external_client_flows)] == 2);
  for (auto f : {Feature::flows, Feature::packets, Feature::bytes_in, Feature::bytes_out, Feature::distinct_peers,
                 Feature::fanout_peers,
                 Feature::external_flows, Feature::external_client_flows, Feature::new_peers}) {
    CHECK(a[static_cast<std::size_t>(f)] == b[static_cast<std::size_t>(f)]);
  }
  // A B tuple without counters (directions 0) adds no record but still names its peer.
  WindowAccumulator begin_only;
  SeenHistory history3;
  Observation b_tuple = obs("m", 1000, 9);
  b_tuple.directions = 0;
  b_tuple.packets = b_tuple.bytes_in = b_tuple.bytes_out = 0;
  begin_only.add(b_tuple, history3);
  CHECK(begin_only.features()[static_cast<std::size_t>(Feature::flows)] == 0);
  CHECK(begin_only.features()[static_cast<std::size_t>(Feature::fanout_peers)] == 1);
}
