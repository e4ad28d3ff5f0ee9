// flowlier replay: the live service's model over recorded logs: one intake and N engines
// (pipeline::ShardedEngines), as fast as the cores allow.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "app/Commands.hpp"
#include "app/EventTable.hpp"
#include "app/IngestSummary.hpp"
#include "service/RuleService.hpp"
#include "service/SinkBridge.hpp"
#include "pipeline/Config.hpp"
#include "pipeline/MemoryLimit.hpp"
#include "pipeline/Engine.hpp"
#include "pipeline/FileIngest.hpp"
#include "pipeline/ShardStateFiles.hpp"
#include "pipeline/ShardedEngines.hpp"
#include "pipeline/formats/Rfc3339.hpp"

namespace flowlier::app {

namespace {
using namespace flowlier::pipeline;
using service::SinkBridge;
using service::make_rule_book;

struct ReplayOptions {
  std::vector<std::string> paths;
  std::string config;
  std::string out;
  std::string format;
  std::string rejects;
  std::string state_in;
  std::string state_out;
  bool table = false;
  bool quiet = false;
  bool no_progress = false;
  double sink_wait_seconds = 30;
  std::string trace_entity;
  std::string trace_out;
  std::string warm_up_until;
  std::uint32_t threads = 0;  // engines; 0: one per core (at most 8), or as many as wrote --state-in
};

constexpr std::uint32_t kMaxAutoThreads = 8;

// Feeds decoded records to the engines and writes their events as they come.
class ReplaySink final : public DecodeSink {
 public:
  ReplaySink(ShardedEngines& engine, std::FILE* json, bool table, bool progress, SinkBridge* sinks)
      : engine_(engine),
        json_(json),
        table_(table),
        progress_(progress),
        sinks_(sinks),
        started_(std::chrono::steady_clock::now()) {}

  void on_record(const FlowRecord& record) override {
    engine_.process(record);
    if (++records_ % 65536 == 0) {
      drain();
      if (progress_) show_progress();
    }
  }
  void on_reject(const Reject&) override {}

  void drain() {
    for (const auto& event : engine_.take_events()) {
      if (json_) {
        const auto line = event.to_json();
        std::fwrite(line.data(), 1, line.size(), json_);
        std::fputc('\n', json_);
      }
      if (table_) table_rows_.push_back(event);
      if (sinks_) sinks_->publish(event);
      ++events_;
    }
  }
  void finish_progress() const {
    if (progress_) std::fputs("\r\033[K", stderr);
  }
  std::uint64_t events() const { return events_; }
  const std::vector<AnomalyEvent>& table_rows() const { return table_rows_; }

 private:
  void show_progress() const {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    fmt::print(stderr, "\r\033[Kreplay: {} records, {} events, {:.0f} records/s", records_, events_,
               s > 0 ? static_cast<double>(records_) / s : 0.0);
  }

  ShardedEngines& engine_;
  std::FILE* json_;
  bool table_;
  bool progress_;
  SinkBridge* sinks_;
  std::chrono::steady_clock::time_point started_;
  std::uint64_t records_ = 0;
  std::uint64_t events_ = 0;
  std::vector<AnomalyEvent> table_rows_;
};

int run_replay(const ReplayOptions& o) {
  Config config;
  if (!o.config.empty()) {
    auto loaded = load_config_file(o.config);
    if (!loaded.error.empty()) {
      fmt::print(stderr, "replay: config error: {}\n", loaded.error);
      return 2;
    }
    config = std::move(loaded.config);
  }
  std::string sink_error;
  auto sinks = SinkBridge::open(config.document, config.state.path, sink_error);
  if (!sinks) {
    fmt::print(stderr, "replay: sink config error: {}\n", sink_error);
    return 2;
  }
  IngestOptions ingest_options;
  const std::string format = o.format.empty() ? config.input_format : o.format;
  if (format != "auto") ingest_options.format = parse_input_format(format);
  ingest_options.decoder = config.decoder;
  ingest_options.time_order = true;

  // As many engines as the user asks for, or as wrote the state to continue.
  std::string count_error;
  std::uint32_t threads =
      choose_engine_count(o.threads, o.state_in, kMaxAutoThreads, "--threads", count_error);
  if (!count_error.empty()) {
    fmt::print(stderr, "replay: --state-in: {}\n", count_error);
    return 2;
  }
  if (config.engine.isolation.enabled && threads > 1) {
    // A population model over every entity of a kind: one engine sees them all.
    if (o.threads > 1) {
      fmt::print(stderr, "replay: [detectors.isolation] needs every entity in one engine: use --threads 1\n");
      return 2;
    }
    if (o.state_in.empty()) threads = 1;
  }
  // [limits] max_memory caps the entity tables, as in `run`: shared by the engines.
  const auto cap = entity_cap(config.engine.windows.max_entities, config.limits.max_memory, threads);
  config.engine.windows.max_entities = cap.max_entities;
  ShardedEngines engine(config.engine, threads);
  if (!config.rules.empty()) engine.set_rules(make_rule_book(std::move(config.rules), "replay"));
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> trace(nullptr, &std::fclose);
  std::mutex trace_mutex;  // engines of several shards may hold entities of that id
  if (!o.trace_entity.empty()) {
    trace.reset(std::fopen(o.trace_out.empty() ? "trace.csv" : o.trace_out.c_str(), "w"));
    if (!trace) {
      fmt::print(stderr, "replay: cannot write the trace file: {}\n", std::strerror(errno));
      return 2;
    }
    std::fputs("window_end,entity_kind,entity_id,feature,value,expected,lower,upper,tail_probability,warming_up\n",
               trace.get());
    engine.set_window_observer([&](const models::ClosedWindow& w, const models::FeatureVector&,
                                   const models::WindowScores& scores, const models::EntityBaseline& baseline) {
      if (w.key.id.view() != o.trace_entity) return;
      std::lock_guard lock(trace_mutex);
      for (auto fs : scores) {
        baseline.complete_bounds(fs, config.engine.baseline);
        const auto& r = fs.result;
        fmt::print(trace.get(), "{},{},{},{},{},{},{},{},{:.3e},{}\n", w.end, models::to_string(w.key.kind),
                   w.key.id.view(), models::to_string(fs.feature), r.value, r.expected, r.lower,
                   std::isfinite(r.upper) ? r.upper : -1.0, r.tail_probability, r.warming_up ? 1 : 0);
      }
    });
  }
  // The restored run's counts: the summary reports this run's only.
  models::WindowerStats restored_windows{};
  EngineStats restored{};
  if (!o.state_in.empty()) {
    std::string note;
    if (auto error = engine.restore(o.state_in, note); !error.empty()) {
      fmt::print(stderr, "replay: {}\n", error);
      return 2;
    }
    if (!note.empty()) fmt::print(stderr, "replay: {}\n", note);
    restored_windows = engine.window_stats();
    restored = engine.stats();
  }

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> owned(nullptr, &std::fclose);
  std::FILE* json = o.table ? nullptr : stdout;
  if (!o.out.empty() && o.out != "-") {
    owned.reset(std::fopen(o.out.c_str(), "w"));
    if (!owned) {
      fmt::print(stderr, "replay: cannot write {}: {}\n", o.out, std::strerror(errno));
      return 2;
    }
    json = owned.get();
  }

  IngestStats stats;
  RejectLog rejects(stderr, o.quiet ? 0 : 10);
  if (!o.rejects.empty()) {
    if (auto error = rejects.open_rejects_file(o.rejects); !error.empty()) {
      fmt::print(stderr, "replay: {}\n", error);
      return 2;
    }
  }
  FileIngest ingest(ingest_options, rejects, stats);
  const bool progress = !o.no_progress && !o.quiet && isatty(STDERR_FILENO);
  ReplaySink sink(engine, json, o.table, progress, sinks->empty() ? nullptr : sinks.get());
  const auto started = std::chrono::steady_clock::now();
  ingest.read(o.paths, sink, [](const std::string& message) { fmt::print(stderr, "replay: error: {}\n", message); });

  // Save before the final flush: the state continues exactly where the input stopped,
  // so replaying the next file from it equals replaying both in one run.
  if (!o.state_out.empty()) {
    if (auto error = engine.save(o.state_out); !error.empty()) {
      fmt::print(stderr, "replay: cannot write the state: {}\n", error);
      return 2;
    }
  }
  engine.flush();
  sink.drain();
  sink.finish_progress();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  if (o.table) {
    EventTableOptions table;
    if (auto ns = formats::parse_rfc3339(o.warm_up_until); ns && !o.warm_up_until.empty()) {
      table.warm_up_until = *ns / 1'000'000'000;
    }
    print_event_table(stdout, sink.table_rows(), table);
  }
  // The table (stdout) is complete before the summary (stderr) starts, also when both
  // go to one pipe: otherwise the summary lands in the middle of a buffered row.
  std::fflush(stdout);
  if (json) std::fflush(json);
  print_ingest_summary(stderr, "replay", stats, seconds);
  const auto ws = engine.window_stats();
  const auto es = engine.stats();
  fmt::print(stderr,
             "  late records: {} ({} observations); entities: {} (limit {}, {}); windows closed: {}; evicted: {}; "
             "refused: {} observations of new entities ({}); self-corrected: {}\n",
             engine.late_records(), ws.late - restored_windows.late, engine.entity_count(), cap.max_entities * threads,
             cap.by_memory ? "max_memory" : "max_entities", ws.windows_closed - restored_windows.windows_closed,
             ws.evicted_idle + ws.evicted_full - restored_windows.evicted_idle - restored_windows.evicted_full,
             ws.dropped_table_full - restored_windows.dropped_table_full,
             cap.by_memory ? "max_memory" : "max_entities", es.self_corrections - restored.self_corrections);
  fmt::print(stderr, "  events: {} ({} firing, {} resolved){}\n", sink.events(),
             es.events_firing - restored.events_firing, es.events_resolved - restored.events_resolved,
             !o.out.empty() && o.out != "-" ? fmt::format(", written to {}", o.out) : "");
  if (!sinks->empty() &&
      !sinks->finish(stderr, std::chrono::milliseconds(static_cast<std::int64_t>(o.sink_wait_seconds * 1000))))
    fmt::print(stderr, "  sinks: undelivered events stay spooled and go out on the next run\n");
  return stats.input_errors > 0 ? 1 : 0;
}
}  // namespace

void add_replay_command(CLI::App& app) {
  auto options = std::make_shared<ReplayOptions>();
  auto* cmd = app.add_subcommand("replay", "Run the detection model over recorded flow logs and write anomaly events");
  cmd->add_option("paths", options->paths, "Files, .gz files, directories (walked recursively) or - for stdin")
      ->required();
  cmd->add_option("-c,--config", options->config, "TOML config (the same file `run` reads); defaults without it");
  cmd->add_option("-o,--out", options->out, "Write events (JSON Lines) here; default stdout");
  cmd->add_option("--format", options->format, "Input format (default: from config, else auto-detect)")
      ->check([](const std::string& v) {
        return v == "auto" || parse_input_format(v) ? std::string() : "unknown format '" + v + "'";
      });
  cmd->add_option("--rejects", options->rejects, "Write rejected input with reasons as JSON Lines");
  cmd->add_option("--state-in", options->state_in,
                  "Start from the model state written by --state-out (or `run`'s state.path) at this path");
  cmd->add_option("--state-out", options->state_out,
                  "Write the model state at the end of the input: PATH (one engine) or PATH.shard-K-of-N, and "
                  "PATH.intake");
  cmd->add_option("--threads", options->threads,
                  "Engines, each on its own thread and owning a shard of the entities; the events do not depend on "
                  "it (0: one per core, at most 8, or as many as wrote --state-in)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  cmd->add_flag("--table", options->table, "Print events as a readable table on stdout (JSON only with --out)");
  cmd->add_option("--warm-up-until", options->warm_up_until,
                  "With --table: mark events before this RFC 3339 time as warm-up (baselines still learning)")
      ->check([](const std::string& v) {
        return formats::parse_rfc3339(v) ? std::string() : "not an RFC 3339 time: '" + v + "'";
      });
  cmd->add_flag("-q,--quiet", options->quiet, "No progress display and no individual rejects");
  cmd->add_flag("--no-progress", options->no_progress, "No progress display");
  cmd->add_option("--trace", options->trace_entity,
                  "Write every window of this entity id (features, expected, bounds, p) as CSV");
  cmd->add_option("--sink-wait", options->sink_wait_seconds,
                  "At the end, wait at most this many seconds for [[sinks]] to deliver (default 30)");
  cmd->add_option("--trace-out", options->trace_out, "Where --trace writes (default trace.csv)");
  cmd->callback([options] {
    const int rc = run_replay(*options);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace flowlier::app
