// When flowlier pages: episodes open, escalate, stay open and resolve (EpisodeTracker).
#include <catch2/catch.hpp>

#include <sstream>

#include "core/StateIo.hpp"
#include "pipeline/EpisodeTracker.hpp"
#include "pipeline/Scoring.hpp"

using namespace flowlier::pipeline;

namespace {
constexpr std::int64_t kWindow = 60;
constexpr std::int64_t kStart = 1'772'409'600;  // a window boundary

// A finding of `score` in window `n` (0-based from kStart) of one entity.
AnomalyEvent finding(int n, double score, const char* feature = "bytes_out", const char* entity = "eni-a") {
  AnomalyEvent e;
  e.window_start = kStart + n * kWindow;
  e.window_end = e.window_start + kWindow;
  e.time = e.window_end;
  e.entity_kind = "interface";
  e.entity_id = entity;
  e.feature = feature;
  e.category = "exfiltration";
  e.score = score;
  e.severity = severity_from_score(score, ScoringConfig{});
  e.explanation = std::string(feature) + " high";
  return e;
}

// Observes `e` for (incident, group) and returns what came out.
std::vector<AnomalyEvent> observe(EpisodeTracker& t, const AnomalyEvent& e, std::uint64_t incident = 7,
                                  std::uint8_t group = 0, std::int64_t hold_until = 0) {
  std::vector<AnomalyEvent> out;
  t.observe(incident, group, e, out, hold_until);
  return out;
}

std::vector<AnomalyEvent> expire_after(EpisodeTracker& t, int n) {
  std::vector<AnomalyEvent> out;
  t.expire(kStart + (n + 1) * kWindow, out);
  return out;
}
}  // namespace

TEST_CASE("a finding pages only from open_score, once, with a stable episode id", "[episodes]") {
  EpisodeTracker t(EpisodeConfig{}, kWindow);  // open 50, keep 30, 5 quiet windows
  CHECK(observe(t, finding(0, 49.9)).empty());
  CHECK(t.open_count() == 0);
  const auto first = observe(t, finding(1, 55));
  REQUIRE(first.size() == 1);
  CHECK(first[0].status == EventStatus::firing);
  CHECK(first[0].severity == Severity::low);
  CHECK(first[0].id == first[0].episode + "-0");
  CHECK(first[0].windows == 1);
  CHECK(t.is_open(7, 0));
  // The same severity again is no news: no second page.
  CHECK(observe(t, finding(2, 58)).empty());
  // Worse is: an update in the same episode.
  const auto worse = observe(t, finding(3, 95));
  REQUIRE(worse.size() == 1);
  CHECK(worse[0].severity == Severity::critical);
  CHECK(worse[0].episode == first[0].episode);
  CHECK(worse[0].id == first[0].episode + "-1");
  CHECK(worse[0].windows == 3);
  // Back down, then up to a severity already sent: nothing.
  CHECK(observe(t, finding(4, 60)).empty());
  CHECK(observe(t, finding(5, 92)).empty());
}

TEST_CASE("an episode resolves after quiet_windows without a finding above keep_score", "[episodes]") {
  EpisodeTracker t(EpisodeConfig{}, kWindow);
  const auto opened = observe(t, finding(0, 80));
  REQUIRE(opened.size() == 1);
  // Above keep_score (30) keeps it alive; below it does not.
  observe(t, finding(2, 35));
  observe(t, finding(3, 20));
  // Last active window ends at kStart + 3*60; quiet for 5 windows: resolves at window 7's end.
  CHECK(expire_after(t, 6).empty());
  const auto resolved = expire_after(t, 7);
  REQUIRE(resolved.size() == 1);
  const auto& r = resolved[0];
  CHECK(r.status == EventStatus::resolved);
  CHECK(r.id == opened[0].episode + "-r");
  CHECK(r.episode == opened[0].episode);
  CHECK(r.window_end == kStart + 8 * kWindow);
  CHECK(r.time == r.window_end);
  // It closes what was announced, at the peak score and the severity sent.
  CHECK(r.feature == "bytes_out");
  CHECK(r.score == 80);
  CHECK(r.severity == Severity::high);
  CHECK(r.windows == 2);
  CHECK(r.explanation.find("resolved: 5 quiet windows after 2 anomalous window(s)") == 0);
  CHECK(t.open_count() == 0);
  CHECK(expire_after(t, 20).empty());  // resolved once
}

TEST_CASE("a recurring finding's hold keeps its episode open past the quiet windows", "[episodes]") {
  EpisodeTracker t(EpisodeConfig{}, kWindow);
  const std::int64_t next_check_in = kStart + 12 * kWindow;
  REQUIRE(observe(t, finding(0, 70), 7, 2, next_check_in).size() == 1);
  CHECK(expire_after(t, 10).empty());
  const auto resolved = expire_after(t, 11);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].time == next_check_in);
}

TEST_CASE("one incident and group is one episode; another group or incident is another", "[episodes]") {
  EpisodeTracker t(EpisodeConfig{}, kWindow);
  const auto a = observe(t, finding(0, 70, "bytes_out", "eni-a"), 7, 0);
  // The host's address (same incident key) deviating in the same family: same episode.
  CHECK(observe(t, finding(1, 70, "distinct_peers", "10.0.0.5"), 7, 0).empty());
  const auto population = observe(t, finding(1, 70), 7, 1);
  const auto other_host = observe(t, finding(1, 70, "bytes_out", "eni-b"), 8, 0);
  REQUIRE(a.size() == 1);
  REQUIRE(population.size() == 1);
  REQUIRE(other_host.size() == 1);
  CHECK(population[0].episode != a[0].episode);
  CHECK(other_host[0].episode != a[0].episode);
  CHECK(t.open_count() == 3);
}

TEST_CASE("a repeat after resolution is a new episode; ids depend only on the findings", "[episodes]") {
  const auto run = [] {
    EpisodeTracker t(EpisodeConfig{}, kWindow);
    std::vector<std::string> ids;
    for (const auto& e : observe(t, finding(0, 70))) ids.push_back(e.id);
    for (const auto& e : expire_after(t, 5)) ids.push_back(e.id);
    for (const auto& e : observe(t, finding(9, 70))) ids.push_back(e.id);
    return ids;
  };
  const auto ids = run();
  REQUIRE(ids.size() == 3);
  CHECK(ids[1] == ids[0].substr(0, ids[0].size() - 2) + "-r");
  CHECK(ids[2] != ids[0]);
  CHECK(ids[2].ends_with("-0"));
  CHECK(run() == ids);
}

TEST_CASE("open episodes survive save and restore, and a foreign state is refused", "[episodes][state]") {
  EpisodeTracker t(EpisodeConfig{}, kWindow);
  const auto opened = observe(t, finding(0, 65));
  std::stringstream state;
  t.save(state);
  EpisodeTracker restored(EpisodeConfig{}, kWindow);
  REQUIRE(restored.restore(state) == "");
  CHECK(restored.is_open(7, 0));
  // Continues the same episode: an escalation is its second event, the resolve its -r.
  const auto worse = observe(restored, finding(1, 91));
  REQUIRE(worse.size() == 1);
  CHECK(worse[0].id == opened[0].episode + "-1");
  const auto resolved = expire_after(restored, 6);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].id == opened[0].episode + "-r");
  CHECK(resolved[0].feature == "bytes_out");

  std::stringstream garbage("not a state");
  EpisodeTracker untouched(EpisodeConfig{}, kWindow);
  REQUIRE(observe(untouched, finding(0, 70), 9).size() == 1);
  CHECK_FALSE(untouched.restore(garbage).empty());
  CHECK(untouched.is_open(9, 0));
}

TEST_CASE("recorded changes bring an older snapshot up to the episodes published since", "[episodes][state]") {
  EpisodeTracker live(EpisodeConfig{}, kWindow);
  live.record_changes(true);
  std::stringstream snapshot;
  live.save(snapshot);  // before anything opened
  const auto opened = observe(live, finding(0, 70));
  REQUIRE(opened.size() == 1);
  const std::string changes = live.take_changes();
  CHECK(live.take_changes().size() < changes.size());  // taken once

  EpisodeTracker restarted(EpisodeConfig{}, kWindow);
  REQUIRE(restarted.restore(snapshot) == "");
  CHECK_FALSE(restarted.is_open(7, 0));
  REQUIRE(restarted.apply_changes(changes) == "");
  CHECK(restarted.is_open(7, 0));
  // Neither re-opened under another id nor paged again.
  CHECK(observe(restarted, finding(1, 70)).empty());
  const auto resolved = expire_after(restarted, 6);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].episode == opened[0].episode);
}

TEST_CASE("an episode keeps its start through save, restore and the journal's changes", "[episodes][state]") {
  EpisodeTracker live(EpisodeConfig{}, kWindow);
  live.record_changes(true);
  REQUIRE(observe(live, finding(0, 65)).size() == 1);
  REQUIRE(observe(live, finding(2, 91)).size() == 1);  // escalates: the announced event is window 2's
  REQUIRE(live.open_views().size() == 1);
  CHECK(live.open_views()[0].opened == kStart);

  std::stringstream state;
  live.save(state);
  EpisodeTracker restored(EpisodeConfig{}, kWindow);
  REQUIRE(restored.restore(state) == "");
  REQUIRE(restored.open_views().size() == 1);
  CHECK(restored.open_views()[0].opened == kStart);
  CHECK(restored.open_views()[0].announced->window_start == kStart + 2 * kWindow);

  EpisodeTracker journaled(EpisodeConfig{}, kWindow);
  REQUIRE(journaled.apply_changes(live.take_changes()) == "");
  REQUIRE(journaled.open_views().size() == 1);
  CHECK(journaled.open_views()[0].opened == kStart);
}

TEST_CASE("a state saved before episode starts were kept still loads, with the starts it implies",
          "[episodes][state]") {
  // The layout every version-3 state has; its stored events carry no "episode_start".
  flowlier::detectors::StateWriter w;
  w.put<std::uint64_t>(2);
  auto put = [&w](std::uint64_t incident, std::uint32_t events, const AnomalyEvent& announced) {
    w.put(incident);
    w.put(std::uint8_t{0});
    w.put_string(std::string("ep-") + std::to_string(incident));
    w.put(events);
    w.put(std::uint32_t{3});
    w.put(announced.window_end);
    w.put(std::int64_t{0});
    w.put(announced.severity);
    w.put(announced.score);
    w.put_string(announced.to_json());
  };
  put(1, 1, finding(4, 70));  // announced once: the event that opened it
  put(2, 2, finding(6, 95));  // announced again since: its start is not known
  std::stringstream state;
  flowlier::detectors::save_record(state, EpisodeTracker::kTag, EpisodeTracker::kVersion, w.bytes());

  EpisodeTracker restored(EpisodeConfig{}, kWindow);
  REQUIRE(restored.restore(state) == "");
  const auto views = restored.open_views();
  REQUIRE(views.size() == 2);
  CHECK(views[0].opened == kStart + 4 * kWindow);
  CHECK(views[1].opened == 0);
}
