// One intake feeding N engines on N threads (replay --threads N) against one Engine.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <random>

#include "pipeline/Engine.hpp"
#include "pipeline/FileIngest.hpp"
#include "pipeline/InputFiles.hpp"
#include "pipeline/ShardStateFiles.hpp"
#include "pipeline/ShardedEngines.hpp"
#include "tests/support/CollectingSink.hpp"

using namespace flowlier::pipeline;
namespace fs = std::filesystem;

namespace {
std::vector<FlowRecord> read_records(const std::vector<std::string>& paths) {
  IngestStats stats;
  RejectLog rejects(nullptr, 0);
  IngestOptions options;
  options.time_order = true;
  FileIngest ingest(options, rejects, stats);
  flowlier::test::CollectingSink sink;
  ingest.read(expand_inputs(paths).files, sink, [](const std::string& e) { FAIL(e); });
  return sink.records;
}

// The bundled demo sample: AWS v2 records, whose local addresses the intake must learn.
std::vector<FlowRecord> sample_records() {
  return read_records({(fs::path(FLOWLIER_SOURCE_DIR) / "examples" / "sample" / "AWSLogs").string()});
}

std::vector<std::string> as_json(const std::vector<AnomalyEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.to_json());
  return out;
}

// Takes the events now and then, as replay does, so events cross the threads mid-run.
std::vector<std::string> run(ShardedEngines& engines, const std::vector<FlowRecord>& records, bool flush = true) {
  std::vector<std::string> out;
  std::size_t n = 0;
  for (const auto& r : records) {
    engines.process(r);
    if (++n % 5000 == 0) {
      for (auto& e : as_json(engines.take_events())) out.push_back(std::move(e));
    }
  }
  if (flush) engines.flush();
  for (auto& e : as_json(engines.take_events())) out.push_back(std::move(e));
  return out;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("flowlier-sharded-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};
}  // namespace

TEST_CASE("N engines on N threads give one engine's events in one order", "[sharded]") {
  const auto records = sample_records();
  REQUIRE(records.size() > 10000);
  Engine single({});
  std::vector<std::string> reference;
  for (const auto& r : records) single.process(r);
  single.flush();
  reference = as_json(single.take_events());
  REQUIRE(reference.size() > 5);
  std::sort(reference.begin(), reference.end());

  ShardedEngines one({}, 1);
  const auto first = run(one, records);
  auto set = first;
  std::sort(set.begin(), set.end());
  CHECK(set == reference);
  for (std::uint32_t count : {2u, 3u, 5u}) {
    ShardedEngines engines({}, count);
    CHECK(engines.count() == count);
    CHECK(run(engines, records) == first);
    CHECK(engines.entity_count() == single.entity_count());
    CHECK(engines.window_stats().windows_closed == single.window_stats().windows_closed);
    CHECK(engines.stats().events_firing == single.stats().events_firing);
  }
}

TEST_CASE("each close point's events leave in (window_end, entity, id) order", "[sharded]") {
  ShardedEngines engines({}, 2);
  const auto records = sample_records();
  for (const auto& r : records) engines.process(r);
  engines.flush();
  const auto events = engines.take_events();
  REQUIRE(events.size() > 5);
  // Resolve events of an earlier close point may follow a later window's findings, but
  // findings of one close point never go backwards in time.
  std::size_t ordered_pairs = 0;
  for (std::size_t i = 1; i < events.size(); ++i) {
    if (events[i].status == events[i - 1].status && events[i].status == EventStatus::firing) {
      CHECK(events[i - 1].window_end <= events[i].window_end);
      ++ordered_pairs;
    }
  }
  CHECK(ordered_pairs > 0);
}

TEST_CASE("a save/restore split with N engines equals one run, in the live service's files", "[sharded][state]") {
  const auto records = sample_records();
  const std::size_t half = records.size() / 2;
  const std::vector<FlowRecord> first(records.begin(), records.begin() + static_cast<std::ptrdiff_t>(half));
  const std::vector<FlowRecord> second(records.begin() + static_cast<std::ptrdiff_t>(half), records.end());
  ShardedEngines whole_run({}, 1);
  const auto whole = run(whole_run, records);

  for (std::uint32_t count : {1u, 3u}) {
    TempDir dir;
    const std::string path = (dir.path / "state").string();
    std::vector<std::string> events;
    {
      ShardedEngines engines({}, count);
      events = run(engines, first, false);
      REQUIRE(engines.save(path) == "");
      // save() syncs the engines: what they found by then waits in take_events(), as
      // replay takes it after saving.
      for (auto& e : as_json(engines.take_events())) events.push_back(std::move(e));
    }
    for (std::uint32_t k = 0; k < count; ++k) CHECK(fs::exists(shard_state_path(path, k, count)));
    CHECK(fs::exists(path + ".intake"));
    std::string error;
    CHECK(written_engine_count(path, error) == count);
    CHECK(error.empty());

    ShardedEngines engines({}, count);
    std::string note;
    REQUIRE(engines.restore(path, note) == "");
    CHECK(note.empty());
    const auto rest = run(engines, second);
    events.insert(events.end(), rest.begin(), rest.end());
    CHECK(events == whole);
  }
}

TEST_CASE("states of another engine count are refused, not half restored", "[sharded][state]") {
  TempDir dir;
  const std::string path = (dir.path / "state").string();
  {
    ShardedEngines engines({}, 2);
    run(engines, sample_records(), false);
    REQUIRE(engines.save(path) == "");
  }
  std::string note;
  ShardedEngines three({}, 3);
  CHECK(three.restore(path, note).find("missing") != std::string::npos);
  std::string error;
  CHECK(choose_engine_count(3, path, 8, "--threads", error) == 0);
  CHECK(error.find("written by 2 engines, this run has 3: set --threads 2") != std::string::npos);
  error.clear();
  CHECK(choose_engine_count(0, path, 8, "--threads", error) == 2);
  CHECK(error.empty());

  // An engine's state that is not one names its file.
  { std::ofstream(shard_state_path(path, 1, 2), std::ios::binary | std::ios::trunc) << "garbage"; }
  ShardedEngines two({}, 2);
  const std::string refused = two.restore(path, note);
  CHECK(refused.find(shard_state_path(path, 1, 2)) == 0);
  CHECK(refused.find("engine state") != std::string::npos);
}
