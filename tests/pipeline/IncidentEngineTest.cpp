// One incident, one page: the findings of one host's entities become one episode,
// the resolve event repeats what was announced, and volume events are explained by
// volume.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <set>

#include "pipeline/Engine.hpp"
#include "pipeline/EpisodeTracker.hpp"
#include "pipeline/FileIngest.hpp"
#include "pipeline/InputFiles.hpp"
#include "pipeline/Scoring.hpp"
#include "tests/support/CollectingSink.hpp"

using namespace flowlier::pipeline;
namespace fs = std::filesystem;

namespace {
std::vector<AnomalyEvent> replay_sample() {
  const fs::path root = fs::path(FLOWLIER_SOURCE_DIR) / "examples" / "sample" / "AWSLogs";
  IngestStats stats;
  RejectLog rejects(nullptr, 0);
  FileIngest ingest({}, rejects, stats);
  flowlier::test::CollectingSink sink;
  ingest.read(expand_inputs({root.string()}).files, sink, [](const std::string& e) { FAIL(e); });
  Engine engine({});
  for (const auto& r : sink.records) engine.process(r);
  engine.flush();
  return engine.take_events();
}

bool names(const AnomalyEvent& e, const std::string& id) {
  if (e.entity_id == id) return true;
  return std::any_of(e.related.begin(), e.related.end(), [&](const RelatedEntity& r) { return r.id == id; });
}

AnomalyEvent finding(const char* feature, const char* category, double score, std::int64_t end) {
  AnomalyEvent e;
  e.entity_kind = "interface";
  e.entity_id = "eni-0aaaaaaaaaaaaaaaa";
  e.feature = feature;
  e.category = category;
  e.detector = "volume";
  e.score = score;
  e.severity = severity_from_score(score, ScoringConfig{});
  e.window_start = end - 60;
  e.window_end = end;
  e.time = end;
  e.explanation = std::string(feature) + " deviated";
  return e;
}
}  // namespace

TEST_CASE("an interface and its address that deviate together page once, naming both", "[engine][incident]") {
  const auto events = replay_sample();
  // The sample's port scan hits web-3: interface eni-05212ff1e01f1ec62, address 10.0.1.12.
  const std::string eni = "eni-05212ff1e01f1ec62", address = "10.0.1.12";
  std::vector<AnomalyEvent> scan;
  for (const auto& e : events) {
    if (e.status == EventStatus::firing && e.category == "port-scan" && (names(e, eni) || names(e, address))) {
      scan.push_back(e);
    }
  }
  REQUIRE_FALSE(scan.empty());
  // One episode for the host, and its first event names the other entity as related.
  std::set<std::string> episodes;
  for (const auto& e : scan) episodes.insert(e.episode);
  CHECK(episodes.size() == 1);
  CHECK(names(scan.front(), eni));
  CHECK(names(scan.front(), address));
  CHECK(scan.front().to_json().find("\"related\"") != std::string::npos);
  // No two firing events of one window and one host anywhere in the sample.
  std::set<std::pair<std::int64_t, std::string>> seen;
  for (const auto& e : events) {
    if (e.status != EventStatus::firing || e.entity_kind != "interface") continue;
    CHECK(seen.insert({e.window_start, e.entity_id}).second);
  }
}

TEST_CASE("an exfiltration is explained by volume: bytes, ports ranked by bytes, the right category",
          "[engine][incident]") {
  const auto events = replay_sample();
  // The sample's exfiltration: app-1 (10.0.2.10) sends 0.66 GB to 163.127.163.99.
  const auto exfil = std::find_if(events.begin(), events.end(), [](const AnomalyEvent& e) {
    return e.status == EventStatus::firing && names(e, "10.0.2.10") && e.feature == "bytes_out";
  });
  REQUIRE(exfil != events.end());
  CHECK(exfil->category == "exfiltration");
  REQUIRE(exfil->contributors.size() >= 2);
  CHECK(exfil->contributors[0].key == "peer");
  CHECK(exfil->contributors[0].value == "163.127.163.99");
  for (const auto& c : exfil->contributors) CHECK(c.base == "bytes");
  CHECK(exfil->explanation.find("% of bytes") != std::string::npos);
}

TEST_CASE("no event claims more than a baseline can show", "[engine][incident]") {
  for (const auto& e : replay_sample()) {
    INFO(e.explanation);
    CHECK(e.tail_probability > 1e-200);
  }
}

TEST_CASE("the resolve event repeats the announced feature and category, not a later finding",
          "[episodes][incident]") {
  EpisodeTracker tracker({}, 60);
  std::vector<AnomalyEvent> out;
  tracker.observe(42, 0, finding("bytes_out", "exfiltration", 70, 600), out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].status == EventStatus::firing);
  // A weaker finding of another feature keeps the episode open without an event.
  tracker.observe(42, 0, finding("flows", "brute-force", 40, 660), out);
  CHECK(out.size() == 1);
  tracker.expire(660 + 5 * 60, out);
  REQUIRE(out.size() == 2);
  const auto& resolved = out[1];
  CHECK(resolved.status == EventStatus::resolved);
  CHECK(resolved.episode == out[0].episode);
  CHECK(resolved.feature == "bytes_out");
  CHECK(resolved.category == "exfiltration");
  CHECK(resolved.windows == 2);
  CHECK(resolved.time == 660 + 5 * 60);
}

TEST_CASE("episodes are keyed by incident: two hosts never share one, one host never has two",
          "[episodes][incident]") {
  EpisodeTracker tracker({}, 60);
  std::vector<AnomalyEvent> out;
  tracker.observe(1, 0, finding("bytes_out", "exfiltration", 70, 600), out);
  tracker.observe(2, 0, finding("bytes_out", "exfiltration", 70, 600), out);
  tracker.observe(1, 0, finding("bytes_out", "exfiltration", 70, 660), out);  // same severity: no new event
  REQUIRE(out.size() == 2);
  CHECK(out[0].episode != out[1].episode);
  CHECK(tracker.is_open(1, 0));
  CHECK(tracker.is_open(2, 0));
  CHECK_FALSE(tracker.is_open(1, 1));
  tracker.observe(1, 0, finding("bytes_out", "exfiltration", 95, 720), out);  // escalation: an update
  REQUIRE(out.size() == 3);
  CHECK(out[2].episode == out[0].episode);
  CHECK(out[2].id != out[0].id);
}
