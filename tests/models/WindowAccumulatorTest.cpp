// One entity's window, built one observation at a time (models/WindowAccumulator).
#include <catch2/catch.hpp>

#include "models/WindowAccumulator.hpp"

using namespace flowlier::models;

namespace {
PeerAddress peer(std::uint8_t last) {
  PeerAddress a{};
  a[10] = a[11] = 0xff;  // IPv4-mapped 203.0.113.<last>
  a[12] = 203;
  a[13] = 0;
  a[14] = 113;
  a[15] = last;
  return a;
}

// A flow the entity started to `last` on `port` (it is the client).
Observation outbound(std::uint8_t last, std::uint16_t port, std::uint64_t bytes_out, std::uint64_t bytes_in = 100) {
  Observation o;
  o.time_s = 1000;
  o.bytes_out = bytes_out;
  o.bytes_in = bytes_in;
  o.packets = 10;
  o.peer = peer(last);
  o.peer_hash = 0x9e3779b97f4a7c15ULL * (last + 1);
  o.has_peer = true;
  o.service_port = port;
  o.local_port = 40000;
  o.has_port = true;
  o.protocol = 6;
  o.client = true;
  o.external_peer = true;
  return o;
}

// A flow `last` opened to the entity's `port` (the entity serves it).
Observation inbound(std::uint8_t last, std::uint16_t port, bool rejected = false) {
  Observation o = outbound(last, port, 50, 500);
  o.client = false;
  o.inbound = true;
  o.rejected = rejected;
  return o;
}

double feature(const FeatureVector& x, Feature f) { return x[static_cast<std::size_t>(f)]; }
}  // namespace

TEST_CASE("counts are records by direction times the sampling weight", "[window]") {
  WindowAccumulator w;
  SeenHistory history;
  w.add(outbound(1, 443, 1000), history);
  Observation azure = inbound(2, 22);
  azure.directions = 2;  // a tuple that reports both directions
  w.add(azure, history);
  Observation sampled = inbound(3, 22, true);
  sampled.weight = 4;  // 1 in 4 sampled
  w.add(sampled, history);
  const auto x = w.features();
  CHECK(feature(x, Feature::flows) == 1 + 2 + 4);
  CHECK(feature(x, Feature::rejected_flows) == 4);
  CHECK(feature(x, Feature::external_flows) == 7);
  CHECK(feature(x, Feature::external_client_flows) == 1);
  CHECK(feature(x, Feature::bytes_out) == 1000 + 50 + 4 * 50);
  CHECK(feature(x, Feature::bytes_in) == 100 + 500 + 4 * 500);
  CHECK(feature(x, Feature::packets) == 10 + 10 + 40);
  CHECK(w.inbound_share() == Approx(6.0 / 7));
  CHECK(feature(x, Feature::repeated_source_flows) == 0);  // kept across windows elsewhere
}

TEST_CASE("peers that came in and peers it reached out to are counted apart", "[window]") {
  WindowAccumulator w;
  SeenHistory history;
  for (std::uint8_t i = 1; i <= 3; ++i) w.add(inbound(i, 443), history);
  w.add(inbound(1, 443), history);  // the same client again
  for (std::uint8_t i = 10; i < 15; ++i) w.add(outbound(i, 5432, 10), history);
  const auto x = w.features();
  CHECK(feature(x, Feature::distinct_peers) == Approx(3));
  CHECK(feature(x, Feature::fanout_peers) == Approx(5));
  // Service ports by the entity's role: 443 served, 5432 reached.
  CHECK(feature(x, Feature::distinct_ports) == Approx(2));
}

TEST_CASE("novelty: first contacts the entity makes, judged against its history", "[window]") {
  SeenHistory history;
  WindowAccumulator first;
  CHECK(first.add(outbound(1, 443, 10), history));
  CHECK_FALSE(first.add(outbound(1, 443, 10), history));  // already met in this window
  CHECK_FALSE(first.add(inbound(2, 22), history));        // a client reaching it is not news
  Observation refused = outbound(3, 8443, 10);
  refused.rejected = true;
  CHECK_FALSE(first.add(refused, history));  // rejected traffic never becomes known
  auto x = first.features();
  CHECK(feature(x, Feature::new_peers) == 1);
  CHECK(feature(x, Feature::new_ports) == 1);

  WindowAccumulator next;  // the next window of the same entity
  CHECK_FALSE(next.add(outbound(1, 443, 10), history));
  CHECK(next.add(outbound(3, 8443, 10), history));  // refused before, so still new
  x = next.features();
  CHECK(feature(x, Feature::new_peers) == 1);
  CHECK(feature(x, Feature::new_ports) == 1);
  std::size_t n = 0;
  const auto fresh = next.new_ports().sorted(n);
  REQUIRE(n == 1);
  CHECK(fresh[0].key == PortKey{8443, 6});
}

TEST_CASE("top contributors rank peers and ports by flows and by bytes", "[window]") {
  WindowAccumulator w;
  SeenHistory history;
  for (int i = 0; i < 5; ++i) w.add(inbound(1, 22), history);     // many small flows
  w.add(outbound(2, 443, 1'000'000), history);                    // one big upload
  std::size_t n = 0;
  auto by_flows = w.peers_by_flows().sorted(n);
  REQUIRE(n == 2);
  CHECK(by_flows[0].key == peer(1));
  CHECK(by_flows[0].weight == 5);
  CHECK(w.peers_by_flows().total() == 6);
  auto by_bytes = w.peers_by_bytes().sorted(n);
  CHECK(by_bytes[0].key == peer(2));
  auto ports = w.ports_by_flows().sorted(n);
  CHECK(ports[0].key == PortKey{22, 6});
  // Sources: only the connections peers opened, and not an Azure C/E continuation.
  Observation continued = inbound(3, 22);
  continued.continues = true;
  w.add(continued, history);
  auto sources = w.sources().sorted(n);
  REQUIRE(n == 1);
  CHECK(sources[0].key == peer(1));
  CHECK(sources[0].weight == 5);
}

TEST_CASE("a window saves and loads to the same features and contributors", "[window][state]") {
  WindowAccumulator w;
  SeenHistory history;
  for (std::uint8_t i = 1; i < 20; ++i) w.add(i % 3 ? inbound(i, 22, i % 5 == 0) : outbound(i, 443, i * 100), history);
  flowlier::detectors::StateWriter writer;
  w.save(writer);
  flowlier::detectors::StateReader reader(writer.bytes());
  WindowAccumulator loaded;
  REQUIRE(loaded.load(reader));
  CHECK(reader.finish() == "");
  CHECK(loaded.features() == w.features());
  CHECK(loaded.inbound_share() == w.inbound_share());
  std::size_t a = 0, b = 0;
  const auto original = w.peers_by_bytes().sorted(a);
  const auto copy = loaded.peers_by_bytes().sorted(b);
  REQUIRE(a == b);
  for (std::size_t i = 0; i < a; ++i) CHECK(copy[i].key == original[i].key);

  // The reader keeps a view: the half it reads must outlive it.
  const std::string half = writer.bytes().substr(0, writer.bytes().size() / 2);
  flowlier::detectors::StateReader truncated(half);
  WindowAccumulator partial;
  CHECK_FALSE(partial.load(truncated));
}
