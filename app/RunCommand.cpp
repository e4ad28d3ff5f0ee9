// flowlier run: the live service. One process, three stages joined by inproc ZeroMQ:
//
//   intake  (PULL bound on endpoints.flows_in; decodes each message, format detected
//            per message)        --PUSH/PULL inproc://flowlier.records-->
//   scoring (one Engine; periodic and final state snapshots; idle watermark)
//                                --PUSH/PULL inproc://flowlier.events-->
//   publish (PUB bound on endpoints.events_out: [topic][event JSON][sequence])
//
// plus the metrics responder (endpoints.metrics: /metrics, /healthz, /readyz).
// Inproc hops carry ownership of heap-allocated batches as a pointer frame: they never
// leave the process, and the records need no second encoding. Hops block at their
// high-water mark (counted), never drop. Shutdown (SIGTERM/SIGINT) sends an end marker
// down the chain, so every stage drains what it has before the state is written.
#include <pthread.h>
#include <signal.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "app/Commands.hpp"
#include "pipeline/Config.hpp"
#include "pipeline/Engine.hpp"
#include "pipeline/InputFormat.hpp"
#include "pipeline/RejectReason.hpp"
#include "transport/MetricsServer.hpp"
#include "transport/ProcessMemory.hpp"
#include "transport/PrometheusText.hpp"
#include "transport/ZmqPublisher.hpp"
#include "transport/ZmqSockets.hpp"

namespace flowlier::app {

namespace {
using namespace flowlier::pipeline;
using Clock = std::chrono::steady_clock;

constexpr const char* kRecordsHop = "inproc://flowlier.records";
constexpr const char* kEventsHop = "inproc://flowlier.events";
constexpr char kBatch = 'B';
constexpr char kEnd = 'E';

struct RunOptions {
  std::string config;
  std::string check_config;
  double idle_seconds = 30;
  int hwm = 1000;
};

// Everything the stages count, readable from the metrics thread at any time.
struct RunMetrics {
  std::atomic<std::uint64_t> messages_received{0};
  std::atomic<std::uint64_t> records_received{0};
  std::array<std::atomic<std::uint64_t>, kRejectReasonCount> rejected{};
  std::atomic<std::uint64_t> late{0};
  std::atomic<std::uint64_t> windows_closed{0};
  std::atomic<std::uint64_t> entities{0};
  std::atomic<std::uint64_t> evictions{0};
  std::array<std::atomic<std::uint64_t>, 5> events_firing{};  // by severity
  std::atomic<std::uint64_t> events_resolved{0};
  std::atomic<std::uint64_t> hwm_blocks{0};
  std::atomic<std::uint64_t> idle_advances{0};
  std::atomic<std::uint64_t> snapshots_written{0};
  std::atomic<std::uint64_t> snapshot_failures{0};
  std::atomic<std::uint64_t> published_sequence{0};
  std::atomic<bool> ready{false};
  transport::LatencyHistogram publish_latency;
};

std::string render_metrics(const RunMetrics& m) {
  transport::PrometheusText t;
  const auto v = [](const std::atomic<std::uint64_t>& a) { return static_cast<double>(a.load()); };
  t.counter("flowlier_messages_received_total", "Messages received on the flows-in socket.", v(m.messages_received));
  t.counter("flowlier_records_received_total", "Flow records decoded from received messages.", v(m.records_received));
  std::vector<std::pair<std::string, double>> rejects;
  for (std::size_t i = 0; i < kRejectReasonCount; ++i) {
    rejects.emplace_back(std::string(to_string(static_cast<RejectReason>(i))), v(m.rejected[i]));
  }
  t.counter_family("flowlier_records_rejected_total", "Input lines or records rejected, by reason.", "reason",
                   rejects);
  t.counter("flowlier_late_records_total", "Observations that arrived after their window had closed.", v(m.late));
  t.counter("flowlier_windows_closed_total", "Entity windows closed and scored.", v(m.windows_closed));
  t.gauge("flowlier_entities", "Entities currently tracked.", v(m.entities));
  t.counter("flowlier_evictions_total", "Entities evicted (idle or table full).", v(m.evictions));
  std::vector<std::pair<std::string, double>> events;
  for (std::size_t i = 0; i < m.events_firing.size(); ++i) {
    events.emplace_back(to_string(static_cast<Severity>(i)), v(m.events_firing[i]));
  }
  t.counter_family("flowlier_events_total", "Firing anomaly events published, by severity.", "severity", events);
  t.counter("flowlier_resolved_events_total", "Resolution events published.", v(m.events_resolved));
  t.counter("flowlier_hwm_blocks_total", "Times an internal hop waited at its high-water mark.", v(m.hwm_blocks));
  t.counter("flowlier_idle_advances_total", "Window closes caused by the idle watermark timeout.",
            v(m.idle_advances));
  t.counter("flowlier_snapshots_written_total", "State snapshots written.", v(m.snapshots_written));
  t.counter("flowlier_snapshot_failures_total", "State snapshots that could not be written.",
            v(m.snapshot_failures));
  t.gauge("flowlier_published_sequence", "Sequence number of the last published event.", v(m.published_sequence));
  t.gauge("flowlier_process_resident_memory_bytes", "Resident set size of the process.",
          static_cast<double>(transport::resident_memory_bytes()));
  t.histogram("flowlier_publish_latency_seconds", "Wall time from a window close to its events' publication.",
              m.publish_latency);
  return t.text();
}

// Writes the engine state to `path` atomically: a temp file beside it, then rename.
std::string write_snapshot(const Engine& engine, const std::string& path) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    engine.save(out);
    out.flush();
    if (!out) return fmt::format("cannot write {}", temp);
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) return fmt::format("cannot rename {} to {}: {}", temp, path, ec.message());
  return {};
}

// Collects one message's records; rejects are only counted (the live path has no
// place to print every bad line; the counts are in the metrics).
class BatchSink final : public DecodeSink {
 public:
  explicit BatchSink(RunMetrics& metrics) : metrics_(metrics) {}
  void on_record(const FlowRecord& record) override { batch->push_back(record); }
  void on_reject(const Reject& reject) override {
    metrics_.rejected[static_cast<std::size_t>(reject.reason)].fetch_add(1, std::memory_order_relaxed);
  }
  std::unique_ptr<std::vector<FlowRecord>> batch = std::make_unique<std::vector<FlowRecord>>();

 private:
  RunMetrics& metrics_;
};

zmq::message_t pointer_frame(void* p) { return zmq::message_t(&p, sizeof p); }
template <typename T>
T* frame_pointer(const zmq::message_t& m) {
  void* p = nullptr;
  if (m.size() == sizeof p) std::memcpy(&p, m.data(), sizeof p);
  return static_cast<T*>(p);
}

// Stage 1: decode each received message and pass the records on.
void intake_stage(zmq::socket_t flows, zmq::socket_t out, const Config& config, RunMetrics& metrics,
                  const std::atomic<bool>& stopping) {
  std::optional<InputFormat> fixed;
  if (config.input_format != "auto") fixed = parse_input_format(config.input_format);
  while (!stopping.load()) {
    zmq::pollitem_t item{flows.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    if (!(item.revents & ZMQ_POLLIN)) continue;
    zmq::message_t message;
    if (!flows.recv(message, zmq::recv_flags::dontwait)) continue;
    // Each frame of a multipart message is an input of its own.
    BatchSink sink(metrics);
    bool more = true;
    while (true) {
      metrics.messages_received.fetch_add(1, std::memory_order_relaxed);
      const std::string_view text(static_cast<const char*>(message.data()), message.size());
      const auto format = fixed ? fixed : detect_input_format(text.substr(0, 4096));
      if (!format) {
        metrics.rejected[static_cast<std::size_t>(RejectReason::unknown_format)].fetch_add(1);
      } else if (auto decoder = make_decoder(*format, config.decoder)) {
        decoder->feed(text, 1, sink);
        decoder->finish(sink);
      }
      more = flows.get(zmq::sockopt::rcvmore) != 0;
      if (!more || !flows.recv(message)) break;
    }
    metrics.records_received.fetch_add(sink.batch->size(), std::memory_order_relaxed);
    if (sink.batch->empty()) continue;
    std::vector<zmq::message_t> parts;
    parts.emplace_back(&kBatch, 1);
    parts.push_back(pointer_frame(sink.batch.get()));
    if (!transport::send_counted(out, parts, metrics.hwm_blocks)) return;
    sink.batch.release();  // the scoring stage owns it now
  }
  std::vector<zmq::message_t> end;
  end.emplace_back(&kEnd, 1);
  transport::send_counted(out, end, metrics.hwm_blocks);
}

struct OutEvent {
  std::string topic;
  std::string json;
  Severity severity;
  bool firing;
  Clock::time_point closed;
};

std::string topic_of(const AnomalyEvent& e) {
  if (e.status == EventStatus::resolved) return "resolved." + e.entity_kind;
  return fmt::format("anomaly.{}.{}", to_string(e.severity), e.entity_kind);
}

// Stage 2: the engine. Owns the state file.
void scoring_stage(zmq::socket_t in, zmq::socket_t out, Engine& engine, const Config& config,
                   const RunOptions& options, RunMetrics& metrics) {
  const auto interval = std::chrono::seconds(std::max<std::int64_t>(1, config.state.snapshot_interval_seconds));
  auto next_snapshot = Clock::now() + interval;
  auto last_record = Clock::now();
  bool seen_record = false;
  std::uint64_t emitted = engine.stats().events_firing + engine.stats().events_resolved;
  const std::int64_t window = config.engine.windows.window_seconds;
  const std::int64_t lateness = config.engine.windows.allowed_lateness_seconds;

  const auto forward = [&](Clock::time_point closed) -> bool {
    auto events = engine.take_events();
    for (auto& e : events) {
      auto* item = new OutEvent{topic_of(e), e.to_json(), e.severity, e.status == EventStatus::firing, closed};
      std::vector<zmq::message_t> parts;
      parts.emplace_back(&kBatch, 1);
      parts.push_back(pointer_frame(item));
      if (!transport::send_counted(out, parts, metrics.hwm_blocks)) {
        delete item;
        return false;
      }
    }
    return true;
  };
  const auto update_gauges = [&] {
    const auto& ws = engine.window_stats();
    metrics.late.store(ws.late);
    metrics.windows_closed.store(ws.windows_closed);
    metrics.evictions.store(ws.evicted_idle + ws.evicted_full);
    metrics.entities.store(engine.entity_count());
  };
  const auto snapshot = [&] {
    if (config.state.path.empty()) return;
    if (auto error = write_snapshot(engine, config.state.path); !error.empty()) {
      metrics.snapshot_failures.fetch_add(1);
      fmt::print(stderr, "run: snapshot failed: {}\n", error);
    } else {
      metrics.snapshots_written.fetch_add(1);
    }
  };

  while (true) {
    zmq::pollitem_t item{in.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    const auto now = Clock::now();
    if (item.revents & ZMQ_POLLIN) {
      std::vector<zmq::message_t> parts;
      if (!zmq::recv_multipart(in, std::back_inserter(parts))) continue;
      if (parts.empty()) continue;
      if (*static_cast<const char*>(parts[0].data()) == kEnd) break;
      std::unique_ptr<std::vector<FlowRecord>> batch(parts.size() > 1 ? frame_pointer<std::vector<FlowRecord>>(parts[1])
                                                                        : nullptr);
      if (!batch) continue;
      for (const auto& record : *batch) {
        const auto before = Clock::now();
        engine.process(record);
        const auto& s = engine.stats();
        if (s.events_firing + s.events_resolved != emitted) {
          emitted = s.events_firing + s.events_resolved;
          if (!forward(before)) return;
        }
      }
      last_record = Clock::now();
      seen_record = true;
      update_gauges();
    } else if (options.idle_seconds > 0 && seen_record &&
               now - last_record >= std::chrono::duration<double>(options.idle_seconds)) {
      // Idle watermark: with no records for idle_seconds of wall time, event time is
      // taken to advance with the wall clock from the newest record seen, and windows
      // close once that moved-on watermark (minus the allowed lateness) passes them.
      const auto idle = std::chrono::duration_cast<std::chrono::seconds>(now - last_record).count();
      const std::int64_t virtual_time = engine.watermark().newest() + idle - lateness;
      const std::int64_t boundary =
          (virtual_time >= 0 ? virtual_time / window : (virtual_time - window + 1) / window) * window;
      if (boundary > engine.last_close_point()) {
        engine.advance(boundary);
        metrics.idle_advances.fetch_add(1);
        if (!forward(now)) return;
        update_gauges();
      }
    }
    if (now >= next_snapshot) {
      snapshot();
      next_snapshot = now + interval;
    }
  }
  // Shutdown: nothing is flushed (open windows stay open in the snapshot, so a
  // restart continues them).
  forward(Clock::now());
  update_gauges();
  snapshot();
  std::vector<zmq::message_t> end;
  end.emplace_back(&kEnd, 1);
  transport::send_counted(out, end, metrics.hwm_blocks);
}

// Stage 3: publish each event on the PUB socket.
void publish_stage(zmq::socket_t in, transport::ZmqPublisher& publisher, RunMetrics& metrics) {
  while (true) {
    std::vector<zmq::message_t> parts;
    try {
      if (!zmq::recv_multipart(in, std::back_inserter(parts))) continue;
    } catch (const zmq::error_t&) {
      return;
    }
    if (parts.empty()) continue;
    if (*static_cast<const char*>(parts[0].data()) == kEnd) return;
    std::unique_ptr<OutEvent> event(parts.size() > 1 ? frame_pointer<OutEvent>(parts[1]) : nullptr);
    if (!event) continue;
    const auto sequence = publisher.publish(event->topic, event->json);
    metrics.published_sequence.store(sequence);
    metrics.publish_latency.observe(std::chrono::duration<double>(Clock::now() - event->closed).count());
    if (event->firing) {
      metrics.events_firing[static_cast<std::size_t>(event->severity)].fetch_add(1);
    } else {
      metrics.events_resolved.fetch_add(1);
    }
  }
}

int run_service(const RunOptions& o) {
  if (!o.check_config.empty()) {
    auto loaded = load_config_file(o.check_config);
    if (!loaded.error.empty()) {
      fmt::print(stderr, "run: config error: {}\n", loaded.error);
      return 2;
    }
    std::string host;
    std::uint16_t port = 0;
    if (!transport::split_host_port(loaded.config.endpoints.metrics, host, port)) {
      fmt::print(stderr, "run: config error: endpoints.metrics '{}' is not host:port\n",
                 loaded.config.endpoints.metrics);
      return 2;
    }
    fmt::print("{}: ok\n", o.check_config);
    return 0;
  }
  Config config;
  if (!o.config.empty()) {
    auto loaded = load_config_file(o.config);
    if (!loaded.error.empty()) {
      fmt::print(stderr, "run: config error: {}\n", loaded.error);
      return 2;
    }
    config = std::move(loaded.config);
  }

  Engine engine(config.engine);
  if (!config.state.path.empty() && std::filesystem::exists(config.state.path)) {
    std::ifstream in(config.state.path, std::ios::binary);
    if (auto error = engine.restore(in); !error.empty()) {
      // Refuse rather than silently start from nothing and re-open known episodes.
      fmt::print(stderr, "run: cannot restore {}: {} (move it away to start fresh)\n", config.state.path, error);
      return 2;
    }
    fmt::print(stderr, "run: restored state from {} ({} entities)\n", config.state.path, engine.entity_count());
  }

  // Signals go to the main thread only: block them before any thread (ZeroMQ's too)
  // exists, then wait for them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  RunMetrics metrics;
  metrics.entities.store(engine.entity_count());
  zmq::context_t context(1);
  transport::SocketOptions hop;
  hop.send_hwm = hop.receive_hwm = o.hwm;
  std::unique_ptr<transport::ZmqPublisher> publisher;
  zmq::socket_t flows(context, zmq::socket_type::pull);
  zmq::socket_t records_out(context, zmq::socket_type::push);
  zmq::socket_t records_in(context, zmq::socket_type::pull);
  zmq::socket_t events_out(context, zmq::socket_type::push);
  zmq::socket_t events_in(context, zmq::socket_type::pull);
  try {
    for (auto* s : {&flows, &records_out, &records_in, &events_out, &events_in}) transport::apply_options(*s, hop);
    records_in.bind(kRecordsHop);
    records_out.connect(kRecordsHop);
    events_in.bind(kEventsHop);
    events_out.connect(kEventsHop);
    flows.bind(config.endpoints.flows_in);
    publisher = std::make_unique<transport::ZmqPublisher>(context, config.endpoints.events_out, hop);
  } catch (const zmq::error_t& e) {
    fmt::print(stderr, "run: cannot bind: {} (endpoints.flows_in {}, endpoints.events_out {})\n", e.what(),
               config.endpoints.flows_in, config.endpoints.events_out);
    return 2;
  }

  transport::MetricsServer server([&metrics](std::string_view path) -> transport::HttpResponse {
    if (path == "/metrics") return {200, transport::PrometheusText::kContentType, render_metrics(metrics)};
    if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
    if (path == "/readyz") {
      return metrics.ready.load() ? transport::HttpResponse{200, "text/plain; charset=utf-8", "ready\n"}
                                  : transport::HttpResponse{503, "text/plain; charset=utf-8", "not ready\n"};
    }
    return {404, "text/plain; charset=utf-8", "not found\n"};
  });
  if (auto error = server.start(config.endpoints.metrics); !error.empty()) {
    fmt::print(stderr, "run: metrics: {}\n", error);
    return 2;
  }

  fmt::print(stderr, "run: flows in {}, events out {}, metrics http://{}/metrics\n", config.endpoints.flows_in,
             publisher->endpoint(), config.endpoints.metrics);
  std::atomic<bool> stopping{false};
  std::thread publish_thread(publish_stage, std::move(events_in), std::ref(*publisher), std::ref(metrics));
  std::thread scoring_thread(scoring_stage, std::move(records_in), std::move(events_out), std::ref(engine),
                             std::cref(config), std::cref(o), std::ref(metrics));
  std::thread intake_thread(intake_stage, std::move(flows), std::move(records_out), std::cref(config),
                            std::ref(metrics), std::cref(stopping));
  metrics.ready.store(true);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  fmt::print(stderr, "run: {} received, draining\n", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  metrics.ready.store(false);
  stopping.store(true);
  intake_thread.join();   // stops reading, sends the end marker
  scoring_thread.join();  // drains, writes the snapshot, passes the end marker on
  publish_thread.join();  // publishes what is left
  publisher.reset();
  server.stop();
  context.close();
  fmt::print(stderr, "run: stopped after {} records, {} events published{}\n", metrics.records_received.load(),
             metrics.published_sequence.load(),
             config.state.path.empty() ? "" : fmt::format(", state in {}", config.state.path));
  return 0;
}
}  // namespace

void add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Run the live service: flows in over ZeroMQ, anomaly events out");
  cmd->add_option("-c,--config", options->config, "TOML config (the same file `replay` reads); defaults without it");
  cmd->add_option("--check-config", options->check_config, "Validate this config file and exit");
  cmd->add_option("--idle-seconds", options->idle_seconds,
                  "After this long without records, event time advances with the wall clock (0: never)")
      ->capture_default_str();
  cmd->add_option("--hwm", options->hwm, "High-water mark of every socket, in messages")->capture_default_str();
  cmd->callback([options] {
    const int rc = run_service(*options);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace flowlier::app
