// Cold start judged by peers: a host that appears in an established subnet and scans
// in its first hour pages as "unlike its peers", which its own young baseline could
// not; one that behaves like its peers stays quiet; N engines judge it as one does.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pipeline/Engine.hpp"
#include "pipeline/FileIngest.hpp"
#include "pipeline/InputFiles.hpp"
#include "pipeline/ShardedEngines.hpp"
#include "tests/support/CollectingSink.hpp"

using namespace flowlier::pipeline;
namespace fs = std::filesystem;

namespace {
constexpr std::int64_t kStart = 1772409600;  // 2026-03-02T00:00Z
constexpr int kHosts = 20;
constexpr int kMinutes = 660;
constexpr int kNewcomerArrives = 560;
constexpr int kScanBegins = 600;
constexpr int kScanEnds = 606;

// An established web subnet (10.0.5.0/24) serving clients on tcp/443, and a newcomer
// (10.0.5.50) that serves like them, then sweeps hundreds of addresses and ports.
std::vector<FlowRecord> estate(bool newcomer_scans) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("flowlier-peers-{}", std::random_device{}());
  fs::create_directories(dir);
  const fs::path file = dir / "flows.log";
  {
    std::ofstream out(file);
    out << "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
           "log-status\n";
    std::mt19937_64 rng(17);
    std::poisson_distribution<int> flows(6.0);
    std::uniform_int_distribution<int> client(10, 60), port(32768, 60999), packets(4, 12), bytes(800, 6000);
    auto serve = [&](int host, const std::string& eni, std::int64_t t) {
      const int n = flows(rng);
      for (int k = 0; k < n; ++k) {
        const std::string c = fmt::format("10.0.1.{}", client(rng)), h = fmt::format("10.0.5.{}", host);
        const int p = port(rng), pk = packets(rng), b = bytes(rng);
        out << fmt::format("2 123456789012 {} {} {} {} 443 6 {} {} {} {} ACCEPT OK\n", eni, c, h, p, pk, b / 4, t,
                           t + 2);
        out << fmt::format("2 123456789012 {} {} {} 443 {} 6 {} {} {} {} ACCEPT OK\n", eni, h, c, p, pk, b, t, t + 2);
      }
    };
    for (int m = 0; m < kMinutes; ++m) {
      const std::int64_t t = kStart + 60 * m + 5;
      for (int h = 0; h < kHosts; ++h) serve(10 + h, fmt::format("eni-0a{:015}", h), t);
      if (m < kNewcomerArrives) continue;
      serve(50, "eni-0b000000000000050", t);
      if (!newcomer_scans || m < kScanBegins || m >= kScanEnds) continue;
      for (int k = 0; k < 400; ++k) {
        out << fmt::format("2 123456789012 eni-0b000000000000050 10.0.5.50 10.0.7.{} {} {} 6 1 60 {} {} ACCEPT OK\n",
                           k % 250, port(rng), 1000 + k, t + 10, t + 10);
      }
    }
  }
  IngestStats stats;
  RejectLog rejects(nullptr, 0);
  IngestOptions options;
  options.time_order = true;
  FileIngest ingest(options, rejects, stats);
  flowlier::test::CollectingSink sink;
  ingest.read(expand_inputs({file.string()}).files, sink, [](const std::string& e) { FAIL(e); });
  fs::remove_all(dir);
  return sink.records;
}

std::vector<AnomalyEvent> replay(const std::vector<FlowRecord>& records, const EngineConfig& config = {}) {
  Engine engine(config);
  for (const auto& r : records) engine.process(r);
  engine.flush();
  return engine.take_events();
}

bool about_newcomer(const AnomalyEvent& e) {
  if (e.entity_id == "10.0.5.50" || e.entity_id == "eni-0b000000000000050") return true;
  return std::any_of(e.related.begin(), e.related.end(), [](const RelatedEntity& r) { return r.id == "10.0.5.50"; });
}
}  // namespace

TEST_CASE("a newcomer that scans in its first hour pages as unlike its subnet's peers", "[engine][peers]") {
  const auto records = estate(true);
  const auto events = replay(records);
  std::vector<AnomalyEvent> paged;
  for (const auto& e : events) {
    if (e.status == EventStatus::firing && about_newcomer(e) && e.severity >= Severity::medium) paged.push_back(e);
  }
  REQUIRE_FALSE(paged.empty());
  const AnomalyEvent& first = paged.front();
  INFO(first.to_json());
  CHECK(first.detector == "peer_group");
  CHECK(first.window_end > kStart + 60 * kScanBegins);
  CHECK(first.window_end <= kStart + 60 * (kScanBegins + 2));
  CHECK(first.explanation.find("unlike its peers: 20 hosts in 10.0.5.0/24") != std::string::npos);
  CHECK(first.value > first.bounds->second);
  // Read as its peers judged it: hundreds of hosts on hundreds of ports.
  CHECK(first.category == "sweep");
  for (const auto& r : first.related) CHECK_FALSE((r.kind == first.entity_kind && r.id == first.entity_id));
  // Nothing about the newcomer before it scanned, and no established host paged.
  for (const auto& e : events) {
    if (e.status != EventStatus::firing || e.severity < Severity::medium) continue;
    CHECK(about_newcomer(e));
    CHECK(e.window_end > kStart + 60 * kScanBegins);
  }
}

TEST_CASE("without peer groups the same newcomer's scan goes unpaged (its baseline is too young)", "[engine][peers]") {
  EngineConfig config;
  config.peers.enabled = false;
  const auto events = replay(estate(true), config);
  for (const auto& e : events) {
    CHECK_FALSE((e.status == EventStatus::firing && about_newcomer(e) && e.severity >= Severity::medium));
  }
}

TEST_CASE("a newcomer that behaves like its peers is not judged unusual", "[engine][peers]") {
  for (const auto& e : replay(estate(false))) {
    INFO(e.to_json());
    CHECK(e.detector != "peer_group");
    CHECK(e.severity < Severity::medium);
  }
}

TEST_CASE("engines on threads exchange peer tallies and judge as one engine does", "[engine][peers][sharded]") {
  const auto records = estate(true);
  std::vector<std::string> one;
  for (const auto& e : replay(records)) one.push_back(e.to_json());
  for (const std::uint32_t threads : {2u, 3u}) {
    ShardedEngines engines({}, threads);
    for (const auto& r : records) engines.process(r);
    engines.flush();
    std::vector<std::string> many;
    for (const auto& e : engines.take_events()) many.push_back(e.to_json());
    CHECK(many == one);
  }
  CHECK(std::any_of(one.begin(), one.end(), [](const std::string& j) { return j.find("peer_group") != std::string::npos; }));
}

TEST_CASE("the entity view names the peer group an address is judged against", "[engine][peers][api]") {
  const auto records = estate(false);
  Engine engine({});
  // At the end the newcomer is 100 windows old and judged by its peers; the hosts that
  // were there from the start have 660 windows of their own and are not.
  for (const auto& r : records) engine.process(r);
  const auto young = nlohmann::json::parse(engine.entity_view_json("address", "10.0.5.50"));
  const auto& group = young.at("peer_group");
  CHECK(group.at("group") == "10.0.5.0/24");
  CHECK(group.at("members") == kHosts);
  CHECK(group.at("windows").get<int>() > 1000);
  CHECK(group.at("judged_by_peers") == true);
  const double typical = group.at("features").at("flows").at("typical");
  CHECK(typical > 3);  // about six requests a minute, each logged in both directions
  CHECK(group.at("features").at("flows").at("upper").get<double>() > typical);
  const auto grown = nlohmann::json::parse(engine.entity_view_json("address", "10.0.5.10"));
  CHECK(grown.at("peer_group").at("judged_by_peers") == false);
  // Interfaces have no peer group yet.
  CHECK(nlohmann::json::parse(engine.entity_view_json("interface", "eni-0a000000000000000")).at("peer_group").is_null());
}
