// Making a finding readable: contributors, categories, values and sentences (pipeline/Explanation).
#include <catch2/catch.hpp>

#include "pipeline/Explanation.hpp"
#include "pipeline/IpAddress.hpp"

using namespace flowlier::pipeline;
using flowlier::models::Feature;
using flowlier::models::FeatureVector;
using flowlier::models::Observation;
using flowlier::models::SeenHistory;
using flowlier::models::WindowAccumulator;
using flowlier::models::WindowScores;

namespace {
Observation flow(const char* peer_text, std::uint16_t port, bool entity_is_client, std::uint64_t bytes_out,
                 std::uint64_t bytes_in) {
  Observation o;
  const auto address = *IpAddress::parse(peer_text);
  o.peer = address.bytes();
  o.peer_hash = std::hash<std::string>{}(peer_text);
  o.has_peer = true;
  o.external_peer = !address.is_private();
  o.service_port = port;
  o.has_port = true;
  o.protocol = 6;
  o.client = entity_is_client;
  o.inbound = !entity_is_client;
  o.bytes_out = bytes_out;
  o.bytes_in = bytes_in;
  o.packets = 1;
  return o;
}

// Scores where only `deviating` are improbable (and none is warming up).
WindowScores scores_with(std::initializer_list<Feature> deviating) {
  WindowScores s;
  for (std::size_t i = 0; i < s.size(); ++i) {
    s[i].feature = static_cast<Feature>(i);
    s[i].result.warming_up = false;
    s[i].result.tail_probability = 0.5;
  }
  for (Feature f : deviating) s[static_cast<std::size_t>(f)].result.tail_probability = 1e-9;
  return s;
}
}  // namespace

TEST_CASE("values read as an operator reads them", "[explanation]") {
  CHECK(human_value(Feature::bytes_out, 999) == "999 B");
  CHECK(human_value(Feature::bytes_out, 35'000) == "35 kB");
  CHECK(human_value(Feature::bytes_in, 1'200'000'000) == "1.2 GB");
  CHECK(human_value(Feature::bytes_out, 44'812'345) == "44.8 MB");
  CHECK(human_value(Feature::distinct_ports, 312) == "312");
  CHECK(human_value(Feature::flows, 2.9) == "2.9");
  CHECK(human_value(Feature::flows, 0.123) == "0.12");
  CHECK(human_value(Feature::flows, 7) == "7");
}

TEST_CASE("a volume finding names the peers and ports that carried the bytes, with shares", "[explanation]") {
  WindowAccumulator w;
  SeenHistory history;
  w.add(flow("163.127.163.99", 443, true, 9'000'000, 1000), history);
  for (int i = 0; i < 20; ++i) w.add(flow("10.0.3.10", 5432, true, 10'000, 10'000), history);
  const auto contributors = contributors_for(Feature::bytes_out, w);
  REQUIRE(contributors.size() >= 3);
  CHECK(contributors[0].key == "peer");
  CHECK(contributors[0].value == "163.127.163.99");
  CHECK(contributors[0].base == "bytes");
  CHECK(contributors[0].share == Approx(9'001'000.0 / 9'401'000.0));
  CHECK(contributors[1].value == "10.0.3.10");
  const auto port = std::find_if(contributors.begin(), contributors.end(), [](const Contributor& c) { return c.key == "port"; });
  REQUIRE(port != contributors.end());
  CHECK(port->value == "tcp/443");
  // A count finding ranks the same window by flows instead.
  const auto by_flows = contributors_for(Feature::flows, w);
  CHECK(by_flows[0].value == "10.0.3.10");
  CHECK(by_flows[0].base == "flows");
}

TEST_CASE("categories read the whole window, not only the reported feature", "[explanation]") {
  SeenHistory history;
  SECTION("an upload to one external peer is exfiltration") {
    WindowAccumulator w;
    w.add(flow("163.127.163.99", 443, true, 50'000'000, 10'000), history);
    w.add(flow("10.0.1.12", 443, false, 1000, 2000), history);
    const FeatureVector x = w.features();
    CHECK(categorize(Feature::bytes_out, x, scores_with({Feature::bytes_out}), w, {}) == "exfiltration");
    CHECK(uploads_to_external_peer(x, w, false));
    CHECK(uploads_to_external_peer(x, w, true));  // a first contact too
    // Bytes in a private peer's direction are not.
    WindowAccumulator internal;
    internal.add(flow("10.0.9.9", 443, true, 50'000'000, 10'000), history);
    CHECK_FALSE(uploads_to_external_peer(internal.features(), internal, false));
  }
  SECTION("one peer trying many ports is a port scan") {
    WindowAccumulator w;
    for (std::uint16_t p = 1; p <= 100; ++p) w.add(flow("115.182.162.250", p, false, 0, 60), history);
    CHECK(categorize(Feature::distinct_ports, w.features(), scores_with({Feature::distinct_ports}), w, {}) ==
          "port-scan");
  }
  SECTION("one source returning to a login port is a brute force") {
    WindowAccumulator w;
    for (int i = 0; i < 40; ++i) w.add(flow("210.186.203.209", 22, false, 3000, 2000), history);
    CHECK(categorize(Feature::repeated_source_flows, w.features(), scores_with({Feature::repeated_source_flows}), w,
                     {}) == "brute-force");
    WindowAccumulator web;
    for (int i = 0; i < 40; ++i) web.add(flow("210.186.203.209", 8080, false, 3000, 2000), history);
    CHECK(categorize(Feature::repeated_source_flows, web.features(), scores_with({Feature::repeated_source_flows}),
                     web, {}) == "repeated-contact");
  }
  SECTION("nothing nameable is no category") {
    WindowAccumulator w;
    w.add(flow("10.0.0.7", 443, true, 1000, 1000), history);
    CHECK(categorize(Feature::packets, w.features(), scores_with({Feature::packets}), w, {}) == "");
  }
}

TEST_CASE("the sentence says value against expected, the band, p, detector, category and tops", "[explanation]") {
  AnomalyEvent e;
  e.entity_kind = "interface";
  e.entity_id = "eni-36a282a27c15bd393";
  e.feature = "bytes_out";
  e.value = 44.8e6;
  e.expected = 34.3e3;
  e.bounds = std::make_pair(0.0, 120e3);
  e.tail_probability = 3.2e-15;
  e.detector = "volume";
  e.category = "exfiltration";
  const std::vector<Contributor> tops{{"peer", "163.127.163.99", 0.998, "bytes"}, {"port", "tcp/443", 1.0, "bytes"}};
  CHECK(explain(e, tops) ==
        "interface eni-36a282a27c15bd393 bytes_out: 44.8 MB against 34.3 kB expected (normal up to 120 kB), "
        "p=3.2e-15 (volume); looks like exfiltration; top: peer 163.127.163.99 100% of bytes, port tcp/443 100% of "
        "bytes");
  e.bounds.reset();
  e.category.clear();
  const std::string bare = explain(e, {});
  CHECK(bare.find("normal up to") == std::string::npos);
  CHECK(bare.find("looks like") == std::string::npos);
  CHECK(bare.find("top:") == std::string::npos);
}
