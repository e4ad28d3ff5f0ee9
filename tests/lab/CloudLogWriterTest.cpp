// The other clouds' writers: the same FlowLines as Azure connection tuples and GCP entries,
// in each cloud's file layout, with labels naming interfaces as the format does.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "tests/support/TempDir.hpp"
#include "lab/CloudLogWriter.hpp"
#include "lab/Labels.hpp"
#include "lab/Simulator.hpp"

using namespace flowlier::lab;
namespace fs = std::filesystem;

namespace {
FlowLine line(std::uint32_t host, std::uint32_t src, std::uint32_t dst, std::uint16_t sport, std::uint16_t dport,
              bool egress, std::uint32_t packets, std::uint64_t bytes, bool reject = false) {
  FlowLine l;
  l.start = 1772409605;
  l.end = 1772409607;
  l.host = host;
  l.src = src;
  l.dst = dst;
  l.sport = sport;
  l.dport = dport;
  l.egress = egress;
  l.packets = packets;
  l.bytes = bytes;
  l.reject = reject;
  return l;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct TempDir : flowlier::testing::TempDir {
  TempDir() : flowlier::testing::TempDir("flowlier-cloudwriter") {}
};
}  // namespace

TEST_CASE("Azure joins a connection's two records into one tuple oriented from the initiator", "[lab][azure]") {
  const std::uint32_t client = ipv4(10, 0, 1, 10), server = ipv4(93, 184, 216, 34);
  // The client's ENI logs its request (egress) and the response (ingress).
  const std::vector<FlowLine> lines{line(0, server, client, 443, 40001, false, 4, 4000),
                                    line(0, client, server, 40001, 443, true, 3, 300),
                                    line(1, ipv4(8, 8, 8, 8), ipv4(10, 0, 1, 11), 51000, 22, false, 1, 60, true)};
  const auto joined = join_connections(lines);
  REQUIRE(joined.size() == 2);
  const AzureConnection& c = joined[0];
  CHECK(c.host == 0);
  CHECK(c.client == client);
  CHECK(c.client_port == 40001);
  CHECK(c.server_port == 443);
  CHECK(c.outbound);
  CHECK_FALSE(c.denied);
  CHECK(c.packets_out == 3);
  CHECK(c.bytes_out == 300);
  CHECK(c.packets_back == 4);
  CHECK(c.bytes_back == 4000);
  CHECK(joined[1].denied);
  CHECK_FALSE(joined[1].outbound);
}

TEST_CASE("sim writes each cloud's layout and names interfaces as the cloud does", "[lab][azure][gcp]") {
  TempDir dir;
  for (const auto format : {LogFormat::gcp, LogFormat::azure_nsg, LogFormat::azure_vnet}) {
    SimConfig config;
    config.out_dir = dir.path / std::to_string(static_cast<int>(format));
    config.seed = 7;
    config.duration_seconds = 3 * 3600;
    config.format = format;
    std::string error;
    const auto summary = simulate(config, error);
    REQUIRE(summary);
    CHECK(summary->records > 0);
    const fs::path root = config.out_dir / log_root(format);
    REQUIRE(fs::is_directory(root));
    std::set<std::string> interfaces;
    for (const auto& incident : summary->labels.incidents) {
      for (const auto& e : incident.entities) {
        if (e.kind == "interface") interfaces.insert(e.id);
      }
    }
    std::size_t files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (!entry.is_regular_file()) continue;
      ++files;
      const std::string path = entry.path().generic_string();
      if (format == LogFormat::gcp) {
        // compute.googleapis.com/<log>/YYYY/MM/DD/HH:00:00_HH:59:59_S<n>.json, JSON Lines.
        CHECK((path.find("/vpc_flows/2026/03/02/") != std::string::npos ||
               path.find("/firewall/2026/03/02/") != std::string::npos));
        CHECK(entry.path().filename().string().substr(2, 17) ==
              ":00:00_" + entry.path().filename().string().substr(0, 2) + ":59:59_S");
        std::istringstream lines(slurp(entry.path()));
        std::string first;
        std::getline(lines, first);
        const auto j = nlohmann::json::parse(first);
        const auto& payload = j.at("jsonPayload");
        if (path.find("/firewall/") != std::string::npos) {
          CHECK(payload.at("disposition") == "DENIED");
          CHECK(payload.at("rule_details").at("direction") == "INGRESS");
          CHECK(payload.at("instance").contains("vm_name"));
        } else {
          CHECK(payload.at("bytes_sent").is_string());
          CHECK((payload.at("reporter") == "SRC" || payload.at("reporter") == "DEST"));
        }
      } else {
        // .../y=YYYY/m=MM/d=DD/h=HH/m=00/macAddress=<mac>/PT1H.json holding {"records":[...]}.
        CHECK(entry.path().filename() == "PT1H.json");
        CHECK(path.find("/y=2026/m=03/d=02/h=0") != std::string::npos);
        const std::string mac = entry.path().parent_path().filename().string();
        REQUIRE(mac.substr(0, 11) == "macAddress=");
        const auto j = nlohmann::json::parse(slurp(entry.path()));
        const auto& record = j.at("records").at(0);
        CHECK(record.at("macAddress") == mac.substr(11));
        const auto tuples = format == LogFormat::azure_vnet
                                ? record.at("flowRecords").at("flows").at(0).at("flowGroups").at(0).at("flowTuples")
                                : record.at("properties").at("flows").at(0).at("flows").at(0).at("flowTuples");
        REQUIRE_FALSE(tuples.empty());
        const std::string tuple = tuples.at(0);
        CHECK(std::count(tuple.begin(), tuple.end(), ',') == 12);
      }
    }
    CHECK(files > 3);
    // Labels name interfaces as the format does: VM names or MACs, never ENIs.
    REQUIRE_FALSE(interfaces.empty());
    for (const auto& id : interfaces) {
      CHECK(id.rfind("eni-", 0) != 0);
      if (format != LogFormat::gcp) CHECK(id.rfind("000D3A", 0) == 0);
    }
  }
}
