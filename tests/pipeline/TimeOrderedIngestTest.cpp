// Replay reads delivery trees in event-time order whatever their layout: files ordered by
// the time their path (or first record) says, records of files open together merged.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/TempDir.hpp"
#include "pipeline/FileIngest.hpp"
#include "pipeline/InputTime.hpp"
#include "tests/support/CollectingSink.hpp"

using namespace flowlier::pipeline;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kDay = 1772409600;  // 2026-03-02T00:00:00Z
const char* kHeader =
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
    "log-status\n";

struct TempDir : flowlier::testing::TempDir {
  TempDir() : flowlier::testing::TempDir("flowlier-merge") {}
};

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string line(int interface, std::int64_t start) {
  return "2 123456789012 eni-" + std::to_string(100 + interface) + " 10.0.0." + std::to_string(10 + interface) +
         " 10.0.1.5 40000 443 6 3 300 " + std::to_string(start) + " " + std::to_string(start + 5) + " ACCEPT OK\n";
}

std::vector<std::int64_t> times(const flowlier::test::CollectingSink& sink) {
  std::vector<std::int64_t> out;
  for (const auto& r : sink.records) out.push_back(r.start_ns / 1'000'000'000);
  return out;
}

}  // namespace

TEST_CASE("path_time reads the time of AWS, Azure and GCP delivery paths") {
  CHECK(path_time("AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/03/02/"
                  "123456789012_vpcflowlogs_eu-west-1_fl-1234_20260302T0105Z_abcd1234.log.gz") ==
        kDay + 3900 - kAwsStampLeadSeconds);
  CHECK(path_time("insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/"
                  "PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-WEB/y=2026/m=03/d=02/h=07/m=00/"
                  "macAddress=000D3A100001/PT1H.json") == kDay + 7 * 3600);
  CHECK(path_time("bucket/compute.googleapis.com/vpc_flows/2026/03/02/13:00:00_13:59:59_S1.json") == kDay + 13 * 3600);
  CHECK_FALSE(path_time("/var/log/flows/vpc.log").has_value());
  CHECK_FALSE(path_time("y=2026/m=13/d=02/h=07/m=00/PT1H.json").has_value());  // no month 13
  CHECK_FALSE(path_time("").has_value());
}

TEST_CASE("a tree whose name order is not time order is read in time order") {
  TempDir dir;
  // Azure-like: per NSG and MAC first, then the hour; three hours of three NICs, each
  // file's records a little out of order as delivered.
  std::size_t total = 0;
  for (int nic = 0; nic < 3; ++nic) {
    for (int hour = 0; hour < 3; ++hour) {
      std::string text = kHeader;
      for (int minute = 0; minute < 60; minute += 3) {
        const std::int64_t t = kDay + hour * 3600 + minute * 60 + nic;
        text += line(nic, t + 61);  // the next minute's record delivered first
        text += line(nic, t);
        total += 2;
      }
      char rel[160];
      std::snprintf(rel, sizeof rel, "resourceId=/NSG-%c/y=2026/m=03/d=02/h=%02d/m=00/macAddress=MAC%d/PT1H.log",
                    'A' + nic, hour, nic);
      write(dir.path / rel, text);
    }
  }
  // Two files without a time in their names: the one named first holds later records.
  write(dir.path / "aa-late.log", std::string(kHeader) + line(7, kDay + 3 * 3600 + 10));
  write(dir.path / "zz-early.log", std::string(kHeader) + line(8, kDay - 600));
  total += 2;

  IngestStats stats;
  RejectLog rejects(nullptr, 0);
  IngestOptions options;
  options.time_order = true;
  FileIngest ingest(options, rejects, stats);
  flowlier::test::CollectingSink sink;
  std::vector<std::string> errors;
  ingest.read({dir.path.string()}, sink, [&](const std::string& e) { errors.push_back(e); });

  CHECK(errors.empty());
  REQUIRE(sink.records.size() == total);
  INFO("by format " << stats.records_by_format.begin()->first << " " << stats.records_by_format.begin()->second
                    << " inputs " << stats.inputs << " rejects " << sink.rejects.size());
  CHECK(stats.records == total);

  CHECK(stats.inputs == 11);
  CHECK(ingest.sources().size() == 11);
  const auto t = times(sink);
  CHECK(t.front() == kDay - 600);
  CHECK(t.back() == kDay + 3 * 3600 + 10);
  // In time order but for each file's own disorder (a record 61 s ahead of the one after it).
  std::int64_t newest = t.front(), worst = 0;
  for (auto x : t) {
    worst = std::max(worst, newest - x);
    newest = std::max(newest, x);
  }
  CHECK(worst <= 61);
  // Every record names the input it came from.
  for (const auto& r : sink.records) {
    REQUIRE(r.source_index < ingest.sources().size());
    const auto& name = ingest.sources()[r.source_index];
    const std::string eni = std::string(r.interface_id.view());
    if (eni == "eni-100") CHECK(name.find("NSG-A") != std::string::npos);
    if (eni == "eni-108") CHECK(name.find("zz-early") != std::string::npos);
  }

  SECTION("without time order, inputs are read one after another in name order") {
    IngestStats plain_stats;
    FileIngest plain(IngestOptions{}, rejects, plain_stats);
    flowlier::test::CollectingSink plain_sink;
    plain.read({dir.path.string()}, plain_sink, [](const std::string&) {});
    REQUIRE(plain_sink.records.size() == total);
    const auto p = times(plain_sink);
    std::int64_t plain_newest = p.front(), plain_worst = 0;
    for (auto x : p) {
      plain_worst = std::max(plain_worst, plain_newest - x);
      plain_newest = std::max(plain_newest, x);
    }
    CHECK(plain_worst > 3600);
  }
}

TEST_CASE("time-ordered reading reports bad inputs and keeps every valid record") {
  TempDir dir;
  write(dir.path / "2026/03/02/00:00:00_00:59:59_S0.json", "");  // empty
  write(dir.path / "b.log",
        std::string(kHeader) + line(1, kDay + 5) + "2 123 eni-1 not-an-address\n" + line(1, kDay + 65));
  write(dir.path / "a.log", std::string(kHeader) + line(2, kDay + 30));
  IngestStats stats;
  RejectLog rejects(nullptr, 0);
  IngestOptions options;
  options.time_order = true;
  FileIngest ingest(options, rejects, stats);
  flowlier::test::CollectingSink sink;
  std::vector<std::string> errors;
  ingest.read({dir.path.string()}, sink, [&](const std::string& e) { errors.push_back(e); });
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("00:00:00_00:59:59_S0.json: input is empty") != std::string::npos);
  CHECK(stats.input_errors == 1);
  CHECK(sink.rejects.size() == 1);
  CHECK(stats.rejected[static_cast<std::size_t>(sink.rejects[0].reason)] == 1);
  CHECK(times(sink) == std::vector<std::int64_t>{kDay + 5, kDay + 30, kDay + 65});
}
