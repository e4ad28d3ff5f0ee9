// The --follow merge (RecordMerge): hands records on by time with bounded memory, and
// over a tree read whole it gives exactly replay's order (FileIngest, time_order), the
// files numbered by FileIngest::start_time as the follower numbers them.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "tests/support/TempDir.hpp"
#include "pipeline/FileIngest.hpp"
#include "pipeline/InputFiles.hpp"
#include "pipeline/RecordMerge.hpp"
#include "pipeline/RecordWire.hpp"
#include "tests/support/CollectingSink.hpp"

using namespace flowlier::pipeline;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kDay = 1772409600;  // 2026-03-02T00:00:00Z
const char* kHeader =
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
    "log-status\n";

struct TempDir : flowlier::testing::TempDir {
  TempDir() : flowlier::testing::TempDir("flowlier-recmerge") {}
};

std::string line(int interface, std::int64_t start) {
  return "2 123456789012 eni-" + std::to_string(100 + interface) + " 10.0.0." + std::to_string(10 + interface) +
         " 10.0.1.5 40000 443 6 3 300 " + std::to_string(start) + " " + std::to_string(start + 5) + " ACCEPT OK\n";
}

FlowRecord at(std::int64_t seconds, int interface = 0) {
  FlowRecord r;
  r.start_ns = seconds * 1'000'000'000;
  r.end_ns = r.start_ns;
  r.set(Field::start);
  r.set(Field::end);
  r.packets = static_cast<std::uint64_t>(interface);  // tells the records apart
  return r;
}

// (seconds, interface) of what a release hands on.
std::vector<std::pair<std::int64_t, int>> take(RecordMerge& merge, std::int64_t before_seconds) {
  std::vector<std::pair<std::int64_t, int>> out;
  const std::int64_t before =
      before_seconds == RecordMerge::kAll ? RecordMerge::kAll : before_seconds * 1'000'000'000;
  merge.release(before, [&](std::string_view wire) {
    FlowRecord r;
    REQUIRE(read_record_wire(wire, r) == wire.size());
    out.emplace_back(r.start_ns / 1'000'000'000, static_cast<int>(r.packets));
  });
  return out;
}

}  // namespace

TEST_CASE("RecordMerge hands records on by time, ties to the lower source, each source in its own order") {
  RecordMerge merge(100);
  merge.add(2, at(10, 2));
  merge.add(2, at(30, 2));
  merge.add(1, at(20, 1));
  merge.add(1, at(15, 1));  // a small disorder inside source 1 stays as it was
  merge.add(1, at(30, 1));
  merge.add(3, at(10, 3));
  CHECK(merge.held() == 6);
  CHECK(merge.held_bytes() > 0);
  CHECK(merge.newest(1) == 30 * 1'000'000'000LL);
  CHECK_FALSE(merge.newest(9));

  // Nothing at or after 20 s goes yet: a file not read to its end may still hold it.
  using V = std::vector<std::pair<std::int64_t, int>>;
  CHECK(take(merge, 20) == V{{10, 2}, {10, 3}});
  CHECK(merge.held() == 4);
  merge.add(3, at(25, 3));
  CHECK(take(merge, RecordMerge::kAll) == V{{20, 1}, {15, 1}, {25, 3}, {30, 1}, {30, 2}});
  CHECK(merge.held() == 0);
  CHECK(merge.held_bytes() == 0);
  CHECK(merge.forced() == 0);
  CHECK_FALSE(merge.newest(1));  // nothing held, nothing left to bound: forgotten
}

TEST_CASE("RecordMerge never holds more than its maximum: the oldest go on early, counted") {
  RecordMerge merge(3);
  for (int i = 0; i < 5; ++i) merge.add(1, at(100 + i));
  using V = std::vector<std::pair<std::int64_t, int>>;
  CHECK(take(merge, 0) == V{{100, 0}, {101, 0}});
  CHECK(merge.held() == 3);
  CHECK(merge.forced() == 2);
  CHECK(merge.newest(1) == 104 * 1'000'000'000LL);
  CHECK(take(merge, RecordMerge::kAll).size() == 3);
}

TEST_CASE("a tree read whole and merged like --follow gives replay's order") {
  TempDir dir;
  // Azure-like names (NSG and MAC first, then the hour) and AWS-like names from two
  // regions, so that name order is not time order; each file a little out of order.
  for (int nic = 0; nic < 3; ++nic) {
    for (int hour = 0; hour < 3; ++hour) {
      std::string text = kHeader;
      for (int minute = 0; minute < 60; minute += 7) {
        const std::int64_t t = kDay + hour * 3600 + minute * 60 + nic;
        text += line(nic, t + 61);
        text += line(nic, t);
      }
      char rel[160];
      std::snprintf(rel, sizeof rel, "resourceId=/NSG-%c/y=2026/m=03/d=02/h=%02d/m=00/macAddress=MAC%d/PT1H.log",
                    'A' + nic, hour, nic);
      fs::create_directories((dir.path / rel).parent_path());
      std::ofstream(dir.path / rel) << text;
    }
  }
  for (int region = 0; region < 2; ++region) {
    for (int hour = 0; hour < 3; ++hour) {
      char rel[200];
      std::snprintf(rel, sizeof rel,
                    "AWSLogs/123456789012/vpcflowlogs/region-%d/2026/03/02/"
                    "123456789012_vpcflowlogs_region-%d_fl-1_20260302T%02d15Z_abc.log",
                    region, region, hour);
      std::string text = kHeader;
      for (int minute = 0; minute < 15; minute += 2) text += line(5 + region, kDay + hour * 3600 + minute * 60);
      fs::create_directories((dir.path / rel).parent_path());
      std::ofstream(dir.path / rel) << text;
    }
  }
  std::ofstream(dir.path / "aa-no-time-in-name.log") << kHeader << line(9, kDay + 1800);

  IngestStats stats;
  RejectLog rejects(nullptr, 0);
  IngestOptions options;
  options.time_order = true;
  FileIngest replay(options, rejects, stats);
  flowlier::test::CollectingSink replayed;
  replay.read({dir.path.string()}, replayed, [](const std::string&) {});

  // --follow: the files of one poll numbered oldest first (start time, then file name,
  // then path), each decoded whole into the merge under its number, then released.
  auto files = expand_inputs({dir.path.string()}).files;
  std::vector<std::tuple<std::int64_t, std::string, std::string>> order;
  for (const auto& f : files) {
    order.emplace_back(replay.start_time(f).value_or(INT64_MIN), fs::path(f).filename().string(), f);
  }
  std::sort(order.begin(), order.end());
  RecordMerge merge(1 << 20);
  std::uint64_t source = 0;
  for (const auto& [start, name, path] : order) {
    ++source;
    std::ifstream in(path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    struct Into final : DecodeSink {
      RecordMerge& merge;
      std::uint64_t source;
      Into(RecordMerge& m, std::uint64_t s) : merge(m), source(s) {}
      void on_record(const FlowRecord& r) override { merge.add(source, r); }
      void on_reject(const Reject&) override { FAIL("no rejects expected"); }
    } into(merge, source);
    auto decoder = make_decoder(*detect_input_format(text), DecoderOptions{});
    decoder->feed(text, 1, into);
    decoder->finish(into);
  }
  std::vector<std::pair<std::int64_t, std::string>> followed, expected;
  merge.release(RecordMerge::kAll, [&](std::string_view wire) {
    FlowRecord r;
    REQUIRE(read_record_wire(wire, r) == wire.size());
    followed.emplace_back(r.start_ns, std::string(r.interface_id.view()));
  });
  for (const auto& r : replayed.records) expected.emplace_back(r.start_ns, std::string(r.interface_id.view()));
  REQUIRE(expected.size() == stats.records);
  CHECK(followed.size() > 80);
  CHECK(followed == expected);
  // And that order is not the files' name order.
  CHECK_FALSE(std::is_sorted(files.begin(), files.end(), [&](const std::string& a, const std::string& b) {
    return replay.start_time(a) < replay.start_time(b);
  }));
}
