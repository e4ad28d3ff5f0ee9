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
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "app/Commands.hpp"
#include "app/InputSources.hpp"
#include "pipeline/Config.hpp"
#include "pipeline/Engine.hpp"
#include "pipeline/InputFormat.hpp"
#include "pipeline/RecordWire.hpp"
#include "pipeline/RejectReason.hpp"
#include "transport/MetricsServer.hpp"
#include "transport/ProcessMemory.hpp"
#include "transport/PrometheusText.hpp"
#include "transport/ZmqCurve.hpp"
#include "app/SinkBridge.hpp"
#include "transport/TcpServerSocket.hpp"
#include "transport/ZmqPublisher.hpp"
#include "transport/ZmqSockets.hpp"

namespace flowlier::app {

namespace {
using namespace flowlier::pipeline;
using Clock = std::chrono::steady_clock;

constexpr const char* kRecordsHop = "inproc://flowlier.records";
constexpr const char* kEventsHop = "inproc://flowlier.events";
// The intake PULL also binds this: --follow, --stdin and --http-listen push here.
constexpr const char* kSourcesHop = "inproc://flowlier.sources";
constexpr char kBatch = 'B';
constexpr char kAdvance = 'A';  // sharded: [A][close point, int64] broadcast by ingest
constexpr char kEnd = 'E';

enum class Role { single, ingest, score, publish };

struct RunOptions {
  std::string config;
  std::string check_config;
  double idle_seconds = 30;
  int hwm = 1000;
  Role role = Role::single;
  std::vector<std::string> shards;  // ingest: the scorers' --listen endpoints, in shard order
  std::string listen;               // score / publish: where this stage binds its PULL
  std::string publish_to;           // score: the publisher's --listen endpoint
  std::uint32_t shard_index = 0;
  std::uint32_t shard_count = 1;
  std::string metrics;  // overrides endpoints.metrics (several stages on one host)
  std::string curve_secret;  // file: this process's CURVE secret key; enables CURVE on tcp
  std::string curve_allow;   // file: client public keys admitted to this process's bound sockets
  std::string curve_peer;    // file: the public key(s) of the servers this process connects to
  SourceOptions sources;     // --follow, --stdin, --http-listen
};

// Everything the stages count, readable from the metrics thread at any time.
struct RunMetrics {
  std::atomic<std::uint64_t> messages_received{0};
  std::atomic<std::uint64_t> records_received{0};
  std::atomic<std::uint64_t> records_scored{0};  // handed to the engine
  std::array<std::atomic<std::uint64_t>, kRejectReasonCount> rejected{};
  std::atomic<std::uint64_t> late{0};
  std::atomic<std::uint64_t> skipdata{0};  // AWS SKIPDATA status records: the source lost records
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
  std::atomic<std::uint64_t> pub_dropped{0};
  // Messages sent into / taken out of each inproc hop: their difference is its depth.
  std::atomic<std::uint64_t> records_hop_sent{0};
  std::atomic<std::uint64_t> records_hop_taken{0};
  std::atomic<std::uint64_t> events_hop_sent{0};
  std::atomic<std::uint64_t> events_hop_taken{0};
  SourceMetrics sources;
  std::atomic<bool> ready{false};
  const transport::ZapHandler* zap = nullptr;
  std::atomic<const SinkBridge*> sinks{nullptr};  // set while the sinks are open
  transport::LatencyHistogram publish_latency;
};

std::string render_metrics(const RunMetrics& m) {
  transport::PrometheusText t;
  const auto v = [](const std::atomic<std::uint64_t>& a) { return static_cast<double>(a.load()); };
  t.counter("flowlier_messages_received_total", "Messages received on the flows-in socket.", v(m.messages_received));
  t.counter("flowlier_records_received_total", "Flow records decoded from received messages.", v(m.records_received));
  t.counter("flowlier_records_scored_total", "Flow records handed to the scoring engine.", v(m.records_scored));
  std::vector<std::pair<std::string, double>> rejects;
  for (std::size_t i = 0; i < kRejectReasonCount; ++i) {
    rejects.emplace_back(std::string(to_string(static_cast<RejectReason>(i))), v(m.rejected[i]));
  }
  t.counter_family("flowlier_records_rejected_total", "Input lines or records rejected, by reason.", "reason",
                   rejects);
  t.counter("flowlier_skipdata_records_total",
            "SKIPDATA status records received: the flow log source lost records (data loss).", v(m.skipdata));
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
  t.counter("flowlier_auth_failures_total", "CURVE clients refused by the ZAP allow-list.",
            m.zap ? static_cast<double>(m.zap->refused()) : 0.0);
  // Taken is read before sent, so a message in flight can only make the depth larger.
  const auto depth = [](const std::atomic<std::uint64_t>& sent, const std::atomic<std::uint64_t>& taken) {
    const std::uint64_t t_ = taken.load();
    const std::uint64_t s_ = sent.load();
    return static_cast<double>(s_ > t_ ? s_ - t_ : 0);
  };
  t.gauge_family("flowlier_queue_depth", "Messages waiting in an internal hop, by the stage reading it.", "stage",
                 {{"scoring", depth(m.records_hop_sent, m.records_hop_taken)},
                  {"publish", depth(m.events_hop_sent, m.events_hop_taken)}});
  t.counter_family("flowlier_source_inputs_total",
                   "Inputs (chunks of lines, HTTP bodies) forwarded to the intake by the built-in sources.", "source",
                   {{"file", v(m.sources.file_chunks)}, {"stdin", v(m.sources.stdin_chunks)},
                    {"http", v(m.sources.http_bodies)}});
  t.counter("flowlier_http_auth_failures_total", "HTTP source requests refused for a wrong or missing access key.",
            v(m.sources.http_auth_failures));
  t.counter("flowlier_http_bad_requests_total", "HTTP source requests refused as malformed (bad gzip, encoding).",
            v(m.sources.http_bad_requests));
  t.counter("flowlier_file_rotations_total", "Followed files rotated (new inode) or truncated.",
            v(m.sources.file_rotations));
  t.counter("flowlier_gzip_files_total", "Gzip files read whole from followed directories.", v(m.sources.gzip_files));
  t.counter("flowlier_file_errors_total", "Followed files that could not be read (or corrupt gzip).",
            v(m.sources.file_errors));
  t.gauge("flowlier_published_sequence", "Sequence number of the last published event.", v(m.published_sequence));
  t.counter("flowlier_pub_dropped_total",
            "Events not sent to subscribers at their high-water mark (they see a sequence gap).", v(m.pub_dropped));
  t.gauge("flowlier_process_resident_memory_bytes", "Resident set size of the process.",
          static_cast<double>(transport::resident_memory_bytes()));
  if (const SinkBridge* bridge = m.sinks.load(); bridge != nullptr && !bridge->empty()) {
    const auto status = bridge->status();
    const auto family = [&status](auto field) {
      std::vector<std::pair<std::string, double>> out;
      for (const auto& s : status) out.emplace_back(s.id, static_cast<double>(field(s)));
      return out;
    };
    using S = SinkBridge::Status;
    t.gauge_family("flowlier_sink_spool_bytes", "Bytes pending in the sink's disk spool.", "sink",
                   family([](const S& s) { return s.counters.spool_bytes; }));
    t.gauge_family("flowlier_sink_spool_max_bytes", "The sink's spool bound (spool_max_bytes).", "sink",
                   family([](const S& s) { return s.spool_max_bytes; }));
    t.gauge_family("flowlier_sink_spool_events", "Events pending in the sink's disk spool.", "sink",
                   family([](const S& s) { return s.counters.spool_events; }));
    t.counter_family("flowlier_sink_delivered_total", "Events the sink's receiver accepted.", "sink",
                     family([](const S& s) { return s.counters.delivered; }));
    t.counter_family("flowlier_sink_retried_total", "Requests the sink retried.", "sink",
                     family([](const S& s) { return s.counters.retried; }));
    t.counter_family("flowlier_sink_dropped_total", "Events the sink dropped (spool full, write errors).", "sink",
                     family([](const S& s) { return s.counters.dropped; }));
    t.counter_family("flowlier_sink_dead_lettered_total", "Events the receiver refused for good.", "sink",
                     family([](const S& s) { return s.counters.dead_lettered; }));
    t.gauge_family("flowlier_sink_config_error", "1 when the sink's receiver answered 401/403/404.", "sink",
                   family([](const S& s) { return s.counters.config_error ? 1u : 0u; }));
  }
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
  void on_record(const FlowRecord& record) override {
    if (record.status == LogStatus::skipdata) metrics_.skipdata.fetch_add(1, std::memory_order_relaxed);
    batch->push_back(record);
  }
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

// Receives one message (all its frames) and decodes it; nullptr when nothing was there.
std::unique_ptr<std::vector<FlowRecord>> receive_records(zmq::socket_t& flows, const Config& config,
                                                         const std::optional<InputFormat>& fixed, RunMetrics& metrics) {
  zmq::message_t message;
  if (!flows.recv(message, zmq::recv_flags::dontwait)) return nullptr;
  // Each frame of a multipart message is an input of its own.
  BatchSink sink(metrics);
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
    if (flows.get(zmq::sockopt::rcvmore) == 0 || !flows.recv(message)) break;
  }
  metrics.records_received.fetch_add(sink.batch->size(), std::memory_order_relaxed);
  return std::move(sink.batch);
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
    auto batch = receive_records(flows, config, fixed, metrics);
    if (!batch || batch->empty()) continue;
    std::vector<zmq::message_t> parts;
    parts.emplace_back(&kBatch, 1);
    parts.push_back(pointer_frame(batch.get()));
    if (!transport::send_counted(out, parts, metrics.hwm_blocks)) return;
    metrics.records_hop_sent.fetch_add(1, std::memory_order_relaxed);
    batch.release();  // the scoring stage owns it now
  }
  std::vector<zmq::message_t> end;
  end.emplace_back(&kEnd, 1);
  transport::send_counted(out, end, metrics.hwm_blocks);
}

std::int64_t floor_to_window(std::int64_t t, std::int64_t window) {
  return (t >= 0 ? t / window : (t - window + 1) / window) * window;
}

// The sharded ingest role: decodes, sends each record to the shard of every entity it
// names (RecordWire over tcp), and broadcasts its watermark's close points to every
// shard in stream order, so each shard closes windows exactly where one engine would.
void ingest_role_stage(zmq::socket_t flows, std::vector<zmq::socket_t>& shards, const Config& config,
                       const RunOptions& options, RunMetrics& metrics, const std::atomic<bool>& stopping) {
  std::optional<InputFormat> fixed;
  if (config.input_format != "auto") fixed = parse_input_format(config.input_format);
  const std::int64_t window = config.engine.windows.window_seconds;
  const std::int64_t lateness = config.engine.windows.allowed_lateness_seconds;
  WatermarkTracker watermark(window, lateness);
  EntityRouter router(config.engine.router);
  std::vector<models::Observation> observations;
  std::vector<std::string> buffers(shards.size());
  std::vector<char> targets(shards.size());
  std::int64_t broadcast = INT64_MIN / 2;
  auto last_record = Clock::now();
  bool seen_record = false;

  const auto send = [&](std::size_t shard, char kind, std::string_view payload) {
    std::vector<zmq::message_t> parts;
    parts.emplace_back(&kind, 1);
    parts.emplace_back(payload.data(), payload.size());
    return transport::send_counted(shards[shard], parts, metrics.hwm_blocks);
  };
  const auto flush = [&] {
    for (std::size_t i = 0; i < shards.size(); ++i) {
      if (buffers[i].empty()) continue;
      if (!send(i, kBatch, buffers[i])) return false;
      buffers[i].clear();
    }
    return true;
  };
  const auto advance = [&](std::int64_t close_point) {
    if (close_point <= broadcast) return true;
    broadcast = close_point;
    if (!flush()) return false;
    for (std::size_t i = 0; i < shards.size(); ++i) {
      if (!send(i, kAdvance, std::string_view(reinterpret_cast<const char*>(&close_point), sizeof close_point))) {
        return false;
      }
    }
    return true;
  };

  while (!stopping.load()) {
    zmq::pollitem_t item{flows.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    const auto now = Clock::now();
    if (!(item.revents & ZMQ_POLLIN)) {
      if (options.idle_seconds > 0 && seen_record &&
          now - last_record >= std::chrono::duration<double>(options.idle_seconds)) {
        const auto idle = std::chrono::duration_cast<std::chrono::seconds>(now - last_record).count();
        const auto boundary = floor_to_window(watermark.newest() + idle - lateness, window);
        if (boundary > broadcast) {
          metrics.idle_advances.fetch_add(1);
          if (!advance(boundary)) return;
        }
      }
      continue;
    }
    auto batch = receive_records(flows, config, fixed, metrics);
    if (!batch || batch->empty()) continue;
    for (const auto& record : *batch) {
      if (record.is_traffic()) {
        router.route(record, observations);
        std::fill(targets.begin(), targets.end(), 0);
        for (const auto& o : observations) targets[o.entity.hash() % shards.size()] = 1;
        for (std::size_t i = 0; i < shards.size(); ++i) {
          if (targets[i]) append_record_wire(buffers[i], record);
        }
      }
      if (auto close_point = watermark.observe(record); close_point && !advance(*close_point)) return;
    }
    if (!flush()) return;
    last_record = Clock::now();
    seen_record = true;
  }
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
// `wire`: the sharded score role. Records come as RecordWire batches and close points
// from the ingest role over tcp; events leave as [B][topic][json] to the publisher.
// It stops when `stopping` is set and its input is drained (there is no upstream end
// marker across processes).
void scoring_stage(zmq::socket_t in, zmq::socket_t out, Engine& engine, const Config& config,
                   const RunOptions& options, RunMetrics& metrics, bool wire, const std::atomic<bool>& stopping) {
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
      std::vector<zmq::message_t> parts;
      parts.emplace_back(&kBatch, 1);
      if (wire) {
        parts.emplace_back(topic_of(e));
        parts.emplace_back(e.to_json());
        if (!transport::send_counted(out, parts, metrics.hwm_blocks)) return false;
        continue;
      }
      auto* item = new OutEvent{topic_of(e), e.to_json(), e.severity, e.status == EventStatus::firing, closed};
      parts.push_back(pointer_frame(item));
      if (!transport::send_counted(out, parts, metrics.hwm_blocks)) {
        delete item;
        return false;
      }
      metrics.events_hop_sent.fetch_add(1, std::memory_order_relaxed);
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
    if (wire && !(item.revents & ZMQ_POLLIN) && stopping.load()) break;  // drained
    if (wire && (item.revents & ZMQ_POLLIN)) {
      std::vector<zmq::message_t> parts;
      // From another process: check the shape before reading anything.
      if (!zmq::recv_multipart(in, std::back_inserter(parts)) || parts.size() != 2 || parts[0].size() != 1) continue;
      const char kind = *static_cast<const char*>(parts[0].data());
      if (kind == kAdvance && parts[1].size() == sizeof(std::int64_t)) {
        std::int64_t close_point = 0;
        std::memcpy(&close_point, parts[1].data(), sizeof close_point);
        const auto before = Clock::now();
        engine.advance(close_point);
        if (!forward(before)) return;
      } else if (kind == kBatch) {
        std::string_view rest(static_cast<const char*>(parts[1].data()), parts[1].size());
        FlowRecord record;
        while (!rest.empty()) {
          const std::size_t used = read_record_wire(rest, record);
          if (used == 0) {
            metrics.rejected[static_cast<std::size_t>(RejectReason::bad_encoding)].fetch_add(1);
            break;
          }
          rest.remove_prefix(used);
          engine.ingest(record);
          metrics.records_scored.fetch_add(1, std::memory_order_relaxed);
        }
      }
      update_gauges();
    } else if (item.revents & ZMQ_POLLIN) {
      std::vector<zmq::message_t> parts;
      if (!zmq::recv_multipart(in, std::back_inserter(parts))) continue;
      if (parts.empty() || parts[0].size() != 1) continue;
      if (*static_cast<const char*>(parts[0].data()) == kEnd) break;
      std::unique_ptr<std::vector<FlowRecord>> batch(parts.size() > 1 ? frame_pointer<std::vector<FlowRecord>>(parts[1])
                                                                        : nullptr);
      if (!batch) continue;
      metrics.records_hop_taken.fetch_add(1, std::memory_order_relaxed);
      for (const auto& record : *batch) {
        const auto before = Clock::now();
        engine.process(record);
        const auto& s = engine.stats();
        if (s.events_firing + s.events_resolved != emitted) {
          emitted = s.events_firing + s.events_resolved;
          if (!forward(before)) return;
        }
      }
      metrics.records_scored.fetch_add(batch->size(), std::memory_order_relaxed);
      last_record = Clock::now();
      seen_record = true;
      update_gauges();
    } else if (!wire && options.idle_seconds > 0 && seen_record &&
               now - last_record >= std::chrono::duration<double>(options.idle_seconds)) {
      // Idle watermark: with no records for idle_seconds of wall time, event time is
      // taken to advance with the wall clock from the newest record seen, and windows
      // close once that moved-on watermark (minus the allowed lateness) passes them.
      const auto idle = std::chrono::duration_cast<std::chrono::seconds>(now - last_record).count();
      const std::int64_t virtual_time = engine.watermark().newest() + idle - lateness;
      const std::int64_t boundary = floor_to_window(virtual_time, window);
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
  if (wire) return;  // the publisher stops on its own signal
  std::vector<zmq::message_t> end;
  end.emplace_back(&kEnd, 1);
  transport::send_counted(out, end, metrics.hwm_blocks);
}

// Stage 3: publish each event on the PUB socket.
// `wire`: the publish role, merging [B][topic][json] from the scorers over tcp; it
// stops when `stopping` is set and its input is drained.
void publish_stage(zmq::socket_t in, transport::ZmqPublisher& publisher, SinkBridge& sinks, RunMetrics& metrics,
                   bool wire, const std::atomic<bool>& stopping) {
  while (true) {
    zmq::pollitem_t item{in.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    if (!(item.revents & ZMQ_POLLIN)) {
      if (wire && stopping.load()) return;
      continue;
    }
    std::vector<zmq::message_t> parts;
    if (!zmq::recv_multipart(in, std::back_inserter(parts))) continue;
    if (parts.empty() || parts[0].size() != 1) continue;
    if (wire) {
      // From the scorers over tcp: [B][topic][json]; only a signal stops this stage.
      if (parts.size() != 3 || *static_cast<const char*>(parts[0].data()) != kBatch) continue;
      const auto topic = parts[1].to_string_view();
      metrics.published_sequence.store(publisher.publish(topic, parts[2].to_string_view()));
      metrics.pub_dropped.store(publisher.dropped());
      sinks.publish_json(parts[2].to_string_view());
      if (topic.starts_with("resolved.")) {
        metrics.events_resolved.fetch_add(1);
      } else if (const auto dot = topic.find('.', 8); dot != std::string_view::npos) {
        if (auto severity = parse_severity(topic.substr(8, dot - 8))) {
          metrics.events_firing[static_cast<std::size_t>(*severity)].fetch_add(1);
        }
      }
      continue;
    }
    if (*static_cast<const char*>(parts[0].data()) == kEnd) return;  // single process: drained
    std::unique_ptr<OutEvent> event(parts.size() > 1 ? frame_pointer<OutEvent>(parts[1]) : nullptr);
    if (!event) continue;
    metrics.events_hop_taken.fetch_add(1, std::memory_order_relaxed);
    const auto sequence = publisher.publish(event->topic, event->json);
    sinks.publish_json(event->json);
    metrics.published_sequence.store(sequence);
    metrics.pub_dropped.store(publisher.dropped());
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

  if (o.role == Role::ingest && o.shards.empty()) {
    fmt::print(stderr, "run: --role ingest needs --shards ENDPOINT,... (the scorers' --listen endpoints)\n");
    return 2;
  }
  if (o.role == Role::score && (o.listen.empty() || o.publish_to.empty() || o.shard_count < 1 ||
                                o.shard_index >= o.shard_count)) {
    fmt::print(stderr, "run: --role score needs --listen, --publish-to and --shard-index < --shard-count\n");
    return 2;
  }
  const bool has_sources = !o.sources.follow.empty() || o.sources.from_stdin || !o.sources.http_listen.empty();
  if (has_sources && o.role != Role::single && o.role != Role::ingest) {
    fmt::print(stderr, "run: --follow, --stdin and --http-listen belong to the single or ingest role\n");
    return 2;
  }
  if (o.role == Role::publish && o.listen.empty()) {
    fmt::print(stderr, "run: --role publish needs --listen\n");
    return 2;
  }
  if (o.role == Role::score) {
    config.engine.shard_index = o.shard_index;
    config.engine.shard_count = o.shard_count;
  }
  // Only the stages that own an engine own its state file.
  if (o.role == Role::ingest || o.role == Role::publish) config.state.path.clear();
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
  // Sockets that carry data out of this process over tcp get a linger, so what the
  // stage drained at shutdown still reaches the next process; inproc hops and intake
  // drop nothing at close because the end marker has already passed through them.
  transport::SocketOptions outbound = hop;
  outbound.linger_ms = 5000;
  const auto socket = [&](zmq::socket_type type, const transport::SocketOptions& options) {
    zmq::socket_t s(context, type);
    transport::apply_options(s, options);
    return s;
  };
  // Stable stages bind, workers connect: the single process binds everything; in a
  // sharded deployment scorers and the publisher bind (--listen), ingest and scorers
  // connect to them.
  // CURVE: every tcp socket of this process is encrypted; bound sockets admit only the
  // allow-listed client keys (ZAP), connecting sockets authenticate the server's key.
  std::optional<transport::CurveKeyPair> curve;
  std::vector<std::string> peer_keys;
  std::unique_ptr<transport::ZapHandler> zap;
  if (!o.curve_secret.empty()) {
    std::string error;
    auto secret = transport::read_key_file(o.curve_secret, error);
    auto allowed = o.curve_allow.empty() ? std::optional<std::set<std::string>>() :
                                           transport::read_keys_file(o.curve_allow, error);
    std::optional<std::string> public_key = secret ? transport::curve_public_key(*secret) : std::nullopt;
    if (!secret || !public_key) {
      fmt::print(stderr, "run: {}\n", error.empty() ? o.curve_secret + ": not a CURVE secret key" : error);
      return 2;
    }
    if (!allowed) {
      // A CURVE server without ZAP admits anyone who knows its public key.
      fmt::print(stderr, "run: {}\n", error.empty() ? "--curve-secret needs --curve-allow FILE" : error);
      return 2;
    }
    if (o.role == Role::ingest || o.role == Role::score) {
      std::ifstream in(o.curve_peer);
      for (std::string line; std::getline(in, line);) {
        if (transport::is_z85_key(line)) peer_keys.push_back(line);
      }
      const std::size_t needed = o.role == Role::ingest ? o.shards.size() : 1;
      if (peer_keys.size() == 1) peer_keys.resize(needed, peer_keys.front());
      if (peer_keys.size() != needed) {
        fmt::print(stderr, "run: --curve-peer needs one server public key, or one per shard in --shards order\n");
        return 2;
      }
    }
    curve = transport::CurveKeyPair{*public_key, *secret};
    fmt::print(stderr, "run: CURVE on, public key {}, {} allowed client keys\n", *public_key, allowed->size());
    zap = std::make_unique<transport::ZapHandler>(context, std::move(*allowed));
    metrics.zap = zap.get();
  }
  const auto serve = [&](zmq::socket_t& s) {
    if (curve) transport::make_curve_server(s, curve->secret_key);
  };
  const auto client_of = [&](zmq::socket_t& s, std::size_t peer) {
    if (curve) transport::make_curve_client(s, *curve, peer_keys[peer]);
  };
  std::unique_ptr<transport::ZmqPublisher> publisher;
  zmq::socket_t flows, records_in, records_out, events_in, events_out;
  std::vector<zmq::socket_t> shards;
  try {
    if (o.role == Role::single) {
      records_in = socket(zmq::socket_type::pull, hop);
      records_in.bind(kRecordsHop);
      records_out = socket(zmq::socket_type::push, hop);
      records_out.connect(kRecordsHop);
      events_in = socket(zmq::socket_type::pull, hop);
      events_in.bind(kEventsHop);
      events_out = socket(zmq::socket_type::push, hop);
      events_out.connect(kEventsHop);
    }
    if (o.role == Role::single || o.role == Role::ingest) {
      flows = socket(zmq::socket_type::pull, hop);
      // A peer sending a message larger than any document we would decode is
      // disconnected by ZeroMQ before the message is buffered whole.
      flows.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(config.decoder.max_document_bytes));
      serve(flows);
      flows.bind(config.endpoints.flows_in);
      flows.bind(kSourcesHop);
    }
    if (o.role == Role::ingest) {
      for (const auto& endpoint : o.shards) {
        shards.push_back(socket(zmq::socket_type::push, outbound));
        client_of(shards.back(), shards.size() - 1);
        shards.back().connect(endpoint);
      }
    }
    if (o.role == Role::score) {
      records_in = socket(zmq::socket_type::pull, hop);
      serve(records_in);
      records_in.bind(o.listen);
      events_out = socket(zmq::socket_type::push, outbound);
      client_of(events_out, 0);
      events_out.connect(o.publish_to);
    }
    if (o.role == Role::publish) {
      events_in = socket(zmq::socket_type::pull, hop);
      serve(events_in);
      events_in.bind(o.listen);
    }
    if (o.role == Role::single || o.role == Role::publish) {
      // A short linger: the last events reach connected subscribers before exit, but a
      // stuck subscriber cannot hold the shutdown for long.
      transport::SocketOptions pub = hop;
      pub.linger_ms = 1000;
      publisher = std::make_unique<transport::ZmqPublisher>(context, config.endpoints.events_out, pub, 1,
                                                            curve ? curve->secret_key : std::string());
    }
  } catch (const zmq::error_t& e) {
    fmt::print(stderr, "run: cannot bind or connect: {} (endpoints.flows_in {}, endpoints.events_out {}{})\n",
               e.what(), config.endpoints.flows_in, config.endpoints.events_out,
               o.listen.empty() ? "" : ", --listen " + o.listen);
    return 2;
  }

  transport::MetricsServer server([&metrics](std::string_view path) -> transport::MetricsReply {
    if (path == "/metrics") return {200, transport::PrometheusText::kContentType, render_metrics(metrics)};
    if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
    if (path == "/readyz") {
      if (!metrics.ready.load()) return {503, "text/plain; charset=utf-8", "not ready\n"};
      // A sink refused for its credentials (401/403) is a configuration error: events
      // pile up in its spool, so the service says it is not ready, naming the sink.
      if (const SinkBridge* bridge = metrics.sinks.load(); bridge != nullptr) {
        for (const auto& s : bridge->status()) {
          if (s.counters.config_error) {
            return {503, "text/plain; charset=utf-8", fmt::format("not ready: sink {} has a configuration error\n", s.id)};
          }
        }
      }
      return {200, "text/plain; charset=utf-8", "ready\n"};
    }
    return {404, "text/plain; charset=utf-8", "not found\n"};
  });
  const std::string metrics_endpoint = o.metrics.empty() ? config.endpoints.metrics : o.metrics;
  if (auto error = server.start(metrics_endpoint); !error.empty()) {
    fmt::print(stderr, "run: metrics: {}\n", error);
    return 2;
  }

  static constexpr const char* kRoleNames[] = {"single", "ingest", "score", "publish"};
  fmt::print(stderr, "run ({}): flows in {}, events out {}, metrics http://{}/metrics\n",
             kRoleNames[static_cast<int>(o.role)],
             o.role == Role::single || o.role == Role::ingest ? config.endpoints.flows_in : o.listen,
             publisher ? publisher->endpoint() : o.publish_to.empty() ? fmt::format("{} shards", shards.size())
                                                                       : o.publish_to,
             metrics_endpoint);
  // Sinks (Splunk HEC, Sumo Logic, webhooks, files) take every published event; their
  // spools carry undelivered events across restarts.
  std::string sink_error;
  auto sinks = SinkBridge::open(o.role == Role::single || o.role == Role::publish ? o.config : std::string(),
                                sink_error);
  if (!sinks) {
    fmt::print(stderr, "run: sink configuration error: {}\n", sink_error);
    return 2;
  }
  metrics.sinks.store(sinks.get());
  std::atomic<bool> stopping{false};
  std::vector<std::thread> threads;  // in upstream-to-downstream order
  switch (o.role) {
    case Role::single:
      threads.emplace_back(intake_stage, std::move(flows), std::move(records_out), std::cref(config),
                           std::ref(metrics), std::cref(stopping));
      threads.emplace_back(scoring_stage, std::move(records_in), std::move(events_out), std::ref(engine),
                           std::cref(config), std::cref(o), std::ref(metrics), false, std::cref(stopping));
      threads.emplace_back(publish_stage, std::move(events_in), std::ref(*publisher), std::ref(*sinks),
                           std::ref(metrics), false, std::cref(stopping));
      break;
    case Role::ingest:
      threads.emplace_back(ingest_role_stage, std::move(flows), std::ref(shards), std::cref(config), std::cref(o),
                           std::ref(metrics), std::cref(stopping));
      break;
    case Role::score:
      threads.emplace_back(scoring_stage, std::move(records_in), std::move(events_out), std::ref(engine),
                           std::cref(config), std::cref(o), std::ref(metrics), true, std::cref(stopping));
      break;
    case Role::publish:
      threads.emplace_back(publish_stage, std::move(events_in), std::ref(*publisher), std::ref(*sinks),
                           std::ref(metrics), true, std::cref(stopping));
      break;
  }
  // Built-in sources push into the intake over inproc, like any pushing peer.
  SourceOptions source_options = o.sources;
  if (source_options.http_access_key.empty()) {
    if (const char* key = std::getenv("FLOWLIER_HTTP_ACCESS_KEY")) source_options.http_access_key = key;
  }
  source_options.max_body_bytes = std::min<std::size_t>(source_options.max_body_bytes, config.decoder.max_document_bytes);
  if (!source_options.http_listen.empty() && source_options.http_access_key.empty()) {
    fmt::print(stderr, "run: warning: --http-listen without an access key accepts every request\n");
  }
  InputSources sources(context, kSourcesHop, std::move(source_options), metrics.sources);
  if (auto error = sources.start(); !error.empty()) {
    fmt::print(stderr, "run: {}\n", error);
    sources.stop();
    stopping.store(true);
    for (auto& t : threads) t.join();
    return 2;
  }
  metrics.ready.store(true);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  fmt::print(stderr, "run: {} received, draining\n", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  metrics.ready.store(false);
  sources.stop();
  stopping.store(true);
  // Upstream first: intake stops and sends the end marker; scoring drains and writes
  // the snapshot; publish sends what is left.
  for (auto& t : threads) t.join();
  // What the sinks could not deliver in time stays in their spools for the next start.
  sinks->finish(stderr, std::chrono::seconds(10));
  shards.clear();
  publisher.reset();
  server.stop();
  metrics.sinks.store(nullptr);
  metrics.zap = nullptr;
  if (zap) zap->stop();
  context.close();
  fmt::print(stderr, "run: stopped: {} records received, {} scored, {} events published{}\n",
             metrics.records_received.load(), metrics.records_scored.load(), metrics.published_sequence.load(),
             config.state.path.empty() || (o.role != Role::single && o.role != Role::score)
                 ? ""
                 : fmt::format(", state in {}", config.state.path));
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
  cmd->add_option("--role", options->role, "single (default), or one stage of a sharded deployment")
      ->transform(CLI::CheckedTransformer(std::map<std::string, Role>{{"single", Role::single},
                                                                      {"ingest", Role::ingest},
                                                                      {"score", Role::score},
                                                                      {"publish", Role::publish}}));
  cmd->add_option("--shards", options->shards, "ingest: the scorers' endpoints, in shard order")->delimiter(',');
  cmd->add_option("--listen", options->listen, "score/publish: endpoint to bind for the upstream stage");
  cmd->add_option("--publish-to", options->publish_to, "score: the publisher's --listen endpoint");
  cmd->add_option("--shard-index", options->shard_index, "score: this scorer's shard, 0-based");
  cmd->add_option("--shard-count", options->shard_count, "score: number of scorers");
  cmd->add_option("--metrics", options->metrics, "host:port for /metrics, overriding endpoints.metrics");
  cmd->add_option("--curve-secret", options->curve_secret,
                  "CURVE secret key file (flowlier keygen): encrypts every tcp endpoint");
  cmd->add_option("--curve-allow", options->curve_allow, "Client public keys admitted (one per line); required "
                                                         "with --curve-secret");
  cmd->add_option("--curve-peer", options->curve_peer,
                  "ingest/score: public key of the server(s) connected to (one, or one per shard)");
  cmd->add_option("--follow", options->sources.follow,
                  "File or directory to follow as it grows (tail -F; rotation; .gz files read whole); repeatable");
  cmd->add_flag("--stdin", options->sources.from_stdin, "Read flow log lines from standard input too");
  cmd->add_option("--http-listen", options->sources.http_listen,
                  "host:port for POSTed Firehose HTTP endpoint deliveries and CloudWatch Logs payloads");
  cmd->add_option("--http-access-key", options->sources.http_access_key,
                  "Required X-Amz-Firehose-Access-Key (default: env FLOWLIER_HTTP_ACCESS_KEY)");
  cmd->callback([options] {
    const int rc = run_service(*options);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace flowlier::app
